"""The OpenAI-compatible chat completions client that drafts hand-over summaries and reply drafts.

``POST {base_url}/chat/completions`` with ``{"model", "messages": [system, user], "temperature"}``
and ``Authorization: Bearer <key>`` when a key is configured; the answer's
``choices[0].message.content`` is read (https://platform.openai.com/docs/api-reference/chat/create).
The model is asked for a JSON object ``{"summary": …, "reply": …}``; a plain-text answer is taken
as the summary alone. Any failure (connection, a status other than 200, a body without content,
the timeout) is a ``DraftError``: the core then posts its deterministic summary. The key is never
logged, and the customer's messages are logged by no one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp

from bot.ports.drafting import Draft, DraftError, DraftRequest

__all__ = ["SYSTEM_PROMPT", "ChatCompletionsDrafter"]

log = logging.getLogger(__name__)

SYSTEM_PROMPT = (
    "You help a support team hand a customer conversation over to a teammate. Answer with one JSON "
    'object: {"summary": "...", "reply": "..."}. The summary: at most five short lines saying who the '
    "customer is, what they asked, how long they have waited, what the team promised that is still "
    "open, and the customer's last message. Use only the facts given. The reply: a short, polite draft "
    "answer to the customer's last message, or null when none is wanted. A person reviews the draft; "
    "never claim an action was taken that the facts do not show."
)


class ChatCompletionsDrafter:
    """Asks a chat completions endpoint for a summary and, when wanted, a reply draft."""

    def __init__(self, base_url: str, model: str, api_key: str | None, timeout_seconds: float) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self._key = api_key
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)

    def _body(self, request: DraftRequest) -> dict[str, Any]:
        transcript = "\n".join(f"[{who}] {text}" for who, text in request.transcript)
        ask = "Also draft a reply." if request.want_reply else 'No reply is wanted: "reply" is null.'
        user = f"Facts:\n{request.summary}\n\nRecent messages, oldest first:\n{transcript}\n\n{ask}"
        return {
            "model": self.model,
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}],
            "temperature": 0.2,
        }

    async def draft(self, request: DraftRequest) -> Draft:
        """The model's draft; ``DraftError`` when the endpoint fails or answers nothing usable."""
        headers = {"Authorization": f"Bearer {self._key}"} if self._key else {}
        try:
            async with (
                aiohttp.ClientSession(timeout=self.timeout) as session,
                session.post(self.url, json=self._body(request), headers=headers) as response,
            ):
                if response.status != 200:
                    raise DraftError(f"the model endpoint answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise DraftError(f"the model endpoint failed ({exc.__class__.__name__})") from exc
        try:
            content = str(answer["choices"][0]["message"]["content"] or "").strip()
        except (KeyError, IndexError, TypeError) as exc:
            raise DraftError("the model's answer has no choices[0].message.content") from exc
        if not content:
            raise DraftError("the model answered with empty content")
        return _parse(content, request.want_reply)


def _parse(content: str, want_reply: bool) -> Draft:
    """``{"summary", "reply"}`` (also inside a ```json fence), else the text as the summary."""
    text = content.strip().removeprefix("```json").removeprefix("```").removesuffix("```").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return Draft(content)
    if not isinstance(data, dict) or not str(data.get("summary") or "").strip():
        raise DraftError("the model's JSON has no summary")
    reply = data.get("reply")
    return Draft(str(data["summary"]).strip(), str(reply).strip() if want_reply and reply else None)
