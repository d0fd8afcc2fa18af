"""The four small hardware interfaces; each has real adapters and in-package fakes.

Every port is a context manager: resources are acquired in ``__enter__`` and always released in
``__exit__``, so Ctrl-C or a lost device never leaves a stream open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Protocol, Self

from voicecoach.commands import Command, Parsed, choose, parse_all
from voicecoach.frames import Samples

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
    """Words a recognizer accepted, with the commands they hold.

    ``end_seconds`` is when the words ended, in seconds since the first frame fed (None when
    unknown); ``confidence`` is 0..1; ``partial`` marks early evidence, before the endpoint.
    A recognizer reports what it heard, whatever the session listens for: which of ``parsed``
    the session acts on is decided once, by ``command`` (``commands.choose``).
    """

    text: str
    confidence: float
    end_seconds: float | None
    partial: bool = False
    #: Set when the evidence is real but not sure: the safety phrase ``text`` may be ("" when
    #: the person was heard but not understood). The session then stops and asks.
    unsure_of: str | None = None
    #: Every command the words hold, safest first (``commands.parse_all``); for an unsure hit,
    #: the ones ``unsure_of`` holds.
    parsed: tuple[Parsed, ...] = field(default=(), kw_only=True)
    #: When the words began, on the ``end_seconds`` clock (None when the recognizer does not
    #: know): words that began after the coach fell quiet cannot be its echo.
    start_seconds: float | None = field(default=None, kw_only=True)

    @classmethod
    def of(
        cls,
        text: str,
        confidence: float,
        end_seconds: float | None,
        *,
        partial: bool = False,
        unsure_of: str | None = None,
        start_seconds: float | None = None,
    ) -> Hit:
        """A hit whose commands are read from its words (from ``unsure_of`` for an unsure one)."""
        said = text if unsure_of is None else unsure_of
        return cls(
            text, confidence, end_seconds, partial, unsure_of,
            parsed=parse_all(said), start_seconds=start_seconds,
        )  # fmt: skip

    @property
    def unsure(self) -> bool:
        """True for evidence worth a question only (``unsure_of``), never a command itself."""
        return self.unsure_of is not None

    def command(self, *, numbers: bool, answers: bool) -> Parsed | None:
        """What a session listening for numbers and answers (or not) acts on in this hit: None
        for words it does not listen for, and for an unsure hit (the runner asks about it)."""
        if self.unsure:
            return None
        return choose(self.parsed, numbers=numbers, answers=answers)

    def check(self) -> Parsed:
        """The question an unsure hit raises: a CHECK about the safety word it may be."""
        about = choose(self.parsed, numbers=False, answers=False)
        return Parsed(Command.CHECK, about=None if about is None else about.command)

    def ignored(self, *, numbers: bool, answers: bool) -> bool:
        """True for a sure hit that names only commands the session is not listening for: it is
        dropped as if unheard (words that name no command at all are still heard)."""
        return (
            not self.unsure
            and bool(self.parsed)
            and self.command(numbers=numbers, answers=answers) is None
        )


class CoachVoice(Protocol):
    """When the coach was talking: what the microphone hears then may be its echo."""

    def speaking(self, at: float) -> bool:
        """True if the coach was talking (or its echo ringing) at ``at`` (stream seconds)."""
        ...


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
