"""The App Home view of a personal queue, within Block Kit's limits (at most 100 blocks; sections 3,000).

Three sections, "Mine", "Unassigned" and "Breaching soon", of at most ``PER_SECTION`` conversations
each (then "… and N more"): a section block per conversation, its number and subject a link to
the thread, its customer, priority and SLA due below, and a Claim button when it is not yours.
Button ``action_id`` values are unique in the view (``tl_home_claim:<section>:<number>``).
"""

from __future__ import annotations

from typing import Any

from adapters.slack.render import escape
from adapters.slack.split import clip_escaped
from bot.queue import due_text
from bot.views import QueueItem, QueueView

__all__ = ["CLAIM_PREFIX", "PER_SECTION", "home_view"]

CLAIM_PREFIX = "tl_home_claim:"
PER_SECTION = 25  # 3 sections x (1 header + 25 items + 1 "more") + 4 = at most 85 blocks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_escaped(text, 3000)}]}


def _item_block(item: QueueItem, link: str | None, mine: bool, section: str, timezone: str) -> dict[str, Any]:
    title = escape(f"#{item.number} · {item.subject[:80] or '(no subject)'}".replace("|", "¦"))
    head = f"<{link}|{title}>" if link else f"*{title}*"
    facts = [escape(item.customer[:80])]
    if item.priority in ("urgent", "high"):
        facts.append(f"*{item.priority}*")
    if item.assignee:
        facts.append(escape(item.assignee))
    if item.sla_due is not None:
        facts.append(due_text(item, timezone) + (" ⚠" if item.sla_state != "ok" else ""))
    block: dict[str, Any] = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip_escaped(f"{head}\n{' · '.join(facts)}", 3000)},
    }
    if not mine:
        block["accessory"] = {
            "type": "button",
            "text": {"type": "plain_text", "text": "Claim"},
            "action_id": f"{CLAIM_PREFIX}{section}:{item.number}",
            "value": str(item.number),
        }
    return block


def home_view(
    queue: QueueView | None, links: dict[int, str | None], banner: str, refusal: str
) -> dict[str, Any]:
    """The ``home`` view of ``queue`` (None: the user may not act, and is told ``refusal``)."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": "Your support queue"}}
    ]
    if queue is None:
        blocks.append(_context(refusal))
        return {"type": "home", "blocks": blocks}
    if banner:
        blocks.append(_context(escape(banner)))
    sections = (("Mine", "mine", queue.mine), ("Unassigned", "unassigned", queue.unassigned))
    for title, key, items in (*sections, ("Breaching soon", "breaching", queue.breaching)):
        blocks.append({"type": "header", "text": {"type": "plain_text", "text": f"{title} ({len(items)})"}})
        if not items:
            blocks.append(_context("Nothing here."))
        for item in items[:PER_SECTION]:
            mine = key == "mine" or item.assignee == queue.agent
            blocks.append(_item_block(item, links.get(item.number), mine, key, queue.timezone))
        if len(items) > PER_SECTION:
            blocks.append(_context(f"… and {len(items) - PER_SECTION} more"))
    return {"type": "home", "blocks": blocks}
