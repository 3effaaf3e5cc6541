"""Threadline: a shared support inbox that lives in chat threads.

The core (domain, commands, ingest, actions, outbox, views) imports no chat or
channel library; adapters translate platforms to and from it, storage owns the
database. ``threadline.app`` is the one composition root and ``threadline.cli`` the command line.
"""
