"""The command line, run as a real process: check-config, run (non-interactive), db upgrade, conversations."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from testkit.cli import ROOT, run_cli

_SQLITE_URL = 'database_url = "sqlite:///threadline-data/threadline.db"'


def _demo_dir(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "config.example.toml", tmp_path / "config.example.toml")
    text = (
        (tmp_path / "config.example.toml")
        .read_text()
        .replace("interval_seconds = 2.0", "interval_seconds = 0.1")
        .replace("undo_seconds = 10", "undo_seconds = 0")  # replies leave at once (tests/undo has the window)
    )
    (tmp_path / "config.example.toml").write_text(text)
    return tmp_path


def test_demo_runs_non_interactively_and_is_worked_from_piped_commands(tmp_path: Path) -> None:
    cwd = _demo_dir(tmp_path)
    done = run_cli(["run", "--for", "8"], cwd, stdin="")
    assert done.returncode == 0, done.stderr
    assert '#1 · ✉ email · jane.doe@example.org · "Refund for order 1881"' in done.stdout
    assert "☏ whatsapp" in done.stdout

    listing = run_cli(["conversations", "list", "--json"], cwd)
    assert listing.returncode == 0, listing.stderr
    subjects = {c["subject"] for c in json.loads(listing.stdout)}
    assert "Can't log in after password reset" in subjects
    photo = cwd / "threadline-data" / "files" / "1" / "cracked-leg.jpg"
    assert photo.read_bytes().startswith(b"\xff\xd8")  # the sample's real attachment, saved to open
    raw = run_cli(["conversations", "show", "1", "--raw", "1"], cwd)
    assert raw.returncode == 0, raw.stderr
    assert (
        'filename="cracked-leg.jpg"' in raw.stdout and "Message-ID: <demo.refund@example.org>" in raw.stdout
    )
    missing = run_cli(["conversations", "show", "1", "--raw", "99"], cwd)
    assert missing.returncode == 1 and "#1 has no message 99: its messages are 1 to 2" in missing.stderr

    script = "#1\n!claim\n!reply Sorry! A new leg ships today.\n#2 !reply Checking with the courier now\n"
    worked = run_cli(["run", "--for", "4"], cwd, stdin=script)
    assert worked.returncode == 0, worked.stderr
    assert "You claimed #1." in worked.stdout
    eml = list((cwd / "threadline-data" / "sent-mail").glob("*.eml"))
    assert len(eml) == 1 and "In-Reply-To: <demo.refund-2@example.org>" in eml[0].read_text()
    wa = (cwd / "threadline-data" / "whatsapp-sent.jsonl").read_text().splitlines()
    assert json.loads(wa[0])["text"]["body"] == "Checking with the courier now"

    shown = run_cli(["conversations", "show", "1"], cwd)
    assert shown.returncode == 0
    assert "claimed" in shown.stdout and "Sorry! A new leg ships today." in shown.stdout


def test_check_config_lists_problems_with_keys(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[threadline]\ndatabse_url = 'x'\n[inboxes.support]\nchannel = 'fax'\n")
    done = run_cli(["--config", str(bad), "check-config"], tmp_path)
    assert done.returncode == 2
    assert "threadline.databse_url: unknown key; did you mean 'database_url'?" in done.stderr
    assert "inboxes.support.channel: 'fax' is not allowed" in done.stderr
    assert "Traceback" not in done.stderr


def test_database_down_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "pg.toml"
    text = (
        (ROOT / "config.example.toml")
        .read_text()
        .replace(
            'database_url = "sqlite:///threadline-data/threadline.db"',
            'database_url = "postgresql://nobody@127.0.0.1:1/none"',
        )
    )
    cfg.write_text(text)
    done = run_cli(["--config", str(cfg), "run", "--for", "1"], tmp_path)
    assert done.returncode == 3
    assert "check that it is running" in done.stderr and "Traceback" not in done.stderr


def test_every_database_command_says_cannot_reach_the_database_in_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "pg.toml"
    text = (ROOT / "config.example.toml").read_text()
    cfg.write_text(text.replace(_SQLITE_URL, 'database_url = "postgresql://nobody@127.0.0.1:1/none"'))
    commands = [
        ["db", "upgrade"],
        ["conversations", "list"],
        ["conversations", "show", "1"],
        ["digest", "send", "daily"],
        ["report", "--since", "7d"],
        ["contact", "export", "jane@example.org"],
        ["contact", "forget", "jane@example.org", "--yes"],
        ["run", "--for", "1"],
    ]
    for command in commands:
        done = run_cli(["--config", str(cfg), *command], tmp_path)
        assert done.returncode == 3, (command, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "cannot reach the database" in lines[0], (command, done.stderr)


def test_help_on_every_command(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["run", "--help"],
        ["check-config", "--help"],
        ["db", "upgrade", "--help"],
        ["conversations", "list", "--help"],
        ["conversations", "show", "--help"],
    ):
        done = run_cli(args, tmp_path)
        assert done.returncode == 0 and "usage: threadline" in done.stdout


def test_the_original_mail_is_kept_and_retrievable(tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    spool.mkdir()
    raw = (
        b"From: Jane Doe <jane@example.org>\r\nTo: support@example.com\r\nSubject: Broken desk\r\n"
        b"Message-ID: <orig-1@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        b"The leg is cracked.\r\n\r\nOn Mon, Support wrote:\r\n> How can we help?\r\n\r\n-- \r\nJane Doe\r\n"
    )
    (spool / "mail.eml").write_bytes(raw)
    config = tmp_path / "t.toml"
    config.write_text(
        (ROOT / "config.example.toml")
        .read_text()
        .replace("sample_conversations = true", "sample_conversations = false")
        + f'\n[channels.email.mailboxes.spool]\nkind = "folder"\ninbox = "support"\npath = "{spool}"\n'
    )
    assert run_cli(["--config", str(config), "run", "--for", "4"], tmp_path).returncode == 0
    shown = run_cli(["--config", str(config), "conversations", "show", "1"], tmp_path)
    assert "The leg is cracked." in shown.stdout and "How can we help?" not in shown.stdout
    assert "--original shows them" in shown.stdout
    original = run_cli(["--config", str(config), "conversations", "show", "1", "--original"], tmp_path)
    assert "> How can we help?" in original.stdout
    dumped = subprocess.run(
        [
            sys.executable,
            "-m",
            "threadline.cli",
            "--config",
            str(config),
            "conversations",
            "show",
            "1",
            "--raw",
            "1",
        ],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
    )
    assert dumped.returncode == 0 and dumped.stdout == raw


def test_admin_conveniences_global_options_version_pipes_and_listing(tmp_path: Path) -> None:
    cwd = _demo_dir(tmp_path)
    assert run_cli(["run", "--for", "4"], cwd, stdin="").returncode == 0
    checked = run_cli(["check-config", "--config", "config.example.toml"], cwd)  # as the docs write it
    assert checked.returncode == 0 and "configuration is valid" in checked.stdout, checked.stderr
    version = run_cli(["--version"], cwd)
    assert version.returncode == 0 and version.stdout.startswith("threadline ")

    listing = run_cli(["conversations", "list", "--limit", "2"], cwd)
    assert listing.returncode == 0, listing.stderr
    header, *rows = listing.stdout.splitlines()
    assert header.split() == ["#", "status", "priority", "assignee", "labels", "channel", "opened", "subject"]
    assert len(rows) == 2 and all(row.index("normal") == header.index("priority") for row in rows)
    assert "showing 2 of 4; use --limit 4 to see all" in listing.stderr

    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_CONFIG")}
    piped = subprocess.run(
        f"{sys.executable} -m threadline.cli conversations show 1 --json | head -n 1",
        shell=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert piped.stdout == "{\n" and "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr


def test_forget_leaves_nothing_of_the_contact_in_the_demo_files(tmp_path: Path) -> None:
    cwd = _demo_dir(tmp_path)
    assert run_cli(["run", "--for", "6"], cwd, stdin="").returncode == 0  # the samples arrive
    script = "#1 !reply Dear Jane Doe, a new leg ships today.\n#2 !reply Ciao Sofia, checking now.\n"
    assert run_cli(["run", "--for", "4"], cwd, stdin=script).returncode == 0
    data = cwd / "threadline-data"

    def mentions(*needles: str) -> list[str]:
        found = []
        for path in data.rglob("*"):
            if path.is_file() and not path.name.startswith("threadline.db"):  # the database has its own test
                content = path.read_bytes()
                found += [f"{path.relative_to(data)}: {n}" for n in needles if n.encode() in content]
        return found

    assert mentions("jane.doe@example.org") and mentions("31612345678")  # the replies and the photo exist
    assert (data / "files" / "1" / "cracked-leg.jpg").exists()
    forgot = run_cli(["contact", "forget", "jane.doe@example.org", "--yes"], cwd)
    assert forgot.returncode == 0, forgot.stderr
    assert "kept cop(ies) of replies and attachments erased" in forgot.stdout
    assert mentions("jane.doe@example.org", "Jane Doe") == []
    assert not (data / "files" / "1").exists()
    assert mentions("31612345678")  # the other customer's reply is still there
