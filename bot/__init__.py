"""Threadline: a shared support inbox that lives in chat threads.

The core (domain, commands, ingest, actions, outbox, views) imports no chat or
channel library; adapters translate platforms to and from it, storage owns the
database. ``bot.app`` is the one composition root and ``bot.cli`` the command line.
"""
