"""The single source of session time: monotonic when live, virtual in simulation."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Seconds since the session started."""

    def start(self) -> None:
        """Session time is zero now: the runner calls this as its loop takes the first frame."""
        ...

    def now(self) -> float:
        """The current session time in seconds."""
        ...

    def frame_elapsed(self, seconds: float) -> None:
        """Told after each audio frame; a virtual clock advances, a real one ignores it."""
        ...

    def pace(self, seconds: float) -> None:
        """Wait out a frame when no device paces the loop (the microphone is lost)."""
        ...


class MonotonicClock:
    """Real time from ``time.monotonic``, immune to wall-clock changes."""

    def __init__(self) -> None:
        self._start = time.monotonic()

    def start(self) -> None:
        """Count from now. Rendering and opening devices happen between construction and the
        first frame; counting from construction would put every event that much later than
        the audio it belongs to (1.5 s measured on a PulseAudio loop)."""
        self._start = time.monotonic()

    def now(self) -> float:
        """Seconds since ``start`` (or construction, before it)."""
        return time.monotonic() - self._start

    def frame_elapsed(self, seconds: float) -> None:
        """Real time moves by itself; the audio device paces the loop."""

    def pace(self, seconds: float) -> None:
        """Sleep for a frame, since no microphone read is blocking for it."""
        time.sleep(seconds)


class VirtualClock:
    """Time that moves only when audio frames are processed, so simulations are exact."""

    def __init__(self) -> None:
        self._frames = 0
        self._frame_seconds = 0.0

    def start(self) -> None:
        """Count frames from zero."""
        self._frames = 0

    def now(self) -> float:
        """Seconds of audio processed so far."""
        # Counting frames rather than summing floats keeps t=150.0 exact after 7,500 frames.
        return self._frames * self._frame_seconds

    def frame_elapsed(self, seconds: float) -> None:
        """Advance by one frame of ``seconds``."""
        self._frame_seconds = seconds
        self._frames += 1

    def pace(self, seconds: float) -> None:
        """Virtual time never waits."""
