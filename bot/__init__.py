"""Threadline's core: a shared support inbox that lives in chat threads.

The core imports no chat or channel library and no adapter; adapters translate platforms
to and from it, storage owns the database, and ``threadline`` (the composition root) wires
them together. The layers and where each kind of change goes: docs/architecture.md.
"""
