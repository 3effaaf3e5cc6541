"""The WhatsApp channel (Cloud API): signed webhooks in, Graph API messages out."""

from adapters.whatsapp.channel import WhatsAppChannel, to_inbound
from adapters.whatsapp.graph import GraphClient, graph_error
from adapters.whatsapp.payload import parse_webhook
from adapters.whatsapp.sender import WhatsAppSender, split_text
from adapters.whatsapp.webhook import SIGNATURE_HEADER, WebhookReceiver, sign_body, verify_signature

__all__ = [
    "SIGNATURE_HEADER",
    "GraphClient",
    "WebhookReceiver",
    "WhatsAppChannel",
    "WhatsAppSender",
    "graph_error",
    "parse_webhook",
    "sign_body",
    "split_text",
    "to_inbound",
    "verify_signature",
]
