"""Export and forget: all data as JSON; after forget no personal data in ANY table (SQLite and PostgreSQL),
the mirrored thread messages erased on the surface, the forget in the audit trail without personal data."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

from sqlalchemy import JSON, LargeBinary, String, Text, select

from adapters.email import parse_email
from bot.clock import ManualClock
from bot.privacy.service import export_contact, forget_contact
from storage.models import Base, OutboxRow
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline

NAME, FIRST, LAST = "Jane Doe", "Jane", "Doe"
ADDRESS = "jane@example.org"
PHONE_FORMATTED, PHONE = "+31 6 1234 5678", "31612345678"
NEEDLES = (ADDRESS, ADDRESS.upper(), "jane@", FIRST, LAST, PHONE, PHONE_FORMATTED, "1234 5678")


def _raw_mail() -> bytes:
    mail = EmailMessage()
    mail["From"] = f"{NAME} <{ADDRESS}>"
    mail["To"] = "support@example.com"
    mail["Subject"] = "Refund for Jane Doe"
    mail["Message-ID"] = "<raw-1@example.org>"
    mail.set_content(f"Hi, this is {NAME}. Call me on {PHONE_FORMATTED}.\n\n-- \n{NAME}\n{ADDRESS}")
    mail.add_attachment(
        f"invoice for {NAME}, {ADDRESS}".encode(),
        maintype="text",
        subtype="plain",
        filename="jane-doe-invoice.txt",
    )
    return bytes(mail)


async def _populate(app: Threadline, clock: ManualClock) -> tuple[int, int]:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(parse_email(_raw_mail(), inbox="support", received_at=clock.now()))
    n = first.conversation_number or 0
    await local.type_line(f"#{n}", "alice")  # focus the thread
    await local.type_line(f"!reply Dear {NAME}, we will call {PHONE_FORMATTED}.", "alice")
    await local.type_line(f"!note --contact {FIRST} prefers calls on {PHONE_FORMATTED}", "alice")
    await local.type_line(f"!note spoke to {NAME}", "bob")
    await local.type_line("!label +refund", "alice")
    chat = await app.ingestor.ingest(
        whatsapp_in(sender=PHONE_FORMATTED, name=NAME, text=f"{FIRST} here", when=clock.now())
    )
    await local.type_line(f"!contact merge #{n} #{chat.conversation_number}", "alice")
    other = await app.ingestor.ingest(
        email_in(sender="max@other.example", name="Max Other", text="Hello", when=clock.now())
    )
    await app.dispatcher.drain()
    return n, other.conversation_number or 0


async def _scan(app: Threadline) -> list[str]:
    """Every text, JSON and binary value of every table that contains a needle."""
    found = []
    async with app.store.transaction() as uow:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON | LargeBinary)]
            if not columns:
                continue
            for row in (await uow.session.execute(select(*columns))).all():
                for column, value in zip(columns, row, strict=True):
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        text = value.decode("utf-8", errors="replace")
                    elif isinstance(value, dict | list):
                        text = json.dumps(value, ensure_ascii=False)
                    else:
                        text = str(value)
                    found += [f"{table.name}.{column.name}: {needle}" for needle in NEEDLES if needle in text]
    return found


async def test_export_then_forget_leaves_no_personal_data_anywhere(
    any_app: Threadline, clock: ManualClock
) -> None:
    app = any_app
    n, other = await _populate(app, clock)
    assert any(f"{table}" for table in await _scan(app))  # the scan does see the data before
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(n)
        assert conv is not None
        contact_id = conv.contact_id
        exported: dict[str, Any] | None = await export_contact(uow, contact_id)
    assert exported is not None
    dump = json.dumps(exported, ensure_ascii=False)
    assert exported["contact"]["name"] == NAME
    assert {i["value"] for i in exported["contact"]["identities"]} == {ADDRESS, PHONE}
    assert len(exported["conversations"]) == 2 and "refund" in exported["conversations"][0]["labels"]
    assert exported["pinned_notes"][0]["text"].startswith(f"{FIRST} prefers calls")
    assert f"Call me on {PHONE_FORMATTED}" in dump and "jane-doe-invoice.txt" in dump

    async with app.store.transaction() as uow:
        result = await forget_contact(uow, app.settings, contact_id, "Alice Martin", clock.now())
    assert result is not None and result.conversations == 2 and result.redactions > 0
    async with app.store.transaction() as uow:  # one outbox row per mirrored post to delete
        queued = await uow.session.execute(select(OutboxRow).where(OutboxRow.kind == "redact"))
        assert len(queued.scalars().all()) == result.redactions
    await app.dispatcher.drain()

    assert await _scan(app) == []  # no address, phone or name in any column of any table
    local = app.local
    assert local is not None
    for number in (n, n + 1):
        thread = local.thread(number)
        assert thread is not None
        shown = [p.text for p in thread.posts] + [
            thread.card.customer,
            thread.card.customer_address,
            thread.card.subject,
        ]
        assert not [s for s in shown for needle in NEEDLES if needle in s], shown
    untouched = local.thread(other)
    assert untouched is not None and untouched.posts[0].text == "Hello"
    async with app.store.transaction() as uow:
        conv = await uow.conversations.conversation_by_number(n)
        assert (
            conv is not None and conv.status == "open" and await uow.labels.labels_of(conv.id) == ["refund"]
        )
        forgotten = [e for e in await uow.audit.trail(conv.id)]
        from storage.models import AuditEvent

        rows = (
            (await uow.session.execute(select(AuditEvent).where(AuditEvent.action == "contact-forgotten")))
            .scalars()
            .all()
        )
        assert len(rows) == 1 and rows[0].actor == "Alice Martin" and rows[0].contact_id == contact_id
        assert rows[0].detail == {"conversations": 2, "surface_messages": result.redactions}
        assert forgotten  # the conversation's own trail is kept, its details erased
        other_conv = await uow.conversations.conversation_by_number(other)
        assert other_conv is not None
        assert (await uow.contacts.contact(other_conv.contact_id)).name == "Max Other"
    # the same address writing again is a new, unknown contact
    again = await app.ingestor.ingest(email_in(sender=ADDRESS, name=None, when=clock.now()))
    assert again.created_conversation
