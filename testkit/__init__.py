"""Threadline's testing kit: what the tests and the benchmarks share (servers, fakes, settings, rigs).

The product packages (``threadline``, ``adapters``, ``bot``, ``storage``) never import it (an import-linter
contract in pyproject.toml); ``tests/`` and ``bench/`` do.
"""
