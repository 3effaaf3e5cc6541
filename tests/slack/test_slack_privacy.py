"""Forgetting a contact erases what Slack holds of them: every part of their posts and the files uploaded."""

from __future__ import annotations

import json

from bot.ports.inbound import InboundAttachment, InboundMessage
from bot.privacy.service import forget_contact
from testkit.slack.rig import CHANNEL


async def test_forget_deletes_the_contacts_posts_and_uploaded_files_from_slack(world) -> None:
    result = await world.app.ingestor.ingest(
        InboundMessage(
            channel="email",
            inbox="support",
            external_id="<jane-1@example.com>",
            sender_address="jane.doe@example.com",
            sender_name="Jane Doe",
            received_at=world.clock.now(),
            text="My passport scan is attached. Jane Doe, 12 Elm Street",
            subject="Passport",
            attachments=(InboundAttachment("jane-doe-passport.pdf", "application/pdf", 9, b"%PDF-jane"),),
        )
    )
    await world.settle()
    assert len(world.fake.files) == 1 and "Elm Street" in json.dumps(list(world.fake.messages.values()))

    async with world.app.store.transaction() as uow:
        conversation = await uow.conversations.conversation_by_number(result.conversation_number or 0)
        assert conversation is not None
        forgotten = await forget_contact(
            uow, world.app.settings, conversation.contact_id, "Alice", world.clock.now()
        )
    assert forgotten is not None
    await world.settle()

    assert world.fake.files == {}  # the old surface deleted the messages only
    assert [c.args["file"] for c in world.fake.called("files.delete")] == [
        f["id"] for c in world.fake.called("files.completeUploadExternal") for f in c.args["files"]
    ]
    held = json.dumps([*world.fake.messages.values(), *world.fake.files.values()])
    for needle in ("Jane", "jane", "Elm Street", "passport", "Passport", "%PDF"):
        assert needle not in held
    assert world.fake.roots(CHANNEL)  # the card stays, without the contact
