"""Nearest-rank percentiles, used by reports, digests and their charts."""

from __future__ import annotations

import math

__all__ = ["percentile"]


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank ``q`` percentile (0-100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]
