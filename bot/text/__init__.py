"""Text utilities the adapters share: cutting text into pieces within a platform's limit.

``split.split_text`` is the one splitter; each adapter passes its limit, how its platform
counts length and its escaping rule (``adapters/slack/split.py``, ``adapters/discord/text.py``,
``adapters/whatsapp/sender.py``).
"""

from bot.text.split import char_units, fit, safe_cut, split_text, utf16_units

__all__ = ["char_units", "fit", "safe_cut", "split_text", "utf16_units"]
