"""A local surface that refuses as a platform does (bot not in the channel, bad token) when told to."""

from __future__ import annotations

from adapters.local import LocalSurface
from bot.ports import WHOLE_SURFACE, SurfaceRefused, ThreadRef
from bot.views import CardView, PostView

__all__ = ["RefusingSurface"]


class RefusingSurface(LocalSurface):
    """A local surface that refuses like Slack does while ``refusing`` says so (channel or token)."""

    def __init__(self) -> None:
        super().__init__()
        self.refusing: str | None = None  # "channel" (not in channel) or "surface" (bad token)
        self.platform_calls = 0

    def _gate(self) -> None:
        self.platform_calls += 1
        if self.refusing == "surface":
            raise SurfaceRefused("the bot token is invalid (invalid_auth)", "surface")
        if self.refusing == "channel":
            raise SurfaceRefused("the bot is not in the channel; /invite @Threadline (not_in_channel)")

    async def create_thread(self, chat_channel: str, card: CardView) -> ThreadRef:
        self._gate()
        return await super().create_thread(chat_channel, card)

    async def post(self, ref: ThreadRef, post: PostView) -> str:
        self._gate()
        return await super().post(ref, post)

    async def update_card(self, ref: ThreadRef, card: CardView) -> None:
        self._gate()
        await super().update_card(ref, card)

    async def probe(self, scope: str) -> None:
        if self.refusing == "surface" or (self.refusing == "channel" and scope != WHOLE_SURFACE):
            raise SurfaceRefused(f"still refused: {self.refusing}")
