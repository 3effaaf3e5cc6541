"""Real mail servers on loopback (Dovecot, an aiosmtpd sink, an OAuth identity provider stand-in), a
recording ingest and sample mail."""
