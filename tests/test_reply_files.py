"""Files that go with a reply: each customer channel's limits, and a clear refusal above them."""

from __future__ import annotations

from pathlib import Path

from bot.commands.reply_files import files_refusal
from bot.ports.inbound import InboundAttachment
from testkit.settings import make_settings

MB = 1024 * 1024


def file(
    name: str, size: int, content_type: str = "application/pdf", fetched: bool = True
) -> InboundAttachment:
    return InboundAttachment(name, content_type, size, b"x" if fetched else None)


def test_limits_per_channel_and_clear_refusals(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path)
    assert files_refusal(settings, "email", [file("a.pdf", 10 * MB), file("b.pdf", 10 * MB)]) is None
    assert "together" in (
        files_refusal(settings, "email", [file("a.pdf", 20 * MB), file("b.pdf", 10 * MB)]) or ""
    )
    assert files_refusal(settings, "whatsapp", [file("big.pdf", 90 * MB)]) is None
    photo = files_refusal(settings, "whatsapp", [file("p.jpg", 6 * MB, "image/jpeg")])
    assert photo == "p.jpg is 6.0 MB; whatsapp takes at most 5.0 MB per file. Send a link."
    lost = files_refusal(settings, "email", [file("gone.pdf", 10, fetched=False)])
    assert lost is not None and "could not be fetched" in lost


def test_the_email_sections_attachment_limit_applies(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path}/t.db", tmp_path)
    email = settings.channels.email
    assert email is not None
    email.max_attachment_bytes = 2 * MB
    refusal = files_refusal(settings, "email", [file("scan.pdf", 3 * MB)])
    assert refusal == "scan.pdf is 3.0 MB; email takes at most 2.0 MB per file. Send a link."
    assert files_refusal(settings, "email", [file("small.pdf", MB)]) is None
