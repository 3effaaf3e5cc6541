"""The unit of work: one transaction's session, and a named repository per subject over it.

The core never builds SQL; ``Store.transaction()`` (or ``Store.snapshot()`` for long reads)
hands it a ``UnitOfWork`` and it calls the repositories' methods and works with the model
objects they return: ``uow.conversations.conversation(id)``, ``uow.outbox.enqueue(...)``.
Every repository shares the unit of work's session, so what one stages another sees, and all
of it is committed (or rolled back) together when the ``transaction()`` block ends. A
repository is built the first time it is used in a unit of work.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property
from typing import Any

from sqlalchemy import text

from storage.journal import JournalRepository
from storage.repo_agents import AgentRepository
from storage.repo_audit import AuditRepository
from storage.repo_batch import BatchReadRepository
from storage.repo_cards import CardRepository
from storage.repo_contacts import ContactRepository
from storage.repo_conversations import ConversationRepository
from storage.repo_counters import CounterRepository
from storage.repo_csat import CsatRepository
from storage.repo_cursors import CursorRepository
from storage.repo_ingest import IngestRepository
from storage.repo_labels import LabelRepository
from storage.repo_leases import LeaseRepository
from storage.repo_messages import MessageRepository
from storage.repo_outbox import OutboxRepository
from storage.repo_privacy import PrivacyRepository
from storage.repo_repairs import RepairRepository
from storage.repo_schedule import ScheduleRepository
from storage.repo_sends import SendRepository
from storage.repo_templates import TemplateRepository
from storage.repo_threads import ThreadRepository
from storage.staged import StagingSession
from storage.stats import Stats

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """One transaction: its session, flushing, and the repositories of every subject."""

    def __init__(self, session: StagingSession, dialect: str) -> None:
        self.session = session
        self.dialect = dialect

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

    @cached_property
    def agents(self) -> AgentRepository:
        """Agents, their identities and load."""
        return AgentRepository(self.session, self.dialect)

    @cached_property
    def audit(self) -> AuditRepository:
        """The audit trail."""
        return AuditRepository(self.session, self.dialect)

    @cached_property
    def batch(self) -> BatchReadRepository:
        """What a claimed outbox batch's deliveries need, read for many rows at once."""
        return BatchReadRepository(self.session, self.dialect)

    @cached_property
    def cards(self) -> CardRepository:
        """Fingerprints of the cards last sent to surfaces."""
        return CardRepository(self.session, self.dialect)

    @cached_property
    def contacts(self) -> ContactRepository:
        """Contacts, their identities and notes."""
        return ContactRepository(self.session, self.dialect)

    @cached_property
    def conversations(self) -> ConversationRepository:
        """Conversations."""
        return ConversationRepository(self.session, self.dialect)

    @cached_property
    def counters(self) -> CounterRepository:
        """Conversation numbers and stored positions."""
        return CounterRepository(self.session, self.dialect)

    @cached_property
    def csat(self) -> CsatRepository:
        """CSAT questions and ratings."""
        return CsatRepository(self.session, self.dialect)

    @cached_property
    def cursors(self) -> CursorRepository:
        """Channel cursors and processed event ids."""
        return CursorRepository(self.session, self.dialect)

    @cached_property
    def ingest(self) -> IngestRepository:
        """The bulk lookups of an ingest batch."""
        return IngestRepository(self.session, self.dialect)

    @cached_property
    def journal(self) -> JournalRepository:
        """The intake journal."""
        return JournalRepository(self.session, self.dialect)

    @cached_property
    def labels(self) -> LabelRepository:
        """Labels."""
        return LabelRepository(self.session, self.dialect)

    @cached_property
    def leases(self) -> LeaseRepository:
        """Leases of jobs that run on one instance at a time."""
        return LeaseRepository(self.session, self.dialect)

    @cached_property
    def messages(self) -> MessageRepository:
        """Messages and attachments."""
        return MessageRepository(self.session, self.dialect)

    @cached_property
    def outbox(self) -> OutboxRepository:
        """The outbox."""
        return OutboxRepository(self.session, self.dialect)

    @cached_property
    def privacy(self) -> PrivacyRepository:
        """Export and erasure of a contact's data."""
        return PrivacyRepository(self.session, self.dialect)

    @cached_property
    def repairs(self) -> RepairRepository:
        """Mirrors waiting for repair, and the rows a re-mirror replaces."""
        return RepairRepository(self.session, self.dialect)

    @cached_property
    def schedule(self) -> ScheduleRepository:
        """SLA due times, reminders and digest runs."""
        return ScheduleRepository(self.session, self.dialect)

    @cached_property
    def sends(self) -> SendRepository:
        """Parts of outbound messages sent, and rate-limit waits."""
        return SendRepository(self.session, self.dialect)

    @cached_property
    def stats(self) -> Stats:
        """Aggregates for digests and reports."""
        return Stats(self.session, self.dialect)

    @cached_property
    def templates(self) -> TemplateRepository:
        """Saved canned replies."""
        return TemplateRepository(self.session, self.dialect)

    @cached_property
    def threads(self) -> ThreadRepository:
        """Threads of conversations on surfaces."""
        return ThreadRepository(self.session, self.dialect)
