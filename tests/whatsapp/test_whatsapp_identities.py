"""WhatsApp users as Meta identifies them now: by business-scoped user id (BSUID) and/or phone number."""

from __future__ import annotations

from typing import Any

from adapters.whatsapp import parse_webhook
from testkit.whatsapp.payloads import CUSTOMER, CUSTOMER_BSUID, envelope, message
from testkit.whatsapp.rig import WhatsAppRig


def _bsuid_only(text: str, rig: WhatsAppRig, **fields: Any) -> dict[str, Any]:
    """A message from a user with a username: no phone number anywhere, only the BSUID."""
    msg = message("text", {"body": text}, when=rig.clock.now(), wa_id=None, user_id=CUSTOMER_BSUID, **fields)
    return envelope(wa_id=None, user_id=CUSTOMER_BSUID, username="@sofia", messages=[msg])


async def _identities(rig: WhatsAppRig) -> list[list[tuple[str, str]]]:
    async with rig.app.store.transaction() as uow:
        found = []
        for value in (CUSTOMER, CUSTOMER_BSUID):
            for kind in ("phone", "whatsapp_user"):
                contact = await uow.contacts.contact_by_identity(kind, value)
                if contact is not None:
                    full = await uow.contacts.contact(contact.id)
                    found.append(sorted((i.kind, i.value) for i in full.identities))
        return found


def test_the_parser_keeps_a_message_without_from() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 12, 1, tzinfo=UTC)
    msg = message("text", {"body": "hi"}, when=when, wa_id=None, user_id=CUSTOMER_BSUID)
    batch = parse_webhook(envelope(wa_id=None, user_id=CUSTOMER_BSUID, username="@sofia", messages=[msg]))
    [parsed] = batch.messages
    assert (parsed.wa_id, parsed.user_id, parsed.profile_name) == (None, CUSTOMER_BSUID, "Sofia Jansen")


async def test_a_username_user_is_stored_and_answered_by_recipient(rig: WhatsAppRig) -> None:
    local = rig.app.local
    assert local is not None
    await rig.deliver(_bsuid_only("I have a username now", rig))
    [thread] = local.threads.values()
    assert thread.texts("inbound") == ["I have a username now"]
    assert thread.card.customer == "Sofia Jansen"
    reply = await local.type_line(f"#{thread.number} !reply Hello Sofia", "alice")
    assert reply.ok, reply.text
    await rig.settle()
    assert rig.graph.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "recipient": CUSTOMER_BSUID,
            "type": "text",
            "text": {"preview_url": False, "body": "Hello Sofia"},
        }
    ]
    assert thread.texts("outbound") == ["Hello Sofia"]
    assert await _identities(rig) == [[("whatsapp_user", CUSTOMER_BSUID)]]


async def test_phone_and_bsuid_become_one_contact_when_both_are_known(rig: WhatsAppRig) -> None:
    local = rig.app.local
    assert local is not None
    # first by phone only (an older webhook), then by BSUID only: two contacts, Threadline cannot know
    await rig.deliver(envelope(messages=[message("text", {"body": "by phone"}, when=rig.clock.now())]))
    await rig.deliver(_bsuid_only("by username", rig))
    assert len(await _identities(rig)) == 2
    # then a message that carries both: one contact with both identities, one conversation continued
    both = message("text", {"body": "both"}, when=rig.clock.now(), user_id=CUSTOMER_BSUID)
    await rig.deliver(envelope(user_id=CUSTOMER_BSUID, messages=[both]))
    expected = sorted([("phone", CUSTOMER), ("whatsapp_user", CUSTOMER_BSUID)])
    assert await _identities(rig) == [expected, expected]
    numbers = {t.number for t in local.threads.values() if "both" in t.texts("inbound")}
    assert len(numbers) == 1
    # a reply prefers the phone number, as Meta recommends
    assert (await local.type_line(f"#{numbers.pop()} !reply got it", "alice")).ok
    await rig.settle()
    assert rig.graph.sent[-1]["to"] == CUSTOMER and "recipient" not in rig.graph.sent[-1]


async def test_a_phone_contact_learns_its_bsuid(rig: WhatsAppRig) -> None:
    local = rig.app.local
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "hi"}, when=rig.clock.now())]))
    both = message("text", {"body": "again"}, when=rig.clock.now(), user_id=CUSTOMER_BSUID)
    await rig.deliver(envelope(user_id=CUSTOMER_BSUID, messages=[both]))
    # later the phone is withheld: still the same contact and conversation
    await rig.deliver(_bsuid_only("username now", rig))
    [thread] = local.threads.values()
    assert thread.texts("inbound") == ["hi", "again", "username now"]
    expected = sorted([("phone", CUSTOMER), ("whatsapp_user", CUSTOMER_BSUID)])
    assert await _identities(rig) == [expected, expected]


async def test_receipts_for_a_username_user_are_applied(rig: WhatsAppRig) -> None:
    from testkit.whatsapp.payloads import status

    local = rig.app.local
    assert local is not None
    await rig.deliver(_bsuid_only("hi", rig, wamid="wamid.IN-U"))
    [thread] = local.threads.values()
    assert (await local.type_line(f"#{thread.number} !reply hello", "alice")).ok
    await rig.settle()
    receipt = status("wamid.OUT1", "read", when=rig.clock.now(), recipient_user_id=CUSTOMER_BSUID)
    assert "recipient_id" not in receipt
    await rig.deliver(envelope(statuses=[receipt]))
    assert thread.texts("notice") == ["✓✓ read by the customer: “hello”"]
    assert rig.graph.read_marks == ["wamid.IN-U"]  # mark_read_on_claim reaches a username user too
