"""What one ingest batch looks up, loaded with a few queries and kept current while the batch is written.

A batch flushes once, at its end; so a message must find what an earlier message
of the same batch staged (its contact, its new conversation, its external id) here,
not in the database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from bot.automation.batch import RuleBatch
from bot.contacts import NO_ADDRESS
from bot.ingest.reused_ids import FINGERPRINT_KEY, REUSED_KEY, content_fingerprint, reused_external_id
from bot.ports.channels import ChannelRules
from bot.ports.inbound import InboundMessage
from storage import UnitOfWork
from storage.models import Contact, Conversation

__all__ = ["BatchIndex", "identities_of"]

"""Identity kind of a sender whose message carried no address: one contact per such message."""


def identities_of(msg: InboundMessage, rules: ChannelRules) -> tuple[tuple[str, str], ...]:
    """Every identity of the sender: those the channel named, else the one of ``sender_address``; a
    message with neither gets its own (never shared) ``NO_ADDRESS`` marker."""
    if msg.sender_identities:
        return msg.sender_identities
    if not msg.sender_address.strip():
        return ((NO_ADDRESS, f"{msg.channel}:{msg.external_id}"[:320]),)
    return (rules.identity(msg.sender_address),)


def _fingerprint(msg: InboundMessage, rules: ChannelRules) -> str:
    """The content fingerprint of ``msg``: its ``sender_address`` identity and its text."""
    return content_fingerprint(msg, rules.identity(msg.sender_address))


def _of_contact(conversation: Conversation, contact: Contact) -> bool:
    """True when the conversation (stored, or staged in this batch) is the contact's."""
    if conversation.contact_id is not None:
        return conversation.contact_id == contact.id
    return conversation.contact is contact


@dataclass
class BatchIndex:
    """Stored rows the batch refers to, plus what the batch has staged so far."""

    rules: Callable[[str], ChannelRules]  # each channel's, as its adapter declares them
    seen: dict[tuple[str, str], str | None]  # (channel, external id) → content fingerprint
    contacts: dict[tuple[str, str], Contact]
    stored_refs: dict[str, tuple[int, Conversation]]
    numbered: dict[int, Conversation]
    stored_latest: dict[tuple[int, str], Conversation]
    automation: RuleBatch  # what the batch's firing rules looked up and gave
    staged_refs: dict[str, tuple[int, Conversation]] = field(default_factory=dict)
    # keyed by id() of the contact object: a contact staged in this batch has no row id yet
    staged_latest: dict[tuple[int, str], Conversation] = field(default_factory=dict)
    size: int = 1
    numbers: range = range(0)  # reserved conversation numbers not used yet

    @classmethod
    async def load(
        cls, uow: UnitOfWork, messages: Sequence[InboundMessage], rules: Callable[[str], ChannelRules]
    ) -> BatchIndex:
        """Look up everything the batch's messages may refer to: one query over messages (stored ids and
        thread references), one over contacts, and one per kind of hint the batch carries."""
        identities = {identity for m in messages for identity in identities_of(m, rules(m.channel))}
        contacts = await uow.ingest.contacts_by_identities(identities)
        by_contact = [m for m in messages if m.match_open_by_contact]
        wanted = {
            contacts[key].id
            for m in by_contact
            for key in identities_of(m, rules(m.channel))
            if key in contacts
        }
        refs = {ref for m in messages for ref in m.thread_refs}
        hints = {m.conversation_hint for m in messages if m.conversation_hint is not None}
        keys = {(m.channel, m.external_id) for m in messages}
        keys |= {
            (m.channel, reused_external_id(m.external_id, _fingerprint(m, rules(m.channel))))
            for m in messages
        }
        stored = await uow.ingest.stored_messages(keys, refs, FINGERPRINT_KEY)
        return cls(
            rules=rules,
            size=len(messages),
            seen=stored.fingerprints,
            contacts=contacts,
            stored_refs=stored.conversations,
            numbered=await uow.ingest.conversations_by_numbers(hints) if hints else {},
            stored_latest=await uow.ingest.latest_conversations(sorted(wanted)) if wanted else {},
            automation=RuleBatch(uow),
        )

    async def next_number(self, uow: UnitOfWork) -> int:
        """The next conversation number, from a block reserved once per batch."""
        if not self.numbers:
            first = await uow.counters.take_numbers(self.size)
            self.numbers = range(first, first + self.size)
        number, self.numbers = self.numbers[0], self.numbers[1:]
        return number

    async def finish(self, uow: UnitOfWork) -> None:
        """Store the turns the batch's rules moved; give back the conversation numbers the batch
        reserved and did not use (no gaps)."""
        await self.automation.finish()
        if self.numbers:
            await uow.counters.return_numbers(self.numbers[0], self.numbers[-1])
            self.numbers = range(0)

    def deduplicated(self, msg: InboundMessage) -> InboundMessage | None:
        """None when ``msg`` is stored or came earlier in this batch (the same sender and text);
        else the message to store: ``msg`` itself, or, when its external id is taken by a different
        message, ``msg`` under its own external id, marked (``bot.ingest.reused_ids``)."""
        fingerprint = _fingerprint(msg, self.rules(msg.channel))
        key = (msg.channel, msg.external_id)
        if key not in self.seen:
            return replace(msg, extra={**msg.extra, FINGERPRINT_KEY: fingerprint})
        if self.seen[key] in (None, fingerprint):
            return None
        reused = reused_external_id(msg.external_id, fingerprint)
        if (msg.channel, reused) in self.seen:
            return None
        extra = {**msg.extra, FINGERPRINT_KEY: fingerprint, REUSED_KEY: msg.external_id}
        return replace(msg, external_id=reused, extra=extra)

    def contact(self, identity: tuple[str, str]) -> Contact | None:
        """The contact with this identity, stored or staged."""
        return self.contacts.get(identity)

    def sender(self, msg: InboundMessage) -> Contact | None:
        """The contact owning the first of the sender's identities that has one."""
        identities = identities_of(msg, self.rules(msg.channel))
        return next((c for i in identities if (c := self.contacts.get(i)) is not None), None)

    def merged(self, keep: Contact, gone: Contact) -> None:
        """``gone`` was merged into ``keep``: its identities and latest conversations are ``keep``'s now."""
        for identity, contact in list(self.contacts.items()):
            if contact is gone:
                self.contacts[identity] = keep
        for (owner, inbox), conversation in list(self.stored_latest.items()):
            if owner == gone.id:
                current = self.stored_latest.get((keep.id, inbox))
                if current is None or current.id < conversation.id:
                    self.stored_latest[(keep.id, inbox)] = conversation
        for (owner_ref, inbox), conversation in list(self.staged_latest.items()):
            if owner_ref == id(gone):
                self.staged_latest.setdefault((id(keep), inbox), conversation)

    def continued(self, msg: InboundMessage, contact: Contact | None) -> Conversation | None:
        """The conversation ``msg`` continues, open or not: by the message ids it answers, then
        by the ``[#N]`` hint when ``contact`` owns that conversation, then (WhatsApp) the
        contact's latest conversation in the inbox."""
        found = self.by_refs(msg.thread_refs)
        if found is None and msg.conversation_hint is not None and contact is not None:
            hinted = self.numbered.get(msg.conversation_hint)
            if hinted is not None and _of_contact(hinted, contact):
                found = hinted
        if found is None and msg.match_open_by_contact and contact is not None:
            found = self.latest(contact, msg.inbox)
        return found

    def by_refs(self, refs: Sequence[str]) -> Conversation | None:
        """The conversation of the newest message among ``refs`` (staged ones are newer than stored ones)."""
        found = [self.staged_refs[r] for r in refs if r in self.staged_refs]
        if not found:
            found = [self.stored_refs[r] for r in refs if r in self.stored_refs]
        return max(found, key=lambda pair: pair[0])[1] if found else None

    def latest(self, contact: Contact, inbox: str) -> Conversation | None:
        """The contact's newest conversation in an inbox, stored or staged."""
        staged = self.staged_latest.get((id(contact), inbox))
        if staged is not None or contact.id is None:
            return staged
        return self.stored_latest.get((contact.id, inbox))

    def add_contact(self, identity: tuple[str, str], contact: Contact) -> None:
        """Remember a contact staged by this batch."""
        self.contacts[identity] = contact

    def add_conversation(self, conversation: Conversation, contact: Contact) -> None:
        """Remember a conversation staged by this batch."""
        self.numbered[conversation.number] = conversation
        self.staged_latest[(id(contact), conversation.inbox)] = conversation

    def add_message(self, msg: InboundMessage, conversation: Conversation) -> None:
        """Remember a message staged by this batch, for matching and deduplicating later ones."""
        self.seen[(msg.channel, msg.external_id)] = msg.extra.get(FINGERPRINT_KEY)
        self.staged_refs[msg.external_id] = (len(self.staged_refs), conversation)
