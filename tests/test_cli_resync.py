"""``threadline resync #N | --all`` as a real process: it queues a complete re-mirror, which the app
delivers (a new card with every message, in order); unknown numbers and wrong calls are clear errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.local import LocalSurface
from bot.clock import ManualClock
from testkit.app import started_app
from testkit.cli import ROOT, run_cli
from testkit.inbound import email_in
from testkit.settings import base_settings
from threadline.config import parse_config


async def test_resync_requeues_the_whole_thread(tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC))  # the command writes its rows at the real time
    text = base_settings(f"sqlite:///{tmp_path}/t.db", tmp_path / "out").toml()
    (tmp_path / "t.toml").write_text(text)
    app = await started_app(parse_config(text, env={}), clock)
    surface = LocalSurface()
    app.surfaces["local"] = surface
    try:
        first = await app.ingestor.ingest(email_in(text="one", external_id="<r1@x>", when=clock.now()))
        await app.ingestor.ingest(email_in(text="two", thread_refs=("<r1@x>",), when=clock.now()))
        await app.dispatcher.drain()
        number = first.conversation_number or 0
        surface.threads.clear()  # the thread was lost on the chat side

        done = run_cli(["--config", str(tmp_path / "t.toml"), "resync", f"#{number}"], tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"#{number}" in done.stdout
        clock.advance(timedelta(minutes=5))
        await app.dispatcher.drain()
        thread = surface.thread(number)
        assert thread is not None and thread.texts("inbound") == ["one", "two"]

        missing = run_cli(["--config", str(tmp_path / "t.toml"), "resync", "#99"], tmp_path)
        assert missing.returncode == 1 and "no conversation #99" in missing.stderr
        assert "Traceback" not in missing.stderr
        neither = run_cli(["--config", str(tmp_path / "t.toml"), "resync"], tmp_path)
        assert neither.returncode == 2 and "--all" in neither.stderr
        bad = run_cli(["--config", str(tmp_path / "t.toml"), "resync", "#x"], tmp_path)
        assert bad.returncode == 2 and "not a conversation number" in bad.stderr
        every = run_cli(["--config", str(tmp_path / "t.toml"), "resync", "--all"], tmp_path)
        assert every.returncode == 0 and "1 conversation(s)" in every.stdout
    finally:
        await app.stop()


def test_resync_says_cannot_reach_the_database_in_one_line(tmp_path: Path) -> None:
    cfg = tmp_path / "pg.toml"
    text = (ROOT / "config.example.toml").read_text()
    cfg.write_text(
        text.replace(
            'database_url = "sqlite:///threadline-data/threadline.db"',
            'database_url = "postgresql://nobody@127.0.0.1:1/none"',
        )
    )
    done = run_cli(["--config", str(cfg), "resync", "--all"], tmp_path)
    assert done.returncode == 3, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach the database" in lines[0]
