"""Repair broken multipart structure in place, so the readable text inside is found.

Real mail breaks in three ways the parser cannot fix on its own: a multipart header
without a ``boundary`` (or with one the body never uses), multipart parts in a body
that lost its multipart header, and an empty multipart part (the 2-byte
``multipart/alternative`` some clients attach). Delimiter lines follow RFC 2046 §5.1.1
(``--`` + 1-70 boundary characters, then a part's header lines).
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import BytesParser

__all__ = ["MISSING_BOUNDARY", "PARTS_WITHOUT_HEADER", "repair_structure"]

MISSING_BOUNDARY = "missing multipart boundary"
"""The problem named when a multipart's boundary is absent or not the one its parts use."""

PARTS_WITHOUT_HEADER = "multipart parts without a multipart header"
"""The problem named when a plain body turns out to hold MIME parts."""

_BCHARS = r"0-9A-Za-z'()+_,./:=?\-"
_DELIMITER = re.compile(
    rf"^--([{_BCHARS}][{_BCHARS} ]{{0,68}}[{_BCHARS}]|[{_BCHARS}])[ \t]*\r?\n(?=Content-[A-Za-z-]+:)",
    re.MULTILINE | re.IGNORECASE,
)
_PARSER = BytesParser(policy=policy.default)
_MAX_DEPTH = 20


def _found_boundary(body: str, *, at_start: bool) -> str | None:
    """The boundary of the first delimiter line followed by part headers (the body's first line when
    ``at_start``), if it delimits at least two places."""
    match = _DELIMITER.match(body.lstrip("\r\n")) if at_start else _DELIMITER.search(body)
    if match is None:
        return None
    boundary = match.group(1)
    return boundary if body.count(f"--{boundary}") >= 2 else None


def _reparse(part: Message, subtype: str, boundary: str, body: str) -> None:
    """Give ``part`` the parts ``body`` holds under ``boundary``."""
    head = f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
    rebuilt = _PARSER.parsebytes(head + body.encode("utf-8", "surrogateescape"))
    del part["Content-Type"]
    del part["Content-Transfer-Encoding"]
    part["Content-Type"] = f'multipart/{subtype}; boundary="{boundary}"'
    part.set_payload(rebuilt.get_payload())


def _as_plain_text(part: Message) -> None:
    """A multipart without findable parts: its body is best read as text."""
    del part["Content-Type"]
    part["Content-Type"] = "text/plain"


def _repair(part: Message, problems: list[str], depth: int) -> None:
    if depth > _MAX_DEPTH:
        return
    payload = part.get_payload()
    if part.get_content_maintype() == "multipart":
        if isinstance(payload, list):
            for sub in payload:
                if isinstance(sub, Message):
                    _repair(sub, problems, depth + 1)
            return
        body = payload if isinstance(payload, str) else ""
        if not body.strip():
            part.set_payload([])  # nothing inside: no part, no attachment
            return
        problems.append(MISSING_BOUNDARY)
        boundary = _found_boundary(body, at_start=False)
        if boundary is None:
            _as_plain_text(part)
            return
        _reparse(part, part.get_content_subtype(), boundary, body)
        _repair(part, problems, depth + 1)
    elif depth == 0 and part.get_content_type() == "text/plain" and isinstance(payload, str):
        boundary = _found_boundary(payload, at_start=True)
        if boundary is not None:
            problems.append(PARTS_WITHOUT_HEADER)
            _reparse(part, "mixed", boundary, payload.lstrip("\r\n"))
            _repair(part, problems, depth + 1)


def repair_structure(msg: Message, problems: list[str]) -> None:
    """Repair ``msg``'s multipart structure in place; append each problem found to ``problems``."""
    _repair(msg, problems, 0)
