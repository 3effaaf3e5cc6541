"""An OAuth2 mailbox end to end: `threadline auth email support` signs in by device code (a real
process, msal against the loopback identity provider) → the sign-in is stored encrypted → the app
reads mail by XOAUTH2 from Dovecot and sends the reply by XOAUTH2 → the access token expires →
renewed, nothing lost or duplicated → the sign-in is revoked → one notice, not ready, no retry storm.
"""

from __future__ import annotations

import asyncio
import os
import re
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text

from bot.clock import SystemClock
from testkit.email.dovecot import Dovecot, kill_and_restart_dovecot
from testkit.email.idp_standin import IdentityProviderStandIn
from testkit.email.oauth_mail import append_mail
from testkit.email.oauth_servers import TEST_ACCOUNT as USER
from testkit.email.oauth_servers import TEST_SECRET_KEY as KEY
from testkit.email.oauth_servers import OAuthSink, deliver_to_maildir
from testkit.email.sample_mail import make_mail
from testkit.inbound import email_in
from testkit.settings import base_settings
from testkit.waiting import until
from threadline.app import Threadline
from threadline.config import load_config, parse_config

REPO = Path(__file__).resolve().parents[2]
EXPIRED = "mailbox support@example.com: sign-in expired; run threadline auth email support"

_MICROSOFT = """
[channels.email.mailboxes.support.oauth]
provider = "microsoft"
client_id = "${{TL_TEST_MS_CLIENT_ID}}"
authority_url = "{idp.base}"
tenant = "contoso.example"
mechanism = "xoauth2"
"""

_GOOGLE = """
[channels.email.mailboxes.support.oauth]
provider = "google"
client_id = "${{TL_TEST_GOOGLE_ID}}"
client_secret = "${{TL_TEST_GOOGLE_SECRET}}"
auth_url = "{idp.base}/o/oauth2/auth"
token_url = "{idp.base}/token"
"""


def _config(tmp: Path, smtp_port: int, dovecot: Dovecot, oauth: str, idp: IdentityProviderStandIn) -> Path:
    """The base test configuration (``testkit.settings.base_settings``) with an OAuth2 mailbox and SMTP,
    as a file."""
    base = base_settings(f"sqlite:///{tmp}/e2e.db", tmp).drop("channels.email").toml()
    path = tmp / "threadline.toml"
    path.write_text(
        base
        + f"""
[channels.email.smtp]
host = "127.0.0.1"
port = {smtp_port}
security = "none"
auth = "oauth2"

[channels.email.mailboxes.support]
inbox = "support"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "support@example.com"
auth = "oauth2"
since = "7d"
timeout_seconds = 10
"""
        + oauth.format(idp=idp)
    )
    return path


@pytest.fixture
def sink(idp: IdentityProviderStandIn) -> Iterator[OAuthSink]:
    """An SMTP server offering only XOAUTH2 (as smtp.office365.com does)."""
    server = OAuthSink(idp).start(
        auth_require_tls=False, auth_exclude_mechanism=["PLAIN", "LOGIN", "OAUTHBEARER"]
    )
    try:
        yield server
    finally:
        server.stop()


async def _run_auth_command(
    config: Path, env: dict[str, str], pattern: str, act: Callable[[re.Match[str]], Awaitable[None]]
) -> str:
    """Run `threadline auth email support` as an admin would; when its output matches ``pattern``,
    do what the admin does (``act``); its whole output once it succeeded."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "threadline.cli",
        "--config",
        str(config),
        "auth",
        "email",
        "support",
        "--no-browser",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = ""
    try:  # deadlines for a stuck command, wide enough for a busy machine (starting takes 20 s at load 11)
        while (match := re.search(pattern, output)) is None:
            line = await asyncio.wait_for(process.stdout.readline(), 120)
            assert line, f"the command ended early: {output}"
            output += line.decode()
        await act(match)
        rest, _ = await asyncio.wait_for(process.communicate(), 120)
    finally:
        if process.returncode is None:  # a failed test leaves no command behind
            process.kill()
            await process.wait()
    output += rest.decode()
    assert process.returncode == 0, output
    return output


async def test_device_code_sign_in_read_reply_expire_renew_revoke(
    tmp_path: Path,
    idp: IdentityProviderStandIn,
    oauth_dovecot: Dovecot,
    sink: OAuthSink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    smtp_port = sink.port
    config = _config(tmp_path, smtp_port, oauth_dovecot, _MICROSOFT, idp)
    env = {
        "TL_TEST_MS_CLIENT_ID": "ms-public",
        "THREADLINE_SECRET_KEY": KEY,
        "REQUESTS_CA_BUNDLE": idp.ca_file,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    async def approve(match: re.Match[str]) -> None:
        assert match.group(1) == f"{idp.base}/devicelogin"
        idp.approve(match.group(2), USER)  # the admin signs in on another device

    output = await _run_auth_command(
        config, {**os.environ, **env}, r"open the page (\S+) and enter the code (\w+)", approve
    )
    assert "mailbox support: signed in; the sign-in is stored encrypted" in output
    assert "mailbox support: IMAP sign-in to 127.0.0.1 works" in output
    (refresh_token,) = [t for t, token in idp.refresh_tokens.items() if not token.revoked]
    assert refresh_token not in output and not any(t in output for t in idp.access_tokens)

    settings = load_config(config, env={**os.environ, **env})
    app = Threadline(settings, clock=SystemClock())
    async with app.store.transaction() as uow:
        stored = (await uow.session.execute(text("SELECT account, refresh_token FROM oauth_tokens"))).one()
    assert stored[0] == USER and refresh_token not in stored[1]  # encrypted at rest

    await append_mail(oauth_dovecot, idp, 1)
    await app.start()
    try:
        local = app.local
        assert local is not None
        try:
            await until(
                "the mail in a thread", lambda: (thread := local.thread(1)) is not None and bool(thread.posts)
            )
        except AssertionError as exc:  # say what the reader and the server saw
            problem = app.email.sources[0].auth_problem if app.email else None
            raise AssertionError(
                f"{exc}; problem: {problem}; dovecot: {oauth_dovecot.log()[-2000:]}"
            ) from None
        await local.type_line("#1 !reply A new one is on its way.", "alice")
        await until("the reply at the SMTP server", lambda: sink.received)
        assert sink.logins == [("XOAUTH2", USER)]
        assert f"user=<{USER}>, method=XOAUTH2" in oauth_dovecot.log()
        assert idp.count("token:refresh_token") == 0  # the token from the sign-in was still fresh

        # the access token expires while the session runs; the server drops the connection
        idp.expire_access_tokens()
        mail = [make_mail(n) for n in (2, 3)]  # arrives while the server is down
        await asyncio.to_thread(
            kill_and_restart_dovecot, oauth_dovecot, partial(deliver_to_maildir, oauth_dovecot, USER, *mail)
        )
        await until("both new mails", lambda: (thread := local.thread(3)) is not None and bool(thread.posts))
        await local.type_line("#2 !reply Thanks, noted.", "alice")
        await until("the second reply", lambda: len(sink.received) == 2)
        assert idp.count("token:refresh_token") == 1  # one renewal serves IMAP and SMTP
        await asyncio.sleep(1.5)
        async with app.store.transaction() as uow:
            counts = (
                await uow.session.execute(
                    text("SELECT count(*), count(DISTINCT external_id) FROM messages WHERE kind = 'inbound'")
                )
            ).one()
        assert tuple(counts) == (3, 3)  # nothing lost, nothing twice

        # an admin revokes the sign-in; the next connection finds out
        idp.revoke_all(USER)
        await asyncio.to_thread(kill_and_restart_dovecot, oauth_dovecot)

        async def ready() -> tuple[bool, str]:
            answer = await app.ops.health.readiness()
            return answer.ready, answer.components["mailbox:support"].detail

        states: list[tuple[bool, str]] = []

        async def observe() -> bool:
            states.append(await ready())
            return states[-1] == (False, EXPIRED)

        deadline = asyncio.get_running_loop().time() + 20
        while not await observe():
            assert asyncio.get_running_loop().time() < deadline, states[-3:]
            await asyncio.sleep(0.1)
        await until("the notice", lambda: any(EXPIRED in post.text for _, post, _ in local.channel_posts))
        refreshes, failed_logins = idp.count("token:refresh_token"), oauth_dovecot.log().count("auth failed")
        await asyncio.sleep(4)
        assert await ready() == (False, EXPIRED)
        notices = [post.text for _, post, _ in local.channel_posts if "sign-in" in post.text]
        assert notices == [
            f"{EXPIRED} (since {notices[0].split('since ')[1][:5]} UTC). New mail is not read until then; "
            "it waits on the server and nothing is lost."
        ]
        assert refreshes == 2  # the one refused renewal, no more
        assert (idp.count("token:refresh_token"), oauth_dovecot.log().count("auth failed")) == (
            refreshes,
            failed_logins,
        )
    finally:
        await app.stop()


async def test_google_installed_app_sign_in_by_loopback_redirect(
    tmp_path: Path, idp: IdentityProviderStandIn, oauth_dovecot: Dovecot, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(tmp_path, 25, oauth_dovecot, _GOOGLE, idp)
    env = {
        "TL_TEST_GOOGLE_ID": "google-client",
        "TL_TEST_GOOGLE_SECRET": "google-secret",
        "THREADLINE_SECRET_KEY": KEY,
        "REQUESTS_CA_BUNDLE": idp.ca_file,
    }

    async def browse(match: re.Match[str]) -> None:
        """The admin opens the printed URL, signs in, and the browser follows the redirect to the CLI."""
        url = match.group(1)
        assert "scope=https%3A%2F%2Fmail.google.com%2F" in url and "access_type=offline" in url
        context = ssl.create_default_context(cafile=idp.ca_file)
        async with aiohttp.ClientSession() as browser, browser.get(url, ssl=context) as page:
            assert page.status == 200 and "signed in" in await page.text()

    output = await _run_auth_command(
        config, {**os.environ, **env}, r"sign in as support@example.com:\n(https://\S+)\n", browse
    )
    assert "mailbox support: IMAP sign-in to 127.0.0.1 works" in output
    assert idp.count("token:authorization_code") == 1
    monkeypatch.setenv("THREADLINE_SECRET_KEY", KEY)
    settings = load_config(config, env={**os.environ, **env})
    app = Threadline(settings, clock=SystemClock())
    try:
        assert app.email is not None
        signed = await app.email.tokens["support"].store.load("support")
        assert signed is not None and signed.provider == "google"
        assert signed.refresh_token in idp.refresh_tokens
    finally:
        await app.store.close()


async def test_refused_password_is_on_readyz_and_in_one_notice_with_the_servers_answer(
    tmp_path: Path, dovecot: Dovecot
) -> None:
    base = base_settings(f"sqlite:///{tmp_path}/refused.db", tmp_path).toml()
    toml = base + dovecot.mailbox_toml().replace('password = "secret"', 'password = "wrong"')
    settings = parse_config(toml, env={})
    app = Threadline(settings, clock=SystemClock())
    await app.start()
    try:
        await app.ingestor.ingest(email_in(when=datetime.now(UTC)))  # the inbox has a conversation already
        local = app.local
        assert local is not None
        expected = (
            "mailbox support: the server refused the sign-in "
            "([AUTHENTICATIONFAILED] Authentication failed.); "
            "check the username and password (or app password). Next try in 10 min"
        )
        await until(
            "the notice", lambda: any("refused the sign-in" in p.text for _, p, _ in local.channel_posts)
        )
        answer = await app.ops.health.readiness()
        assert not answer.ready and answer.components["mailbox:support"].detail == expected
        await asyncio.sleep(2)
        notices = [post.text for _, post, _ in local.channel_posts]
        assert len(notices) == 1 and notices[0].startswith(f"{expected} (since ")
        assert dovecot.log().count("auth failed") == 1  # no reconnect loop against the server
    finally:
        await app.stop()
