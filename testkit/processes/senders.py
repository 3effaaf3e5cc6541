"""The platforms' side of the load-balancer tests: Meta posting WhatsApp webhooks and Slack posting
events and slash commands to one URL (HAProxy's), retrying the way each platform does.

- Meta redelivers a webhook that got anything but a 200 (an error status, a cut connection): a few
  times at once, then less and less often, for up to 36 hours
  (https://developers.facebook.com/docs/graph-api/webhooks/getting-started, "Event Notifications").
  The sender here retries every ``pause`` s.
- Slack retries an Events API request that got no 2xx within 3 seconds up to three times, with
  ``X-Slack-Retry-Num`` and ``X-Slack-Retry-Reason`` (``http_timeout``, ``connection_failed``,
  ``http_error``) and the same ``event_id`` (https://docs.slack.dev/apis/events-api/#retries,
  "Failure conditions"): at once, after 1 minute, after 5 minutes; here 60 times faster
  (``SLACK_RETRIES``).
- Slack does not retry a slash command: the user sees it fail (``operation_timeout``) and types it
  again, which is a new request with a new ``trigger_id``.

Each sender records what got its 200 (acknowledged): the tests assert that exactly those, and
every redelivery of them, were processed once.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import aiohttp

from adapters.whatsapp import SIGNATURE_HEADER, sign_body
from testkit.processes.webhooks import SECRET
from testkit.slack.payloads import as_slack_sends, event_callback, slash_fields
from testkit.slack.signing import signed_headers
from testkit.whatsapp.payloads import envelope, message

__all__ = ["Meta", "Slack", "customer_text", "wamid"]

SLACK_TIMEOUT = 3.0  # Slack's acknowledgement window
SLACK_RETRIES = (0.0, 1.0, 5.0)  # seconds before each retry: Slack's schedule, 60 times faster


def wamid(n: int) -> str:
    """Customer ``n``'s message id."""
    return f"wamid.LB{n:05d}"


def customer_text(n: int) -> str:
    """What customer ``n`` wrote."""
    return f"where is parcel {5000 + n}?"


def _webhook(n: int) -> bytes:
    """Customer ``n``'s webhook: one text from their own number, sent now (SLA clocks start now)."""
    wa_id = f"3162{n:07d}"
    text = message("text", {"body": customer_text(n)}, when=datetime.now(UTC), wamid=wamid(n), wa_id=wa_id)
    return json.dumps(envelope(messages=[text], name=f"Customer {n}", wa_id=wa_id)).encode()


@dataclass
class _Sender:
    """Counts of what was acknowledged and refused."""

    url: str
    pause: float = 0.3
    deadline: float = 40.0
    attempts: Counter[str] = field(default_factory=Counter)  # key -> requests made
    refused: Counter[str] = field(default_factory=Counter)  # status or error -> count

    async def _attempt(
        self, http: aiohttp.ClientSession, path: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> str | None:
        """One request; None when it got a 200, else the failure reason in Slack's words."""
        try:
            async with http.post(
                self.url + path, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout)
            ) as response:
                await response.read()
                if response.status == 200:
                    return None
                self.refused[str(response.status)] += 1
                return "http_error"
        except TimeoutError:
            self.refused["timeout"] += 1
            return "http_timeout"
        except aiohttp.ClientError:
            self.refused["connection"] += 1
            return "connection_failed"


@dataclass
class Meta(_Sender):
    """Posts customers' webhooks; redelivers each until it got a 200 (within ``deadline`` s)."""

    acked: set[int] = field(default_factory=set)

    async def post(self, numbers: list[int]) -> None:
        """Post ``numbers`` concurrently, each until acknowledged."""
        async with aiohttp.ClientSession() as http:
            await asyncio.gather(*(self._one(http, n) for n in numbers))

    async def _one(self, http: aiohttp.ClientSession, n: int) -> None:
        body = _webhook(n)
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_body(SECRET, body)}
        stop = time.monotonic() + self.deadline
        while time.monotonic() < stop:
            self.attempts[str(n)] += 1
            if await self._attempt(http, "/webhooks/whatsapp", body, headers, 30.0) is None:
                self.acked.add(n)
                return
            await asyncio.sleep(self.pause)


@dataclass
class Slack(_Sender):
    """Posts agents' thread messages (Events API, retried) and slash commands (typed again on failure)."""

    acked_events: set[str] = field(default_factory=set)
    acked_commands: Counter[str] = field(default_factory=Counter)  # command text -> acknowledged times
    response_url: str = ""

    async def note(self, http: aiohttp.ClientSession, event_id: str, text: str, thread_ts: str) -> None:
        """Alice writes ``text`` in the thread; Slack retries up to 3 times, then gives up."""
        event: dict[str, Any] = {
            "type": "message",
            "channel": "C_SUPPORT",
            "user": "UALICE",
            "text": as_slack_sends(text),
            "ts": f"{time.time():.6f}",
            "thread_ts": thread_ts,
            "channel_type": "channel",
        }
        body = json.dumps(event_callback(event, event_id=event_id))
        reason = ""
        for retry, wait in enumerate((0.0, *SLACK_RETRIES)):
            await asyncio.sleep(wait)
            headers = signed_headers(body, content_type="application/json")
            if retry:
                headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": reason})
            self.attempts[event_id] += 1
            failure = await self._attempt(http, "/slack/events", body.encode(), headers, SLACK_TIMEOUT)
            if failure is None:
                self.acked_events.add(event_id)
                return
            reason = failure

    async def command(self, http: aiohttp.ClientSession, text: str, tries: int = 4) -> None:
        """Alice types ``/inbox text``; when Slack shows it failed she types it again (``tries`` times)."""
        for _ in range(tries):
            body = urlencode(slash_fields(text, response_url=self.response_url))
            headers = signed_headers(body, content_type="application/x-www-form-urlencoded")
            self.attempts[text] += 1
            if await self._attempt(http, "/slack/events", body.encode(), headers, SLACK_TIMEOUT) is None:
                self.acked_commands[text] += 1
                return
            await asyncio.sleep(self.pause)
