"""The fake Slack (Web API, Socket Mode, refusals as Slack documents them), the payloads Slack sends, and
the rig that runs an app on it."""
