"""Talk to the identity providers: renew a mailbox's access token (blocking HTTP; run it in a thread).

- Microsoft (Entra ID) with ``msal``: delegated tokens are renewed with the stored refresh
  token (``acquire_token_by_refresh_token``; Microsoft rotates refresh tokens, the new one is
  returned); app-only tokens come from client credentials (``acquire_token_for_client``).
- Google with ``google-auth``: user credentials are refreshed at the token endpoint; a
  service account signs a JWT as the mailbox user (domain-wide delegation).
- Generic: the client-credentials grant of RFC 6749 §4.4 at the configured token endpoint.

Every refusal is classified: ``SignInExpired`` when a person must sign in again (the refresh
token is revoked or expired: ``invalid_grant``), ``CredentialsRefused`` when the app's own
credentials are refused (unattended flows), ``TokenServiceError`` for anything worth retrying.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import google.auth.exceptions
import google.auth.transport.requests
import google.oauth2.credentials
import google.oauth2.service_account
import msal
import requests

from adapters.email.oauth_settings import OAuthSettings

__all__ = [
    "CredentialsRefused",
    "Grant",
    "IdentityProvider",
    "SignInExpired",
    "TokenServiceError",
    "msal_application",
]

_MICROSOFT_HOSTS = ("login.microsoftonline.com", "login.microsoftonline.us", "login.chinacloudapi.cn")


@dataclass(frozen=True)
class Grant:
    """What the identity provider handed out: an access token, its expiry, maybe a new refresh token."""

    access_token: str
    expires_at: datetime
    refresh_token: str | None = None
    account: str | None = None


class SignInExpired(Exception):
    """The stored sign-in is no longer accepted (revoked, expired, password changed): sign in again."""


class CredentialsRefused(Exception):
    """The app's own credentials (secret, key, permissions, delegation) were refused."""


class TokenServiceError(Exception):
    """The identity provider could not be reached or answered with a temporary error."""


def _expiry(expires_in: Any, now: datetime) -> datetime:
    return now + timedelta(seconds=int(expires_in or 3600))


def msal_application(oauth: OAuthSettings, timeout: float) -> msal.ClientApplication:
    """The msal application of a Microsoft mailbox (public for device code, confidential for app-only).

    Instance discovery asks Microsoft whether the authority host is one of its clouds; for any
    other host (a sovereign cloud given by URL, a test stand-in) it is turned off.
    """
    known = urlparse(oauth.authority_url).hostname in _MICROSOFT_HOSTS
    common: dict[str, Any] = {
        "authority": oauth.microsoft_authority(),
        "timeout": timeout,
        "instance_discovery": None if known else False,
    }
    if oauth.flow == "client_credentials":
        return msal.ConfidentialClientApplication(
            oauth.client_id, client_credential=oauth.client_secret, **common
        )
    return msal.PublicClientApplication(oauth.client_id, **common)


def _msal_result(result: dict[str, Any], now: datetime, *, unattended: bool) -> Grant:
    if "access_token" in result:
        claims = result.get("id_token_claims") or {}
        return Grant(
            str(result["access_token"]),
            _expiry(result.get("expires_in"), now),
            result.get("refresh_token"),
            claims.get("preferred_username"),
        )
    error = str(result.get("error") or "unknown_error")
    text = f"{error}: {' '.join(str(result.get('error_description') or '').split())[:200]}"
    if error in ("invalid_client", "unauthorized_client", "invalid_scope", "invalid_request"):
        raise CredentialsRefused(text)
    if error in ("invalid_grant", "interaction_required", "consent_required"):
        raise (CredentialsRefused if unattended else SignInExpired)(text)
    raise TokenServiceError(text)


class IdentityProvider:
    """Renews access tokens for one mailbox (``account``) with its ``oauth`` settings. Thread-safe."""

    def __init__(self, oauth: OAuthSettings, account: str, *, timeout: float = 30.0) -> None:
        self.oauth, self.account, self.timeout = oauth, account, timeout
        self._lock = threading.Lock()
        self._msal: msal.ClientApplication | None = None

    def renew(self, refresh_token: str | None, now: datetime | None = None) -> Grant:
        """A fresh access token: from ``refresh_token`` (delegated flows) or the app's credentials."""
        now = now or datetime.now(UTC)
        with self._lock:
            try:
                if self.oauth.provider == "microsoft":
                    return self._microsoft(refresh_token, now)
                if self.oauth.provider == "google":
                    return self._google(refresh_token, now)
                return self._generic(now)
            except requests.RequestException as exc:
                raise TokenServiceError(f"identity provider unreachable: {type(exc).__name__}") from exc
            except google.auth.exceptions.TransportError as exc:
                raise TokenServiceError(f"identity provider unreachable: {exc}") from exc

    def _microsoft(self, refresh_token: str | None, now: datetime) -> Grant:
        if self._msal is None:
            try:
                self._msal = msal_application(self.oauth, self.timeout)
            except ValueError as exc:  # tenant discovery refused: an unknown tenant
                raise CredentialsRefused(f"tenant {self.oauth.tenant!r}: {exc}") from exc
        scopes = self.oauth.requested_scopes()
        if self.oauth.flow == "client_credentials":
            assert isinstance(self._msal, msal.ConfidentialClientApplication)
            return _msal_result(self._msal.acquire_token_for_client(scopes), now, unattended=True)
        if not refresh_token:
            raise SignInExpired("no refresh token stored")
        result = self._msal.acquire_token_by_refresh_token(refresh_token, scopes)
        return _msal_result(result, now, unattended=False)

    def _google(self, refresh_token: str | None, now: datetime) -> Grant:
        oauth = self.oauth
        credentials: google.oauth2.credentials.Credentials | google.oauth2.service_account.Credentials
        if oauth.flow == "service_account":
            try:
                credentials = google.oauth2.service_account.Credentials.from_service_account_file(
                    oauth.service_account_file or "", scopes=oauth.requested_scopes(), subject=self.account
                )
            except (OSError, ValueError) as exc:
                raise CredentialsRefused(f"service_account_file cannot be used: {exc}") from exc
        else:
            if not refresh_token:
                raise SignInExpired("no refresh token stored")
            credentials = google.oauth2.credentials.Credentials(
                None,
                refresh_token=refresh_token,
                token_uri=oauth.google_token_url(),
                client_id=oauth.client_id,
                client_secret=oauth.client_secret,
                scopes=oauth.requested_scopes(),
            )
        session = requests.Session()
        try:
            credentials.refresh(google.auth.transport.requests.Request(session))
        except google.auth.exceptions.RefreshError as exc:
            text = " ".join(str(exc.args[0] if exc.args else exc).split())[:200]
            if exc.retryable:
                raise TokenServiceError(text) from exc
            if oauth.flow == "service_account" or not text.startswith("invalid_grant"):
                raise CredentialsRefused(text) from exc
            raise SignInExpired(text) from exc
        finally:
            session.close()
        expiry = credentials.expiry
        expires_at = expiry.replace(tzinfo=UTC) if expiry is not None else _expiry(None, now)
        rotated = getattr(credentials, "refresh_token", None)
        return Grant(str(credentials.token), expires_at, rotated if rotated != refresh_token else None)

    def _generic(self, now: datetime) -> Grant:
        oauth = self.oauth
        response = requests.post(
            oauth.token_url or "",
            data={"grant_type": "client_credentials", "scope": " ".join(oauth.requested_scopes())},
            auth=(oauth.client_id or "", oauth.client_secret or ""),  # RFC 6749 §2.3.1: HTTP Basic
            timeout=self.timeout,
        )
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code == 200 and body.get("access_token"):
            return Grant(str(body["access_token"]), _expiry(body.get("expires_in"), now))
        text = f"HTTP {response.status_code} {body.get('error', '')}: {body.get('error_description', '')}"
        if 400 <= response.status_code < 500:
            raise CredentialsRefused(" ".join(text.split())[:200])
        raise TokenServiceError(" ".join(text.split())[:200])
