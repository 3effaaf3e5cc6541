"""The folder transport: replies as .eml files (idempotent per uid) and a spool directory read as mail."""

# ruff: noqa: ASYNC240 - tiny files in a temp dir; blocking is fine in a test
from __future__ import annotations

from email import policy
from email.parser import BytesParser
from functools import partial
from pathlib import Path

from adapters.email.classify import is_own_message
from adapters.email.folder import FolderSender, FolderSource
from adapters.email.mime import parse_email
from bot.clock import ManualClock
from bot.views import OutboundView


def outbound(uid: str, number: int = 3) -> OutboundView:
    return OutboundView(
        uid=uid,
        conversation_number=number,
        inbox="support",
        inbox_address="support@threadline.test",
        channel="email",
        to_address="alice@example.com",
        to_name=None,
        subject="Hi",
        text="Reply text",
        agent_name="Bob",
    )


async def test_folder_sender_writes_once_per_uid(tmp_path: Path) -> None:
    sender = FolderSender(tmp_path, clock=ManualClock())
    first = await sender.send(outbound("a"))
    again = await sender.send(outbound("a"))
    await sender.send(outbound("b", number=4))
    files = sorted(p.name for p in tmp_path.glob("*.eml"))
    assert first == again == "<tl.a@threadline.test>"
    assert len(files) == 2 and files[0].startswith("20260105T090000-") and files[0].endswith("-#3.eml")
    assert files[1].endswith("-#4.eml")
    back = BytesParser(policy=policy.default).parsebytes((tmp_path / files[0]).read_bytes())
    assert back["Message-ID"] == first and back["Subject"] == "Re: Hi [#3]"
    assert not list(tmp_path.glob(".tmp-*"))


async def test_folder_source_ingests_and_moves(tmp_path: Path, recorder, mail) -> None:
    for n in (2, 1):
        (tmp_path / f"0{n}.eml").write_bytes(mail(n))
    (tmp_path / "03.eml").write_bytes(mail(3).replace(b"<msg-3@example.com>", b"<tl.x@threadline.test>"))
    (tmp_path / "notes.txt").write_text("ignored")
    source = FolderSource(
        tmp_path,
        "demo",
        ingest=recorder.ingest,
        parse=partial(parse_email, inbox="support"),
        is_own=partial(is_own_message, own_message_id_domains={"threadline.test"}),
    )
    assert await source.scan_once() == 2
    assert recorder.ids() == ["<msg-1@example.com>", "<msg-2@example.com>"]
    assert recorder.cursors == {"folder:demo": "02.eml"}
    assert sorted(p.name for p in (tmp_path / "processed").iterdir()) == ["01.eml", "02.eml", "03.eml"]
    assert (tmp_path / "notes.txt").exists()
    assert await source.scan_once() == 0
