"""Words the commands share when they print."""

from __future__ import annotations

#: How ``journal`` and ``report`` mark a session that ``voicecoach simulate`` ran.
SIMULATED_MARK = "simulated"
