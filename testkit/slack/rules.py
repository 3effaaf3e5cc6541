"""The refusals of Slack's Web API that the fake enforces, each as the public documentation states it.

Sources (Slack API documentation):
- Block Kit blocks reference (https://docs.slack.dev/reference/block-kit/blocks): at most 50 blocks
  in a message; a section's ``text`` at most 3,000 characters, at most 10 ``fields`` of at most 2,000
  characters each; a context block at most 10 elements; a header's text at most 150 characters;
  ``block_id`` unique within the message, at most 255 characters.
- Block elements reference (https://docs.slack.dev/reference/block-kit/block-elements): a button's
  ``text`` at most 75 characters, its ``value`` at most 2,000; ``action_id`` at most 255 characters and
  unique among the action ids of the message (the docs say "of the containing block"; the fake is stricter).
- Markdown block reference (https://docs.slack.dev/reference/block-kit/blocks/markdown-block): the
  text of a message's blocks together is limited to 12,000 characters; ``chat.postMessage`` answers
  ``msg_blocks_too_long`` above it (Slack's answer in bolt-js issues 2509 and 2867: "12,000 text
  characters with a buffer for block containers"). The fake counts every ``text`` string in the blocks.
- chat.postMessage (https://docs.slack.dev/reference/methods/chat.postMessage): ``text`` over 40,000
  characters is too long (``msg_too_long``; Slack truncates there, the fake refuses: stricter).
- Rich text block reference (https://docs.slack.dev/reference/block-kit/blocks/rich-text-block): its
  ``elements`` are ``rich_text_section``, ``rich_text_list``, ``rich_text_preformatted`` or
  ``rich_text_quote`` objects, each with its own ``elements``; a ``text`` element carries a string.
- View objects reference (https://docs.slack.dev/reference/views): a modal's ``title``, ``submit``
  and ``close`` at most 24 characters, at most 100 blocks, ``private_metadata`` at most 3,000.
- views.publish (https://docs.slack.dev/reference/methods/views.publish) and the App Home reference
  (https://docs.slack.dev/surfaces/app-home): the view is of ``type`` ``home``, with at most 100
  blocks (View objects reference), ``private_metadata`` at most 3,000 and ``callback_id`` at most
  255 characters; blocks obey the same limits as message blocks; ``user_id`` is required.
- Lengths are counted in UTF-16 code units, which is never fewer than Unicode characters (stricter).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = [
    "MAX_BLOCKS",
    "MAX_BLOCKS_TEXT",
    "MAX_TEXT",
    "block_texts",
    "blocks_error",
    "home_view_error",
    "length",
    "view_error",
]

MAX_BLOCKS = 50
MAX_BLOCKS_TEXT = 12_000
MAX_TEXT = 40_000
MAX_SECTION = 3_000
MAX_FIELD = 2_000
MAX_FIELDS = 10
MAX_BUTTON = 75
MAX_HEADER = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ID = 255


def length(text: str) -> int:
    """The length Slack's limits are checked against (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def block_texts(node: Any) -> Iterator[str]:
    """Every ``text`` string anywhere in a block tree (the characters the 12,000 total counts)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from block_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from block_texts(item)


def _text_of(obj: Any) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else ""


def _element_error(element: dict[str, Any], action_ids: set[str]) -> str | None:
    action_id = element.get("action_id")
    if action_id is not None:
        if action_id in action_ids or length(str(action_id)) > MAX_ID:
            return f"duplicate or overlong action_id {action_id!r}"
        action_ids.add(str(action_id))
    if element.get("type") == "button":
        if length(_text_of(element.get("text"))) > MAX_BUTTON:
            return "button text over 75 characters"
        if length(str(element.get("value", ""))) > MAX_FIELD:
            return "button value over 2000 characters"
    return None


_RICH_PARTS = {"rich_text_section", "rich_text_list", "rich_text_preformatted", "rich_text_quote"}


def _rich_text_error(block: dict[str, Any]) -> str | None:
    parts = block.get("elements")
    if not isinstance(parts, list) or not parts:
        return "rich_text without elements"
    for part in parts:
        if part.get("type") not in _RICH_PARTS or not isinstance(part.get("elements"), list):
            return f"rich_text element of type {part.get('type')!r}"
        for element in part["elements"]:
            if element.get("type") == "text" and not isinstance(element.get("text"), str):
                return "rich_text text element without a string"
    return None


def _block_error(block: dict[str, Any], block_ids: set[str], action_ids: set[str]) -> str | None:
    block_id = block.get("block_id")
    if block_id is not None:
        if block_id in block_ids or length(str(block_id)) > MAX_ID:
            return f"duplicate or overlong block_id {block_id!r}"
        block_ids.add(str(block_id))
    kind = block.get("type")
    if kind == "section":
        if "text" not in block and not block.get("fields"):
            return "section without text or fields"
        if length(_text_of(block.get("text"))) > MAX_SECTION:
            return "section text over 3000 characters"
        fields = block.get("fields") or []
        if len(fields) > MAX_FIELDS or any(length(_text_of(f)) > MAX_FIELD for f in fields):
            return "section fields over 10 or a field over 2000 characters"
        accessory = block.get("accessory")
        return _element_error(accessory, action_ids) if isinstance(accessory, dict) else None
    if kind == "header" and length(_text_of(block.get("text"))) > MAX_HEADER:
        return "header text over 150 characters"
    if kind == "context" and len(block.get("elements") or []) > MAX_CONTEXT_ELEMENTS:
        return "context with more than 10 elements"
    if kind == "context" and any(length(_text_of(e)) > MAX_SECTION for e in block.get("elements") or []):
        return "context text over 3000 characters"
    if kind == "rich_text":
        return _rich_text_error(block)
    if kind == "actions":
        for element in block.get("elements") or []:
            error = _element_error(element, action_ids)
            if error:
                return error
    return None


def blocks_error(blocks: Any) -> tuple[str, str] | None:
    """(Slack's error code, why) when Slack would refuse these message blocks; None when it accepts them."""
    if blocks is None:
        return None
    if not isinstance(blocks, list) or not all(isinstance(b, dict) and b.get("type") for b in blocks):
        return "invalid_blocks", "blocks must be a list of typed objects"
    if len(blocks) > MAX_BLOCKS:
        return "invalid_blocks", f"{len(blocks)} blocks, at most 50"
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for block in blocks:
        error = _block_error(block, block_ids, action_ids)
        if error:
            return "invalid_blocks", error
    total = sum(length(t) for t in block_texts(blocks))
    if total > MAX_BLOCKS_TEXT:
        return "msg_blocks_too_long", f"{total} characters of text in blocks, at most 12000"
    return None


def home_view_error(view: Any) -> str | None:
    """Why Slack would refuse a Home view in views.publish (``invalid_arguments``); None if it accepts it."""
    if not isinstance(view, dict) or view.get("type") != "home":
        return "a published view must be an object of type home"
    if length(str(view.get("private_metadata") or "")) > 3000:
        return "private_metadata over 3000 characters"
    if length(str(view.get("callback_id") or "")) > MAX_ID:
        return "callback_id over 255 characters"
    blocks = view.get("blocks")
    if not isinstance(blocks, list) or not blocks:
        return "a home view needs blocks"
    if len(blocks) > 100:
        return "more than 100 blocks"
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for block in blocks:
        if block.get("type") == "input":
            return "a home view cannot hold input blocks here"  # stricter: Threadline's home has none
        error = _block_error(block, block_ids, action_ids)
        if error:
            return error
    return None


def view_error(view: Any) -> str | None:
    """Why Slack would refuse a modal view (``invalid_arguments``); None when it accepts it."""
    if not isinstance(view, dict) or view.get("type") != "modal":
        return "a view must be an object of type modal"
    for key in ("title", "submit", "close"):
        if length(_text_of(view.get(key))) > 24:
            return f"{key} over 24 characters"
    if length(str(view.get("private_metadata") or "")) > 3000:
        return "private_metadata over 3000 characters"
    blocks = view.get("blocks") or []
    if len(blocks) > 100:
        return "more than 100 blocks"
    block_ids: set[str] = set()
    action_ids: set[str] = set()
    for block in blocks:
        if block.get("type") == "input":
            continue  # an input block's element and label are not message blocks
        error = _block_error(block, block_ids, action_ids)
        if error:
            return error
    return None
