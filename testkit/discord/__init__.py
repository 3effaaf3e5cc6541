"""The fake Discord (REST, gateway, DMs, refusals as Discord documents them) and the rig that runs an app
on it."""
