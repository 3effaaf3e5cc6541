"""Lenient decoding of header values and text parts: 8-bit bytes, RFC 2047, unknown and mislabelled charsets.

Charset labels are resolved the way browsers do (WHATWG Encoding Standard,
https://encoding.spec.whatwg.org/#names-and-labels): ``iso-8859-1``, ``latin1`` and
``us-ascii`` mean windows-1252, so a euro sign sent as byte 0x80 stays a euro sign.
Bytes that are not valid UTF-8 in a part labelled UTF-8 are read as windows-1252,
byte by byte, before any replacement character is used. Header text shown on a
surface is stripped of control characters, terminal escape sequences and bidi
overrides. Every function here records what went wrong in an ``errors`` list
instead of raising.
"""

from __future__ import annotations

import codecs
import re
from email.header import decode_header, make_header
from email.message import Message

__all__ = [
    "clean",
    "decode_bytes",
    "decode_text_part",
    "decoded_words",
    "header_text",
    "raw_header",
    "unsurrogate",
]

# WHATWG labels whose decoder differs from Python's codec of the same name
_WHATWG = {
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "iso_8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "cp819": "cp1252",
    "ibm819": "cp1252",
    "iso-ir-100": "cp1252",
    "csisolatin1": "cp1252",
    "x-cp1252": "cp1252",
    "iso-8859-9": "cp1254",
    "iso8859-9": "cp1254",
    "latin5": "cp1254",
    "l5": "cp1254",
    "iso-8859-11": "cp874",
    "tis-620": "cp874",
    "gb2312": "gbk",
    "x-gbk": "gbk",
    "euc-kr": "cp949",
    "ks_c_5601-1987": "cp949",
    "shift_jis": "cp932",
    "sjis": "cp932",
    "x-sjis": "cp932",
    "big5": "big5hkscs",
}
_WINDOWS_1252 = "cp1252"
_C1 = re.compile(r"[\x80-\x9f]")
_ANSI_ESCAPE = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-_])")
# C0/C1 controls, and the bidi embeddings, overrides, isolates and marks (Unicode UAX #9)
_UNSHOWABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _whatwg_1252(error: UnicodeError) -> tuple[str, int]:
    """Decode error handler: the offending bytes as windows-1252; its five holes map to U+0081 etc."""
    assert isinstance(error, UnicodeDecodeError)
    chunk = error.object[error.start : error.end]
    return "".join(bytes([b]).decode(_WINDOWS_1252, errors="ignore") or chr(b) for b in chunk), error.end


codecs.register_error("threadline-windows-1252", _whatwg_1252)


def decode_bytes(data: bytes, charset: str) -> tuple[str, str | None]:
    """``data`` decoded under the WHATWG meaning of ``charset``, plus a note when a fallback was needed.

    windows-1252 never fails (the WHATWG table fills its holes); invalid UTF-8 bytes are
    read as windows-1252; other invalid bytes become U+FFFD.
    """
    label = charset.strip().lower()
    codec = _WHATWG.get(label, label)
    try:
        codecs.lookup(codec)
    except (LookupError, ValueError):  # ValueError: a label with a NUL in it ("embedded null character")
        text, _ = decode_bytes(data, "utf-8")
        return text, f"unknown charset {label!r}; decoded as utf-8/windows-1252"
    name = codecs.lookup(codec).name
    if name == _WINDOWS_1252:
        return data.decode(_WINDOWS_1252, errors="threadline-windows-1252"), None
    try:
        return data.decode(codec), None
    except UnicodeDecodeError:
        pass
    if name == "utf-8":
        text = data.decode("utf-8", errors="threadline-windows-1252")
        return text, "invalid utf-8 bytes; read as windows-1252"
    return data.decode(codec, errors="replace"), f"invalid {label} bytes; replaced"


def unsurrogate(text: str) -> str:
    """Re-decode 8-bit bytes the parser smuggled in as surrogates: UTF-8, else windows-1252 per byte."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", errors="threadline-windows-1252")


def _c1_as_1252(match: re.Match[str]) -> str:
    """A C1 control in header text is a windows-1252 byte read as Latin-1 (0x80 is the euro sign)."""
    return bytes([ord(match.group())]).decode(_WINDOWS_1252, errors="ignore")


def clean(text: str) -> str:
    """One showable line: 8-bit bytes re-decoded; controls, escapes and bidi overrides dropped; spaces
    collapsed."""
    text = _C1.sub(_c1_as_1252, unsurrogate(text))
    text = _ANSI_ESCAPE.sub("", text.replace("\t", " ").replace("\r", " ").replace("\n", " "))
    return " ".join(_UNSHOWABLE.sub("", text).split())


def raw_header(msg: Message, name: str) -> str | None:
    """A header's raw text (first occurrence), without the policy's parsing."""
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def header_text(msg: Message, name: str, errors: list[str]) -> str | None:
    """A decoded header value; on a policy parsing failure decode RFC 2047 leniently from the raw text."""
    try:
        value = msg.get(name)
        return None if value is None else clean(str(value))
    except Exception as exc:
        errors.append(f"header {name}: {type(exc).__name__}: {exc}")
    raw = raw_header(msg, name)
    if raw is None:
        return None
    return decoded_words(raw)


def decoded_words(raw: str) -> str:
    """RFC 2047 encoded words of a raw header value decoded (leniently), as one clean line."""
    try:
        return clean(str(make_header(decode_header(raw))))
    except Exception:
        return clean(raw)


def decode_text_part(part: Message, errors: list[str]) -> str:
    """A text part's content, tolerating unknown and mislabelled charsets and invalid bytes."""
    try:
        data = part.get_payload(decode=True)
    except Exception as exc:
        errors.append(f"undecodable part {part.get_content_type()}: {exc}")
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        return unsurrogate(payload) if isinstance(payload, str) else ""
    text, note = decode_bytes(data, part.get_content_charset() or "utf-8")
    if note:
        errors.append(f"{note} in {part.get_content_type()}")
    return text
