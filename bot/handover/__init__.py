"""Hand-over summaries: who the customer is, what they asked, how long they waited, what was promised.

``facts.gather`` reads a conversation into ``HandoverFacts``; ``text.render`` words them
deterministically; ``service.HandoverService`` posts a model-drafted summary (and reply draft)
after a command's commit when ``[summary] llm = true``, falling back to ``render`` on any error.
"""

from bot.handover.facts import HandoverFacts, gather
from bot.handover.service import HandoverService
from bot.handover.text import render

__all__ = ["HandoverFacts", "HandoverService", "gather", "render"]
