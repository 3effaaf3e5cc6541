"""Agent commands: the one grammar every surface shares, and the service that applies a command.

``grammar`` turns text into a typed command; ``service.CommandService`` checks and applies it in
one transaction and answers the agent; ``help``, ``listing`` and ``suggest`` answer read-only questions.
"""
