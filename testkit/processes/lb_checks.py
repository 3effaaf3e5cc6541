"""What the load-balancer tests assert once the traffic is over: everything processed, in storage
exactly once, and on the team's side in Slack exactly once, though an instance was killed with
deliveries in flight."""

from __future__ import annotations

import asyncio
import re
from collections import Counter

from testkit.processes.lb_cluster import Cluster
from testkit.processes.procs import until
from testkit.processes.senders import customer_text, wamid
from testkit.processes.state import rows


def count(url: str, sql: str) -> int:
    """A ``count(*)``; -1 while the database is busy."""
    found = rows(url, sql)
    return int(str(found[0][0])) if found else -1


async def settle(cluster: Cluster, total: int, worked: int, timeout: float = 90.0) -> None:
    """Wait until every message, note, claim, reminder and digest is through, then a little more
    (a duplicate would show up then)."""
    db = cluster.db

    def progress() -> dict[str, int]:
        warnings, _ = cluster.reminders()
        return {
            "inbound": count(db, "SELECT count(*) FROM messages WHERE kind = 'inbound'"),
            "notes": count(db, "SELECT count(*) FROM messages WHERE kind = 'note'"),
            "journal open": count(db, "SELECT count(*) FROM journal WHERE state <> 'done'"),
            "outbox pending": count(db, "SELECT count(*) FROM outbox WHERE status = 'pending'"),
            "claims answered": min(len(cluster.slack.responses), worked),
            "reminders": len(warnings),
            "digests sent": min(cluster.digests_sent(), 2),
        }

    expected = {
        "inbound": total,
        "notes": worked,
        "journal open": 0,
        "outbox pending": 0,
        "claims answered": worked,
        "reminders": total,
        "digests sent": 2,  # the seeded run and the one missed since
    }
    try:
        await until(lambda: progress() == expected, timeout, "everything processed", *cluster.logs())
    except AssertionError as failure:
        raise AssertionError(f"{progress()} != {expected}") from failure
    await asyncio.sleep(2)


def check_storage(cluster: Cluster, total: int, threads: dict[int, str]) -> None:
    """Each customer message and each note stored once; the claimed conversations assigned."""
    db = cluster.db
    inbound = Counter(str(r[0]) for r in rows(db, "SELECT external_id FROM messages WHERE kind = 'inbound'"))
    assert inbound == Counter({wamid(n): 1 for n in range(total)})
    notes = Counter(str(r[0]) for r in rows(db, "SELECT text FROM messages WHERE kind = 'note'"))
    assert notes == Counter({f"note on #{n}": 1 for n in threads})  # once, though Slack retried
    assigned = {
        int(str(r[0])) for r in rows(db, "SELECT number FROM conversations WHERE assignee_id IS NOT NULL")
    }
    assert assigned == set(threads)
    assert count(db, "SELECT count(*) FROM outbox WHERE status = 'failed'") == 0
    assert count(db, "SELECT count(*) FROM journal WHERE state <> 'done'") == 0


def check_team_side(cluster: Cluster, total: int, threads: dict[int, str]) -> None:
    """What the team saw in Slack.

    A delivery the killed instance had in flight (posted to Slack, not yet recorded as done) is
    found again by the survivor (the outbox id in the message's metadata, read back with
    ``conversations.replies`` / ``conversations.history``) and not posted twice (docs/durability.md).
    So every card, customer message, claim answer and reminder is shown exactly once, and each
    digest run is posted once.
    """
    slack = cluster.slack
    cards = Counter(int(m[1]) for c in slack.roots("C_SUPPORT") if (m := re.match(r"#(\d+) ·", c["text"])))
    posts = cluster.thread_posts()
    shown = Counter({n: sum(customer_text(n) in post for post in posts) for n in range(total)})
    answers = Counter(str(r.get("text")) for r in slack.responses)
    claimed = Counter({number: answers[f"You claimed #{number}."] for number in threads})
    warnings, breaches = cluster.reminders()
    seen_by_kind = {
        "cards": (cards, set(range(1, total + 1))),
        "customer messages": (shown, set(range(total))),
        "claim answers": (claimed, set(threads)),
        "reminders": (warnings, set(range(1, total + 1))),
    }
    duplicated = {name: {k: n for k, n in seen.items() if n > 1} for name, (seen, _) in seen_by_kind.items()}
    for name, (seen, keys) in seen_by_kind.items():
        assert set(seen) == keys and set(seen.values()) == {1}, (name, seen, duplicated)
    assert set(breaches.values()) <= {1}, breaches  # a breach comes after a minute, if the test ran so long
    assert len(slack.roots("C_DIGEST")) == cluster.digests_sent() - 1  # each digest run posted once
