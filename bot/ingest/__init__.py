"""Ingest: what channels deliver (messages, delivery statuses) stored once, in batches, with cursors.

``service.Ingestor`` files a ``bot.ports.inbound.InboundMessage`` into its conversation; ``statuses`` applies
delivery receipts and ``bounces`` bounce reports; ``batching``, ``index`` and ``backlog`` keep bursts
fast and ordered; ``reused_ids`` tells a redelivered message from a different one that reuses its
external id. ``journal`` is the intake journal: deliveries committed before they are
acknowledged, then processed once.
"""
