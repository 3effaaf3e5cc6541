"""Typed settings models for the parts of the configuration file."""
