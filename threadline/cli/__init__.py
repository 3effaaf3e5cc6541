"""The ``threadline`` command line, one module per command group; ``main`` is the console script."""

from threadline.cli.main import main

__all__ = ["main"]
