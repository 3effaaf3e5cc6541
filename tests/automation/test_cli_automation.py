"""``threadline rules test FILE.eml`` and ``threadline contact export|forget ID``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.clock import ManualClock
from testkit.app import started_app
from testkit.automation import AUTOMATION
from testkit.inbound import email_in
from testkit.settings import base_settings, make_settings
from threadline.app import Threadline
from threadline.cli import main

ROOT = Path(__file__).resolve().parents[2]
RULES = """
[[rules]]
name = "lists"
sender_domain = ["lists.example.org"]
add_labels = ["list"]
stop = true

[[rules]]
name = "refunds"
subject_regex = "refund|rückerstattung"
add_labels = ["refund"]
assign = "team:billing"

[[rules]]
name = "whatsapp only"
channel = ["whatsapp"]
priority = "high"
"""


def _config(tmp_path: Path) -> Path:
    text = base_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").toml() + AUTOMATION + RULES
    path = tmp_path / "threadline.toml"
    path.write_text(text)
    return path


def test_rules_test_shows_which_rules_fire_and_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    code = main(["--config", str(config), "rules", "test", str(ROOT / "tests/fixtures/mime/01-plain.eml")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "rules[0] 'lists': ✘ no — sender domain" in out
    assert "rules[2] 'whatsapp only': ✘ no — channel is email, not whatsapp" in out
    assert out.strip().endswith("rule(s) would fire")


def test_rules_test_on_a_refund_mail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mail = tmp_path / "refund.eml"
    mail.write_bytes(
        b"From: Jane <jane@example.org>\r\nTo: support@example.com\r\nSubject: Refund for order 1881\r\n"
        b"Message-ID: <x1@example.org>\r\n\r\nPlease refund.\r\n"
    )
    assert main(["--config", str(_config(tmp_path)), "rules", "test", str(mail)]) == 0
    out = capsys.readouterr().out
    assert "rules[1] 'refunds': ✔ fires — subject matches /refund|rückerstattung/ ('Refund')" in out
    assert "then: add_labels = ['refund'], assign = 'team:billing'" in out
    assert "1 rule(s) would fire" in out
    auto = tmp_path / "auto.eml"
    auto.write_bytes(mail.read_bytes().replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:"))
    assert main(["--config", str(_config(tmp_path)), "rules", "test", str(auto)]) == 0
    assert "auto_reply actions never answer it" in capsys.readouterr().out


def test_contact_export_and_forget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clock: ManualClock
) -> None:
    config = _config(tmp_path)

    async def seed() -> None:
        app: Threadline = await started_app(
            make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out", AUTOMATION), clock
        )
        await app.ingestor.ingest(email_in(text="My desk is broken", when=clock.now()))
        await app.stop()

    asyncio.run(seed())
    assert main(["--config", str(config), "contact", "export", "jane@example.org"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["contact"]["name"] == "Jane Doe"
    assert exported["conversations"][0]["messages"][0]["text"] == "My desk is broken"
    assert main(["--config", str(config), "contact", "forget", "1"]) == 1  # needs --yes
    assert "--yes" in capsys.readouterr().err
    assert main(["--config", str(config), "contact", "forget", "1", "--yes"]) == 0
    assert "contact id:1 forgotten: 1 conversation(s) anonymised" in capsys.readouterr().out
    assert main(["--config", str(config), "contact", "export", "id:1"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert after["contact"]["name"] is None and after["contact"]["identities"] == []
    assert after["conversations"][0]["messages"][0]["text"] == "[erased]"
    assert main(["--config", str(config), "contact", "export", "nobody@example.org"]) == 1
