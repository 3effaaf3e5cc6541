"""Adapters: channel (customer-side) and surface (team-side) translations to and from the core."""
