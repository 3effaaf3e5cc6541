"""What the fake Discord refuses, as Discord documents it; each check names its page.

Sources (Discord developer documentation, https://discord.com/developers/docs):
- Message resource, "Create Message" and "Edit Message": content up to 2,000 characters, up to 10
  embeds, nonce up to 25 characters, "the maximum request size when sending a message is 25 MiB", at
  least one of content, embeds, sticker_ids, components, files or poll (else 50006); ``enforce_nonce``:
  "if another message was created by the same author with the same nonce, that message will be returned
  and no new message will be created".
- Message resource, "Embed Limits": title 256, description 4,096, 25 fields, field name 256, field value
  1,024, footer text 2,048, author name 256, "the combined sum of characters in all title, description,
  field.name, field.value, footer.text, and author.name fields across all embeds attached to a message
  must not exceed 6000 characters"; leading and trailing whitespace is not counted.
- Opcodes and Status Codes, "JSON Error Codes": 30015 at most 10 attachments in a message, 40005 request
  entity too large, 50006 empty message, 50035 invalid form body, 40067 a tag is required to create a
  forum post, 50083 operation on an archived thread, 160005 thread is locked, 160006 maximum number of
  active threads reached, 40058 cannot send a message in a forum channel, 40060 interaction already
  acknowledged.
- Component Reference ("Message Components"): at most 5 action rows; a row holds up to 5 buttons or
  one select menu; ``custom_id`` at most 100 characters and unique in the message; a button label at
  most 80; a select's placeholder at most 150, 1-25 options with label and value at most 100, and
  ``min_values``/``max_values`` within 0-25.
- Per-file upload limit: 10 MiB for a server without boosts (Discord Help Center, "File upload limit";
  it was 8 MB, then 25 MB, before; interactions carry the guild's figure as ``attachment_size_limit``).
  Boosted servers allow more; a bot must plan for the unboosted one.

The fake is stricter than Discord where the docs leave room: a limit counts Python characters (code
points), never less.
"""

from __future__ import annotations

from typing import Any

from testkit.discord.payloads import FakeError

__all__ = [
    "CONTENT_LIMIT",
    "EMBEDS_PER_MESSAGE",
    "EMBED_TOTAL_LIMIT",
    "FILES_PER_MESSAGE",
    "FILE_SIZE_LIMIT",
    "REQUEST_SIZE_LIMIT",
    "check_message",
    "check_new_message",
    "check_thread_name",
]

CONTENT_LIMIT = 2000
EMBEDS_PER_MESSAGE = 10
EMBED_TOTAL_LIMIT = 6000
FILES_PER_MESSAGE = 10
FILE_SIZE_LIMIT = 10 * 1024 * 1024
REQUEST_SIZE_LIMIT = 25 * 1024 * 1024
NONCE_LIMIT = 25
FIELDS_PER_EMBED = 25
_EMBED_LIMITS = {"title": 256, "description": 4096}
_FIELD_LIMITS = {"name": 256, "value": 1024}
THREAD_NAME_LIMIT = 100


def _invalid(where: str, problem: str) -> FakeError:
    """Discord's 50035 answer: the field path and what is wrong with it."""
    return FakeError(400, 50035, f"Invalid Form Body\nIn {where}: {problem}")


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _check_length(where: str, value: Any, limit: int) -> int:
    text = _text(value)
    if len(text) > limit:
        raise _invalid(where, f"Must be {limit} or fewer in length.")
    return len(text)


def _check_embed(index: int, embed: dict[str, Any]) -> int:
    """One embed's limits; its character count towards the message's 6,000."""
    where = f"embeds.{index}"
    total = 0
    for key, limit in _EMBED_LIMITS.items():
        total += _check_length(f"{where}.{key}", embed.get(key), limit)
    total += _check_length(f"{where}.footer.text", (embed.get("footer") or {}).get("text"), 2048)
    author = embed.get("author")
    if author is not None:
        if not _text(author.get("name")):
            raise _invalid(f"{where}.author.name", "This field is required")
        total += _check_length(f"{where}.author.name", author.get("name"), 256)
    fields = embed.get("fields") or []
    if len(fields) > FIELDS_PER_EMBED:
        raise _invalid(f"{where}.fields", f"Must be {FIELDS_PER_EMBED} or fewer in length.")
    for number, item in enumerate(fields):
        for key, limit in _FIELD_LIMITS.items():
            if not _text(item.get(key)):
                raise _invalid(f"{where}.fields.{number}.{key}", "This field is required")
            total += _check_length(f"{where}.fields.{number}.{key}", item.get(key), limit)
    return total


def _check_components(rows: list[dict[str, Any]]) -> None:
    """Discord's component limits (legacy action rows, as the card uses them)."""
    if len(rows) > 5:
        raise _invalid("components", "Must be 5 or fewer in length.")
    ids: set[str] = set()
    for r, row in enumerate(rows):
        items = row.get("components") or []
        selects = [c for c in items if c.get("type") in (3, 5, 6, 7, 8)]
        if not items or len(items) > 5 or (selects and len(items) > 1):
            raise _invalid(f"components.{r}.components", "A row holds 1-5 buttons or one select menu.")
        for c, item in enumerate(items):
            where = f"components.{r}.components.{c}"
            custom_id = item.get("custom_id")
            if custom_id is not None:
                _check_length(f"{where}.custom_id", custom_id, 100)
                if custom_id in ids:
                    raise _invalid(f"{where}.custom_id", "Component custom id cannot be duplicated")
                ids.add(custom_id)
            _check_length(f"{where}.label", item.get("label"), 80)
            _check_length(f"{where}.placeholder", item.get("placeholder"), 150)
            for key in ("min_values", "max_values"):
                if not 0 <= int(item.get(key, 1)) <= 25:
                    raise _invalid(f"{where}.{key}", "Must be between 0 and 25.")
            if item.get("type") == 3:
                options = item.get("options") or []
                if not 1 <= len(options) <= 25:
                    raise _invalid(f"{where}.options", "Must be between 1 and 25 in length.")
                for o, option in enumerate(options):
                    for key in ("label", "value"):
                        if not _text(option.get(key)):
                            raise _invalid(f"{where}.options.{o}.{key}", "This field is required")
                        _check_length(f"{where}.options.{o}.{key}", option.get(key), 100)


def check_message(body: dict[str, Any] | None, files: list[tuple[str, bytes]], *, size: int) -> None:
    """Refuse a message body (create, edit, forum starter, interaction answer) the way Discord does.

    ``size`` is the whole request's size in bytes (JSON and every uploaded file).
    """
    body = body or {}
    if size > REQUEST_SIZE_LIMIT:
        raise FakeError(413, 40005, "Request entity too large")
    if len(files) > FILES_PER_MESSAGE:
        raise FakeError(
            400, 30015, f"Maximum number of attachments in a message reached ({FILES_PER_MESSAGE})"
        )
    for name, data in files:
        if len(data) > FILE_SIZE_LIMIT:
            raise FakeError(413, 40005, f"Request entity too large ({name})")
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_LIMIT:
        raise _invalid("content", f"Must be {CONTENT_LIMIT} or fewer in length.")
    embeds = body.get("embeds") or []
    if len(embeds) > EMBEDS_PER_MESSAGE:
        raise _invalid("embeds", f"Must be {EMBEDS_PER_MESSAGE} or fewer in length.")
    total = sum(_check_embed(index, embed) for index, embed in enumerate(embeds))
    if total > EMBED_TOTAL_LIMIT:
        raise _invalid("embeds", f"Embed size exceeds maximum size of {EMBED_TOTAL_LIMIT}")
    _check_components(body.get("components") or [])
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > NONCE_LIMIT:
        raise _invalid("nonce", f"Must be {NONCE_LIMIT} or fewer in length.")


def check_new_message(body: dict[str, Any] | None, files: list[tuple[str, bytes]], *, size: int) -> None:
    """A message being created: the limits, and something to show (Discord answers 50006 otherwise)."""
    check_message(body, files, size=size)
    body = body or {}
    if not (
        _text(body.get("content"))
        or body.get("embeds")
        or body.get("components")
        or files
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise FakeError(400, 50006, "Cannot send an empty message")


def check_thread_name(name: Any) -> None:
    """Channel resource, "Start Thread": a thread name is 1-100 characters."""
    if not _text(name):
        raise _invalid("name", "This field is required")
    _check_length("name", name, THREAD_NAME_LIMIT)
