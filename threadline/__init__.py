"""Threadline's composition root: the app builder, the configuration of every adapter, the CLI.

Only this package knows both the core (``bot``) and the adapters; it builds them from the
configuration and runs them. See docs/architecture.md for the layers.
"""
