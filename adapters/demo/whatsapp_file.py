"""A WhatsApp-shaped channel sender for the demo: appends each reply as a JSON line to a file."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Collection
from pathlib import Path

from bot.ports import SentParts
from bot.views import OutboundView

__all__ = ["WhatsAppFileSender"]


class WhatsAppFileSender:
    """Writes the Cloud API request body a real send would make; idempotent per message uid."""

    channel = "whatsapp"

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def _write(self, message: OutboundView) -> str:
        wamid = f"wamid.DEMO{message.uid}"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists() and wamid in self.path.read_text(encoding="utf-8"):
            return wamid
        body = {
            "wamid": wamid,
            "messaging_product": "whatsapp",
            "to": "".join(ch for ch in message.to_address if ch.isdigit()),
            "type": "text",
            "text": {"body": message.text},
        }
        with self.path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(body, ensure_ascii=False) + "\n")
        return wamid

    async def send(self, message: OutboundView, parts: SentParts | None = None) -> str:
        """Append the message; return its demo wamid (a demo file keeps no part records)."""
        return await asyncio.to_thread(self._write, message)

    def _erase(self, external_ids: Collection[str]) -> int:
        wanted = set(external_ids)
        kept, erased = [], 0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line).get("wamid") in wanted:
                erased += 1
            else:
                kept.append(line)
        self.path.write_text("".join(f"{line}\n" for line in kept), encoding="utf-8")
        return erased

    async def erase(self, external_ids: Collection[str]) -> int:
        """Drop the request bodies of these sent messages (by wamid) from the file."""
        if not external_ids or not self.path.exists():
            return 0
        return await asyncio.to_thread(self._erase, external_ids)
