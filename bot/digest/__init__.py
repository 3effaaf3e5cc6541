"""Digests: content computed in the core, posted by surfaces on a cron schedule."""

from bot.digest.compute import build_digest
from bot.digest.service import DigestError, DigestService, cron_trigger, fire_times

__all__ = ["DigestError", "DigestService", "build_digest", "cron_trigger", "fire_times"]
