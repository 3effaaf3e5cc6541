"""The demo channel: sample customer conversations and a WhatsApp-shaped sender that writes to a file."""

from adapters.demo.feeder import SampleFeeder
from adapters.demo.whatsapp_file import WhatsAppFileSender

__all__ = ["SampleFeeder", "WhatsAppFileSender"]
