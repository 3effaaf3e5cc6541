"""Rules: conditions on inbound messages and the actions they trigger.

``apply_rules`` runs inside ingest; ``explain`` tells which rules would fire and why
(``threadline rules test FILE.eml``); ``pick`` is the auto-assignment choice.
"""

from bot.rules.assign import assign_team, pick
from bot.rules.engine import AUTO_REPLY_AUTHOR, apply_rules, explain
from bot.rules.match import Match, evaluate

__all__ = ["AUTO_REPLY_AUTHOR", "Match", "apply_rules", "assign_team", "evaluate", "explain", "pick"]
