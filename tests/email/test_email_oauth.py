"""OAuth2 mailboxes against real servers: Dovecot's oauth2 passdb, an aiosmtpd XOAUTH2/OAUTHBEARER
server, and a loopback identity provider in Microsoft's and Google's shapes (msal, google-auth).

The reader (``ImapWorker``) and the sender (``SmtpSender``) run as in the app, with the
token store on SQLite; ``test_email_oauth_end_to_end.py`` drives the whole app and the CLI.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from imapclient import IMAPClient

from adapters.email.imap import ImapWorker
from adapters.email.imap_login import SignInBackoff
from adapters.email.mime import parse_email
from adapters.email.oauth_settings import OAuthSettings
from adapters.email.oauth_tokens import MailboxTokens
from adapters.email.settings import MailboxSettings, SmtpSettings
from adapters.email.smtp import SmtpSender
from bot.ports import TransientDeliveryError
from bot.views import OutboundView
from storage.oauth_tokens import TokenVault
from testkit.email.dovecot import Dovecot, kill_and_restart_dovecot
from testkit.email.idp_standin import IdentityProviderStandIn
from testkit.email.keys import service_account_key
from testkit.email.oauth_mail import append_mail
from testkit.email.oauth_servers import TEST_ACCOUNT, TEST_SECRET_KEY, OAuthSink, deliver_to_maildir
from testkit.email.recorder import Recorder
from testkit.email.sample_mail import make_mail
from testkit.views import outbound_view
from testkit.waiting import until

USER = TEST_ACCOUNT


def mailbox(server: Dovecot, idp: IdentityProviderStandIn, **oauth: object) -> MailboxSettings:
    """A mailbox on ``server`` signing in through the stand-in (Microsoft device code unless told)."""
    settings: dict[str, object] = {
        "provider": "microsoft",
        "client_id": "ms-public",
        "authority_url": idp.base,
        "tenant": "contoso",
    }
    settings.update(oauth)
    return MailboxSettings(
        inbox="support",
        host=server.host,
        port=server.port,
        security="none",
        username=USER,
        auth="oauth2",
        oauth=OAuthSettings.model_validate(settings),
        since="7d",
        timeout_seconds=10,
    )


async def signed_in(vault: TokenVault, idp: IdentityProviderStandIn, client_id: str = "ms-public") -> str:
    """Store a sign-in as the device-code command would (tokens issued by the stand-in); the refresh token."""
    body = idp._issue(USER, client_id, "imap smtp offline_access", refresh=True)
    await vault.sign_in(
        "support",
        provider="microsoft",
        account=USER,
        refresh_token=body["refresh_token"],
        access_token=body["access_token"],
        access_expires_at=datetime.now(UTC) + timedelta(seconds=body["expires_in"]),
        now=datetime.now(UTC),
    )
    return str(body["refresh_token"])


def worker(
    box: MailboxSettings, recorder: Recorder, tokens: MailboxTokens | None, **backoff: float
) -> ImapWorker:
    """A reader of ``box`` into ``recorder``; ``backoff`` configures its ``SignInBackoff``."""
    return ImapWorker(
        box,
        "support",
        recorder.ingest,
        recorder.load_cursor,
        lambda raw: parse_email(raw, inbox="support"),
        save_cursor=recorder.save_cursor,
        tokens=tokens,
        backoff_initial=0.05,
        backoff_max=0.2,
        sign_in_backoff=SignInBackoff("support", box, **backoff) if backoff else None,
    )


async def test_stored_sign_in_reads_mail_by_xoauth2_and_oauthbearer(
    oauth_dovecot: Dovecot, idp: IdentityProviderStandIn, vault: TokenVault, recorder: Recorder
) -> None:
    await signed_in(vault, idp)
    await append_mail(oauth_dovecot, idp, 1)
    for mechanism, count in (("xoauth2", 1), ("auto", 2)):  # auto: Dovecot offers OAUTHBEARER
        box = mailbox(oauth_dovecot, idp, mechanism=mechanism)
        tokens = MailboxTokens("support", box, vault)
        reader = worker(box, recorder, tokens)
        if mechanism == "auto":
            await append_mail(oauth_dovecot, idp, 2)
        task = asyncio.create_task(reader.run())
        try:
            await recorder.wait_for(count)
        finally:
            await reader.stop()
            await task
    assert recorder.ids() == ["<msg-1@example.com>", "<msg-2@example.com>"]
    log = oauth_dovecot.log()
    assert f"user=<{USER}>, method=XOAUTH2" in log and f"user=<{USER}>, method=OAUTHBEARER" in log
    assert idp.count("token:refresh_token") == 0  # the stored access token was still valid


async def test_tokens_are_stored_encrypted_and_renewed_before_expiry(
    idp: IdentityProviderStandIn, vault: TokenVault, oauth_dovecot: Dovecot
) -> None:
    idp.access_lifetime = 3
    first_refresh = await signed_in(vault, idp)
    box = mailbox(oauth_dovecot, idp)
    tokens = MailboxTokens("support", box, vault, margin=timedelta(seconds=2))
    async with vault.store.transaction() as uow:
        from sqlalchemy import text

        row = (await uow.session.execute(text("SELECT refresh_token, access_token FROM oauth_tokens"))).one()
    assert first_refresh not in row[0] and row[0].startswith("gAAAA")  # Fernet ciphertext, not the token
    token = await tokens.access_token()
    assert idp.count("token:refresh_token") == 0  # the stored token is fresh for 1 more second
    await asyncio.sleep(1.2)
    renewed = await tokens.access_token()  # 2 s before it expires: renewed
    assert renewed != token and idp.count("token:refresh_token") == 1
    assert await tokens.access_token() == renewed  # and kept while it is fresh
    await asyncio.sleep(1.2)
    renewed = await tokens.access_token()
    assert idp.count("token:refresh_token") == 2
    stored = await vault.load("support")
    assert stored is not None and stored.access_token == renewed
    assert stored.refresh_token != first_refresh  # Microsoft rotates refresh tokens; the new one is kept
    assert stored.refresh_token is not None
    assert idp.refresh_tokens[stored.refresh_token].revoked is False
    assert (
        await TokenVault(vault.store, TEST_SECRET_KEY).load("support") == stored
    )  # readable after a restart


async def test_expired_token_mid_session_renews_on_reconnect_without_loss_or_duplicates(
    oauth_dovecot: Dovecot, idp: IdentityProviderStandIn, vault: TokenVault, recorder: Recorder
) -> None:
    await signed_in(vault, idp)
    box = mailbox(oauth_dovecot, idp, mechanism="xoauth2")
    tokens = MailboxTokens("support", box, vault)
    reader = worker(box, recorder, tokens)
    await append_mail(oauth_dovecot, idp, 1)
    task = asyncio.create_task(reader.run())
    try:
        await recorder.wait_for(1)
        idp.expire_access_tokens()  # the session's token expires; the server drops the session
        meanwhile = partial(deliver_to_maildir, oauth_dovecot, USER, make_mail(2), make_mail(3))
        await asyncio.to_thread(kill_and_restart_dovecot, oauth_dovecot, meanwhile)
        await recorder.wait_for(3, timeout=30)
        await asyncio.sleep(1.5)  # nothing else arrives
    finally:
        await reader.stop()
        await task
    assert recorder.ids() == [f"<msg-{n}@example.com>" for n in (1, 2, 3)]
    assert idp.count("token:refresh_token") == 1  # refused once, renewed once
    assert reader.auth_problem is None


async def test_revoked_sign_in_is_one_clear_problem_without_retry_storm_until_signed_in_again(
    oauth_dovecot: Dovecot, idp: IdentityProviderStandIn, vault: TokenVault, recorder: Recorder
) -> None:
    await signed_in(vault, idp)
    idp.revoke_all(USER)  # an admin revoked the sessions (or the refresh token expired)
    box = mailbox(oauth_dovecot, idp, mechanism="xoauth2")
    tokens = MailboxTokens("support", box, vault)
    reader = worker(box, recorder, tokens, initial=60, check_every=0.2)
    task = asyncio.create_task(reader.run())
    try:
        await until("the sign-in problem", lambda: reader.auth_problem is not None)
        assert (
            reader.auth_problem
            == "mailbox support@example.com: sign-in expired; run threadline auth email support"
        )
        logins, refreshes = oauth_dovecot.log().count("auth failed"), idp.count("token:refresh_token")
        await asyncio.sleep(3)  # waiting: no IMAP logins, no identity provider requests
        assert (oauth_dovecot.log().count("auth failed"), idp.count("token:refresh_token")) == (
            logins,
            refreshes,
        )
        assert refreshes == 1 and logins == 1
        stored = await vault.load("support")
        assert (
            stored is not None
            and stored.expired_at is not None
            and "AADSTS50173" in (stored.expired_reason or "")
        )

        await append_mail(oauth_dovecot, idp, 7)  # mail waits on the server meanwhile
        await signed_in(vault, idp)  # someone ran `threadline auth email support`
        try:
            await recorder.wait_for(1, timeout=30)
        except AssertionError as exc:  # say what the reader and the server saw
            raise AssertionError(
                f"{exc}; problem: {reader.auth_problem}; dovecot: {oauth_dovecot.log()[-2000:]}"
            ) from None
        assert reader.auth_problem is None
    finally:
        await reader.stop()
        await task


async def test_refused_password_login_names_the_mailbox_and_backs_off_long(
    dovecot: Dovecot, recorder: Recorder
) -> None:
    box = MailboxSettings(
        inbox="support",
        host=dovecot.host,
        port=dovecot.port,
        security="none",
        username="support",
        password="wrong",
    )
    reader = worker(box, recorder, None, initial=600)
    task = asyncio.create_task(reader.run())
    try:
        await until("the sign-in problem", lambda: reader.auth_problem is not None)
        await asyncio.sleep(2.5)
        assert not reader.connected.is_set()
    finally:
        await reader.stop()
        await task
    assert reader.auth_problem == (
        "mailbox support: the server refused the sign-in ([AUTHENTICATIONFAILED] Authentication failed.); "
        "check the username and password (or app password). Next try in 10 min"
    )
    assert dovecot.log().count("auth failed") == 1  # one attempt, not a reconnect loop


def _outbound(uid: str = "u1") -> OutboundView:
    return outbound_view(uid=uid, inbox_address=USER, to_address="jane@example.org")


@pytest.mark.parametrize("offer_bearer", [False, True])
async def test_smtp_signs_in_with_the_mailbox_token_and_renews_a_refused_one(
    idp: IdentityProviderStandIn, vault: TokenVault, offer_bearer: bool
) -> None:
    await signed_in(vault, idp)
    hidden = ["PLAIN", "LOGIN"] + ([] if offer_bearer else ["OAUTHBEARER"])
    sink = OAuthSink(idp).start(auth_require_tls=False, auth_exclude_mechanism=hidden)
    port = sink.port
    try:
        box = MailboxSettings(
            inbox="support",
            host="h",
            username=USER,
            auth="oauth2",
            oauth=OAuthSettings(
                provider="microsoft",
                client_id="ms-public",
                authority_url=idp.base,
                tenant="contoso",
            ),
        )
        tokens = MailboxTokens("support", box, vault)
        sender = SmtpSender(
            SmtpSettings(host="127.0.0.1", port=port, security="none", auth="oauth2"),
            tokens={"support": tokens},
        )
        await sender.send(_outbound("u1"))
        idp.expire_access_tokens()  # the cached token is refused now: renewed once, then sent
        await sender.send(_outbound("u2"))
        mechanism = "OAUTHBEARER" if offer_bearer else "XOAUTH2"
        assert sink.logins == [(mechanism, USER), (mechanism, USER)] and sink.refused_logins == 1
        assert [rcpt for _, rcpt, _ in sink.received] == [["jane@example.org"], ["jane@example.org"]]
        idp.revoke_all(USER)
        with pytest.raises(
            TransientDeliveryError, match="sign-in expired; run threadline auth email support"
        ):
            await sender.send(_outbound("u3"))
        assert len(sink.received) == 2
    finally:
        sink.stop()


async def test_app_only_and_service_account_tokens(
    idp: IdentityProviderStandIn, vault: TokenVault, oauth_dovecot: Dovecot, tmp_path: Path
) -> None:
    app_box = mailbox(
        oauth_dovecot,
        idp,
        flow="client_credentials",
        client_id="ms-app",
        client_secret="app-secret",
        tenant="contoso.example",
    )
    app_tokens = MailboxTokens("support", app_box, vault)
    token = await app_tokens.access_token()
    assert idp.access_tokens[token].scope == "https://outlook.office365.com/.default"

    def login() -> None:
        client = IMAPClient(oauth_dovecot.host, port=oauth_dovecot.port, ssl=False, timeout=10)
        client.oauth2_login(USER, token)
        client.logout()

    await asyncio.to_thread(login)

    wrong = mailbox(
        oauth_dovecot,
        idp,
        flow="client_credentials",
        client_id="ms-app",
        client_secret="nope",
        tenant="contoso.example",
    )
    from adapters.email.oauth_tokens import CredentialsRefused

    with pytest.raises(CredentialsRefused, match="AADSTS7000215"):
        await MailboxTokens("support", wrong, vault).access_token()

    key_file, public = service_account_key(tmp_path, f"{idp.base}/token", "mail@threadline-test.iam.example")
    idp.service_accounts["mail@threadline-test.iam.example"] = public
    google = mailbox(
        oauth_dovecot,
        idp,
        provider="google",
        flow="service_account",
        service_account_file=str(key_file),
        client_id=None,
        tenant="organizations",
        authority_url="https://login.microsoftonline.com",
    )
    google_token = await MailboxTokens("support", google, vault).access_token()
    assert idp.access_tokens[google_token].user == USER  # delegated to the mailbox user (sub)
    assert idp.access_tokens[google_token].scope == "https://mail.google.com/"


async def test_smtp_password_refused_is_a_sign_in_problem_not_a_lost_reply() -> None:
    from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

    def refuse(
        server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        return AuthResult(success=False, handled=False)

    sink = OAuthSink(IdentityProviderStandIn()).start(auth_require_tls=False, authenticator=refuse)
    port = sink.port
    try:
        sender = SmtpSender(
            SmtpSettings(host="127.0.0.1", port=port, security="none", username="support", password="wrong")
        )
        with pytest.raises(TransientDeliveryError) as refused:
            await sender.send(_outbound())
    finally:
        sink.stop()
    assert refused.value.reason == (
        "the SMTP server refused the sign-in (SMTP 535 5.7.8 Authentication credentials invalid); "
        "check the SMTP credentials or the app's SMTP permission"
    )
    assert sink.received == []


async def test_auth_command_checks_app_only_sign_ins_and_names_setup_errors(
    idp: IdentityProviderStandIn, oauth_dovecot: Dovecot, tmp_path: Path
) -> None:
    from adapters.email.oauth_sign_in import sign_in_mailbox

    idp.clients["generic-app"] = "generic-secret"
    idp.app_mailboxes["generic-app"] = USER
    generic = mailbox(
        oauth_dovecot,
        idp,
        provider="generic",
        flow=None,
        token_url=f"{idp.base}/generic/token",
        client_id="generic-app",
        client_secret="generic-secret",
        scopes=["mail"],
        tenant="organizations",
        authority_url="https://login.microsoftonline.com",
    )
    lines: list[str] = []
    url = f"sqlite:///{tmp_path}/cli.db"
    assert await sign_in_mailbox({"support": generic}, url, "support", out=lines.append) == 0
    assert lines == [
        "mailbox support: app-only sign-in works (generic, client_credentials); nothing to store",
        "mailbox support: IMAP sign-in to 127.0.0.1 works",
    ]
    assert idp.count("generic:client_credentials") == 1

    assert generic.oauth is not None
    wrong = generic.model_copy(update={"oauth": generic.oauth.model_copy(update={"client_secret": "x"})})
    lines.clear()
    assert await sign_in_mailbox({"support": wrong}, url, "support", out=lines.append) == 1
    assert lines == [
        "mailbox support: sign-in failed: HTTP 401 invalid_client: unknown client or wrong secret"
    ]

    password = MailboxSettings(inbox="support", host="h", username="u", password="p")
    lines.clear()
    assert await sign_in_mailbox({"support": password}, url, "other", out=lines.append) == 2
    assert await sign_in_mailbox({"support": password}, url, "support", out=lines.append) == 2
    assert lines == [
        "threadline: no mailbox 'other' under [channels.email.mailboxes] (mailboxes: support)",
        'threadline: mailbox support signs in with a password; set auth = "oauth2" and an oauth table first',
    ]


async def test_temporary_sign_in_failure_is_retried_like_a_network_error(
    oauth_dovecot: Dovecot, idp: IdentityProviderStandIn, vault: TokenVault, recorder: Recorder
) -> None:
    await signed_in(vault, idp)
    await append_mail(oauth_dovecot, idp, 1)
    idp.introspection_down = True  # Dovecot answers NO [UNAVAILABLE] Temporary authentication failure
    box = mailbox(oauth_dovecot, idp, mechanism="xoauth2")
    reader = worker(box, recorder, MailboxTokens("support", box, vault), initial=600)
    asked = idp.count("introspect")
    task = asyncio.create_task(reader.run())
    try:
        await until("two failed attempts", lambda: idp.count("introspect") >= asked + 2)
        assert reader.auth_problem is None and idp.count("token:refresh_token") == 0  # not a refusal
        idp.introspection_down = False
        await recorder.wait_for(1, timeout=30)  # retried with the network backoff, not the sign-in one
    finally:
        await reader.stop()
        await task
