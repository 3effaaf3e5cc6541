"""A local identity provider on loopback, speaking Microsoft's and Google's documented token shapes.

Served with aiohttp: HTTPS (a throwaway self-signed certificate for 127.0.0.1, trusted
through ``REQUESTS_CA_BUNDLE`` as the ``requests`` library does) for the clients
(msal, google-auth, google-auth-oauthlib), and plain HTTP for Dovecot's token introspection.

What it promises, from the providers' public documentation:

- Microsoft identity platform, https://learn.microsoft.com/en-us/entra/identity-platform/
  (v2-oauth2-device-code, v2-oauth2-auth-code-flow "Refresh the access token",
  v2-oauth2-client-creds-grant-flow, reference-error-codes): OpenID configuration at
  ``/{tenant}/v2.0/.well-known/openid-configuration``; device codes at
  ``/{tenant}/oauth2/v2.0/devicecode`` (scope https://outlook.office.com/IMAP.AccessAsUser.All, from
  "Authenticate an IMAP, POP or SMTP connection using OAuth"); the token endpoint answers
  ``authorization_pending`` until the user approved, rotates refresh tokens, refuses a revoked one
  with ``invalid_grant`` (AADSTS50173), and issues app-only tokens only for the ``.default`` scope
  with the secret.
- Google, https://developers.google.com/identity/protocols/oauth2/native-app (loopback redirect,
  PKCE S256, ``access_type=offline`` for a refresh token) and .../oauth2/service-account (a JWT
  signed with the service account's key, ``sub`` = the user, ``aud`` always Google's token URL); a
  revoked refresh token gets ``invalid_grant`` "Token has been expired or revoked.".
- RFC 7662 token introspection for Dovecot: ``{"active": true, "username": ...}``.

Stricter than the services where unclear: refresh tokens are single-use after rotation and
access tokens stop working the moment they expire.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import ssl
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus, urlencode

import jwt
from aiohttp import web

from testkit.email.keys import self_signed
from testkit.workers import free_port

MS_SCOPE_IMAP = "https://outlook.office.com/IMAP.AccessAsUser.All"
MS_APP_SCOPE = "https://outlook.office365.com/.default"
GOOGLE_SCOPE = "https://mail.google.com/"
GRANT_DEVICE = "urn:ietf:params:oauth:grant-type:device_code"
GRANT_JWT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_JWT_AUDIENCE = "https://oauth2.googleapis.com/token"  # "always", says Google's service-account doc


def _client_credentials(request: web.Request, form: Any) -> tuple[str, str]:
    """The client id and secret, from HTTP Basic (RFC 6749 §2.3.1) or the form body."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        return unquote_plus(client_id), unquote_plus(secret)
    return str(form.get("client_id", "")), str(form.get("client_secret", ""))


@dataclass
class Token:
    """An issued token: whose, for which client and scope, until when (epoch seconds)."""

    user: str
    client_id: str
    scope: str
    expires_at: float = 0.0
    revoked: bool = False


@dataclass
class IdentityProviderStandIn:
    """The stand-in's state; tests approve device codes, revoke tokens and read the request counts."""

    users: set[str] = field(default_factory=set)
    clients: dict[str, str] = field(default_factory=dict)  # client id -> secret ("" for public clients)
    app_mailboxes: dict[str, str] = field(default_factory=dict)  # client id -> mailbox granted app-only
    service_accounts: dict[str, Any] = field(default_factory=dict)  # client_email -> public key
    access_lifetime: int = 3600
    device_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    auth_codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    access_tokens: dict[str, Token] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)
    base: str = ""
    introspection_url: str = ""
    ca_file: str = ""
    introspection_down: bool = False

    # --- what the tests do -----------------------------------------------------------------
    def approve(self, user_code: str, user: str) -> None:
        """The user typed ``user_code`` at the verification page and signed in as ``user``."""
        for flow in self.device_codes.values():
            if flow["user_code"] == user_code:
                flow["user"] = user
                return
        raise AssertionError(f"no device code {user_code}")

    def revoke_all(self, user: str) -> None:
        """The admin revoked the user's sessions: every refresh and access token of ``user`` stops working."""
        for token in [*self.refresh_tokens.values(), *self.access_tokens.values()]:
            if token.user == user:
                token.revoked = True

    def expire_access_tokens(self) -> None:
        """Every access token issued so far has expired."""
        for token in self.access_tokens.values():
            token.expires_at = 0

    def count(self, key: str) -> int:
        """How many requests of a kind were made (``token:refresh_token``, ``introspect``, ...)."""
        return self.requests.get(key, 0)

    # --- helpers ---------------------------------------------------------------------------
    def _seen(self, key: str) -> None:
        self.requests[key] = self.requests.get(key, 0) + 1

    def _issue(self, user: str, client_id: str, scope: str, *, refresh: bool) -> dict[str, Any]:
        access = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[access] = Token(user, client_id, scope, time.time() + self.access_lifetime)
        body: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": scope,
            "expires_in": self.access_lifetime,
            "access_token": access,
        }
        if refresh:
            rt = "rt-" + secrets.token_urlsafe(24)
            self.refresh_tokens[rt] = Token(user, client_id, scope)
            body["refresh_token"] = rt
        return body

    @staticmethod
    def _error(error: str, description: str, status: int = 400) -> web.Response:
        return web.json_response({"error": error, "error_description": description}, status=status)

    # --- Microsoft -------------------------------------------------------------------------
    async def ms_openid(self, request: web.Request) -> web.Response:
        """Microsoft's OpenID configuration of a tenant (msal's tenant discovery)."""
        tenant = request.match_info["tenant"]
        root = f"{self.base}/{tenant}"
        return web.json_response(
            {
                "issuer": f"{root}/v2.0",
                "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
                "token_endpoint": f"{root}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{root}/oauth2/v2.0/devicecode",
            }
        )

    async def ms_devicecode(self, request: web.Request) -> web.Response:
        """Start a device-code sign-in: the user code, the page, the polling interval."""
        self._seen("devicecode")
        form = await request.post()
        client_id = str(form.get("client_id", ""))
        if client_id not in self.clients:
            return self._error(
                "unauthorized_client",
                f"AADSTS700016: Application with identifier '{client_id}' was not found",
            )
        if MS_SCOPE_IMAP not in str(form.get("scope", "")).split():
            return self._error(
                "invalid_scope",
                "AADSTS70011: The provided value for the input parameter 'scope' is not valid.",
            )
        code = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(9))
        device = secrets.token_urlsafe(32)
        self.device_codes[device] = {
            "user_code": code,
            "client_id": client_id,
            "scope": form.get("scope", ""),
            "user": None,
        }
        uri = f"{self.base}/devicelogin"
        return web.json_response(
            {
                "user_code": code,
                "device_code": device,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": 1,
                "message": f"To sign in, use a web browser to open the page {uri} and enter the code {code} "
                "to authenticate.",
            }
        )

    async def ms_token(self, request: web.Request) -> web.Response:
        """Microsoft's token endpoint: device code, refresh token and client credentials grants."""
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        self._seen(f"token:{grant}")
        client_id = str(form.get("client_id", ""))
        if client_id not in self.clients:
            return self._error("unauthorized_client", "AADSTS700016: application not found in the directory")
        if grant == GRANT_DEVICE:
            flow = self.device_codes.get(str(form.get("device_code", "")))
            if flow is None:
                return self._error(
                    "expired_token",
                    "AADSTS70020: The provided value for the input parameter 'device_code' is not valid.",
                )
            if flow["user"] is None:
                return self._error(
                    "authorization_pending",
                    "AADSTS70016: OAuth 2.0 device flow error. Authorization is pending.",
                )
            del self.device_codes[str(form["device_code"])]
            return web.json_response(self._issue(flow["user"], client_id, str(flow["scope"]), refresh=True))
        if grant == "refresh_token":
            old = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if old is None or old.revoked or old.client_id != client_id:
                return self._error(
                    "invalid_grant",
                    "AADSTS50173: The provided grant has expired due to it being revoked, a fresh auth token "
                    "is needed. The user might have changed or reset their password.",
                )
            old.revoked = True  # rotated: the old refresh token is spent (stricter than Entra ID)
            return web.json_response(
                self._issue(old.user, client_id, str(form.get("scope", "")), refresh=True)
            )
        if grant == "client_credentials":
            if not self.clients[client_id] or form.get("client_secret") != self.clients[client_id]:
                return self._error("invalid_client", "AADSTS7000215: Invalid client secret provided.", 401)
            if form.get("scope") != MS_APP_SCOPE:
                return self._error(
                    "invalid_scope",
                    "AADSTS1002012: The provided value for scope is not valid. Client credential flows must "
                    "have a scope value with /.default suffixed to the resource identifier.",
                )
            mailbox = self.app_mailboxes.get(client_id, "")
            return web.json_response(self._issue(mailbox, client_id, MS_APP_SCOPE, refresh=False))
        return self._error("unsupported_grant_type", f"AADSTS70003: grant type {grant} is not supported")

    # --- Google ----------------------------------------------------------------------------
    async def google_auth(self, request: web.Request) -> web.Response:
        """The consent screen: the user (``login_hint``) approves at once; back to the loopback redirect."""
        self._seen("authorize")
        q = request.query
        if q.get("client_id") not in self.clients or q.get("response_type") != "code":
            return web.Response(status=400, text="Error 400: invalid_request")
        redirect = q.get("redirect_uri", "")
        if not redirect.startswith(("http://127.0.0.1:", "http://localhost:", "http://[::1]:")):
            return web.Response(status=400, text="Error 400: redirect_uri_mismatch")
        if q.get("code_challenge_method") != "S256" or not q.get("code_challenge"):
            return web.Response(status=400, text="Error 400: invalid_request (PKCE required)")
        code = "4/" + secrets.token_urlsafe(24)
        self.auth_codes[code] = {
            "client_id": q["client_id"],
            "redirect_uri": redirect,
            "challenge": q["code_challenge"],
            "scope": q.get("scope", ""),
            "user": q.get("login_hint", ""),
            "offline": q.get("access_type") == "offline",
        }
        answer = {"state": q.get("state", ""), "code": code, "scope": q.get("scope", "")}
        target = f"{redirect}?{urlencode(answer)}"
        raise web.HTTPFound(target)

    async def google_token(self, request: web.Request) -> web.Response:
        """Google's token endpoint: authorization code (PKCE), refresh token and service-account JWT."""
        form = await request.post()
        grant = str(form.get("grant_type", ""))
        self._seen(f"token:{grant}")
        if grant == GRANT_JWT:
            return self._google_jwt(str(form.get("assertion", "")))
        client_id, secret = _client_credentials(request, form)
        if client_id not in self.clients or secret != self.clients[client_id]:
            return self._error("invalid_client", "The OAuth client was not found.", 401)
        if grant == "authorization_code":
            found = self.auth_codes.pop(str(form.get("code", "")), None)
            if found is None or found["redirect_uri"] != form.get("redirect_uri"):
                return self._error("invalid_grant", "Malformed auth code.")
            verifier = str(form.get("code_verifier", ""))
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if digest != found["challenge"]:
                return self._error("invalid_grant", "Invalid code verifier.")
            return web.json_response(
                self._issue(found["user"], client_id, found["scope"], refresh=found["offline"])
            )
        if grant == "refresh_token":
            token = self.refresh_tokens.get(str(form.get("refresh_token", "")))
            if token is None or token.revoked or token.client_id != client_id:
                return self._error("invalid_grant", "Token has been expired or revoked.")
            return web.json_response(self._issue(token.user, client_id, token.scope, refresh=False))
        return self._error("unsupported_grant_type", "Invalid grant_type: " + grant)

    def _google_jwt(self, assertion: str) -> web.Response:
        try:
            issuer = jwt.decode(assertion, options={"verify_signature": False})["iss"]
            claims = jwt.decode(
                assertion, self.service_accounts[issuer], algorithms=["RS256"], audience=GOOGLE_JWT_AUDIENCE
            )
        except (jwt.PyJWTError, KeyError):
            return self._error("invalid_grant", "Invalid JWT Signature.")
        user = claims.get("sub", "")
        if user not in self.users:
            return self._error(
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client not "
                "authorized for any of the scopes requested.",
            )
        return web.json_response(self._issue(user, issuer, str(claims.get("scope", "")), refresh=False))

    # --- a generic OAuth2 server (RFC 6749 §4.4, client authentication by HTTP Basic, §2.3.1) ------
    async def generic_token(self, request: web.Request) -> web.Response:
        """A plain OAuth2 token endpoint: client credentials, the client signed in by HTTP Basic."""
        form = await request.post()
        self._seen(f"generic:{form.get('grant_type', '')}")
        client_id, secret = _client_credentials(request, form)
        if not request.headers.get("Authorization", "").startswith("Basic "):
            return self._error("invalid_client", "client authentication by HTTP Basic is required", 401)
        if client_id not in self.clients or secret != self.clients[client_id]:
            return self._error("invalid_client", "unknown client or wrong secret", 401)
        if form.get("grant_type") != "client_credentials":
            return self._error("unsupported_grant_type", "only client_credentials")
        mailbox = self.app_mailboxes.get(client_id, "")
        return web.json_response(self._issue(mailbox, client_id, str(form.get("scope", "")), refresh=False))

    # --- introspection (RFC 7662), for Dovecot -----------------------------------------------
    async def introspect(self, request: web.Request) -> web.Response:
        """RFC 7662 introspection for Dovecot: is the token active, and whose is it."""
        self._seen("introspect")
        if self.introspection_down:
            return web.json_response({"error": "temporarily_unavailable"}, status=503)
        form = await request.post()
        token = self.access_tokens.get(str(form.get("token", "")))
        if token is None or token.revoked or token.expires_at < time.time():
            return web.json_response({"active": False})
        return web.json_response(
            {"active": True, "username": token.user, "exp": int(token.expires_at), "scope": token.scope}
        )

    def app(self) -> web.Application:
        """The aiohttp application with every endpoint."""
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self.ms_openid)
        app.router.add_post("/{tenant}/oauth2/v2.0/devicecode", self.ms_devicecode)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self.ms_token)
        app.router.add_get("/o/oauth2/auth", self.google_auth)
        app.router.add_post("/token", self.google_token)
        app.router.add_post("/generic/token", self.generic_token)
        app.router.add_post("/introspect", self.introspect)
        return app


async def start_idp(directory: Path | None = None) -> tuple[IdentityProviderStandIn, web.AppRunner]:
    """Start the stand-in: HTTPS on one port (``idp.base``), introspection over HTTP on another."""
    directory = directory or Path(tempfile.mkdtemp(prefix="tl-idp-"))
    cert, key = self_signed(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    idp = IdentityProviderStandIn(ca_file=str(cert))
    runner = web.AppRunner(idp.app())
    await runner.setup()
    https_port, http_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", https_port, ssl_context=context).start()
    await web.TCPSite(runner, "127.0.0.1", http_port).start()
    idp.base = f"https://127.0.0.1:{https_port}"
    idp.introspection_url = f"http://127.0.0.1:{http_port}/introspect"
    return idp, runner
