"""The email channel: IMAP (or a spool folder) in, SMTP (or an outgoing folder) out, MIME parsing.

Public entry points: ``parse_email``, ``is_own_message``, ``compose_reply``,
``SmtpSender``, ``FolderSender``, ``FolderSource``, ``ImapWorker``, and the builders
``build_email_sender`` / ``build_email_sources`` that the email plug (``threadline/email_plug.py``) calls.
"""

from adapters.email.classify import is_own_message
from adapters.email.compose import ReplyComposer, compose_reply
from adapters.email.folder import FolderSender, FolderSource
from adapters.email.imap import ImapWorker
from adapters.email.mime import parse_email
from adapters.email.smtp import SmtpSender
from adapters.email.wiring import build_email_sender, build_email_sources, own_message_id_domains

__all__ = [
    "FolderSender",
    "FolderSource",
    "ImapWorker",
    "ReplyComposer",
    "SmtpSender",
    "build_email_sender",
    "build_email_sources",
    "compose_reply",
    "is_own_message",
    "own_message_id_domains",
    "parse_email",
]
