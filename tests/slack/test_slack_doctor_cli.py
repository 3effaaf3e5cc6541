"""``threadline doctor`` run as a real process against the fake Slack, a real Dovecot and an unreachable
WhatsApp: what the admin reads, the exit status, and no secret or traceback anywhere."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from adapters.slack.doctor import NEEDED_SCOPES
from testkit.email.dovecot import Dovecot
from testkit.slack.fake import FakeSlack
from testkit.workers import free_port

SECRETS = {
    "SLACK_BOT_TOKEN": "xoxb-test",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "WA_TOKEN": "EAAG-whatsapp-token-value",
    "WA_APP_SECRET": "wa-app-secret-value",
    "WA_VERIFY": "wa-verify-value",
}


def _config(tmp: Path, slack_url: str, dovecot: Dovecot, graph_url: str | None) -> Path:
    whatsapp = f"""
[inboxes.whatsapp]
channel = "whatsapp"
address = "+15550100"
surface = "slack"
chat_channel = "C_SUPPORT"

[channels.whatsapp]
inbox = "whatsapp"
phone_number_id = "1055"
access_token = "${{WA_TOKEN}}"
app_secret = "${{WA_APP_SECRET}}"
verify_token = "${{WA_VERIFY}}"
graph_base_url = "{graph_url}"
"""
    path = tmp / "threadline.toml"
    path.write_text(
        f"""
[threadline]
database_url = "sqlite:///{tmp}/threadline.db"

[surfaces.slack]
bot_token = "${{SLACK_BOT_TOKEN}}"
signing_secret = "${{SLACK_SIGNING_SECRET}}"
mode = "http"
api_base_url = "{slack_url}"

[inboxes.support]
channel = "email"
address = "support@example.com"
surface = "slack"
chat_channel = "C_SUPPORT"

[channels.email.mailboxes.support]
inbox = "support"
host = "{dovecot.host}"
port = {dovecot.port}
security = "none"
username = "support"
password = "${{IMAP_PASSWORD}}"
{whatsapp if graph_url else ""}
""",
        encoding="utf-8",
    )
    return path


async def _doctor(config: Path, *args: str, imap_password: str) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("THREADLINE_CONFIG")}
    env |= SECRETS | {"IMAP_PASSWORD": imap_password}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "threadline.cli",
        *args,
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_good_setup_exits_0_with_every_check_passed(
    tmp_path: Path, fake_slack: FakeSlack, dovecot: Dovecot
) -> None:
    fake_slack.add_channel("C_SUPPORT", "support")
    config = _config(tmp_path, fake_slack.url, dovecot, None)
    code, out, err = await _doctor(config, "doctor", imap_password="secret")
    assert (code, err) == (0, ""), out
    lines = out.splitlines()
    assert lines[0].endswith("configuration is valid (1 inbox(es), 0 agent(s))")
    assert lines[1:3] == ["slack", "  ✓ bot token valid: @threadline (UBOT) in team Acme"]
    assert "  ✓ select folder INBOX (0 message(s))" in lines
    assert lines[-1] == "6 of 6 check(s) passed"


async def test_each_mistake_is_a_cross_with_its_fix_and_exit_1(
    tmp_path: Path, fake_slack: FakeSlack, dovecot: Dovecot
) -> None:
    fake_slack.add_channel("C_SUPPORT", "support", member=False)
    fake_slack.scopes = fake_slack.scopes.replace(",usergroups:read", "")
    config = _config(tmp_path, fake_slack.url, dovecot, f"http://127.0.0.1:{free_port()}")
    code, out, err = await _doctor(config, "check-config", "--online", imap_password="wrong-imap-pass")
    assert code == 1 and "Traceback" not in out + err
    lines = out.splitlines()
    assert f"  ✗ scopes: 1 of {len(NEEDED_SCOPES)} missing" in lines
    assert "      fix: type /invite @threadline in #support" in lines
    assert "  ✗ sign in as support (password)" in lines
    whatsapp = lines.index("whatsapp")
    assert lines[whatsapp + 2].startswith("      fix: cannot reach 127.0.0.1:")
    assert lines[-1] == "2 of 6 check(s) passed; 4 to fix"
    for secret in [*SECRETS.values(), "wrong-imap-pass"]:
        assert secret not in out + err
