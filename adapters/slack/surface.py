"""The Slack surface, outbound half: cards and thread posts through the Web API (``chat.*``, ``files.*``).

Idempotence across retries: a post split into several Slack messages remembers the
``ts`` of each part already posted and the ids of its uploaded files (per thread and message uid),
so a retry after a 429 in the middle resumes instead of repeating; across a crash, every message
carries its outbox id in Slack message metadata and a retried delivery adopts what it finds
(``adapters/slack/adopt.py``). ``post`` returns the
file ids and every part's ``ts``, so ``redact`` can delete all of them. A plain thread
message that the core turned into a note is not echoed back: the agent's own Slack message already shows it.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.adopt import metadata, posted_card, posted_parts
from adapters.slack.auth import SlackAuth
from adapters.slack.digest import digest_blocks, thread_link
from adapters.slack.errors import refusal
from adapters.slack.render import card_blocks, escape, post_chunks
from adapters.slack.settings import SlackSettings
from adapters.slack.split import clip
from bot.ports import WHOLE_SURFACE, ThreadGone, ThreadRef, join_ids
from bot.views import CardView, DigestView, PostView

__all__ = ["SlackSurface", "customer_username"]

log = logging.getLogger(__name__)
_MEMORY = 5000
_USERNAME = 80
_FILE_GONE = ("file_not_found", "file_deleted")
_CUSTOMER_MARK = " (customer)"


def customer_username(name: str | None) -> str:
    """The post username of a customer's message: always marked, so no customer can pass for a teammate."""
    name = " ".join((name or "").split()) or "Unknown sender"
    return clip(name, _USERNAME - len(_CUSTOMER_MARK)) + _CUSTOMER_MARK


class SlackSurface:
    """Implements ``bot.ports.Surface`` on Slack: one thread per conversation, the card as its root."""

    name = "slack"

    def __init__(self, client: AsyncWebClient, settings: SlackSettings) -> None:
        self.client = client
        self.settings = settings
        self.auth = SlackAuth()
        self._parts: OrderedDict[str, list[str]] = OrderedDict()
        self._uploaded: OrderedDict[str, list[str]] = OrderedDict()  # thread:message uid -> Slack file ids
        self._shown: OrderedDict[str, str] = OrderedDict()  # card ts -> the text+blocks it shows
        self._links: OrderedDict[str, str] = OrderedDict()  # "channel:ts" -> permalink

    @staticmethod
    def _remember(store: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > _MEMORY:
            store.popitem(last=False)

    def _bot_identity(self) -> dict[str, Any]:
        identity: dict[str, Any] = {}
        if self.settings.username:
            identity["username"] = self.settings.username
        if self.settings.icon_emoji:
            identity["icon_emoji"] = self.settings.icon_emoji
        return identity

    def _identity(self, post: PostView) -> dict[str, Any]:
        if not post.from_customer:
            return self._bot_identity()
        identity: dict[str, Any] = {"username": customer_username(post.author)}
        if self.settings.customer_icon_url:
            identity["icon_url"] = self.settings.customer_icon_url
        else:
            identity["icon_emoji"] = self.settings.customer_icon_emoji
        return identity

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        """Post the card; its ``ts`` is both the thread id and the card id.

        A retried delivery first looks for the card an earlier attempt posted (``adopt``) and uses it."""
        key = card.delivery
        if key is not None and key.retried:
            found = await posted_card(self.client, chat_channel, key)
            if found is not None:
                log.info("slack card adopted", extra={"conversation": card.number, "ts": found})
                return ThreadRef(chat_channel, found, found)
        text, blocks = card_blocks(card)
        answer = await self._top_level(chat_channel, text, blocks, metadata(key, "card"))
        ts = str(answer["ts"])
        self._remember(self._shown, ts, json.dumps([text, blocks], sort_keys=True))
        channel = str(answer.get("channel") or chat_channel)
        log.info("slack card posted", extra={"conversation": card.number, "slack_channel": channel, "ts": ts})
        return ThreadRef(channel, ts, ts)

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        """Edit the card in place with ``chat.update``; a deleted card raises ThreadGone.

        An edit that would show exactly what this process last put on the card is skipped
        (a new conversation's card is rendered at creation and then "changed" once more).
        """
        text, blocks = card_blocks(card)
        shown = json.dumps([text, blocks], sort_keys=True)
        if self._shown.get(ref.card_id) == shown:
            return
        try:
            await self.client.chat_update(channel=ref.chat_channel, ts=ref.card_id, text=text, blocks=blocks)
        except Exception as exc:
            raise self.auth.failed(exc) from exc
        self._remember(self._shown, ref.card_id, shown)

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        """Post into the thread (split within Block Kit limits), then upload its attachments."""
        uid = f"{ref.thread_id}:{post.message_uid}" if post.message_uid else None  # parts in this thread
        done = self._parts.get(uid, []) if uid else []
        chunks = post_chunks(post)
        identity = self._identity(post)
        key = post.delivery
        try:
            if key is not None and key.retried and not done:  # an earlier attempt may have posted parts
                found = await posted_parts(self.client, ref.chat_channel, ref.thread_id, key)
                while len(done) < len(chunks) and len(done) in found:  # the parts posted, in order
                    done = [*done, found[len(done)]]
            for index, chunk in enumerate(chunks):
                if index < len(done):
                    continue
                answer = await self.client.chat_postMessage(
                    channel=ref.chat_channel,
                    thread_ts=ref.thread_id,
                    text=chunk.text,
                    blocks=chunk.blocks,
                    unfurl_links=False,
                    unfurl_media=False,
                    metadata=metadata(key, "post", index),
                    **identity,
                )
                done = [*done, str(answer["ts"])]
                if uid:
                    self._remember(self._parts, uid, done)
            files = [a for a in post.attachments if a.data is not None]
            uploaded: list[str] = self._uploaded.get(uid, []) if uid else []
            if files and not uploaded:
                answer = await self.client.files_upload_v2(
                    channel=ref.chat_channel,
                    thread_ts=ref.thread_id,
                    file_uploads=[
                        {"content": a.data, "filename": a.filename, "title": a.filename} for a in files
                    ],
                )
                uploaded = [str(f["id"]) for f in answer.get("files") or []]
                if uid:
                    self._remember(self._uploaded, uid, uploaded)
        except Exception as exc:
            raise self.auth.failed(exc) from exc
        self.auth.succeeded()
        ids = join_ids([*uploaded, *done])  # files first: a forgotten contact's files must be found again
        if len(ids.split()) < len(uploaded) + len(done):
            log.warning("slack post ids do not all fit; some parts cannot be redacted", extra={"uid": uid})
        return ids

    async def redact(self, ref: ThreadRef, item_id: str) -> None:
        """Delete a post (every part and every uploaded file, ``files.delete``): a forgotten contact's."""
        for part in item_id.split():
            try:
                if part.startswith("F"):
                    await self.client.files_delete(file=part)
                else:
                    await self.client.chat_delete(channel=ref.chat_channel, ts=part)
            except SlackApiError as exc:
                if exc.response.get("error") in _FILE_GONE:
                    continue  # already deleted: nothing left to erase
                error = self.auth.failed(exc)
                if not isinstance(error, ThreadGone):
                    raise error from exc
            except Exception as exc:
                raise self.auth.failed(exc) from exc

    async def post_digest(self, chat_channel: str, digest: DigestView) -> str:
        """Post a digest at the top level of ``chat_channel``; return its ``ts``."""
        links = {
            e.thread_id: await self.permalink(e.chat_channel, e.thread_id)
            for e in digest.oldest[:20]
            if e.surface == "slack" and e.chat_channel and e.thread_id
        }
        text, blocks = digest_blocks(digest, links)
        ts = str((await self._top_level(chat_channel, text, blocks))["ts"])
        if digest.chart_png is not None:
            try:
                await self.client.files_upload_v2(
                    channel=chat_channel,
                    thread_ts=ts,
                    content=digest.chart_png,
                    filename=f"{digest.name}.png",
                    title=digest.title,
                )
            except Exception as exc:
                raise self.auth.failed(exc) from exc
        return ts

    async def post_to_channel(self, chat_channel: str, post: PostView, thread: ThreadRef | None) -> str:
        """Post a notice (an SLA escalation) at the top level of ``chat_channel``, linking the thread;
        a retried delivery adopts the notice an earlier attempt posted."""
        key = post.delivery
        if key is not None and key.retried:
            found = await posted_card(self.client, chat_channel, key, "channel")
            if found is not None:
                return found
        link = (
            f" <{await self.permalink(thread.chat_channel, thread.thread_id)}|open the thread>"
            if thread
            else ""
        )
        text = f":warning: {escape(post.text)}{link}"
        return str((await self._top_level(chat_channel, text, None, metadata(key, "channel")))["ts"])

    async def show_queue(self, target: str, view: dict[str, Any]) -> str:
        """Publish ``view`` as user ``target``'s App Home tab (``views.publish`` replaces the whole tab,
        https://docs.slack.dev/reference/methods/views.publish); return the view's id."""
        try:
            answer = await self.client.views_publish(user_id=target, view=view)
        except Exception as exc:
            raise self.auth.failed(exc) from exc
        self.auth.succeeded()
        return str((answer.get("view") or {}).get("id", ""))

    async def permalink(self, chat_channel: str, ts: str) -> str:
        """A message's permalink (``chat.getPermalink``, cached); the archives link if Slack has none."""
        key = f"{chat_channel}:{ts}"
        if key in self._links:
            return self._links[key]
        try:
            answer = await self.client.chat_getPermalink(channel=chat_channel, message_ts=ts)
        except Exception as exc:
            log.warning("slack permalink unavailable", extra={"error": exc.__class__.__name__})
            return thread_link(chat_channel, ts)
        self._remember(self._links, key, str(answer["permalink"]))
        return self._links[key]

    async def _top_level(
        self,
        chat_channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None,
        meta: dict[str, Any] | None = None,
    ) -> Any:
        """Post at the top level of a channel as the bot (no unfurling); map Slack's errors."""
        try:
            answer = await self.client.chat_postMessage(
                channel=chat_channel,
                text=text,
                blocks=blocks,
                unfurl_links=False,
                unfurl_media=False,
                metadata=meta,
                **self._bot_identity(),
            )
        except Exception as exc:
            raise self.auth.failed(exc) from exc
        self.auth.succeeded()
        return answer

    async def probe(self, scope: str) -> None:
        """``auth.test`` for the token; for a chat channel also ``conversations.info``: it must exist,
        not be archived and have the bot as a member (``is_member``,
        https://docs.slack.dev/reference/methods/conversations.info)."""
        try:
            await self.client.auth_test()
            if scope == WHOLE_SURFACE:
                self.auth.succeeded()
                return
            channel = (await self.client.conversations_info(channel=scope)).get("channel") or {}
        except Exception as exc:
            raise self.auth.failed(exc) from exc
        self.auth.succeeded()
        if channel.get("is_archived"):
            raise refusal("is_archived", channel=scope)
        if not channel.get("is_member", True):
            raise refusal("not_in_channel", channel=scope)

    def pace_key(self, chat_channel: str) -> str:
        """Slack limits posting per channel (about 1 message per second)."""
        return chat_channel
