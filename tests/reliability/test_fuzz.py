"""Hostile input (hypothesis): the command grammar, the MIME parser, the WhatsApp webhook parser and
Slack payload handling never let an exception escape; errors are clear, valid parts are kept."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import random
import resource
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.email.mime import parse_email
from adapters.whatsapp.payload import parse_webhook
from bot.clock import ManualClock
from bot.commands.grammar import CommandError, parse_command
from testkit.slack.fake import FakeSlack
from testkit.slack.rig import slack_settings
from testkit.slack.signing import form, signed_request
from testkit.whatsapp.payloads import envelope, message, status
from threadline.app import Threadline

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "mime"
CORPUS = sorted(FIXTURES.glob("*.eml"))
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=25,
)

WORDS = [
    "claim",
    "assign",
    "unassign",
    "label",
    "labels",
    "note",
    "reply",
    "snooze",
    "close",
    "reopen",
    "history",
    "retry",
    "priority",
    "list",
    "help",
    "template",
    "!",
    "#",
    "@",
    "+",
    "-",
    "--confirm",
]
command_lines = st.lists(
    st.sampled_from(WORDS) | st.text(max_size=12) | st.integers().map(lambda n: f"#{n}"), max_size=6
).map(" ".join)


_HEADROOM = 3 * 1024**3  # address space a fuzz test may add to the worker's before it fails


def _address_space() -> int:
    """The worker's virtual memory size now, in bytes (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    return 0


@pytest.fixture(autouse=True, scope="module")
def _bounded_memory() -> Iterator[None]:
    """One run of this module once took its worker to 22 GB; it could not be reproduced (seeds 1-3 with
    ``ulimit -v`` 4 GB peaked at 354 MB). Within this module the worker's address space is capped at its
    size now plus 3 GB, so a blowup fails the example that caused it with a MemoryError (hypothesis then
    shows the input) instead of taking the machine; the cap is lifted afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    used = _address_space()
    if not used:  # not Linux: no cap
        yield
        return
    cap = used + _HEADROOM if hard == resource.RLIM_INFINITY else min(hard, used + _HEADROOM)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


# --- the command grammar ---------------------------------------------------------------------------


@FUZZ
@given(st.one_of(st.text(max_size=200), command_lines), st.sampled_from(["", "!", "?", "//"]))
def test_the_grammar_raises_only_command_errors_with_a_message(line: str, prefix: str) -> None:
    try:
        parsed = parse_command(line, prefix)
    except CommandError as exc:
        assert str(exc).strip(), "a refusal must say what is wrong"
    else:
        assert parsed.command is not None


# --- the MIME parser -------------------------------------------------------------------------------


def _check_mail(raw: bytes) -> None:
    parsed = parse_email(raw, inbox="support", own_message_id_domains={"threadline.test"})
    assert parsed.inbox == "support" and parsed.channel == "email"
    assert parsed.external_id  # synthesised when missing: dedupe still works
    assert isinstance(parsed.text, str)


@FUZZ
@given(st.binary(max_size=4000))
def test_mime_parser_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    _check_mail(raw)


@FUZZ
@given(
    st.sampled_from(CORPUS),
    st.lists(
        st.tuples(st.integers(0, 10**6), st.binary(min_size=0, max_size=8), st.integers(0, 8)),
        min_size=1,
        max_size=8,
    ),
)
def test_mime_parser_never_raises_on_mutated_corpus_mail(
    path: Path, edits: list[tuple[int, bytes, int]]
) -> None:
    raw = bytearray(path.read_bytes())
    for position, insert, delete in edits:
        at = position % (len(raw) + 1)
        raw[at : at + delete] = insert
    _check_mail(bytes(raw))


def test_a_valid_mail_keeps_its_identity_after_parsing() -> None:
    parsed = parse_email(CORPUS[0].read_bytes(), inbox="support")
    assert parsed.external_id.startswith("<") and parsed.sender_address


# --- the WhatsApp webhook parser -------------------------------------------------------------------

WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _mutate(value: Any, rnd: random.Random, junk: Any) -> Any:
    if isinstance(value, dict) and value and rnd.random() < 0.8:
        key = rnd.choice(list(value))
        return {**value, key: _mutate(value[key], rnd, junk) if rnd.random() < 0.7 else junk}
    if isinstance(value, list) and value and rnd.random() < 0.8:
        index = rnd.randrange(len(value))
        return [*value[:index], _mutate(value[index], rnd, junk), *value[index + 1 :]]
    return junk


@FUZZ
@given(json_values)
def test_webhook_parser_never_raises_on_json(payload: Any) -> None:
    batch = parse_webhook(payload)
    assert isinstance(batch.messages, tuple) and isinstance(batch.statuses, tuple)


@FUZZ
@given(st.integers(0, 2**32), json_values, st.integers(1, 4))
def test_webhook_parser_keeps_the_good_message_next_to_mutated_ones(
    seed: int, junk: Any, rounds: int
) -> None:
    rnd = random.Random(seed)
    good = message("text", {"body": "Where is my parcel?"}, when=WHEN, wamid="wamid.GOOD")
    bad = envelope(
        messages=[message("image", {"id": "m1", "mime_type": "image/jpeg"}, when=WHEN)],
        statuses=[
            status("wamid.X", "failed", when=WHEN, errors=[{"code": 131047, "title": "Re-engagement"}])
        ],
    )
    for _ in range(rounds):
        bad = _mutate(bad, rnd, junk)
    payload = {
        "object": "whatsapp_business_account",
        "entry": [*_entries(bad), *envelope(messages=[good])["entry"]],
    }
    batch = parse_webhook(payload)
    assert "wamid.GOOD" in {m.wamid for m in batch.messages}, "a malformed neighbour must not drop a message"


def _entries(payload: Any) -> list[Any]:
    entries = payload.get("entry") if isinstance(payload, dict) else None
    return entries if isinstance(entries, list) else [payload]


# --- Slack payload handling ------------------------------------------------------------------------


class _Failures(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def slack_app(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[asyncio.AbstractEventLoop, Threadline]]:
    """A Threadline app wired to the fake Slack, on its own loop (hypothesis drives it synchronously)."""
    loop = asyncio.new_event_loop()
    tmp = tmp_path_factory.mktemp("slackfuzz")

    async def build() -> tuple[FakeSlack, Threadline]:
        fake = await FakeSlack().start()
        fake.add_user("UALICE", "Alice", "alice@example.com")
        app = Threadline(slack_settings(tmp, fake.url).settings(), clock=ManualClock())
        await app.prepare_database()
        await app.sync_agents()
        return fake, app

    fake, app = loop.run_until_complete(build())
    yield loop, app
    assert app.slack is not None
    loop.run_until_complete(app.slack.stop())
    loop.run_until_complete(app.store.close())
    loop.run_until_complete(fake.stop())
    loop.close()


_EVENTS = itertools.count(1)


def _slack_requests(payload: Any, text: str) -> list[Any]:
    """Four signed requests around ``payload``: an event, an interaction, a slash command, a raw body.

    Outer bodies are always JSON objects, as Slack sends them (bolt's request constructor itself
    requires an object: a signed body of ``null`` is a bolt limitation, not ours)."""
    obj = payload if isinstance(payload, dict) else {"value": payload}
    event = {
        "type": "event_callback",
        "team_id": "T1",
        "api_app_id": "A1",
        "event_id": f"Ev{next(_EVENTS)}",
        "event": {"type": "message", "channel": "C_SUPPORT", "user": "UALICE", "text": text, **obj},
    }
    interaction = {
        "type": "block_actions",
        "user": {"id": "UALICE"},
        "actions": [obj],
        "container": obj,
        "message": obj,
        **obj,
    }
    slash = {
        "command": "/inbox",
        "text": text,
        "user_id": "UALICE",
        "channel_id": "C_SUPPORT",
        "team_id": "T1",
        "trigger_id": "t",
    }
    urlencoded = "application/x-www-form-urlencoded"
    return [
        signed_request(json.dumps(event), content_type="application/json"),
        signed_request(form({"payload": json.dumps(interaction)}), content_type=urlencoded),
        signed_request(form(slash), content_type=urlencoded),
        signed_request(json.dumps(obj), content_type="application/json"),
    ]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(json_values, st.text(alphabet=string.printable, max_size=60))
def test_slack_inbound_never_fails_on_random_payloads(
    slack_app: tuple[asyncio.AbstractEventLoop, Threadline], payload: Any, text: str
) -> None:
    loop, app = slack_app
    assert app.slack is not None
    slack = app.slack
    failures = _Failures()
    logging.getLogger().addHandler(failures)
    try:
        for request in _slack_requests(payload, text):
            response = loop.run_until_complete(slack.app.async_dispatch(request))
            assert 200 <= response.status < 600  # bolt answers; a 500 comes from bolt's own matchers
        loop.run_until_complete(slack.settle())
    finally:
        logging.getLogger().removeHandler(failures)
    # Bolt's own matchers (logger adapters.slack.bolt) may choke on shapes Slack never sends; our listeners
    # and the work they spawn must not.
    ours = [
        r
        for r in failures.records
        if r.name.startswith(("adapters", "bot")) and not r.name.startswith("adapters.slack.bolt")
    ]
    assert not ours, [r.getMessage() + str(r.exc_info and r.exc_info[1]) for r in ours]
