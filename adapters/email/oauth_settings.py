"""Settings of a mailbox's OAuth2 sign-in: the identity provider, the flow, the client and its endpoints.

Client ids and secrets are written as ``${ENV}`` references and arrive resolved. The
endpoints default to the providers' public ones and can point anywhere (a test IdP on
loopback, a sovereign cloud).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "GOOGLE_MAIL_SCOPE",
    "SECRET_KEY_ENV",
    "OAuthFlow",
    "OAuthProvider",
    "OAuthSettings",
    "secret_key_problem",
]

OAuthProvider = Literal["microsoft", "google", "generic"]
"""Who issues the tokens: Microsoft Entra ID (Microsoft 365), Google (Workspace), or any OAuth2 server."""

OAuthFlow = Literal["device_code", "client_credentials", "installed_app", "service_account"]
"""How tokens are obtained: a person signs in once (device code, installed app), or the server
signs in as itself (client credentials, service account with domain-wide delegation)."""

GOOGLE_MAIL_SCOPE = "https://mail.google.com/"
"""The only Google scope that allows IMAP and SMTP."""

SECRET_KEY_ENV = "THREADLINE_SECRET_KEY"
"""The environment variable holding the Fernet key that encrypts stored tokens."""

_FLOWS: dict[str, tuple[str, ...]] = {
    "microsoft": ("device_code", "client_credentials"),
    "google": ("installed_app", "service_account"),
    "generic": ("client_credentials",),
}
_MS_DELEGATED = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
_MS_APP = ("https://outlook.office365.com/.default",)
_MS_SHARED_TENANTS = ("common", "organizations", "consumers")


class OAuthSettings(BaseModel):
    """``[channels.email.mailboxes.<name>.oauth]``: where and how this mailbox gets its access tokens."""

    model_config = ConfigDict(extra="forbid")

    provider: OAuthProvider = Field(description="'microsoft', 'google' or 'generic'.")
    flow: OAuthFlow | None = Field(
        default=None,
        description="microsoft: 'device_code' (default) or 'client_credentials'; google: 'installed_app' "
        "(default) or 'service_account'; generic: 'client_credentials'.",
    )
    client_id: str | None = Field(default=None, description="The app's client id; from ${ENV}.")
    client_secret: str | None = Field(
        default=None, repr=False, description="The app's client secret; from ${ENV}."
    )
    tenant: str = Field(
        default="organizations",
        description="microsoft: directory (tenant) id or domain; app-only sign-in needs the real one.",
    )
    authority_url: str = Field(
        default="https://login.microsoftonline.com", description="microsoft: the Entra ID sign-in host."
    )
    token_url: str | None = Field(
        default=None,
        description="google: token endpoint (default https://oauth2.googleapis.com/token); "
        "generic: required.",
    )
    auth_url: str = Field(
        default="https://accounts.google.com/o/oauth2/auth", description="google: authorization endpoint."
    )
    scopes: list[str] | None = Field(default=None, description="Scopes to ask for; default per provider.")
    service_account_file: str | None = Field(
        default=None, description="google service_account: path of the key file (JSON); may be ${ENV}."
    )
    mechanism: Literal["auto", "xoauth2", "oauthbearer"] = Field(
        default="auto", description="SASL mechanism; 'auto' uses OAUTHBEARER where offered, else XOAUTH2."
    )

    @model_validator(mode="after")
    def _check(self) -> OAuthSettings:
        """Fill the flow's default and require what the provider and flow need, naming the key."""
        allowed = _FLOWS[self.provider]
        if self.flow is None:
            self.flow = allowed[0]  # type: ignore[assignment]
        if self.flow not in allowed:
            raise ValueError(
                f"flow {self.flow!r} does not exist for provider {self.provider!r}; "
                f"use one of: {', '.join(allowed)}"
            )
        needs: list[str] = []
        if self.flow != "service_account" and not self.client_id:
            needs.append('client_id (e.g. client_id = "${THREADLINE_OAUTH_CLIENT_ID}")')
        if self.flow in ("client_credentials", "installed_app") and not self.client_secret:
            needs.append('client_secret (e.g. client_secret = "${THREADLINE_OAUTH_CLIENT_SECRET}")')
        if self.flow == "service_account" and not self.service_account_file:
            needs.append("service_account_file (the path of the service account's JSON key)")
        if self.provider == "generic" and not self.token_url:
            needs.append("token_url (the OAuth2 token endpoint)")
        if self.provider == "generic" and not self.scopes:
            needs.append("scopes (what the mail server expects in the token)")
        if needs:
            raise ValueError(f"oauth ({self.provider}, {self.flow}) needs {'; '.join(needs)}")
        if (
            self.provider == "microsoft"
            and self.flow == "client_credentials"
            and self.tenant in _MS_SHARED_TENANTS
        ):
            raise ValueError(
                "app-only sign-in needs your directory: set tenant to the tenant id or domain, "
                f"not {self.tenant!r}"
            )
        for key in ("authority_url", "auth_url", "token_url"):
            url = getattr(self, key)
            if url is not None and not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
                raise ValueError(f"{key} must be an https:// URL (plain http only on loopback), not {url!r}")
        return self

    def requested_scopes(self) -> list[str]:
        """The configured scopes, or the provider's defaults for the flow."""
        if self.scopes:
            return list(self.scopes)
        if self.provider == "google":
            return [GOOGLE_MAIL_SCOPE]
        return list(_MS_APP if self.flow == "client_credentials" else _MS_DELEGATED)

    def google_token_url(self) -> str:
        """The token endpoint for Google (configured, or Google's public one)."""
        return self.token_url or "https://oauth2.googleapis.com/token"

    def microsoft_authority(self) -> str:
        """The Entra ID authority for the tenant, e.g. ``https://login.microsoftonline.com/contoso.com``."""
        return f"{self.authority_url.rstrip('/')}/{self.tenant}"

    @property
    def unattended(self) -> bool:
        """True when the server signs in as itself (no person, no stored refresh token)."""
        return self.flow in ("client_credentials", "service_account")


def secret_key_problem(env: Mapping[str, str]) -> str | None:
    """What is wrong with the token encryption key in ``env`` (missing, not a Fernet key), or None."""
    fix = (
        f"export {SECRET_KEY_ENV}=$(python3 -c 'from cryptography.fernet import Fernet; "
        "print(Fernet.generate_key().decode())') and keep it: stored sign-ins cannot be read without it"
    )
    value = env.get(SECRET_KEY_ENV)
    if not value:
        return f"{SECRET_KEY_ENV}: not set, but a mailbox signs in with oauth2; {fix}"
    try:
        raw = base64.urlsafe_b64decode(value.encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        return f"{SECRET_KEY_ENV}: not a Fernet key (32 url-safe base64 bytes); {fix}"
    return None
