"""The Slack app manifest and docs say what HTTP mode needs: four request URLs, all on the events path."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
_URL = re.compile(r"^\s*# (url|request_url|message_menu_options_url): (\S+)\s+# HTTP mode only", re.M)


def test_the_manifest_lists_the_four_http_mode_request_urls() -> None:
    manifest = (DOCS / "slack-manifest.yaml").read_text()
    urls = _URL.findall(manifest)
    assert sorted(key for key, _ in urls) == ["message_menu_options_url", "request_url", "request_url", "url"]
    assert {url for _, url in urls} == {"https://support.example.com/slack/events"}
    assert "four request URLs" in manifest and "three" not in manifest


def test_the_slack_docs_name_the_four_urls_permalinks_and_the_free_plan() -> None:
    docs = (DOCS / "slack.md").read_text()
    for words in ("**four** places", "message_menu_options_url", "chat.getPermalink", "paid_teams_only"):
        assert words in docs
    assert "Fish & chips here (https://x.example/?a=1&b=2)" in docs and "(customer)" in docs
