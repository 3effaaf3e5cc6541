"""The Slack surface: every conversation a thread, worked with buttons, ``/inbox`` and ``!`` commands."""

from adapters.slack.adapter import SlackAdapter
from adapters.slack.inbound import AgentRegistrar, LabelSource
from adapters.slack.surface import SlackSurface

__all__ = ["AgentRegistrar", "LabelSource", "SlackAdapter", "SlackSurface"]
