"""Sign a mailbox in with OAuth2 and keep the sign-in, encrypted (``threadline auth email NAME``).

- Microsoft, device code (msal): prints Microsoft's message with the page and the code, waits
  while the person signs in on any device, stores the refresh token.
- Google, installed app (google-auth-oauthlib): a loopback redirect on this machine; the
  sign-in URL is opened in a browser (or only printed), scope https://mail.google.com/,
  offline access so a refresh token is issued.
- App-only sign-ins (Microsoft client credentials, Google service account) store nothing:
  it checks that a token is issued.

Each ends with a real IMAP sign-in with the new token, so a missing permission shows at once.
Tokens are never printed.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from google_auth_oauthlib.flow import InstalledAppFlow, WSGITimeoutError
from imapclient import IMAPClient
from oauthlib.oauth2 import OAuth2Error

from adapters.email.imap_login import AuthRefused, sign_in
from adapters.email.imap_tools import close_quietly
from adapters.email.oauth_providers import (
    CredentialsRefused,
    Grant,
    IdentityProvider,
    SignInExpired,
    TokenServiceError,
    msal_application,
)
from adapters.email.oauth_settings import SECRET_KEY_ENV
from adapters.email.settings import MailboxSettings
from storage import Store
from storage.migrate import upgrade
from storage.oauth_tokens import TokenVault

__all__ = ["Printer", "sign_in_mailbox"]

Printer = Callable[[str], None]
"""Where the sign-in's messages to the admin go (one line each)."""


async def sign_in_mailbox(
    email_mailboxes: dict[str, MailboxSettings],
    database_url: str,
    name: str,
    *,
    out: Printer,
    open_browser: bool = True,
) -> int:
    """Sign mailbox ``name`` in: 0 when signed in (and IMAP accepted it), 1 when refused, 2 for setup
    errors."""
    box = email_mailboxes.get(name)
    if box is None:
        known = ", ".join(sorted(email_mailboxes)) or "none configured"
        out(f"threadline: no mailbox {name!r} under [channels.email.mailboxes] (mailboxes: {known})")
        return 2
    if box.auth != "oauth2" or box.oauth is None:
        out(
            f'threadline: mailbox {name} signs in with a password; set auth = "oauth2" and an oauth '
            "table first"
        )
        return 2
    oauth = box.oauth
    account = box.username or ""
    try:
        if oauth.unattended:
            grant = await asyncio.to_thread(
                IdentityProvider(oauth, account, timeout=box.timeout_seconds).renew, None
            )
            out(f"mailbox {name}: app-only sign-in works ({oauth.provider}, {oauth.flow}); nothing to store")
        else:
            store = Store(database_url)
            try:
                vault = TokenVault.from_env(store, os.environ, SECRET_KEY_ENV)
            except ValueError as exc:
                out(f"threadline: {exc}")
                await store.close()
                return 2
            try:
                if store.is_sqlite:
                    await upgrade(database_url)
                if oauth.provider == "microsoft":
                    grant = await asyncio.to_thread(_device_code, box, out)
                else:
                    grant = await asyncio.to_thread(_installed_app, box, open_browser)
                if not grant.refresh_token:
                    out(f"mailbox {name}: the identity provider issued no refresh token; nothing was stored")
                    return 1
                await vault.sign_in(
                    name,
                    provider=oauth.provider,
                    account=grant.account or account,
                    refresh_token=grant.refresh_token,
                    access_token=grant.access_token,
                    access_expires_at=grant.expires_at,
                    now=datetime.now(UTC),
                )
            finally:
                await store.close()
            who = f" as {grant.account}" if grant.account and grant.account != account else ""
            out(
                f"mailbox {name}: signed in{who}; the sign-in is stored encrypted. "
                "Threadline uses it from now on."
            )
    except (SignInExpired, CredentialsRefused, TokenServiceError) as exc:
        out(f"mailbox {name}: sign-in failed: {exc}")
        return 1
    return await asyncio.to_thread(_check_imap, name, box, grant.access_token, out)


def _device_code(box: MailboxSettings, out: Printer) -> Grant:
    assert box.oauth is not None
    try:
        app = msal_application(box.oauth, box.timeout_seconds)
    except ValueError as exc:  # the authority's discovery failed: unknown tenant or host
        raise CredentialsRefused(str(exc)) from exc
    flow = app.initiate_device_flow(scopes=box.oauth.requested_scopes())
    if "user_code" not in flow:
        raise CredentialsRefused(f"{flow.get('error', 'error')}: {flow.get('error_description', '')}".strip())
    out(str(flow["message"]))
    out(f"Sign in as {box.username}, or as a user with full access to that mailbox. Waiting…")
    started = datetime.now(UTC)
    result = app.acquire_token_by_device_flow(flow)
    if "access_token" not in result:
        error = result.get("error", "error")
        raise CredentialsRefused(
            f"{error}: {' '.join(str(result.get('error_description', '')).split())[:200]}"
        )
    claims = result.get("id_token_claims") or {}
    return Grant(
        result["access_token"],
        started + timedelta(seconds=int(result.get("expires_in") or 3600)),
        result.get("refresh_token"),
        claims.get("preferred_username"),
    )


def _installed_app(box: MailboxSettings, open_browser: bool) -> Grant:
    oauth = box.oauth
    assert oauth is not None
    client = {
        "installed": {
            "client_id": oauth.client_id,
            "client_secret": oauth.client_secret,
            "auth_uri": oauth.auth_url,
            "token_uri": oauth.google_token_url(),
            "redirect_uris": ["http://localhost"],
        }
    }
    flow = InstalledAppFlow.from_client_config(client, scopes=oauth.requested_scopes())
    try:
        credentials = _run_local_server(flow, box, open_browser)
    except OAuth2Error as exc:
        raise CredentialsRefused(f"{exc.error}: {exc.description}") from exc
    except WSGITimeoutError as exc:
        raise CredentialsRefused("nobody signed in within 15 minutes") from exc
    expiry = credentials.expiry
    expires_at = expiry.replace(tzinfo=UTC) if expiry else datetime.now(UTC) + timedelta(hours=1)
    return Grant(str(credentials.token), expires_at, credentials.refresh_token)


def _run_local_server(flow: InstalledAppFlow, box: MailboxSettings, open_browser: bool) -> Any:
    """Google's loopback redirect: a one-request web server on 127.0.0.1 receives the code."""
    return flow.run_local_server(
        host="localhost",
        bind_addr="127.0.0.1",
        port=0,
        open_browser=open_browser,
        authorization_prompt_message=f"Open this page and sign in as {box.username}:\n{{url}}",
        success_message="Threadline is signed in to the mailbox; you can close this window.",
        timeout_seconds=900,
        access_type="offline",
        prompt="consent",
        login_hint=box.username,
    )


def _check_imap(name: str, box: MailboxSettings, token: str, out: Printer) -> int:
    """Sign in to the IMAP server with the new token; report the server's answer."""
    if box.kind != "imap":
        return 0
    try:
        client = IMAPClient(box.host, port=box.port, ssl=box.security == "tls", timeout=box.timeout_seconds)
    except OSError as exc:
        out(f"mailbox {name}: cannot reach {box.host}:{box.port} to check the sign-in ({exc})")
        return 1
    try:
        if box.security == "starttls":
            client.starttls()
        sign_in(client, box, lambda _renew: token)
    except AuthRefused as exc:
        out(
            f"mailbox {name}: the IMAP server refused the new token ({exc}); check the app's mail permissions"
        )
        return 1
    except (OSError, IMAPClient.Error) as exc:
        out(f"mailbox {name}: the IMAP check failed ({exc})")
        return 1
    finally:
        close_quietly(client)
    out(f"mailbox {name}: IMAP sign-in to {box.host} works")
    return 0
