"""Block Kit rendering of digests (posted at the top level of the digest channel, not in a thread).

Thread links are the permalinks Slack gives (``chat.getPermalink``, which name the workspace:
https://docs.slack.dev/reference/methods/chat.getPermalink); when Slack cannot give one the link
is ``https://slack.com/archives/<channel>/p<ts>``. Subjects are customer text: the list of
waiting conversations is rich text (shown literally), the rest is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from adapters.slack.render import escape
from adapters.slack.split import clip
from bot.humanize import duration_text
from bot.views import DigestEntry, DigestView

__all__ = ["digest_blocks", "thread_link"]

_SLA = {"warning": "large_orange_circle", "breached": "red_circle"}


def thread_link(chat_channel: str, thread_id: str) -> str:
    """A link to a Slack thread whose root is ``thread_id``."""
    return f"https://slack.com/archives/{chat_channel}/p{thread_id.replace('.', '')}"


def _entry(entry: DigestEntry, zone: ZoneInfo, links: Mapping[str, str]) -> list[dict[str, Any]]:
    """One waiting conversation as rich text elements: the subject is customer text, shown literally."""
    label = clip(f"#{entry.number} {entry.subject or '(no subject)'}", 80)
    state = _SLA.get(entry.sla_state)
    elements: list[dict[str, Any]] = [
        {"type": "emoji", "name": state} if state else {"type": "text", "text": "•"}
    ]
    elements.append({"type": "text", "text": " "})
    if entry.surface == "slack" and entry.chat_channel and entry.thread_id:
        link = links.get(entry.thread_id) or thread_link(entry.chat_channel, entry.thread_id)
        elements.append({"type": "link", "url": link, "text": label})
    else:
        elements.append({"type": "text", "text": label})
    since = f" · waiting since {entry.waiting_since.astimezone(zone):%a %H:%M}" if entry.waiting_since else ""
    elements.append({"type": "text", "text": f" · {entry.assignee or 'unassigned'}{since}\n"})
    return elements


def digest_blocks(
    digest: DigestView, links: Mapping[str, str] | None = None
) -> tuple[str, list[dict[str, Any]]]:
    """The digest as (notification text, blocks); ``links`` maps thread ids to their permalinks."""
    zone = ZoneInfo(digest.timezone)
    start, end = digest.period_start.astimezone(zone), digest.period_end.astimezone(zone)
    late = " (late: not posted at its time)" if digest.late else ""
    compliance = "—" if digest.sla_compliance is None else f"{digest.sla_compliance:g} %"
    title = f":bar_chart: {escape(digest.title)}{late}"
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*"}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"{start:%a %d %b %H:%M} → {end:%a %d %b %H:%M} ({digest.timezone})",
                }
            ],
        },
        {
            "type": "section",
            "fields": [
                {
                    "type": "mrkdwn",
                    "text": f"*Now*\nopen {digest.open} · unassigned {digest.unassigned}"
                    f" · snoozed {digest.snoozed} · breached {digest.breached}",
                },
                {"type": "mrkdwn", "text": f"*Flow*\nopened {digest.opened} · closed {digest.closed}"},
                {
                    "type": "mrkdwn",
                    "text": f"*Median first response*\n{duration_text(digest.median_first_response)}",
                },
                {"type": "mrkdwn", "text": f"*Median resolution*\n{duration_text(digest.median_resolution)}"},
                {"type": "mrkdwn", "text": f"*SLA compliance*\n{compliance}"},
            ],
        },
    ]
    if digest.oldest:
        heading = [{"type": "text", "text": "Longest waiting\n", "style": {"bold": True}}]
        rows = [element for e in digest.oldest[:20] for element in _entry(e, zone, links or {})]
        blocks.append(
            {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": heading + rows}]}
        )
    breakdown = []
    if digest.by_assignee:
        breakdown.append("*By assignee:* " + ", ".join(f"{escape(n)} {c}" for n, c in digest.by_assignee))
    if digest.by_label:
        breakdown.append("*By label:* " + ", ".join(f"`{escape(n)}` {c}" for n, c in digest.by_label))
    if breakdown:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "\n".join(breakdown)[:3000]}]}
        )
    text = f"{digest.title}: open {digest.open}, unassigned {digest.unassigned}, breached {digest.breached}"
    return escape(text), blocks
