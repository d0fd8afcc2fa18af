"""In-package adapters for simulation and tests, passed in through constructors like real ones."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Self

import numpy as np

from voicecoach.audio.frames import FRAME_SAMPLES, FRAME_SECONDS, Samples, silence
from voicecoach.plan import estimate_speech_seconds
from voicecoach.ports import Hit


class _NoResources:
    """Context-manager lifecycle for adapters that hold nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class SilentMicrophone(_NoResources):
    """A microphone in a silent room that never ends."""

    _FRAME = np.zeros(FRAME_SAMPLES, dtype=np.float32)

    def read(self) -> Samples:
        """One frame of silence."""
        return self._FRAME


class NullSpeaker(_NoResources):
    """A speaker that discards what it is given, counting frames for tests."""

    def __init__(self) -> None:
        self.frames_played = 0

    def play(self, frame: Samples) -> None:
        """Count the frame and drop it."""
        self.frames_played += 1


class EstimatedSynthesizer(_NoResources):
    """Silent 'speech' as long as the text would take to say, from its word count."""

    def __init__(self, rate_wpm: float = 160.0) -> None:
        self.rate_wpm = rate_wpm

    def render(self, text: str) -> Samples:
        """Silence of the estimated speaking time."""
        return silence(estimate_speech_seconds(text, self.rate_wpm))

    def prerender(self, texts: Iterable[str]) -> None:
        """Nothing to prepare: estimates are instant."""


class ScriptedRecognizer(_NoResources):
    """Hears given text at given stream times: the ``--heard T:TEXT`` of simulation."""

    name = "scripted"

    def __init__(self, script: Sequence[tuple[float, str]]) -> None:
        self._script = sorted(script)
        self._next = 0
        self._frames = 0
        self.numbers_expected = False

    def feed(self, frame: Samples) -> list[Hit]:
        """Release every scripted utterance whose time has come."""
        self._frames += 1
        now = self._frames * FRAME_SECONDS
        hits: list[Hit] = []
        while self._next < len(self._script) and self._script[self._next][0] <= now + 1e-9:
            at, text = self._script[self._next]
            hits.append(Hit(text, 1.0, at))
            self._next += 1
        return hits

    def reset(self) -> None:
        """Scripted text has no utterance state to forget."""

    def expect(self, numbers: bool) -> None:
        """Recorded so tests can see when the session asked for numbers."""
        self.numbers_expected = numbers
