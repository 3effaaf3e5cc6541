"""Sort orders shared by listings and digests."""

from __future__ import annotations

from sqlalchemy import case

from storage.models import Conversation

__all__ = ["PRIORITY_RANK"]

PRIORITY_RANK = case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Conversation.priority, else_=4)
"""Sorts conversations most urgent first."""
