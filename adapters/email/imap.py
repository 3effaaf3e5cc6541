"""Read one IMAP folder: IDLE push (or polling), incremental sync by UIDVALIDITY + last UID.

IMAPClient is blocking, so each ``ImapWorker`` runs its connection in a dedicated thread. Fetching and parsing
happen in that thread; every parsed message is handed to the event loop (``ingest`` coroutine) and the thread
waits for the result, so messages are ingested in UID order, one at a time, and memory stays flat.

The sync position travels with each message as ``ChannelCursor("imap:<mailbox>",
"UIDVALIDITY:LASTUID:ARRIVED[:RESYNC_BEFORE]")`` (``imap_tools.ImapCursor``); the core stores it in the same
transaction as the message; ``imap_position.FolderPosition`` decides where a session starts. Our own sent mail
is not ingested; its position is stored through ``save_cursor``. A crash between ingest and the next message
repeats at most that message, which the core drops by Message-ID.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import random
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime
from typing import TypeVar

from imapclient import IMAPClient

from adapters.email.imap_backlog import BacklogRead
from adapters.email.imap_login import AuthRefused, SignInBackoff, sign_in
from adapters.email.imap_position import FolderPosition
from adapters.email.imap_tools import (
    awaited,
    close_quietly,
    format_cursor,
    idle_until_exists,
    parse_cursor,
    take_announced,
)
from adapters.email.oauth_tokens import CredentialsRefused, MailboxTokens, SignInExpired, TokenServiceError
from adapters.email.settings import MailboxSettings
from bot.clock import Clock, SystemClock
from bot.ports.inbound import ChannelCursor, InboundMessage, IngestResult
from bot.ports.progress import ProgressCallback
from bot.runtime import faults
from bot.runtime.db_outage import is_database_failure

__all__ = ["ImapWorker", "format_cursor", "parse_cursor"]

log = logging.getLogger(__name__)
T = TypeVar("T")
_MAX_FETCH_BYTES = 16 * 1024 * 1024
_DATABASE_RETRY_MAX = 15.0  # seconds between attempts while the core's database does not answer
_NETWORK_ERRORS = (OSError, IMAPClient.Error, IMAPClient.AbortError, EOFError, TokenServiceError)


class _Stopped(Exception):
    """The worker was asked to stop (or the loop is gone)."""


class ImapWorker:
    """Feeds one IMAP folder (``settings``) into the core, for the mailbox named ``mailbox``.

    ``ingest`` stores a message (and its cursor) in one transaction; ``load_cursor`` and
    ``save_cursor`` read/write the cursor by key; ``parse`` turns raw bytes into an
    ``InboundMessage`` (``adapters.email.mime.parse_email`` with the inbox bound) and runs
    in the worker thread; ``is_own`` recognises our own sent mail. ``on_exists`` is called
    (in the worker thread) with ``time.perf_counter()`` when an IDLE EXISTS arrives; the
    same value is kept in ``last_exists_at``; benchmarks measure latency from it. ``tokens``
    gives OAuth2 access tokens (auth = 'oauth2'); ``sign_in_backoff`` handles refused sign-ins
    and its ``problem`` is what health shows. ``progress(done, total)`` is told (in the worker
    thread) how far a backlog read is: a catch-up of at least ``batch_size`` messages, which is also
    logged at its start and end with the count and rate.
    """

    def __init__(
        self,
        settings: MailboxSettings,
        mailbox: str,
        ingest: Callable[[InboundMessage], Awaitable[IngestResult]],
        load_cursor: Callable[[str], Awaitable[str | None]],
        parse: Callable[[bytes], InboundMessage],
        clock: Clock | None = None,
        *,
        save_cursor: Callable[[str, str], Awaitable[None]],
        is_own: Callable[[bytes], bool] | None = None,
        on_exists: Callable[[float], None] | None = None,
        batch_size: int = 50,
        backoff_initial: float = 1.0,
        backoff_max: float = 300.0,
        tokens: MailboxTokens | None = None,
        sign_in_backoff: SignInBackoff | None = None,
        progress: ProgressCallback | None = None,
    ) -> None:
        self.settings, self.mailbox = settings, mailbox
        self.ingest, self.load_cursor, self.save_cursor = ingest, load_cursor, save_cursor
        self.parse, self.is_own, self.on_exists = parse, is_own, on_exists
        self.clock = clock or SystemClock()
        self.cursor_key = f"imap:{mailbox}"
        self.batch_size, self.backoff_initial, self.backoff_max = batch_size, backoff_initial, backoff_max
        self.last_exists_at: float | None = None
        self.tokens, self.progress = tokens, progress
        self.signin = sign_in_backoff or SignInBackoff(mailbox, settings)
        self.position = FolderPosition(mailbox, settings, self.clock)
        self._database_away = False  # the core's database failed under the last ingest
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future[None] | None = None

    # -- lifecycle (event loop side) ---------------------------------------------------------
    async def run(self) -> None:
        """Run until ``stop()``: connect, catch up, wait for new mail; reconnect with backoff on errors."""
        loop = asyncio.get_running_loop()
        self._loop, self._done = loop, loop.create_future()
        self._stop.clear()
        done = self._done

        def finished() -> None:
            if not done.done():
                done.set_result(None)

        def target() -> None:
            try:
                self._thread_main()
            finally:
                with contextlib.suppress(RuntimeError):  # the loop may already be closed
                    loop.call_soon_threadsafe(finished)

        threading.Thread(target=target, name=f"imap-{self.mailbox}", daemon=True).start()
        try:
            await asyncio.shield(done)
        except asyncio.CancelledError:
            self._stop.set()
            raise

    def is_connected(self) -> bool:
        """Whether the IMAP connection is up (readiness and outage notices read it)."""
        return self.connected.is_set()

    async def stop(self) -> None:
        """Ask the worker to stop and wait for its thread to finish (at most about a second when idle)."""
        self._stop.set()
        if self._done is not None:
            await asyncio.shield(self._done)

    # -- worker thread ---------------------------------------------------------------------
    def _call(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` on the event loop and wait for its result."""
        loop = self._loop
        if loop is None or loop.is_closed():
            if isinstance(awaitable, Coroutine):
                awaitable.close()
            raise _Stopped
        future = asyncio.run_coroutine_threadsafe(awaited(awaitable), loop)
        while True:
            try:
                return future.result(timeout=0.5)
            except concurrent.futures.TimeoutError:
                if loop.is_closed():
                    raise _Stopped from None

    def _thread_main(self) -> None:
        failures = 0
        outage_since: float | None = None
        while not self._stop.is_set():
            client: IMAPClient | None = None
            try:
                client = self._connect()
                if outage_since is not None:
                    log.info(
                        "imap reconnected",
                        extra={
                            "mailbox": self.mailbox,
                            "attempts": failures,
                            "outage_seconds": round(time.monotonic() - outage_since, 1),
                        },
                    )
                    outage_since = None
                failures = 0
                self.signin.ok()
                self._session(client)
            except _Stopped:
                break
            except (AuthRefused, CredentialsRefused) as exc:
                self.signin.refused(exc, self._stop)
            except SignInExpired as exc:
                self.signin.expired(exc, self._stop, self._signed_in_again)
            except Exception as exc:
                failures += 1
                network = isinstance(exc, _NETWORK_ERRORS)
                if is_database_failure(exc):  # the core's database, not the mail server: once per outage
                    if not self._database_away:
                        log.warning(
                            "imap paused: the database does not answer; retrying with backoff",
                            extra={"mailbox": self.mailbox},
                        )
                    self._database_away = True
                elif not network:
                    log.exception("imap sync failed", extra={"mailbox": self.mailbox})
                elif outage_since is None:
                    log.warning(
                        "imap connection lost; reconnecting with backoff",
                        extra={
                            "mailbox": self.mailbox,
                            "host": self.settings.host,
                            "error": f"{type(exc).__name__}: {exc}",
                        },
                    )
                else:
                    log.debug("imap reconnect failed", extra={"mailbox": self.mailbox, "error": str(exc)})
                if outage_since is None and not is_database_failure(exc):
                    outage_since = time.monotonic()
                # the database coming back is not announced to this thread: retry it sooner
                cap = self.backoff_max
                if is_database_failure(exc):
                    cap = min(cap, _DATABASE_RETRY_MAX)
                delay = min(cap, self.backoff_initial * 2 ** min(failures - 1, 20))
                self._stop.wait(delay * random.uniform(0.8, 1.0))
            finally:
                self.connected.clear()
                if client is not None:
                    close_quietly(client)

    def _connect(self) -> IMAPClient:
        s = self.settings
        client = IMAPClient(s.host, port=s.port, ssl=s.security == "tls", timeout=s.timeout_seconds)
        try:
            if s.security == "starttls":
                client.starttls()
            sign_in(client, s, self._access_token if self.tokens is not None else None)
            client.normalise_times = False
        except BaseException:
            close_quietly(client)
            raise
        return client

    def _access_token(self, renew: bool) -> str:
        assert self.tokens is not None
        return self._call(self.tokens.access_token(renew=renew))

    def _signed_in_again(self) -> bool:
        assert self.tokens is not None
        return self._call(self.tokens.signed_in_again())

    @property
    def auth_problem(self) -> str | None:
        """Why this mailbox cannot sign in (naming it and quoting the server), or None."""
        return self.signin.problem

    def _session(self, client: IMAPClient) -> None:
        s = self.settings
        info = client.select_folder(s.folder, readonly=not (s.mark_seen or s.move_to))
        validity = int(info[b"UIDVALIDITY"])
        stored = parse_cursor(self._call(self.load_cursor(self.cursor_key)))
        last, first_save = self.position.start(client, stored, validity, int(info.get(b"UIDNEXT", 0) or 0))
        if first_save is not None:
            self._call(self.save_cursor(self.cursor_key, first_save))
        self.connected.set()
        use_idle = s.idle and client.has_capability("IDLE")
        log.info(
            "imap folder selected", extra={"mailbox": self.mailbox, "folder": s.folder, "idle": use_idle}
        )
        while not self._stop.is_set():
            last = self._catch_up(client, validity, last)
            finished = self.position.resync_done(validity, last)
            if finished is not None:
                self._call(self.save_cursor(self.cursor_key, finished))
            if self._database_away:
                self._database_away = False
                log.info("imap resumed: the database answers again", extra={"mailbox": self.mailbox})
            if use_idle:
                wait = min(s.idle_renew_seconds, s.rescan_seconds)  # a quiet IDLE still rescans
                exists_at = idle_until_exists(client, self._stop, wait)
                if exists_at is not None:
                    self.last_exists_at = exists_at
                    if self.on_exists is not None:
                        self.on_exists(exists_at)
            elif not self._stop.wait(s.poll_interval_seconds):
                client.noop()
        raise _Stopped

    def _catch_up(self, client: IMAPClient, validity: int, last: int) -> int:
        """Read every message after UID ``last``; return the new last UID.

        Searches again until a search finds nothing new and the server announced no mail
        meanwhile: mail that arrives during a long catch-up or a large FETCH is read now,
        not at the next IDLE renewal.
        """
        take_announced(client)
        while True:
            uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
            announced = take_announced(client)
            if not uids and not announced:
                return last
            last = self._read(client, validity, last, uids)

    def _read(self, client: IMAPClient, validity: int, last: int, uids: list[int]) -> int:
        """Fetch and ingest ``uids`` (ascending, all after ``last``) in batches; return the new last UID."""
        long_read = len(uids) >= self.batch_size
        backlog = BacklogRead(self.mailbox, len(uids), self.progress) if long_read else None
        for start in range(0, len(uids), self.batch_size):
            if self._stop.is_set():
                raise _Stopped
            batch = uids[start : start + self.batch_size]
            sizes = client.fetch(batch, ["RFC822.SIZE"])
            group: list[int] = []
            group_bytes = 0
            for uid in batch:
                size = int(sizes.get(uid, {}).get(b"RFC822.SIZE", 0) or 0)
                if group and group_bytes + size > _MAX_FETCH_BYTES:
                    last = self._fetch_and_ingest(client, validity, group, last, more_follow=True)
                    if backlog is not None:
                        backlog.read(len(group))
                    group, group_bytes = [], 0
                group.append(uid)
                group_bytes += size
            if group:
                more = group[-1] != uids[-1]
                last = self._fetch_and_ingest(client, validity, group, last, more_follow=more)
                if backlog is not None:
                    backlog.read(len(group))
        return last

    def _fetch_and_ingest(
        self, client: IMAPClient, validity: int, uids: list[int], last: int, *, more_follow: bool
    ) -> int:
        """Fetch a group of UIDs and hand them to the core together, so they share one transaction.

        ``more_follow`` when more of the mailbox's backlog comes after this group: the core then
        stores the backlog before mirroring it (``bot.ingest.backlog``).

        Messages are submitted in UID order; the cursor each carries is stored with it, so a
        crash leaves the cursor at the last message that was really stored.
        """
        data = client.fetch(uids, ["BODY.PEEK[]", "INTERNALDATE"])
        ingested: list[int] = []
        pending: list[InboundMessage] = []
        for uid in uids:
            item = data.pop(uid, None)
            if item is None:  # expunged since SEARCH
                continue
            raw = bytes(item.get(b"BODY[]") or b"")
            arrived = item.get(b"INTERNALDATE")
            received = arrived if isinstance(arrived, datetime) and arrived.tzinfo else self.clock.now()
            self.position.read(received)
            cursor = ChannelCursor(self.cursor_key, self.position.cursor(validity, uid))
            # a rebuilt folder's UIDs need not follow the dates: older mail among them is passed over
            too_old = self.position.too_old(received)
            if too_old or (self.is_own is not None and self.is_own(raw)):
                self._ingest_all(pending)
                pending = []
                self._call(self.save_cursor(cursor.key, cursor.value))
            else:
                resynced = self.position.resynced(received)
                parsed = replace(self.parse(raw), cursor=cursor, received_at=received, resynced=resynced)
                pending.append(replace(parsed, more_follow=more_follow))
                faults.hit("after_fetch")  # crash-safety tests; a no-op in production
                ingested.append(uid)
            last = uid
        self._ingest_all(pending)
        self._after_ingest(client, ingested)
        return last

    def _ingest_all(self, messages: list[InboundMessage]) -> None:
        """Ingest ``messages`` concurrently (in order); raise the first failure after all have settled."""
        if not messages:
            return

        async def together() -> None:
            results = await asyncio.gather(*(self.ingest(m) for m in messages), return_exceptions=True)
            for message, result in zip(messages, results, strict=True):
                if isinstance(result, BaseException):
                    # a later message of the group may have been stored with its cursor: read again from
                    # this one on (what was stored comes back as a duplicate and is dropped)
                    failed = parse_cursor(message.cursor.value if message.cursor else None)
                    if failed is not None:
                        self.position.resume_after = failed.last_uid - 1
                    raise result

        self._call(together())

    def _after_ingest(self, client: IMAPClient, uids: list[int]) -> None:
        s = self.settings
        if not uids:
            return
        if s.mark_seen:
            client.add_flags(uids, [b"\\Seen"])
        if s.move_to:
            if client.has_capability("MOVE"):
                client.move(uids, s.move_to)
            else:
                client.copy(uids, s.move_to)
                client.delete_messages(uids)
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge(uids)
                else:
                    client.expunge()
