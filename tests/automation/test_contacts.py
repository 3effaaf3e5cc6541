"""Customer profile and history, notes pinned to the contact, and merging contacts keeping all history."""

from __future__ import annotations

from bot.clock import ManualClock
from testkit.inbound import email_in, whatsapp_in
from threadline.app import Threadline


async def test_profile_shows_identities_conversations_labels_and_pinned_notes(
    app: Threadline, clock: ManualClock
) -> None:
    local = app.local
    assert local is not None
    first = await app.ingestor.ingest(email_in(subject="Broken desk", when=clock.now()))
    await local.type_line(f"#{first.conversation_number} !label +refund", "alice")
    await local.type_line(f"#{first.conversation_number} !close", "alice")
    second = await app.ingestor.ingest(email_in(subject="New order", when=clock.now()))
    n = second.conversation_number
    await local.type_line(f"#{n}", "alice")  # focus the thread
    pinned = await local.type_line("!note --contact prefers a phone call after 17:00", "alice")
    assert pinned.ok
    await app.dispatcher.drain()
    profile = await local.type_line("!profile", "bob")
    assert profile.ok and profile.ephemeral
    text = profile.text
    assert text.startswith("Jane Doe (contact id:") and "first seen 2026-01-05" in text
    assert "email jane@example.org" in text
    assert (
        f'#{first.conversation_number} · closed · email · 2026-01-05 · "Broken desk" · labels refund' in text
    )
    assert f"#{n} · open · email" in text and "← this one" in text
    assert "thread local:support/support/" in text
    assert "Alice Martin: prefers a phone call after 17:00" in text
    assert (await local.type_line("!history", "bob")).text == text
    thread = local.thread(n or 0)
    assert thread is not None and "📌 prefers a phone call after 17:00" in thread.texts("note")


async def test_merge_email_and_whatsapp_contacts_keeps_all_history(
    app: Threadline, clock: ManualClock
) -> None:
    local = app.local
    assert local is not None
    mail = await app.ingestor.ingest(email_in(when=clock.now()))
    chat = await app.ingestor.ingest(whatsapp_in(name="Jane D", text="It's Jane again", when=clock.now()))
    await local.type_line(f"#{chat.conversation_number} !note --contact same person as the email", "bob")
    merged = await local.type_line(f"!contact merge #{mail.conversation_number} +31 6 1234 5678", "alice")
    assert not merged.ok  # "+31 6 1234 5678" is not one token; phones are written without spaces
    merged = await local.type_line(f"!contact merge #{mail.conversation_number} +31612345678", "alice")
    assert merged.ok, merged.text
    assert f"#{chat.conversation_number}" in merged.text
    await app.dispatcher.drain()
    async with app.store.transaction() as uow:
        a = await uow.conversations.conversation_by_number(mail.conversation_number or 0)
        b = await uow.conversations.conversation_by_number(chat.conversation_number or 0)
        assert a is not None and b is not None and a.contact_id == b.contact_id
        contact = await uow.contacts.contact(a.contact_id)
        assert contact.name == "Jane Doe"
        assert sorted(i.kind for i in contact.identities) == ["email", "phone"]
        assert (
            len(await uow.messages.messages_of(b.id, ["inbound"])) == 1
        )  # messages stay with their conversation
        trail = [e.action for e in await uow.audit.trail(b.id)]
    assert "contact-merged" in trail
    profile = (await local.type_line(f"#{mail.conversation_number} !profile", "alice")).text
    assert "phone 31612345678" in profile and "email jane@example.org" in profile
    assert "same person as the email" in profile
    assert f"#{chat.conversation_number} · open · whatsapp" in profile
    # the customer writing on WhatsApp again continues the same (merged) contact's conversation
    again = await app.ingestor.ingest(whatsapp_in(text="Any news?", when=clock.now()))
    assert again.conversation_number == chat.conversation_number
    assert not (await local.type_line("!contact merge #1 #1", "alice")).ok
    assert not (await local.type_line("!contact merge #1 nobody@nowhere.org", "alice")).ok
