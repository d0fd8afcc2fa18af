"""The four small hardware interfaces; each has real adapters and in-package fakes.

Every port is a context manager: resources are acquired in ``__enter__`` and always released in
``__exit__``, so Ctrl-C or a lost device never leaves a stream open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self

from voicecoach.audio.frames import Samples

#: Told (phrases done, phrases in all) after each phrase is rendered ahead.
ProgressFn = Callable[[int, int], None]


class _Managed(Protocol):
    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


class Unmanaged:
    """Context-manager lifecycle for adapters that hold no resource (fakes, the room)."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class Microphone(_Managed, Protocol):
    """A source of 20 ms frames at 16 kHz."""

    def read(self) -> Samples | None:
        """The next FRAME_SAMPLES frame; blocks for live devices; None when the input has ended."""
        ...


class Speaker(_Managed, Protocol):
    """A sink of 20 ms frames at 16 kHz; the runner writes silence when the coach is quiet."""

    def play(self, frame: Samples) -> None:
        """Queue one frame for output."""
        ...


class Synthesizer(_Managed, Protocol):
    """Turns text into 16 kHz mono samples; never plays anything itself."""

    def render(self, text: str) -> Samples:
        """The utterance as samples (cached where the adapter can)."""
        ...

    def prerender(self, texts: Iterable[str], progress: ProgressFn | None = None) -> None:
        """Render ahead of time so that a later ``render`` is instant."""
        ...


@dataclass(frozen=True)
class Hit:
    """Words a recognizer accepted.

    ``end_seconds`` is when the words ended, in seconds since the first frame fed (None when
    unknown); ``confidence`` is 0..1; ``partial`` marks early evidence, before the endpoint.
    """

    text: str
    confidence: float
    end_seconds: float | None
    partial: bool = False
    #: Set when the evidence is real but not sure: the safety phrase ``text`` may be ("" when
    #: the person was heard but not understood). The session then stops and asks.
    unsure_of: str | None = None


class Recognizer(_Managed, Protocol):
    """Listens to frames for the command vocabulary of ``voicecoach.commands``."""

    name: str

    def feed(self, frame: Samples) -> list[Hit]:
        """Consume one frame; return words accepted on it (usually none)."""
        ...

    def reset(self) -> None:
        """Forget the current utterance (after a command is acted on)."""
        ...

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Listen for commands, plus the pain-scale numbers zero to ten and the symptoms "numb"
        and "tingling" (``commands.SYMPTOMS``) with ``numbers``, plus the answers "yes" and
        "start over" (``commands.ANSWERS``) with ``answers``.

        Both are off by default: the coach's hold counts are numbers, "numb" is heard in
        ordinary speech, and the answers mean nothing outside the question. The session turns
        each on only while it asks for it.
        """
        ...
