"""Telling a redelivered message from a different one that reuses its external id (an email Message-ID).

A true duplicate (the same mail read twice, or delivered to two mailboxes) has the same sender
and the same text; a sender that reuses a Message-ID for a new mail, or a broken mailer that
gives every mail the same one, does not. Each stored inbound message records the fingerprint
of its sender and text (``meta["content_sha"]``); a message whose external id is stored with
another fingerprint is stored as its own message under ``reused_external_id`` and marked
(``meta["reuses_external_id"]``). Messages stored before fingerprints existed have none:
a repeat of their external id counts as a duplicate, as it always did.
"""

from __future__ import annotations

import hashlib

from bot.ports.inbound import InboundMessage

__all__ = ["FINGERPRINT_KEY", "REUSED_KEY", "content_fingerprint", "reused_external_id"]

FINGERPRINT_KEY = "content_sha"
REUSED_KEY = "reuses_external_id"
_REUSED_SUFFIX_CHARS = 16


def content_fingerprint(msg: InboundMessage, identity: tuple[str, str]) -> str:
    """SHA-256 (hex) of the sender's identity and the message's full text, whitespace-normalised.

    The full text (``original_text``, before quotes and signatures are cut) is what the customer
    wrote; headers that differ between two deliveries of one mail (Received, Delivered-To) are
    not part of it.
    """
    text = " ".join((msg.original_text or msg.text).split())
    digest = hashlib.sha256()
    for part in (*identity, text):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def reused_external_id(external_id: str, fingerprint: str) -> str:
    """The external id a different message reusing ``external_id`` is stored under."""
    return f"{external_id}#{fingerprint[:_REUSED_SUFFIX_CHARS]}"
