"""voicecoach: a voice-guided, hands-free, offline exercise session player for lower back pain."""

from __future__ import annotations

__version__ = "0.1.0"
