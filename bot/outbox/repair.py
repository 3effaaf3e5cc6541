"""Deliveries that heal: a surface refusing until its setup is fixed, and the repair once it is.

A ``SurfaceRefused`` (the bot not in the channel, the channel gone, a bad or revoked token, a
missing scope) marks the conversation's mirror as needing repair under its scope (the chat
channel, or ``*`` for the whole surface), parks the row, and tells the team once per broken
scope: one ops log line with the fix, and one notice in chat where it can be read
(``bot.outbox.refusal_notices``), with a second one when it is healed. Later rows of a marked
conversation are parked without calling the platform. Every ``[outbox] repair_probe_seconds``
each broken scope is probed (``Surface.probe``); when it works again — by the probe, or by the
next successful delivery in that scope — every conversation marked under it is re-mirrored
(``bot.outbox.remirror``).
A card the platform says is gone (``ThreadGone``) is rebuilt the same way, history and all.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping

from bot.clock import Clock
from bot.config import Settings
from bot.effects import CHANNEL_POST
from bot.outbox.refusal_notices import RefusalNotices
from bot.outbox.remirror import Remirrored, remirror
from bot.ports import WHOLE_SURFACE, DeliveryError, Surface, SurfaceRefused
from bot.runtime import faults
from storage import Store
from storage.models import OutboxRow

__all__ = ["Repairs", "refusal_key"]

log = logging.getLogger(__name__)


def refusal_key(chat_channel: str, error: SurfaceRefused) -> str:
    """The broken scope a refusal names: the chat channel of the call, or ``*`` (the whole surface)."""
    return WHOLE_SURFACE if error.scope == "surface" else chat_channel


class Repairs:
    """Marks, parks, probes and heals; the dispatcher calls it around every surface delivery."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        surfaces: Mapping[str, Surface],
        notify: Callable[[], None] = lambda: None,
        *,
        holder: str = "threadline",
    ) -> None:
        """``holder``: this instance's lease name (the refusal notices are told by one instance)."""
        self.store = store
        self.settings = settings
        self.clock = clock
        self.surfaces = surfaces
        self.broken: dict[tuple[str, str], str] = {}  # (surface, scope) -> reason, as last read or learnt
        self.states: dict[tuple[str, str], str] = {}  # probed at start and since: (surface, scope) -> state
        self.notify = notify  # wakes the outbox when a re-mirror was queued
        self._read_stored = False  # the stored broken scopes were read (once, before the first delivery)
        self.remirrored: set[int] = set()  # conversations this instance re-mirrored since it started
        self.notices = RefusalNotices(store, settings, clock, surfaces, holder, self._works)
        self._told: set[tuple[str, str]] = set()  # scopes this instance told the team about
        self._found: set[tuple[str, str]] = set()  # of those, told after the check at start found them

    def _works(self, surface: str, chat_channel: str) -> bool:
        """False when the chat channel, or its whole surface, is known to refuse."""
        for scope in (WHOLE_SURFACE, chat_channel):
            if (surface, scope) in self.broken or self.states.get((surface, scope), "ok").startswith(
                "broken"
            ):
                return False
        return True

    def chat_channel_of(self, row: OutboxRow, inbox: str) -> str:
        """The chat channel a surface row goes to: its own for a channel post, else its inbox's."""
        if row.kind == CHANNEL_POST:
            return str(row.payload.get("chat_channel", ""))
        return self.settings.inbox(inbox).chat_channel

    async def hold(self, row: OutboxRow, surface: str) -> bool:
        """Park ``row`` when its conversation's mirror waits for repair (the platform is not called).

        The first call reads the broken scopes stored by an earlier run or another instance, so a
        restarted instance never posts a waiting conversation's rows before its re-mirror."""
        if not self._read_stored:
            async with self.store.transaction() as uow:
                scopes = await uow.repairs.broken_scopes()
            self.broken.update({(s.surface, s.scope): s.reason for s in scopes})
            self._read_stored = True
        if row.conversation_id in self.remirrored:  # claimed before its re-mirror replaced it?
            async with self.store.transaction() as uow:
                if (await uow.outbox.outbox_row(row.id)).status != "pending":
                    return True  # superseded while it waited for a delivery slot: never posted
        if row.conversation_id is None or not any(name == surface for name, _ in self.broken):
            return False  # no mirror (a digest), or nothing broken on this surface as far as we know
        async with self.store.transaction() as uow:
            if not await uow.repairs.needs_repair(row.conversation_id, surface):
                return False
            await uow.repairs.park(row.id, "waiting for the surface to be repaired")
        return True

    async def refused(self, row: OutboxRow, surface: str, error: SurfaceRefused) -> None:
        """A permanent refusal: mark the conversation, park the row, tell the team once per scope."""
        now = self.clock.now()
        assert row.conversation_id is not None  # a digest's refusal fails it (``Dispatcher``)
        async with self.store.transaction() as uow:
            conversation = await uow.conversations.conversation(row.conversation_id)
            scope = refusal_key(self.chat_channel_of(row, conversation.inbox), error)
            first = await uow.repairs.mark_repair(conversation.id, surface, scope, error.reason, now)
            await uow.repairs.park(row.id, error.reason)
            told = (
                first
                and (surface, scope) not in self._told  # not told already (by the check at start)
                and await self.notices.refused(uow, surface, scope, error.reason)
            )
        known = self.states.get((surface, scope), "").startswith("broken: ")  # logged when it was found
        self.broken[(surface, scope)] = error.reason
        self.states[(surface, scope)] = f"broken: {error.reason}"
        if first and not known:
            where = "every channel" if scope == WHOLE_SURFACE else scope
            log.error(
                "surface refuses %s: %s; conversations there wait and are re-mirrored once it is fixed",
                where,
                error.reason,
                extra={"surface": surface, "scope": scope, "conversation_id": row.conversation_id},
            )
        if told:
            self._told.add((surface, scope))
            self.notify()

    async def rebuild(self, row: OutboxRow, surface: str) -> Remirrored:
        """The card or thread is gone on the platform: a new card with the thread's whole history."""
        assert row.conversation_id is not None  # only a conversation's own rows find its thread gone
        async with self.store.transaction() as uow:
            conversation = await uow.conversations.conversation(row.conversation_id)
            done = await remirror(uow, conversation, surface, self.clock.now(), fresh=True, replacing=row.id)
        self.remirrored.add(conversation.id)
        log.warning(
            "thread gone; recreating the card with its history",
            extra={"outbox_id": row.id, "surface": surface, "posts": done.posts},
        )
        self.notify()
        return done

    async def succeeded(self, row: OutboxRow, surface: str) -> None:
        """A delivery of ``row`` went through: the whole surface, and its chat channel, work again."""
        if not any(name == surface for name, _ in self.broken) and all(
            state == "ok" for (name, _), state in self.states.items() if name == surface
        ):
            return  # nothing known broken on this surface: no query
        if row.conversation_id is None:  # a digest: its chat channel is in the row
            chat_channel = str(row.payload.get("chat_channel", ""))
        else:
            async with self.store.transaction() as uow:
                inbox = (await uow.conversations.conversation(row.conversation_id)).inbox
            chat_channel = self.chat_channel_of(row, inbox)
        for scope in (WHOLE_SURFACE, chat_channel):
            if (surface, scope) in self.broken:
                await self.heal(surface, scope)
            elif (surface, scope) in self.states:
                self.states[(surface, scope)] = "ok"

    async def heal(self, surface: str, scope: str) -> int:
        """Re-mirror every conversation marked under a scope that works again; return how many."""
        now = self.clock.now()
        count = 0
        reason = self.broken.get((surface, scope), "")
        async with self.store.transaction() as uow:
            for conversation_id in await uow.repairs.take_repairs(surface, scope):
                conversation = await uow.conversations.conversation(conversation_id)
                await remirror(uow, conversation, surface, now, fresh=False)
                self.remirrored.add(conversation.id)
                count += 1
            if count:  # this instance took the waiting conversations: it tells the team, once
                await self.notices.healed(uow, surface, scope, reason, count)
        faults.hit("remirror_queued")  # crash-safety tests: the re-mirror is committed, nothing posted
        self.broken.pop((surface, scope), None)
        self.states[(surface, scope)] = "ok"
        if (surface, scope) in self._told and not count:  # another instance healed it first
            await self.notices.forget(surface, scope)
        self._told.discard((surface, scope))
        self._found.discard((surface, scope))
        log.warning(
            "surface works again; re-mirroring the conversations that waited",
            extra={"surface": surface, "scope": scope, "conversations": count},
        )
        self.notify()
        return count

    async def resync(self, numbers: Iterable[int] | None) -> list[int]:
        """Re-mirror conversations on demand (``threadline resync``): ``None`` means every one; returns
        the numbers queued (not those of an inbox no longer configured)."""
        now = self.clock.now()
        done: list[int] = []
        async with self.store.transaction() as uow:
            conversations = await uow.repairs.conversations_for_resync(
                None if numbers is None else list(numbers)
            )
            for conversation in conversations:
                inbox = self.settings.inboxes.get(conversation.inbox)
                if inbox is None:  # its inbox is no longer configured: it has no thread to mirror into
                    continue
                surface = inbox.surface
                await uow.repairs.drop_repair(conversation.id, surface)
                await remirror(uow, conversation, surface, now, fresh=True)
                self.remirrored.add(conversation.id)
                done.append(conversation.number)
        self.notify()
        return done

    async def probe_all(self) -> None:
        """Probe every broken scope (as stored, so every instance sees all) and heal those that work."""
        async with self.store.transaction() as uow:
            scopes = await uow.repairs.broken_scopes()
        self.broken = {(s.surface, s.scope): s.reason for s in scopes}
        for key in (
            self._told - set(self.broken) - self._found
        ):  # another instance healed it: lease not needed
            await self.notices.forget(*key)
            self._told.discard(key)
        for (surface, scope), reason in list(self.broken.items()):
            if await self._probe(surface, scope, reason):
                await self.heal(surface, scope)
        for key, state in list(self.states.items()):  # checked at start but not ok: has it changed?
            if (
                state != "ok"
                and key not in self.broken
                and await self._probe(*key, "")
                and key in self._found
            ):
                self._found.discard(key)  # told at start, no conversation waited: the one "works again"
                self._told.discard(key)
                async with self.store.transaction() as uow:
                    await self.notices.healed(uow, *key, state.removeprefix("broken: "), 0)
                self.notify()

    async def check_at_start(self) -> None:
        """Probe every surface's token and every chat channel an inbox maps to (``/readyz`` shows them);
        tell the team once about each one that refuses, before any delivery there is refused."""
        wanted: dict[str, set[str]] = {name: {WHOLE_SURFACE} for name in self.surfaces}
        for inbox in self.settings.inboxes.values():
            if inbox.surface in wanted:
                wanted[inbox.surface].add(inbox.chat_channel)
        for surface, scopes in wanted.items():
            for scope in sorted(scopes):
                await self._probe(surface, scope, "")
        for (surface, scope), state in list(self.states.items()):
            if state.startswith("broken: ") and (surface, scope) not in self._told:
                await self._tell_found(surface, scope, state.removeprefix("broken: "))

    async def _tell_found(self, surface: str, scope: str, reason: str) -> None:
        """A scope the check found refusing: the error log line and the one notice in chat."""
        where = "every channel" if scope == WHOLE_SURFACE else scope
        log.error(
            "surface refuses %s: %s; conversations there wait and are re-mirrored once it is fixed",
            where,
            reason,
            extra={"surface": surface, "scope": scope},
        )
        async with self.store.transaction() as uow:
            told = await self.notices.refused(uow, surface, scope, reason)
        if told:
            self._told.add((surface, scope))
            self._found.add((surface, scope))
            self.notify()

    async def _probe(self, surface: str, scope: str, reason: str) -> bool:
        """Ask the surface whether ``scope`` works; record its state; True when it does."""
        target = self.surfaces.get(surface)
        if target is None:
            return False
        try:
            await target.probe(scope)
        except SurfaceRefused as exc:
            self.states[(surface, scope)] = f"broken: {exc.reason}"
            return False
        except DeliveryError as exc:
            self.states[(surface, scope)] = f"unknown: {exc.reason}"
            return False
        except Exception as exc:  # a probe never stops the loop
            self.states[(surface, scope)] = f"unknown: {exc.__class__.__name__}"
            log.warning("surface probe raised", extra={"surface": surface, "scope": scope}, exc_info=True)
            return False
        self.states[(surface, scope)] = "ok"
        if reason:
            log.info("surface probe succeeded", extra={"surface": surface, "scope": scope})
        return True

    def report(self) -> dict[str, dict[str, str]]:
        """Each surface's and chat channel's state for ``/readyz``: ``surfaces`` and ``channels``."""
        surfaces: dict[str, str] = {}
        channels: dict[str, str] = {}
        states = dict(self.states)
        for (surface, scope), reason in self.broken.items():
            states[(surface, scope)] = f"broken: {reason}"
        for (surface, scope), state in sorted(states.items()):
            if scope == WHOLE_SURFACE:
                surfaces[surface] = state
            else:
                channels[f"{surface}:{scope}"] = state
        for name in self.surfaces:
            surfaces.setdefault(name, "not checked yet")
        return {"surfaces": surfaces, "channels": channels}

    async def run(self) -> None:
        """Probe broken scopes now and every ``[outbox] repair_probe_seconds`` until cancelled."""
        every = self.settings.outbox.repair_probe_seconds
        while True:
            try:
                await self.probe_all()
            except Exception as exc:  # the database or a surface failing: try again next round
                log.warning("repair probe round failed", extra={"error": exc.__class__.__name__})
            await asyncio.sleep(every)
