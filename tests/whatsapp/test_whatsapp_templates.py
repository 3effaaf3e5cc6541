"""Templates with a header, buttons and named body parameters, as the Cloud API takes them."""

from __future__ import annotations

from testkit.whatsapp.payloads import envelope, message
from testkit.whatsapp.rig import WhatsAppRig

PHOTO = "https://example.com/van.jpg"


async def test_header_named_parameters_and_buttons(rig: WhatsAppRig) -> None:
    local = rig.app.local
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "when?"}, when=rig.clock.now())]))
    [thread] = local.threads.values()
    line = f'#{thread.number} !template delivery_slot {PHOTO} Sofia "9-12 h" confirm 1881'
    sent = await local.type_line(line, "alice")
    assert sent.ok, sent.text
    await rig.settle()
    assert rig.graph.refusals == []
    assert rig.graph.sent[-1]["template"] == {
        "name": "delivery_slot",
        "language": {"code": "en_US"},
        "components": [
            {"type": "header", "parameters": [{"type": "image", "image": {"link": PHOTO}}]},
            {
                "type": "body",
                "parameters": [
                    {"type": "text", "parameter_name": "first_name", "text": "Sofia"},
                    {"type": "text", "parameter_name": "slot", "text": "9-12 h"},
                ],
            },
            {
                "type": "button",
                "sub_type": "quick_reply",
                "index": "0",
                "parameters": [{"type": "payload", "payload": "confirm"}],
            },
            {
                "type": "button",
                "sub_type": "url",
                "index": "1",
                "parameters": [{"type": "text", "text": "1881"}],
            },
        ],
    }
    assert thread.texts("outbound")[-1] == "Hi Sofia, your delivery slot is 9-12 h."


async def test_a_wrong_count_says_what_the_template_takes(rig: WhatsAppRig) -> None:
    local = rig.app.local
    assert local is not None
    await rig.deliver(envelope(messages=[message("text", {"body": "when?"}, when=rig.clock.now())]))
    [thread] = local.threads.values()
    refused = await local.type_line(f"#{thread.number} !template delivery_slot Sofia 9-12", "alice")
    assert not refused.ok
    assert "takes 5 parameter(s)" in refused.text
    assert "header image link, first_name, slot, button 1 payload, button 2 URL suffix" in refused.text
    await rig.settle()
    assert rig.graph.sent == []


def test_named_parameters_are_checked_against_the_body(tmp_path) -> None:
    import pytest

    from bot.config import ConfigError
    from testkit.settings import make_settings
    from testkit.whatsapp.rig import whatsapp_config

    def load(template: str) -> None:
        extra = f"[channels.whatsapp.templates.t]\n{template}\n"
        make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path, whatsapp_config("http://x") + extra)

    with pytest.raises(ConfigError, match="first_name"):
        load('named = ["name"]\nbody = "Hi {{first_name}}"')
    with pytest.raises(ConfigError, match="lowercase"):
        load('named = ["First"]')
    with pytest.raises(ConfigError, match="either"):
        load('named = ["a"]\nparameters = 1')
