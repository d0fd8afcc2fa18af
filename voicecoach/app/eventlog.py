"""Listeners that write the session's events: JSON Lines for tools, a transcript for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import click

from voicecoach.errors import VoiceCoachError
from voicecoach.events import (
    BackRating,
    CommandHandled,
    DeviceChanged,
    Event,
    Heard,
    PainReported,
    SayStarted,
    SessionEnded,
    StateChanged,
    to_record,
)


class JsonLinesLog:
    """Writes one JSON object per event, flushed per line so a crash keeps what happened."""

    def __init__(self, path: Path, *, append: bool = False) -> None:
        self.path = path
        #: Add to an existing log (several sessions of ``serve``) instead of starting afresh.
        self.append = append
        self._file: IO[str] | None = None

    def __enter__(self) -> Self:
        try:
            self._file = self.path.open("a" if self.append else "w", encoding="utf-8")
        except OSError as err:
            raise VoiceCoachError(
                f"cannot write the event log {self.path}: {err.strerror}"
            ) from err
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def on_event(self, event: Event) -> None:
        """Append the event as a line."""
        if self._file is not None:
            self._file.write(json.dumps(to_record(event)) + "\n")
            self._file.flush()


class Transcript:
    """Prints what the coach says, what was heard and state changes, one timed line each.

    ``person`` is what a simulated person does, as (seconds, description): each is printed at
    its own time among the session's lines, whether or not anything was heard, so a word the
    recognizer missed shows as a line with no ``heard:`` after it.
    """

    def __init__(self, echo: bool = True, person: Sequence[tuple[float, str]] = ()) -> None:
        self.echo = echo
        self.lines: list[str] = []
        self._person = sorted(person, key=lambda item: item[0])

    def on_event(self, event: Event) -> None:
        """Print a readable line for the events a person cares about."""
        line = describe(event)
        if line is None:
            return
        self._person_until(event.t)
        self._print(event.t, line)
        if isinstance(event, SessionEnded):
            for at, said in self._person:
                self._print(at, f"{said} (after the end)")
            self._person = []

    def _person_until(self, t: float) -> None:
        while self._person and self._person[0][0] <= t:
            at, said = self._person.pop(0)
            self._print(at, said)

    def _print(self, t: float, line: str) -> None:
        text = f"{t:7.1f}s  {line}"
        self.lines.append(text)
        if self.echo:
            click.echo(text)


def describe(event: Event) -> str | None:
    """A short human description of an event, or None for events a person need not see."""
    match event:
        case SayStarted():
            return f"coach: {event.text}"
        case Heard():
            what = event.command or "no command"
            conf = "" if event.confidence is None else f" ({event.confidence:.2f})"
            return f"heard: {event.text!r} -> {what}{conf}"
        case StateChanged(state="setup"):
            return f"[exercise: {event.exercise}]"
        case StateChanged() if event.state in _NOTABLE_STATES:
            return f"[{event.state}]"
        case DeviceChanged():
            return f"[{event.device} {event.status}: {event.detail}]"
        case BackRating():
            return f"[back rating: {event.score}]"
        case PainReported():
            return f"[pain: {event.score if event.score is not None else event.symptom}]"
        case SessionEnded():
            return f"[end: {event.reason} after {event.duration:.0f} s]"
        case CommandHandled(ignored=True):
            return f"[ignored {event.command} while {event.state}]"
    return None


_NOTABLE_STATES = frozenset(
    {
        "paused",
        "paused_too_long",
        "pain_check",
        "checking",
        "stopped",
        "finished",
        "rating",
        "resume_offer",
    }
)
