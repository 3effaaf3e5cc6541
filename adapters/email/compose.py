"""Build the email that carries an agent's reply to the customer.

The Message-ID is derived from the outbound message's uid (``<tl.{uid}@domain>``), so a
retry re-sends the same id and the customer's client shows one message. Threading
headers come from the conversation's stored Message-IDs; the subject carries the
``[#42]`` token. Every header value is stripped of CR/LF and set through the email
library's header handling, so customer or agent text cannot inject headers.
Reply-all (the default) copies the other addresses of the customer's last mail
(its sender, ``To`` and ``Cc``, given in ``view.extra``) into ``Cc``, minus our own addresses
and the customer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

from adapters.email.addresses import is_address
from bot.clock import Clock, SystemClock
from bot.views import OutboundView

__all__ = [
    "MAX_REFERENCES",
    "ReplyComposer",
    "compose_reply",
    "envelope_recipients",
    "message_id_for",
    "reply_subject",
]

MAX_REFERENCES = 20
"""At most this many ids in References: the first (thread root) and the most recent ones."""

_REF = re.compile(r"^<[^<>\s]+>$")
_RE_PREFIX = re.compile(r"^\s*((re|aw|sv|vs|antw|wg|fwd?)(\[\d+\])?\s*:\s*)+", re.IGNORECASE)
_TOKEN = re.compile(r"\s*\[#\d+\]\s*")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def _one_line(value: str) -> str:
    """Header-safe text: CR, LF and other control characters become spaces; runs of space collapse."""
    return " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", value).split())


def message_id_for(uid: str, domain: str) -> str:
    """The Message-ID of the reply with outbound ``uid``: ``<tl.{uid}@{domain}>``, deterministic."""
    safe_domain = _UNSAFE_ID.sub("", _one_line(domain)) or "threadline.invalid"
    return f"<tl.{_UNSAFE_ID.sub('-', _one_line(uid))}@{safe_domain}>"


def reply_subject(subject: str, number: int) -> str:
    """``Re: <subject> [#number]`` without stacking Re:/Fwd: prefixes or earlier tokens."""
    base = _one_line(subject)
    base = _TOKEN.sub(" ", base).strip()
    base = _RE_PREFIX.sub("", base).strip()
    base = _TOKEN.sub(" ", base).strip()
    return f"Re: {base or '(no subject)'} [#{number}]"


def _references(refs: tuple[str, ...]) -> list[str]:
    clean = [_one_line(ref) for ref in refs]
    clean = [ref for ref in dict.fromkeys(clean) if _REF.match(ref)]
    if len(clean) > MAX_REFERENCES:
        clean = [clean[0], *clean[-(MAX_REFERENCES - 1) :]]
    return clean


def _address(name: str | None, address: str) -> Address:
    addr = address.strip()
    if not is_address(addr):
        raise ValueError(f"invalid email address {_one_line(addr)!r}")
    local, _, domain = addr.rpartition("@")
    return Address(display_name=_one_line(name or ""), username=local, domain=domain)


def _copied(view: OutboundView, own_addresses: Collection[str]) -> list[str]:
    """Everyone else on the customer's last mail (its sender when that was not the customer, its ``To``
    and ``Cc``) minus us and the customer."""
    skip = {a.lower() for a in own_addresses} | {view.inbox_address.lower(), view.to_address.lower()}
    found = [a.strip().lower() for key in ("from", "to", "cc") for a in view.extra.get(key, "").split(",")]
    return [a for a in dict.fromkeys(found) if a and a not in skip and is_address(a)]


def envelope_recipients(email: EmailMessage) -> list[str]:
    """Every address of the mail's ``To`` and ``Cc`` headers, in order: the SMTP envelope recipients."""
    return [address.addr_spec for name in ("To", "Cc") if email[name] for address in email[name].addresses]


def _html_body(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    rendered = "\n".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    return f"<!DOCTYPE html>\n<html><body>\n{rendered}\n</body></html>\n"


def compose_reply(
    view: OutboundView,
    *,
    message_id_domain: str,
    from_format: str,
    inbox_name: str,
    reply_to: str | None = None,
    now: datetime | None = None,
    reply_all: bool = True,
    own_addresses: Collection[str] = (),
) -> EmailMessage:
    """The email for ``view``: From "<agent> via <inbox>", threading headers, text + HTML, attachments.

    With ``reply_all`` the customer's other recipients are copied, except ``own_addresses``
    and the inbox address. Raises ``ValueError`` when the recipient or inbox address is not
    an email address.
    """
    msg = EmailMessage()
    display = (
        from_format.format(agent=view.agent_name, inbox_name=inbox_name) if view.agent_name else inbox_name
    )
    msg["From"] = _address(display, view.inbox_address)
    msg["To"] = _address(view.to_name, view.to_address)
    copied = _copied(view, own_addresses) if reply_all else []
    if copied:
        msg["Cc"] = ", ".join(copied)
    if reply_to:
        msg["Reply-To"] = _address(None, reply_to)
    msg["Subject"] = reply_subject(view.subject, view.conversation_number)
    msg["Date"] = format_datetime(now or datetime.now(UTC))
    msg["Message-ID"] = message_id_for(view.uid, message_id_domain)
    refs = _references(view.thread_refs)
    if refs:
        msg["In-Reply-To"] = refs[-1]
        msg["References"] = " ".join(refs)
    if view.auto_submitted:
        msg["Auto-Submitted"] = "auto-replied"
        msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Threadline-Conversation"] = str(view.conversation_number)
    msg.set_content(view.text or "", subtype="plain", charset="utf-8")
    msg.add_alternative(_html_body(view.text or ""), subtype="html", charset="utf-8")
    for attachment in view.attachments:
        if attachment.data is None:
            continue
        maintype, _, subtype = (attachment.content_type or "").partition("/")
        if not maintype or not subtype:
            maintype, subtype = "application", "octet-stream"
        msg.add_attachment(
            attachment.data,
            maintype=_one_line(maintype),
            subtype=_one_line(subtype),
            filename=_one_line(attachment.filename) or "attachment",
        )
    return msg


@dataclass
class ReplyComposer:
    """``compose_reply`` with the channel's settings bound; shared by the SMTP and folder senders.

    ``message_id_domain`` None means the domain of each view's inbox address;
    ``inbox_names`` maps an inbox key to the display name used in From;
    ``reply_to`` an optional Reply-To address per inbox; ``reply_all`` per inbox whether the
    customer's other recipients are copied (default yes); ``own_addresses`` are never copied.
    """

    message_id_domain: str | None = None
    from_format: str = "{agent} via {inbox_name}"
    inbox_names: Mapping[str, str] = field(default_factory=dict)
    reply_to: Mapping[str, str] = field(default_factory=dict)
    reply_all: Mapping[str, bool] = field(default_factory=dict)
    own_addresses: frozenset[str] = frozenset()
    clock: Clock = field(default_factory=SystemClock)

    def domain_for(self, view: OutboundView) -> str:
        """The Message-ID domain for ``view``."""
        return self.message_id_domain or view.inbox_address.rpartition("@")[2] or "threadline.invalid"

    def __call__(self, view: OutboundView) -> EmailMessage:
        """Compose the email for ``view``."""
        return compose_reply(
            view,
            message_id_domain=self.domain_for(view),
            from_format=self.from_format,
            inbox_name=self.inbox_names.get(view.inbox, view.inbox),
            reply_to=self.reply_to.get(view.inbox),
            now=self.clock.now(),
            reply_all=self.reply_all.get(view.inbox, True),
            own_addresses=self.own_addresses,
        )
