"""The local surface: threads kept in memory, printed to a terminal, worked by typed lines.

The same class serves the terminal (with a printer) and tests (without one): both go
through the normal path — outbox → surface, typed line → ``CommandService``.
Typed lines: ``#12`` alone focuses conversation 12 (only one that exists); then
``!label +refund`` or a plain note acts on the focused thread. ``#12 !claim`` acts on #12
and leaves the focus where it was, so a one-off command never redirects the next reply.
"""

from __future__ import annotations

import dataclasses
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.local.palette import Palette
from adapters.local.render import render_card, render_card_change, render_digest, render_post
from adapters.local.shown import ShownRecord
from bot.commands import Actor, CommandPort, Location, ParsedCommand
from bot.commands.model import History
from bot.ports import PermanentDeliveryError, ThreadGone, ThreadRef
from bot.views import CardView, DeliveryKey, DigestView, PostView, Reply

__all__ = ["LocalSurface", "LocalThread", "erase_saved_files"]

_FOCUS = re.compile(r"^#(\d+)\s*(.*)$", re.DOTALL)
_INDENT = "      "


def erase_saved_files(files: Path, numbers: Iterable[int]) -> int:
    """Delete the attachments the terminal saved for these conversations (a forgotten contact's)."""
    erased = 0
    for number in numbers:
        folder = files / str(number)
        if folder.is_dir():
            erased += sum(1 for path in folder.iterdir() if path.is_file())
            shutil.rmtree(folder)
    return erased


@dataclass
class LocalThread:
    """One conversation's thread: its card as it is now, and every post in order."""

    number: int
    chat_channel: str
    card: CardView
    posts: list[PostView] = field(default_factory=list)
    card_edits: int = 0

    def texts(self, kind: str | None = None) -> list[str]:
        """The posts' texts, optionally of one kind."""
        return [p.text for p in self.posts if kind is None or p.kind == kind]


class LocalSurface:
    """A surface whose threads live in this process."""

    name = "local"

    def __init__(
        self,
        printer: Callable[[str], None] | None = None,
        *,
        zone: ZoneInfo | None = None,
        palette: Palette | None = None,
        files: Path | None = None,
        commands: CommandPort | None = None,
        shown: ShownRecord | None = None,
    ) -> None:
        self.threads: dict[str, LocalThread] = {}
        self._opened: set[str] = set()  # threads opened here (one missing from ``threads`` was deleted)
        self.printer = printer
        self.zone = zone or ZoneInfo("UTC")
        self.palette = palette or Palette()
        self.files = files
        self.commands = commands  # the core's command port typed lines go to (None: lines are refused)
        self.shown = shown  # the cards and posts shown, by outbox row (None: a crash may show one twice)
        self.focus: int | None = None
        self.digests: list[tuple[str, DigestView]] = []
        self.channel_posts: list[tuple[str, PostView, ThreadRef | None]] = []

    def _print(self, text: str, kind: str = "") -> None:
        if self.printer is not None:
            self.printer(self.palette.paint(kind, text))

    def thread(self, number: int) -> LocalThread | None:
        """The thread of conversation ``number``, if it was created."""
        return next((t for t in self.threads.values() if t.number == number), None)

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        """Open a thread with the card as its root (once per outbox row, with a ``shown`` record)."""
        thread_id = f"{chat_channel}/{card.number}"
        ref = ThreadRef(chat_channel, thread_id, f"{thread_id}/card")
        if self._shown_before(card.delivery, "card") is not None:
            return ref  # shown before a crash; its thread is taken up as it is (``_thread``)
        self.threads[thread_id] = LocalThread(card.number, chat_channel, card)
        self._opened.add(thread_id)
        self._print(render_card(card, self.zone), "card")
        self._record(card.delivery, "card", ref.card_id)
        return ref

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        """Replace the card shown at the thread's root."""
        thread = self._thread(ref)
        if thread.card != card:
            thread.card = card
            thread.card_edits += 1
            self._print(render_card_change(card, self.zone), "change")

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        """Append a post to the thread (once per outbox row, with a ``shown`` record)."""
        before = self._shown_before(post.delivery, "post")
        if before is not None:
            return before
        thread = self._thread(ref)
        thread.posts.append(post)
        self._print(render_post(thread.number, post, self.zone), post.kind)
        posted = f"{ref.thread_id}/{len(thread.posts)}"
        self._record(post.delivery, "post", posted)
        for attachment in post.attachments:
            if attachment.data is not None:
                self._save(f"{thread.number}", attachment.filename, attachment.data)
        return posted

    def _shown_before(self, key: DeliveryKey | None, what: str) -> str | None:
        """What a retried row's card or post returned when an earlier attempt showed it, or None."""
        if self.shown is None or key is None or not key.retried:
            return None
        return self.shown.get(key, what)

    def _record(self, key: DeliveryKey | None, what: str, answer: str) -> None:
        if self.shown is not None and key is not None:
            self.shown.add(key, what, answer)

    def _thread(self, ref: ThreadRef) -> LocalThread:
        """The thread ``ref`` names. One this process opened and no longer has was deleted
        (``ThreadGone``); one it never opened (another instance's, or from before a restart) is
        taken up as it is: its card shows here from its next change."""
        thread = self.threads.get(ref.thread_id)
        if thread is not None:
            return thread
        number = ref.thread_id.rpartition("/")[2]
        if ref.thread_id in self._opened or not number.isdigit():
            raise ThreadGone(f"thread {ref.thread_id} is gone")
        unseen = CardView(int(number), "", "", "", "", "", "", None, (), "")  # not shown here yet
        thread = self.threads[ref.thread_id] = LocalThread(int(number), ref.chat_channel, unseen)
        return thread

    def _save(self, folder: str, filename: str, data: bytes) -> None:
        """Write a file where the terminal's user can open it, and say where (nothing without ``files``)."""
        if self.files is None:
            return
        name = Path(filename).name
        target = self.files / folder / (name if name not in ("", ".", "..") else "file")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        self._print(f"{_INDENT}saved to {target}", "event")

    async def redact(self, ref: ThreadRef, item_id: str) -> None:
        """Blank a post (a forgotten contact's message): text, author and attachments are erased."""
        thread = self.threads.get(ref.thread_id)
        prefix, _, index = item_id.rpartition("/")
        if thread is None or prefix != ref.thread_id or not index.isdigit():
            return  # already gone: nothing left to erase
        position = int(index) - 1
        if 0 <= position < len(thread.posts):
            post = thread.posts[position]
            thread.posts[position] = dataclasses.replace(
                post, author="[erased]", text="[erased]", attachments=()
            )
            self._print(f"#{thread.number} │ ✂ a message was erased", "event")

    async def probe(self, scope: str) -> None:
        """The local surface has no token and no membership: every scope always works."""

    def pace_key(self, chat_channel: str) -> str:
        """Local threads are not rate limited; pace by channel anyway."""
        return chat_channel

    async def post_to_channel(self, chat_channel: str, post: PostView, thread: ThreadRef | None) -> str:
        """Post a notice to a chat channel outside any thread (SLA escalations), linking the thread."""
        self.channel_posts.append((chat_channel, post, thread))
        link = f" → {thread.thread_id}" if thread is not None else ""
        self._print(f"[{chat_channel}] ⚠ {post.text}{link}", "notice")
        return f"{chat_channel}/post/{len(self.channel_posts)}"

    async def post_digest(self, chat_channel: str, digest: DigestView) -> str:
        """Print a digest in ``chat_channel`` and keep it (tests read ``digests``)."""
        self.digests.append((chat_channel, digest))
        self._print(render_digest(digest, self.zone), "digest")
        if digest.chart_png is not None:
            self._print(f"{_INDENT}📈 chart ({len(digest.chart_png):,} bytes of PNG)")
            stamp = digest.period_end.astimezone(self.zone).strftime("%Y-%m-%d-%H%M")
            self._save("digests", f"{digest.name}-{stamp}.png", digest.chart_png)
        return f"{chat_channel}/digest/{len(self.digests)}"

    async def show_queue(self, target: str, view: dict[str, Any]) -> str:
        """None here: the terminal answers ``queue`` when asked and keeps no queue view."""
        raise PermanentDeliveryError("the terminal shows no queue view")

    async def type_line(self, line: str, agent: str, *, user_id: str | None = None) -> Reply:
        """Handle one typed line (or pasted block) from ``agent`` as the terminal would; the reply is printed.

        ``#N`` alone moves the focus to an existing conversation N and shows it; ``#N`` before a
        command or note acts on N without moving the focus; anything else acts on the focus.
        """
        commands = self.commands
        if commands is None:
            raise RuntimeError("this LocalSurface was built without commands (LocalSurface(commands=…))")
        text = line.strip()
        if not text:
            return Reply("")
        actor = Actor(self.name, user_id or agent, agent)
        match = _FOCUS.match(text)
        if match is None:
            return self._answer(await commands.handle(actor, text, Location(self.name, number=self.focus)))
        number, rest = int(match.group(1)), match.group(2).strip()
        if rest:
            return self._answer(await commands.handle(actor, rest, Location(self.name, number=number)))
        shown = await commands.execute(actor, ParsedCommand(History()), Location(self.name, number=number))
        if not shown.ok:
            return self._answer(shown)
        self.focus = number
        return self._answer(Reply(f"Focused on #{number}.\n{shown.text}", conversation_number=number))

    def _answer(self, reply: Reply) -> Reply:
        if reply.text:
            text = ("  → " if reply.ok else "  ✗ ") + reply.text.replace("\n", "\n    ")
            self._print(text, "ok" if reply.ok else "error")
        return reply
