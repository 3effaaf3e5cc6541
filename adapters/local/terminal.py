"""The terminal the local surface is worked in: a line editor when a person types, plain lines otherwise.

On a terminal, typing goes through prompt_toolkit: a prompt that shows the focused conversation,
editing and history (arrow keys), and multi-line messages, either pasted (bracketed paste keeps a
pasted block one message) or typed with a trailing backslash or Alt-Enter before each new line;
``status`` text (the progress of long work) shows below the prompt while there is any.
Without a terminal (a pipe, a file, ``/dev/null``) lines are read as they come, a trailing
backslash joining a line to the next, and the loop is never blocked.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
import sys
from collections.abc import Awaitable, Callable, Iterable

from prompt_toolkit import PromptSession
from prompt_toolkit.formatted_text import FormattedText
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent
from prompt_toolkit.output import ColorDepth
from prompt_toolkit.patch_stdout import patch_stdout
from prompt_toolkit.styles import Style

from adapters.local.surface import LocalSurface

__all__ = ["is_interactive", "join_continued", "read_stdin_lines", "run_terminal"]

log = logging.getLogger(__name__)

_CONTINUE = "\\"
_STYLE = Style.from_dict({"focus": "bold ansicyan", "arrow": "ansibrightblack"})


def join_continued(lines: Iterable[str]) -> list[str]:
    """Lines as messages: a line ending in a backslash continues on the next (the backslash dropped)."""
    messages: list[str] = []
    pending: list[str] = []
    for line in lines:
        if line.endswith(_CONTINUE):
            pending.append(line[: -len(_CONTINUE)])
            continue
        messages.append("\n".join([*pending, line]))
        pending = []
    if pending:
        messages.append("\n".join(pending))
    return messages


async def read_stdin_lines(on_line: Callable[[str], Awaitable[object]]) -> None:
    """Call ``on_line`` for each message typed or piped; return at end of input, never crash on odd stdin."""
    try:
        fd = sys.stdin.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return  # no stdin at all (closed, or a service manager gave none)
    if stat.S_ISREG(mode) or (stat.S_ISCHR(mode) and not os.isatty(fd)):  # a file, or /dev/null
        for message in join_continued(sys.stdin.read().splitlines()):
            await on_line(message)
        return
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    except (ValueError, OSError) as exc:
        log.warning("standard input cannot be read; typed commands are off", extra={"reason": str(exc)})
        return
    pending: list[str] = []
    while raw := await reader.readline():
        line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        if line.endswith(_CONTINUE):
            pending.append(line[: -len(_CONTINUE)])
            continue
        message, pending = "\n".join([*pending, line]), []
        try:
            await on_line(message)
        except Exception:
            log.exception("typed line failed")


def _bindings() -> KeyBindings:
    keys = KeyBindings()

    @keys.add("enter")
    def _enter(event: KeyPressEvent) -> None:
        buffer = event.current_buffer
        if buffer.text.endswith(_CONTINUE) and buffer.cursor_position == len(buffer.text):
            buffer.delete_before_cursor(len(_CONTINUE))  # a trailing backslash: the message goes on
            buffer.insert_text("\n")
            return
        buffer.validate_and_handle()

    @keys.add("escape", "enter")
    def _newline(event: KeyPressEvent) -> None:
        event.current_buffer.insert_text("\n")

    return keys


def is_interactive() -> bool:
    """Whether a person types here: standard input and output are both a terminal (the line editor runs)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


async def run_terminal(
    surface: LocalSurface,
    agent: str,
    *,
    colour: bool,
    on_interrupt: Callable[[], None],
    status: Callable[[], str] | None = None,
) -> None:
    """Work ``surface`` from this terminal as ``agent`` until end of input; Ctrl-C calls ``on_interrupt``.

    ``status()`` (polled twice a second) is shown as the prompt's bottom toolbar while not empty.
    Without a terminal on both standard input and output this falls back to ``read_stdin_lines``.
    """

    async def typed(message: str) -> object:
        return await surface.type_line(message, agent)

    if not is_interactive():
        await read_stdin_lines(typed)
        return

    def prompt() -> FormattedText:
        where = f"#{surface.focus}" if surface.focus is not None else "no focus"
        return FormattedText([("class:focus", where), ("class:arrow", " › ")])

    session: PromptSession[str] = PromptSession(
        history=InMemoryHistory(),
        key_bindings=_bindings(),
        style=_STYLE if colour else None,
        color_depth=ColorDepth.DEFAULT if colour else ColorDepth.MONOCHROME,
        include_default_pygments_style=False,
    )
    shown = asyncio.create_task(_show_status(session, status)) if status is not None else None
    try:
        await _prompt_loop(session, prompt, typed, on_interrupt)
    finally:
        if shown is not None:
            shown.cancel()


async def _show_status(session: PromptSession[str], status: Callable[[], str]) -> None:
    """Keep the bottom toolbar showing ``status()``, hidden while it is empty."""
    while True:
        text = status()
        if (text or None) != session.bottom_toolbar:
            session.bottom_toolbar = text or None
            session.app.invalidate()
        await asyncio.sleep(0.5)


async def _prompt_loop(
    session: PromptSession[str],
    prompt: Callable[[], FormattedText],
    typed: Callable[[str], Awaitable[object]],
    on_interrupt: Callable[[], None],
) -> None:
    with patch_stdout(raw=True):
        while True:
            try:
                message = await session.prompt_async(prompt)
            except KeyboardInterrupt:
                on_interrupt()
                return
            except EOFError:
                return
            try:
                await typed(message)
            except Exception:
                log.exception("typed line failed")
