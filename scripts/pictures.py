"""Make the README's pictures from a real run, so they stay true: the terminal surface and a digest chart.

Runs ``threadline run`` on a pseudo-terminal with the demo configuration, types a few commands
as an agent would, renders the final screen to ``docs/pictures/terminal.png``, then posts a
digest with a chart and copies the chart the terminal saved to ``docs/pictures/digest-chart.png``.
Run it with ``bash scripts/pictures``.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import matplotlib
import pyte
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "pictures"
COLUMNS, ROWS = 118, 44
FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
COLOURS = {
    "default": (220, 220, 220),
    "black": (40, 40, 40),
    "red": (235, 90, 90),
    "green": (120, 200, 120),
    "brown": (220, 190, 90),
    "yellow": (220, 190, 90),
    "blue": (110, 150, 240),
    "magenta": (210, 130, 210),
    "cyan": (90, 200, 210),
    "white": (240, 240, 240),
    "brightblack": (130, 130, 130),
}
BACKGROUND = (24, 26, 30)
DIGEST = """
[digests.daily]
surface = "local"
chat_channel = "support-digest"
cron = "0 9 * * *"
chart = true
"""


def _demo(folder: Path) -> None:
    text = (
        (ROOT / "config.example.toml").read_text().replace("interval_seconds = 2.0", "interval_seconds = 0.3")
    )
    (folder / "config.example.toml").write_text(text + DIGEST)


def _terminal_session(folder: Path) -> bytes:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PROMPT_TOOLKIT_NO_CPR": "1", "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "threadline.cli", "run", "--for", "120"],
        cwd=folder,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    os.close(slave)
    screen = b""

    def read_until(marker: bytes, seconds: float = 60) -> None:
        nonlocal screen
        deadline = time.monotonic() + seconds
        while marker not in screen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.2)[0]:
                screen += os.read(master, 65536)
        if marker not in screen:
            raise SystemExit(f"the terminal never showed {marker!r}")

    try:
        read_until(b"Automatic reply")
        read_until(b"no focus")
        for line, shown in (
            ("#1", "Focused on #1"),
            ("!claim", "You claimed #1"),
            ("!label +refund", "labels: refund"),
            ("Checked the shop admin: it left the warehouse damaged.", "note by You"),
            ("!reply Sorry about the leg, Jane. A replacement ships today.", "sent to customer"),
        ):
            os.write(master, line.encode() + b"\r")
            read_until(shown.encode())
        time.sleep(0.5)
        read_until(b"\xe2\x80\xba")  # the prompt again
        os.write(master, b"\x03")
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        os.close(master)
    return screen


def _render(output: bytes, target: Path) -> None:
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.ByteStream(screen)
    stream.feed(output)
    regular = ImageFont.truetype(str(FONTS / "DejaVuSansMono.ttf"), 15)
    bold = ImageFont.truetype(str(FONTS / "DejaVuSansMono-Bold.ttf"), 15)
    wide = ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 14)
    width, height = 9, 19
    image = Image.new("RGB", (COLUMNS * width + 24, ROWS * height + 24), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for y in range(ROWS):
        row = screen.buffer[y]
        for x in range(COLUMNS):
            cell = row[x]
            if not cell.data.strip():
                continue
            font = bold if cell.bold else regular
            if font.getmask(cell.data).getbbox() is None:  # a symbol the mono font lacks
                font = wide
            colour = COLOURS.get(cell.fg, COLOURS["default"])
            draw.text((12 + x * width, 12 + y * height), cell.data, font=font, fill=colour)
    image.save(target)


def main() -> int:
    """Write both pictures; exit non-zero when the run does not show what it should."""
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        _demo(folder)
        _render(_terminal_session(folder), OUT / "terminal.png")
        sent = subprocess.run(
            [sys.executable, "-m", "threadline.cli", "digest", "send", "daily"],
            cwd=folder,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            timeout=120,
            check=False,
        )
        charts = sorted((folder / "threadline-data" / "files" / "digests").glob("daily-*.png"))
        if sent.returncode != 0 or not charts:
            print(sent.stdout, sent.stderr, file=sys.stderr)
            return 1
        shutil.copy(charts[-1], OUT / "digest-chart.png")
    print(f"wrote {OUT / 'terminal.png'} and {OUT / 'digest-chart.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
