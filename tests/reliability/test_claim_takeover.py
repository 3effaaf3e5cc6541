"""A dead instance's claimed outbox rows are delivered by another within the claim (default 8 s):
two real ``threadline run`` processes on SQLite and PostgreSQL with the default ``claim_seconds``;
the first claims the rows of a customer's mail and is killed (``os._exit(137)``) before delivering;
the rows come free within the claim of the kill, and the second posts them once. (How long the
second takes after that depends on the machine's load, so it is printed, not asserted.)"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testkit.email.dovecot import Dovecot
from testkit.email.smtp_sink import SmtpSink
from testkit.processes.procs import Instance, customer_mail, until, write_config
from testkit.processes.state import rows, safe_snapshot, snapshot

DEFAULT_CLAIM = 8.0  # [ops] claim_seconds' default (bot/settings/ops.py)


async def test_rows_of_a_killed_instance_are_delivered_by_the_other_within_the_claim(
    process_db: str, dovecot: Dovecot, smtp: SmtpSink, tmp_path: Path
) -> None:
    configs = {
        name: write_config(
            tmp_path / f"{name}.toml",
            process_db,
            imap=dovecot.port,
            smtp=smtp.port,
            instance=f"claim-{name}",
            claim=DEFAULT_CLAIM,
        )
        for name in ("a", "b")
    }
    first, second = Instance(configs["a"], tmp_path, "a"), Instance(configs["b"], tmp_path, "b")
    imap = dovecot.client()
    imap.append("INBOX", customer_mail(1, "claim"))
    first.start("after_claim:1")  # stores the mail, claims its outbox rows, dies before posting
    assert await first.exited(timeout=60) == 137, first.stderr()[-3000:]
    killed, killed_at = time.monotonic(), datetime.now(UTC)
    state = snapshot(process_db)
    assert [m for m, _ in state.inbound] == ["<claim-1@example.org>"] and state.pending_outbox
    free_at = [
        _aware(at)
        for (at,) in rows(process_db, "SELECT next_attempt_at FROM outbox WHERE status = 'pending'")
    ]
    assert free_at, "the killed instance claimed nothing"
    assert max(free_at) <= killed_at + timedelta(seconds=DEFAULT_CLAIM + 1), (free_at, killed_at)
    second.start()
    try:

        def delivered() -> bool:
            now = safe_snapshot(process_db)
            return now is not None and now.pending_outbox == 0 and bool(now.threads)

        await until(delivered, 60, "the killed instance's rows delivered", second)
        took = time.monotonic() - killed
    finally:
        second.terminate()
    assert await second.exited(timeout=30) == 0
    shown = second.stdout()
    assert shown.count("│ Customer 1 (customer, email)") == 1, shown  # posted once
    assert "where is my order 1001" in shown
    print(f"\ntakeover after the kill: {took:.1f} s (claim {DEFAULT_CLAIM:.0f} s)")
    imap.logout()


def _aware(at: object) -> datetime:
    """A stored UTC time (SQLite gives it as text, PostgreSQL as a datetime) as an aware datetime."""
    value = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))
    return value if value.tzinfo else value.replace(tzinfo=UTC)
