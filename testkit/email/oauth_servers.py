"""Mail servers that accept OAuth2 tokens: Dovecot with its oauth2 passdb, and an aiosmtpd XOAUTH2 handler.

Dovecot (2.3) asks the stand-in identity provider (``testkit/email/idp_standin.py``) about each
token by RFC 7662 introspection (``introspection_mode = post``), as documented at
https://doc.dovecot.org/2.3/configuration_manual/authentication/oauth2/ — so IMAP XOAUTH2 and
OAUTHBEARER are checked by the real server.

The SMTP handler follows Google's XOAUTH2 description
(https://developers.google.com/gmail/imap/xoauth2-protocol): a refused token gets a 334
challenge with a base64 JSON error, the client's empty answer, then ``535 5.7.8``; OAUTHBEARER
follows RFC 7628 §3.2.3 (the client answers the error challenge with ``%x01``).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, AuthResult

from testkit.email.dovecot import Dovecot
from testkit.email.idp_standin import IdentityProviderStandIn
from testkit.email.smtp_sink import SmtpSink

TEST_ACCOUNT = "support@example.com"
"""The mailbox the OAuth tests sign in as."""
TEST_SECRET_KEY = "k" * 43 + "="
"""A Fernet key (32 url-safe base64 bytes) for THREADLINE_SECRET_KEY in tests."""

_OAUTH2_EXT = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""


def dovecot_oauth_auth(idp: IdentityProviderStandIn) -> str:
    """The ``auth`` section for ``start_dovecot``: XOAUTH2 and OAUTHBEARER against the stand-in."""
    directory = Path(tempfile.mkdtemp(prefix="tl-dovecot-oauth-"))
    directory.chmod(0o755)
    ext = directory / "dovecot-oauth2.conf.ext"
    ext.write_text(_OAUTH2_EXT.format(url=idp.introspection_url))
    ext.chmod(0o644)
    return f"""\
auth_mechanisms = xoauth2 oauthbearer
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {ext}
}}
"""


def deliver_to_maildir(server: Dovecot, user: str, *mails: bytes) -> None:
    """Deliver ``mails`` into ``user``'s maildir directly (tmp/ then new/, as maildir delivery does),
    for mail that arrives while the server is down and is found at the next SELECT."""
    root = server.directory / "mail" / user
    for sub in ("tmp", "new", "cur"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for number, mail in enumerate(mails):
        name = f"{time.time_ns()}.M{number}P{os.getpid()}.threadline-test"
        (root / "tmp" / name).write_bytes(mail)
        (root / "tmp" / name).rename(root / "new" / name)
    if os.geteuid() == 0:
        for path in [root, *root.rglob("*")]:
            shutil.chown(path, "nobody", "nogroup")


class OAuthSink(SmtpSink):
    """An SMTP sink that signs clients in with tokens the stand-in issued for that very user."""

    def __init__(self, idp: IdentityProviderStandIn) -> None:
        super().__init__()
        self.idp = idp
        self.logins: list[tuple[str, str]] = []  # (mechanism, user) of every accepted sign-in
        self.refused_logins = 0

    def _valid(self, user: str, token: str) -> bool:
        found = self.idp.access_tokens.get(token)
        return (
            found is not None and not found.revoked and found.expires_at > time.time() and found.user == user
        )

    async def _refuse(self, server: SMTP, answer_expected: bytes) -> AuthResult:
        self.refused_logins += 1
        error = {"status": "401", "schemes": "Bearer", "scope": "https://mail.google.com/"}
        answer = await server.challenge_auth(
            base64.b64encode(json.dumps(error).encode()).decode(), encode_to_b64=False
        )
        if answer not in (answer_expected, b"") and answer is not None:
            return AuthResult(
                success=False, handled=False, message="501 5.5.2 bad answer to the error challenge"
            )
        return AuthResult(
            success=False, handled=False, message="535 5.7.8 Username and Password not accepted"
        )

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """``AUTH XOAUTH2 base64(user=U^Aauth=Bearer T^A^A)``."""
        try:
            fields = dict(
                part.split("=", 1) for part in base64.b64decode(args[1]).decode().split("\x01") if part
            )
            user, token = fields["user"], fields["auth"].removeprefix("Bearer ")
        except (IndexError, ValueError, KeyError):
            return AuthResult(success=False, handled=False, message="501 5.5.2 cannot decode the response")
        if not self._valid(user, token):
            return await self._refuse(server, b"")
        self.logins.append(("XOAUTH2", user))
        return AuthResult(success=True)

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        """``AUTH OAUTHBEARER base64(n,a=U,^Aauth=Bearer T^A^A)`` (RFC 7628); hide it with
        ``auth_exclude_mechanism=["OAUTHBEARER"]`` for a server that offers only XOAUTH2."""
        try:
            gs2, *rest = base64.b64decode(args[1]).decode().split("\x01")
            user = gs2.split(",")[1].removeprefix("a=").replace("=2C", ",").replace("=3D", "=")
            token = next(p for p in rest if p.startswith("auth=")).removeprefix("auth=Bearer ")
        except (IndexError, ValueError, StopIteration):
            return AuthResult(success=False, handled=False, message="501 5.5.2 cannot decode the response")
        if not self._valid(user, token):
            return await self._refuse(server, b"\x01")
        self.logins.append(("OAUTHBEARER", user))
        return AuthResult(success=True)
