"""The fake WhatsApp Cloud (Graph) API, the webhook payloads Meta sends, and the rig that runs an app on
them."""
