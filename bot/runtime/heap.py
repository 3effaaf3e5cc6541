"""The garbage collector's view of a long-running process."""

from __future__ import annotations

import gc

__all__ = ["settle"]


def settle() -> None:
    """Freeze what startup allocated (modules, mappers, settings) so full collections skip it.

    Without this, each full collection rescans the whole startup heap; under an ingest
    burst that showed as 30-80 ms pauses, the whole of the p99 (docs/benchmarks.md).
    """
    gc.collect()
    gc.freeze()
