"""Hand-over summaries in the Slack thread: on claim and ``!summary``; drafted by a model stand-in too."""

from __future__ import annotations

import email
import logging
from collections.abc import AsyncIterator
from email import policy
from typing import Any

import pytest
from aiohttp import web

from testkit.slack.payloads import message_event, reaction_event
from testkit.slack.read import all_text
from testkit.waiting import until


def thread_texts(world, card: dict[str, Any]) -> list[str]:
    return [all_text(m) for m in world.fake.thread("C_SUPPORT", card["ts"])]


def mails(world) -> list[str]:
    sent = sorted(world.outgoing.glob("*.eml"))
    out = []
    for path in sent:
        body = email.message_from_bytes(path.read_bytes(), policy=policy.default).get_body(("plain",))
        out.append(body.get_content() if body is not None else "")
    return out


async def a_conversation_with_a_promise(world) -> dict[str, Any]:
    await world.email("My desk arrived with a cracked leg.", subject="Cracked desk", external_id="<desk@x>")
    await world.settle()
    card = world.card()
    await world.dispatch(
        message_event("!reply Sorry! I will send a new leg by Friday.", thread_ts=card["ts"])
    )
    await world.settle()
    world.advance(3 * 3600)
    await world.email("Any news on the leg?", subject="Re: Cracked desk", refs=("<desk@x>",))
    world.advance(25 * 60)
    await world.settle()
    return card


async def test_claim_posts_the_hand_over_summary(make_world) -> None:
    world = await make_world(extra="\n[summary]\non_claim = true\n")
    card = await a_conversation_with_a_promise(world)
    await world.dispatch(reaction_event(card, "eyes", user="UBOB"))
    await world.settle()
    [summary] = [t for t in thread_texts(world, card) if "Hand-over #1" in t]
    assert "Ann Customer <ann@example.com> (email; first conversation)" in summary
    assert "Asked: “Cracked desk”: My desk arrived with a cracked leg." in summary
    assert "Waiting: 25 min for an answer" in summary
    assert "Promised, still open: “I will send a new leg by Friday.” (Alice" in summary
    assert "Last from the customer (25 min ago): Any news on the leg?" in summary


async def test_summary_command_and_no_summary_on_claim_by_default(world) -> None:
    card = await a_conversation_with_a_promise(world)
    await world.dispatch(message_event("!claim", thread_ts=card["ts"]))
    await world.settle()
    assert not [t for t in thread_texts(world, card) if "Hand-over" in t]
    await world.dispatch(message_event("!summary", thread_ts=card["ts"]))
    await world.settle()
    assert len([t for t in thread_texts(world, card) if "Hand-over #1" in t]) == 1


class ModelStandIn:
    """A local stand-in of the OpenAI ``POST /v1/chat/completions`` API (choices[0].message.content)."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[str | None] = []
        self.status = 200
        self.content = (
            '{"summary": "Ann waits for a replacement leg promised by Friday.", '
            '"reply": "Hi Ann, the new leg ships tomorrow."}'
        )
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.requests.append(await request.json())
        self.headers.append(request.headers.get("Authorization"))
        if self.status != 200:
            return web.json_response(
                {"error": {"message": "overloaded", "type": "server_error"}}, status=self.status
            )
        return web.json_response(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": self.requests[-1]["model"],
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.content},
                        "finish_reason": "stop",
                    }
                ],
            }
        )


@pytest.fixture
async def model() -> AsyncIterator[ModelStandIn]:
    stand_in = ModelStandIn()
    app = web.Application()
    app.router.add_post("/v1/chat/completions", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    stand_in.url = f"http://127.0.0.1:{port}/v1"
    yield stand_in
    await runner.cleanup()


def llm_config(model: ModelStandIn) -> str:
    keys = f'on_claim = true\nllm = true\nbase_url = "{model.url}"\nmodel = "tiny-model"'
    keys += '\nkey_env = "TL_TEST_LLM_KEY"'
    return f"\n[summary]\n{keys}\n"


async def settle_summary(world) -> None:
    assert world.app.handover is not None
    await world.settle()
    await world.app.handover.settle()
    await world.settle()


async def test_a_model_drafts_the_summary_and_a_reply_sent_only_on_command(
    make_world, model, monkeypatch
) -> None:
    monkeypatch.setenv("TL_TEST_LLM_KEY", "sk-test-secret")
    world = await make_world(extra=llm_config(model), env={"TL_TEST_LLM_KEY": "sk-test-secret"})
    card = await a_conversation_with_a_promise(world)
    await world.dispatch(message_event("!claim", thread_ts=card["ts"], user="UBOB"))
    await settle_summary(world)
    texts = thread_texts(world, card)
    assert any("drafted by a language model" in t and "replacement leg" in t for t in texts)
    assert any("Suggested reply" in t and "the new leg ships tomorrow" in t for t in texts)
    assert model.headers == ["Bearer sk-test-secret"] and model.requests[0]["model"] == "tiny-model"
    assert "Any news on the leg?" in model.requests[0]["messages"][1]["content"]
    assert len(mails(world)) == 1  # only Alice's reply: the draft waits for an agent
    await world.dispatch(message_event("!draft send", thread_ts=card["ts"], user="UBOB"))
    await world.settle()
    assert len(mails(world)) == 2 and "Hi Ann, the new leg ships tomorrow." in mails(world)[-1]
    await world.dispatch(message_event("!draft send", thread_ts=card["ts"], user="UBOB"))
    await world.settle()
    assert len(mails(world)) == 2  # a draft is sent once
    ephemeral = world.fake.called("chat.postEphemeral")[-1].args
    assert "no reply draft" in ephemeral["text"]


async def test_a_failing_model_gives_the_deterministic_summary(
    make_world, model, monkeypatch, caplog
) -> None:
    monkeypatch.setenv("TL_TEST_LLM_KEY", "sk-test-secret")
    caplog.set_level(logging.DEBUG)
    model.status = 503
    world = await make_world(extra=llm_config(model), env={"TL_TEST_LLM_KEY": "sk-test-secret"})
    card = await a_conversation_with_a_promise(world)
    await world.dispatch(message_event("!summary", thread_ts=card["ts"]))
    await settle_summary(world)
    await until("the summary", lambda: any("Hand-over #1:" in t for t in thread_texts(world, card)))
    assert not any("Suggested reply" in t for t in thread_texts(world, card))
    assert len(mails(world)) == 1
    assert "summary model failed" in caplog.text and "sk-test-secret" not in caplog.text
