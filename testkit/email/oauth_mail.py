"""Test mail appended to a Dovecot that signs in through the identity-provider stand-in (XOAUTH2)."""

from __future__ import annotations

import asyncio

from imapclient import IMAPClient

from testkit.email.dovecot import Dovecot
from testkit.email.idp_standin import IdentityProviderStandIn
from testkit.email.oauth_servers import TEST_ACCOUNT as USER
from testkit.email.sample_mail import make_mail

__all__ = ["append_mail"]


async def append_mail(server: Dovecot, idp: IdentityProviderStandIn, *numbers: int) -> None:
    """APPEND test mails, signed in with a token the stand-in issued (in a thread: Dovecot asks the
    stand-in, which runs on this event loop)."""
    token = idp._issue(USER, "test", "imap", refresh=False)["access_token"]

    def append() -> None:
        client = IMAPClient(server.host, port=server.port, ssl=False, timeout=10)
        client.oauth2_login(USER, token)
        for n in numbers:
            client.append("INBOX", make_mail(n))
        client.logout()

    await asyncio.to_thread(append)
