"""What the journal gives back: session summaries, and whole sessions with every rep and report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from voicecoach.events import PlannedDose, Side


class ExerciseTotal(TypedDict):
    """Reps done of one exercise on one side; ``hold_seconds`` is the total time held."""

    exercise: str
    side: str | None
    reps: int
    hold_seconds: float


class PainEntry(TypedDict):
    """One pain report; ``score`` is 0-10, or None when no number was given."""

    exercise: str | None
    side: str | None
    rep: int
    score: int | None


@dataclass(frozen=True)
class SessionSummary:
    """One session as listed by the journal; ``duration_s`` is None only while it is running."""

    id: int
    program: str
    started_at: str
    end_reason: str | None
    duration_s: float | None
    reps_done: int
    exercises: list[ExerciseTotal]
    pain: list[PainEntry]
    #: Whether ``voicecoach simulate`` ran it rather than a person.
    simulated: bool = False

    def to_json(self) -> dict[str, Any]:
        """The session as a JSON-ready dict."""
        return {
            "id": self.id,
            "program": self.program,
            "started_at": self.started_at,
            "end_reason": self.end_reason,
            "duration_s": self.duration_s,
            "reps_done": self.reps_done,
            "exercises": [dict(e) for e in self.exercises],
            "pain": [dict(p) for p in self.pain],
            "simulated": self.simulated,
        }


@dataclass(frozen=True)
class JournalEvent:
    """A command the session acted on; ``t`` is seconds since the session started."""

    t: float
    kind: str
    state: str


@dataclass(frozen=True)
class RepRecord:
    """One rep done; ``t`` is session seconds and ``hold_seconds`` the seconds held in it."""

    t: float
    exercise: str
    side: Side | None
    set: int
    rep: int
    hold_seconds: float


@dataclass(frozen=True)
class PainRecord:
    """One pain report; ``score`` is 0-10, or None for numbness, tingling or no answer."""

    t: float
    exercise: str | None
    side: Side | None
    rep: int
    score: int | None
    symptom: str | None


@dataclass(frozen=True)
class SessionRecord:
    """One session with everything recorded in it; ``end_reason`` is None while it runs."""

    id: int
    program: str
    title: str
    #: The start time as the session gave it (ISO-8601), and the same instant, time-zone aware.
    started_at: str
    started: datetime
    end_reason: str | None
    duration_s: float | None
    #: The 0-10 answer to "how is your back now?" at the end, if one was given.
    rating: int | None
    #: The session this one continued, when it was a resumed session.
    resumed_from: int | None
    reps: tuple[RepRecord, ...] = ()
    pain: tuple[PainRecord, ...] = ()
    commands: tuple[JournalEvent, ...] = ()
    #: Empty for sessions recorded before planned doses were kept.
    planned: tuple[PlannedDose, ...] = ()
    #: Whether ``voicecoach simulate`` ran it rather than a person.
    simulated: bool = False

    @property
    def ended(self) -> datetime:
        """When the session ended (its start while it still runs)."""
        return self.started + timedelta(seconds=self.duration_s or 0.0)

    def did(self, exercise: str) -> bool:
        """Whether at least one rep of ``exercise`` was done."""
        return any(r.exercise == exercise for r in self.reps)

    def pain_scores(self, exercise: str) -> tuple[int | None, ...]:
        """The scores reported during ``exercise``, in order (None: numbness or no answer)."""
        return tuple(p.score for p in self.pain if p.exercise == exercise)
