"""Privacy: export what is stored about a contact, forget a contact, redact its mirrored posts."""
