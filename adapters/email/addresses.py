"""Address headers read from the address, never from the display name.

The raw header is split into (display name, address) pairs *before* RFC 2047
encoded words are decoded (RFC 2047 §5: an encoded word may only stand in a
phrase, never in an address), so a name carrying an encoded CRLF and ``Bcc: …``
stays a name. Names are then decoded and cleaned for display.
"""

from __future__ import annotations

import re
from email.message import Message
from email.utils import getaddresses

from adapters.email.decode import decoded_words, unsurrogate

__all__ = ["address_list", "header_addresses", "is_address"]

_ADDRESS = re.compile(r"^[^@\s<>\"(),;:\[\]\\]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$")
_FOLD = re.compile(r"\r?\n[ \t]")


def is_address(value: str) -> bool:
    """True for a plain ``local@domain`` address (no spaces, brackets or line breaks)."""
    return bool(_ADDRESS.match(value))


def _raw_values(msg: Message, name: str) -> list[str]:
    return [_FOLD.sub(" ", unsurrogate(str(v))) for k, v in msg.raw_items() if k.lower() == name.lower()]


def header_addresses(msg: Message, name: str) -> list[tuple[str | None, str]]:
    """The valid (display name or None, lower-cased address) pairs of every ``name`` header, in order."""
    pairs: list[tuple[str | None, str]] = []
    for display, address in getaddresses(_raw_values(msg, name)):
        address = address.strip().lower()
        if is_address(address):
            pairs.append((decoded_words(display) or None if display else None, address))
    return pairs


def address_list(msg: Message, name: str) -> str:
    """The addresses of the ``name`` headers, comma-separated, duplicates dropped ("" when none)."""
    return ", ".join(dict.fromkeys(address for _, address in header_addresses(msg, name)))
