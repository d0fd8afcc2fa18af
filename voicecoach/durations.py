"""Durations as people read them: ``m:ss``, the one form every command prints."""

from __future__ import annotations

import math

# Sums of step times land a hair under a whole second (76.99999999999999); that is 77 s.
_FLOAT_SLACK_SECONDS = 1e-6


def minutes_seconds(seconds: float | None, *, tenths: bool = False) -> str:
    """``m:ss`` (or ``m:ss.t``), always rounded down, so times that differ never print the same
    and a time never prints as later than it is; ``-`` for None."""
    if seconds is None:
        return "-"
    scale = 10 if tenths else 1
    units = math.floor(max(0.0, seconds) * scale + _FLOAT_SLACK_SECONDS)
    whole, fraction = divmod(units, scale)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}:{rest:02d}.{fraction}" if tenths else f"{minutes}:{rest:02d}"
