"""The OpenAI-compatible drafter against a local stand-in: JSON, fenced JSON, plain text, every failure."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from adapters.llm import ChatCompletionsDrafter
from bot.ports.drafting import DraftError, DraftRequest

REQUEST = DraftRequest("Hand-over #1: Ann", (("customer", "Where is my desk?"),), want_reply=True)


class StandIn:
    """``POST /v1/chat/completions`` answering ``body`` (or sleeping ``delay`` seconds first)."""

    def __init__(self) -> None:
        self.body: Any = {}
        self.status = 200
        self.delay = 0.0
        self.url = ""

    async def handle(self, _: web.Request) -> web.Response:
        await asyncio.sleep(self.delay)
        return web.json_response(self.body, status=self.status)


@pytest.fixture
async def stand_in() -> AsyncIterator[StandIn]:
    server = StandIn()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/v1"  # type: ignore[union-attr]
    yield server
    await runner.cleanup()


def content(text: str) -> dict[str, Any]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}


async def test_json_fenced_json_and_plain_text_answers(stand_in: StandIn) -> None:
    drafter = ChatCompletionsDrafter(stand_in.url, "m", None, 5)
    stand_in.body = content('{"summary": "Ann waits.", "reply": "Hi Ann!"}')
    assert (await drafter.draft(REQUEST)).reply == "Hi Ann!"
    stand_in.body = content('```json\n{"summary": "Ann waits.", "reply": null}\n```')
    draft = await drafter.draft(REQUEST)
    assert draft.summary == "Ann waits." and draft.reply is None
    stand_in.body = content("Ann waits for her desk.")
    draft = await drafter.draft(REQUEST)
    assert draft.summary == "Ann waits for her desk." and draft.reply is None


async def test_every_failure_is_a_draft_error(stand_in: StandIn) -> None:
    drafter = ChatCompletionsDrafter(stand_in.url, "m", "sk-x", 5)
    bodies: list[Any] = [{"choices": []}, {"error": "x"}, content(""), content('{"reply": "no summary"}')]
    for body in bodies:
        stand_in.body = body
        with pytest.raises(DraftError):
            await drafter.draft(REQUEST)
    stand_in.status, stand_in.body = 429, {"error": {"message": "rate limited"}}
    with pytest.raises(DraftError, match="HTTP 429"):
        await drafter.draft(REQUEST)
    stand_in.status, stand_in.delay = 200, 5.0
    with pytest.raises(DraftError):
        await ChatCompletionsDrafter(stand_in.url, "m", None, 0.2).draft(REQUEST)
    with pytest.raises(DraftError):
        await ChatCompletionsDrafter("http://127.0.0.1:9/v1", "m", None, 5).draft(REQUEST)
