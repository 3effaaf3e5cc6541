"""``contact forget`` on Discord: the contact's messages, their attachments and their name leave the fake."""

from __future__ import annotations

import json

from bot.ports.inbound import InboundAttachment
from bot.privacy.service import forget_contact
from testkit.discord.rig import DiscordRig, email_in

NEEDLES = ("Jane", "jane@example.org", "passport", "Refund for order")


async def test_forget_deletes_the_contacts_messages_with_their_attachments(harness: DiscordRig) -> None:
    photos = tuple(
        InboundAttachment(f"passport{n}.jpg", "image/jpeg", 3_000_000, bytes([n]) * 3_000_000)
        for n in range(12)
    )
    await harness.app.ingestor.ingest(
        email_in(harness.clock.now(), text="Jane here " * 4000, attachments=photos)
    )
    await harness.app.dispatcher.drain()
    thread = harness.thread_id()
    before = json.dumps(harness.fake.posts(thread)) + json.dumps(harness.fake.channels[thread])
    assert all(needle in before for needle in NEEDLES)  # the check below can see the data
    assert sum(len(m["attachments"]) for m in harness.fake.posts(thread)) == 12
    assert len(harness.fake.posts(thread)) - 1 > 10  # more parts than the outbox can list one by one
    async with harness.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(1)
        assert conversation is not None
        result = await forget_contact(
            uow, harness.app.settings, conversation.contact_id, "Alice", harness.clock.now()
        )
    assert result is not None
    await harness.app.dispatcher.drain()
    left = json.dumps(harness.fake.posts(thread)) + json.dumps(harness.fake.channels[thread])
    assert [needle for needle in NEEDLES if needle in left] == []
    assert [a for m in harness.fake.posts(thread) for a in m["attachments"]] == []
