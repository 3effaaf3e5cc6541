"""The repository: every query and write the core needs, inside one transaction.

The core never builds SQL; it calls these methods and works with the model objects
they return. ``Store.transaction()`` hands one out per unit of work.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, func, or_, select, text, update
from sqlalchemy.orm import joinedload, raiseload

from storage.journal import JournalQueries
from storage.models import (
    Agent,
    AgentIdentity,
    Contact,
    ContactIdentity,
    Conversation,
    ConversationLabel,
    Counter,
    Label,
    OutboxRow,
    ThreadRow,
)
from storage.ordering import PRIORITY_RANK
from storage.repo_base import RepositoryBase
from storage.repo_batch import BatchReads
from storage.repo_ingest import IngestLookups
from storage.repo_messages import MessageQueries
from storage.repo_outbox import OutboxQueries
from storage.repo_repairs import RepairQueries
from storage.repo_scheduling import SchedulingQueries
from storage.repo_sends import SendQueries

__all__ = ["ConversationFilter", "Repository"]


class ConversationFilter:
    """Criteria for listing conversations; all optional."""

    def __init__(
        self,
        *,
        status: str | None = None,
        assignee_id: int | None = None,
        unassigned: bool = False,
        label: str | None = None,
        inbox: str | None = None,
        limit: int = 50,
    ) -> None:
        self.status = status
        self.assignee_id = assignee_id
        self.unassigned = unassigned
        self.label = label
        self.inbox = inbox
        self.limit = limit


_COUNTERS = cast(Table, Counter.__table__)  # Core UPDATEs: no ORM bookkeeping over the session's objects
_CONVERSATION_LABELS = cast(Table, ConversationLabel.__table__)


def _matching(stmt: Select[Any], flt: ConversationFilter) -> Select[Any]:
    """``stmt`` narrowed to the conversations ``flt`` describes."""
    if flt.status:
        stmt = stmt.where(Conversation.status == flt.status)
    if flt.assignee_id is not None:
        stmt = stmt.where(Conversation.assignee_id == flt.assignee_id)
    if flt.unassigned:
        stmt = stmt.where(Conversation.assignee_id.is_(None))
    if flt.inbox:
        stmt = stmt.where(Conversation.inbox == flt.inbox)
    if flt.label:
        stmt = stmt.join(ConversationLabel, ConversationLabel.conversation_id == Conversation.id).join(
            Label, and_(Label.id == ConversationLabel.label_id, Label.key == flt.label.lower())
        )
    return stmt


class Repository(
    MessageQueries,
    OutboxQueries,
    BatchReads,
    RepairQueries,
    SendQueries,
    SchedulingQueries,
    IngestLookups,
    JournalQueries,
    RepositoryBase,
):
    """Queries and writes of one unit of work; messages, delivery and scheduling live in their own modules."""

    async def ping(self) -> None:
        """Run a trivial query."""
        await self.session.execute(text("SELECT 1"))

    def explicit_flushes(self) -> AbstractContextManager[Any]:
        """Within this block queries do not flush first; callers flush where they need generated ids.

        Ingest uses it: a batch looks up what it needs first, keeps what it stages in its
        own index, and is written with one flush at its end; the few queries a message may
        still make (rules, CSAT, card coalescing) read rows that were already stored.
        """
        return self.session.no_autoflush

    async def flush(self) -> None:
        """Send pending writes so generated ids are known."""
        await self.session.flush()

    def add(self, obj: Any) -> None:
        """Stage a new model object."""
        self.session.add(obj)

    # --- numbering ---------------------------------------------------------------------------

    async def take_numbers(self, count: int, name: str = "conversation") -> int:
        """Reserve ``count`` consecutive numbers of a counter and return the first.

        The counter row stays locked until the transaction ends (PostgreSQL row lock,
        SQLite's single writer), so a reservation is never interleaved with another.
        """
        counters = _COUNTERS
        result = await self.session.execute(
            update(counters)
            .where(counters.c.name == name)
            .values(value=counters.c.value + count)
            .returning(counters.c.value)
        )
        end = result.scalar_one_or_none()
        if end is None:
            self.session.add(Counter(name=name, value=count))
            await self.session.flush()
            return 1
        return int(end) - count + 1

    async def return_numbers(self, first_unused: int, end: int, name: str = "conversation") -> None:
        """Give back the unused tail ``first_unused..end`` of the reservation that ended at ``end``."""
        counters = _COUNTERS
        await self.session.execute(
            update(counters)
            .where(counters.c.name == name, counters.c.value == end)
            .values(value=first_unused - 1)
        )

    # --- contacts ----------------------------------------------------------------------------

    async def contact_by_identity(self, kind: str, value: str) -> Contact | None:
        """The contact owning an email address or phone number (its identities are not loaded)."""
        stmt = (
            select(Contact)
            .join(ContactIdentity)
            .where(ContactIdentity.kind == kind, ContactIdentity.value == value)
            .options(raiseload(Contact.identities))
        )
        return (await self.session.execute(stmt)).scalars().first()

    def create_contact(self, name: str | None, kind: str, value: str, now: datetime) -> Contact:
        """Stage a new contact with one identity (its id is known after the next flush)."""
        contact = Contact(name=name, created_at=now)
        contact.identities = [ContactIdentity(kind=kind, value=value)]
        self.session.add(contact)
        return contact

    def add_contact_identity(self, contact: Contact, kind: str, value: str) -> None:
        """Stage one more identity of a contact (stored, or staged in this unit of work)."""
        if contact.id is None:
            contact.identities.append(ContactIdentity(kind=kind, value=value))
        else:
            self.session.add(ContactIdentity(contact_id=contact.id, kind=kind, value=value))

    async def contact(self, contact_id: int) -> Contact:
        """A contact by id, with its identities."""
        stmt = (
            select(Contact)
            .where(Contact.id == contact_id)
            .options(joinedload(Contact.identities))
            .execution_options(populate_existing=True)
        )
        return (await self.session.execute(stmt)).unique().scalar_one()

    async def contact_of(self, conversation: Conversation) -> Contact:
        """A conversation's contact with its identities; a contact staged in this unit of work as staged."""
        if conversation.contact_id is None:
            return conversation.contact
        return await self.contact(conversation.contact_id)

    # --- agents ------------------------------------------------------------------------------

    async def agent_by_identity(self, surface: str, external_id: str) -> Agent | None:
        """The agent with this surface user id."""
        stmt = (
            select(Agent)
            .join(AgentIdentity)
            .where(AgentIdentity.surface == surface, AgentIdentity.external_id == external_id)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def agent_by_key(self, key: str) -> Agent | None:
        """The agent with this configured key."""
        return (await self.session.execute(select(Agent).where(Agent.key == key))).scalars().first()

    async def find_agent(self, text: str) -> list[Agent]:
        """Agents whose key, name or any identity equals ``text`` (case-insensitive)."""
        needle = text.lower()
        stmt = (
            select(Agent)
            .outerjoin(AgentIdentity)
            .where(
                or_(
                    func.lower(Agent.key) == needle,
                    func.lower(Agent.name) == needle,
                    func.lower(AgentIdentity.external_id) == needle,
                )
            )
            .distinct()
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def teammates(self, limit: int = 25) -> list[str]:
        """The names of the team (for "did you mean" answers), alphabetically."""
        stmt = select(Agent.name).order_by(Agent.name).limit(limit)
        return list((await self.session.execute(stmt)).scalars().all())

    async def agent(self, agent_id: int) -> Agent:
        """An agent by id (from the unit of work's objects when it was read already)."""
        agent = await self.session.get(Agent, agent_id)
        if agent is None:
            raise LookupError(f"no agent with id {agent_id}")
        return cast(Agent, agent)

    async def upsert_agent(
        self, key: str, name: str, email: str | None, identities: dict[str, str], now: datetime
    ) -> Agent:
        """Create or update an agent and its surface identities."""
        agent = await self.agent_by_key(key)
        if agent is None:
            agent = Agent(key=key, name=name, email=email, away=False, created_at=now)
            self.session.add(agent)
            await self.session.flush()
        else:
            agent.name, agent.email = name, email
        for surface, external_id in identities.items():
            owner = await self.agent_by_identity(surface, external_id)
            if owner is None:
                self.session.add(AgentIdentity(agent_id=agent.id, surface=surface, external_id=external_id))
        await self.session.flush()
        return agent

    # --- conversations -----------------------------------------------------------------------

    async def conversation_by_number(self, number: int) -> Conversation | None:
        """A conversation by its number."""
        stmt = select(Conversation).where(Conversation.number == number)
        return (await self.session.execute(stmt)).scalars().first()

    async def conversation(self, conversation_id: int) -> Conversation:
        """A conversation by id."""
        return (
            await self.session.execute(select(Conversation).where(Conversation.id == conversation_id))
        ).scalar_one()

    async def conversation_by_thread(self, surface: str, thread_id: str) -> Conversation | None:
        """The conversation mirrored in a surface thread."""
        stmt = (
            select(Conversation)
            .join(ThreadRow, ThreadRow.conversation_id == Conversation.id)
            .where(ThreadRow.surface == surface, ThreadRow.thread_id == thread_id)
        )
        return (await self.session.execute(stmt)).scalars().first()

    async def conversation_by_item(self, surface: str, item_id: str) -> Conversation | None:
        """The conversation whose card, or a message posted in its thread, is surface message ``item_id``."""
        by_card = (
            select(Conversation)
            .join(ThreadRow, ThreadRow.conversation_id == Conversation.id)
            .where(ThreadRow.surface == surface, ThreadRow.card_id == item_id)
        )
        found = (await self.session.execute(by_card)).scalars().first()
        if found is not None:
            return found
        ref = OutboxRow.external_ref  # the posted ids of a row, space-separated (files first)
        by_post = (
            select(Conversation)
            .join(OutboxRow, OutboxRow.conversation_id == Conversation.id)
            .where(
                OutboxRow.destination == f"surface:{surface}",
                OutboxRow.status == "done",
                or_(
                    ref == item_id,
                    ref.like(f"{item_id} %"),
                    ref.like(f"% {item_id}"),
                    ref.like(f"% {item_id} %"),
                ),
            )
        )
        return (await self.session.execute(by_post.limit(1))).scalars().first()

    async def contact_conversations(self, contact_id: int, limit: int = 20) -> list[Conversation]:
        """A contact's conversations, newest first."""
        stmt = (
            select(Conversation)
            .where(Conversation.contact_id == contact_id)
            .order_by(Conversation.id.desc())
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def list_conversations(self, flt: ConversationFilter) -> list[Conversation]:
        """Conversations matching the filter, most urgent and oldest first."""
        stmt = _matching(select(Conversation), flt)
        stmt = stmt.order_by(PRIORITY_RANK, Conversation.updated_at.asc(), Conversation.id).limit(flt.limit)
        return list((await self.session.execute(stmt)).scalars().all())

    async def count_matching(self, flt: ConversationFilter) -> int:
        """How many conversations match the filter, whatever its limit."""
        stmt = _matching(select(func.count(Conversation.id)), flt)
        return int((await self.session.execute(stmt)).scalar_one())

    async def due_snoozed(self, now: datetime, limit: int = 100) -> list[Conversation]:
        """Snoozed conversations whose time has come."""
        stmt = (
            select(Conversation)
            .where(Conversation.status == "snoozed", Conversation.snoozed_until <= now)
            .order_by(Conversation.snoozed_until)
            .limit(limit)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def count_conversations(self) -> int:
        """How many conversations exist."""
        return int((await self.session.execute(select(func.count(Conversation.id)))).scalar_one())

    # --- labels ------------------------------------------------------------------------------

    async def labels_of(self, conversation_id: int) -> list[str]:
        """A conversation's label names, sorted."""
        stmt = (
            select(Label.name)
            .join(ConversationLabel, ConversationLabel.label_id == Label.id)
            .where(ConversationLabel.conversation_id == conversation_id)
            .order_by(Label.key)
        )
        return list((await self.session.execute(stmt)).scalars().all())

    async def label(self, name: str, *, create: bool) -> Label | None:
        """The label named ``name`` (case-insensitive), created on first use when ``create``."""
        key = name.lower()
        found = (await self.session.execute(select(Label).where(Label.key == key))).scalars().first()
        if found is None and create:
            found = Label(key=key, name=name)
            self.session.add(found)
            await self.session.flush()
        return found

    async def set_label(self, conversation: Conversation, label_id: int, present: bool) -> bool:
        """Add or remove a label; True when something changed.

        A conversation staged in this unit of work carries no stored label: adding one stages its
        row (written with the conversation at the flush), removing one changes nothing.
        """
        if conversation.id is None:
            if present:
                self.session.stage(_CONVERSATION_LABELS, {"label_id": label_id}, conversation_id=conversation)
            return present
        exists = (
            (
                await self.session.execute(
                    select(ConversationLabel).where(
                        ConversationLabel.conversation_id == conversation.id,
                        ConversationLabel.label_id == label_id,
                    )
                )
            )
            .scalars()
            .first()
        )
        if present and exists is None:
            self.session.add(ConversationLabel(conversation_id=conversation.id, label_id=label_id))
            return True
        if not present and exists is not None:
            await self.session.delete(exists)
            return True
        return False

    async def label_usage(self) -> list[tuple[str, int]]:
        """Every label with the number of open conversations carrying it."""
        stmt = (
            select(Label.name, func.count(Conversation.id))
            .outerjoin(ConversationLabel, ConversationLabel.label_id == Label.id)
            .outerjoin(
                Conversation,
                and_(Conversation.id == ConversationLabel.conversation_id, Conversation.status != "closed"),
            )
            .group_by(Label.id, Label.name)
            .order_by(Label.key)
        )
        return [(name, int(count)) for name, count in (await self.session.execute(stmt)).all()]
