"""OAuth2 mailbox settings: defaults per provider, and check-config errors that name the key and the fix."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adapters.email.oauth_settings import OAuthSettings
from adapters.email.settings import MailboxSettings
from bot.config import ConfigError
from threadline.config import parse_config

_KEY = "x" * 43 + "="  # 32 bytes of url-safe base64


def _box(**oauth: object) -> MailboxSettings:
    return MailboxSettings.model_validate(
        {"inbox": "support", "host": "h", "username": "support@example.com", "auth": "oauth2", "oauth": oauth}
    )


def test_defaults_per_provider() -> None:
    ms = _box(provider="microsoft", client_id="cid")
    assert ms.password is None and ms.oauth is not None
    assert ms.oauth.flow == "device_code"
    assert ms.oauth.requested_scopes() == [
        "https://outlook.office.com/IMAP.AccessAsUser.All",
        "https://outlook.office.com/SMTP.Send",
    ]
    assert ms.oauth.microsoft_authority() == "https://login.microsoftonline.com/organizations"
    app = OAuthSettings(
        provider="microsoft",
        flow="client_credentials",
        client_id="c",
        client_secret="s",
        tenant="contoso.com",
    )
    assert app.requested_scopes() == ["https://outlook.office365.com/.default"] and app.unattended
    google = OAuthSettings(provider="google", client_id="c", client_secret="s")
    assert (google.flow, google.requested_scopes()) == ("installed_app", ["https://mail.google.com/"])
    assert google.google_token_url() == "https://oauth2.googleapis.com/token"


@pytest.mark.parametrize(
    ("oauth", "needle"),
    [
        ({"provider": "microsoft"}, "client_id"),
        ({"provider": "microsoft", "flow": "installed_app", "client_id": "c"}, "use one of: device_code"),
        (
            {"provider": "microsoft", "flow": "client_credentials", "client_id": "c", "client_secret": "s"},
            "tenant",
        ),
        ({"provider": "google", "client_id": "c"}, "client_secret"),
        ({"provider": "google", "flow": "service_account"}, "service_account_file"),
        ({"provider": "generic", "client_id": "c", "client_secret": "s"}, "token_url"),
        (
            {
                "provider": "google",
                "client_id": "c",
                "client_secret": "s",
                "token_url": "http://idp.example/t",
            },
            "https",
        ),
    ],
)
def test_bad_oauth_settings_name_the_key(oauth: dict[str, object], needle: str) -> None:
    with pytest.raises(ValidationError, match=needle):
        _box(**oauth)


def test_oauth2_needs_the_table_and_password_auth_refuses_it() -> None:
    with pytest.raises(ValidationError, match="needs an oauth table"):
        MailboxSettings(inbox="s", host="h", username="u", auth="oauth2")
    with pytest.raises(ValidationError, match='set auth = "oauth2"'):
        MailboxSettings(
            inbox="s",
            host="h",
            username="u",
            password="p",
            oauth=OAuthSettings(provider="google", client_id="c", client_secret="s"),
        )


_CONFIG = """
[threadline]
database_url = "sqlite:///:memory:"
[surfaces.local]
agent = "you"
[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "local"
chat_channel = "support"
[agents.you]
name = "You"
identities = { local = "you" }
[channels.email]
outgoing_dir = "/tmp/out"
[channels.email.mailboxes.support]
inbox = "support"
host = "outlook.office365.com"
username = "support@example.com"
auth = "oauth2"
[channels.email.mailboxes.support.oauth]
provider = "microsoft"
client_id = "${MS_CLIENT_ID}"
"""


def test_check_config_needs_the_client_id_and_a_fernet_key() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_CONFIG, env={})
    text = "\n".join(caught.value.problems)
    assert "channels.email.mailboxes.support.oauth.client_id: environment variable MS_CLIENT_ID" in text
    assert "THREADLINE_SECRET_KEY: not set" in text  # one run names every problem
    with pytest.raises(ConfigError) as caught:
        parse_config(_CONFIG, env={"MS_CLIENT_ID": "cid"})
    assert caught.value.problems[0].startswith("THREADLINE_SECRET_KEY: not set")
    assert "Fernet.generate_key()" in caught.value.problems[0]
    with pytest.raises(ConfigError, match="not a Fernet key"):
        parse_config(_CONFIG, env={"MS_CLIENT_ID": "cid", "THREADLINE_SECRET_KEY": "short"})
    settings = parse_config(_CONFIG, env={"MS_CLIENT_ID": "cid", "THREADLINE_SECRET_KEY": _KEY})
    assert settings.channels.email is not None
    oauth = settings.channels.email.mailboxes["support"].oauth
    assert oauth is not None and oauth.client_id == "cid"
