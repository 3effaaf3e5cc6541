"""The SMTP server of the tests: a real aiosmtpd on a free loopback port that stores every message it
accepts (duplicates kept), or refuses them while ``answer`` says so (an SMTP outage or a 5xx)."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import default as default_policy
from typing import Any, NamedTuple, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from testkit.workers import free_port


class Received(NamedTuple):
    """One message the sink accepted: the envelope's sender and recipients, and the raw DATA."""

    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class SmtpSink:
    """An aiosmtpd handler and its server: ``start()`` listens on ``port`` (options go to aiosmtpd's
    ``Controller``, e.g. an ``authenticator``), ``received`` holds what was accepted in order."""

    def __init__(self, answer: str = "250 OK") -> None:
        self.port = free_port()
        self.answer = answer
        self.received: list[Received] = []
        self.refused = 0
        self._controller: Controller | None = None

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        """Store the message, or answer with ``answer`` (counted in ``refused``) when it is no 250."""
        if not self.answer.startswith("250"):
            self.refused += 1
            return self.answer
        content = envelope.content
        assert isinstance(content, bytes)  # the controller keeps DATA undecoded (decode_data=False)
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 OK"

    @property
    def message_ids(self) -> list[str]:
        """The Message-ID of every accepted message, in order (a message sent twice is there twice)."""
        parser = BytesParser(policy=default_policy)
        return [str(parser.parsebytes(r.content)["Message-ID"]) for r in self.received]

    def toml(self) -> str:
        """Threadline's ``[channels.email.smtp]`` section sending through this sink."""
        return f"""
[channels.email.smtp]
host = "127.0.0.1"
port = {self.port}
security = "none"
"""

    def start(self, **server_options: Any) -> Self:
        """Listen on 127.0.0.1:``port``; ``server_options`` go to aiosmtpd's ``Controller``."""
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **server_options)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None
