"""Automation: rules on inbound messages, auto-assignment, canned replies, CSAT and collision checks.

``apply_rules`` runs inside ingest; ``explain`` tells which rules would fire and why
(``threadline rules test FILE.eml``); ``pick`` is the auto-assignment choice.
"""

from bot.automation.assign import assign_team, pick
from bot.automation.engine import AUTO_REPLY_AUTHOR, apply_rules, explain
from bot.automation.match import Match, evaluate

__all__ = ["AUTO_REPLY_AUTHOR", "Match", "apply_rules", "assign_team", "evaluate", "explain", "pick"]
