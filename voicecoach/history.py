"""The history of sessions: what the journal gives back, and where an unfinished one goes on.

Pure: the journal reads these from its file; progression, reports and resuming read them. A
session's reps and pain reports are the very events the session published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypedDict

from voicecoach.events import PainReported, PlannedDose, RepDone, Side
from voicecoach.program import Exercise, Program, sides_of


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

    def to_json(self) -> dict[str, object]:
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
    reps: tuple[RepDone, ...] = ()
    pain: tuple[PainReported, ...] = ()
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


#: How a session must have ended for the next one to offer to continue it.
RESUMABLE_REASONS = ("interrupted", "stopped")
#: How recently it must have ended.
RESUME_WITHIN = timedelta(hours=2)


@dataclass(frozen=True)
class ResumePoint:
    """The next unfinished exercise and side of an unfinished session.

    ``session_id`` is the session to continue (link the new one to it); ``reps_done`` counts
    the reps of this exercise already done on this side, over that session and any it resumed.
    ``side`` is None for an exercise without sides; for one done in blocks, "left" means the
    right-side blocks are done (``build_plan(start_exercise=..., start_side=...)`` takes both).
    """

    session_id: int
    exercise: str
    exercise_index: int
    side: Side | None
    reps_done: int
    end_reason: str
    ended: datetime


def resume_point(
    chain: Sequence[SessionRecord],
    program: Program,
    now: datetime,
    within: timedelta = RESUME_WITHIN,
) -> ResumePoint | None:
    """Where to continue ``program``, or None.

    ``chain`` is the program's last session first, then each session it resumed in turn. Reps
    planned come from the first session's recorded plan, else from ``program``.
    """
    if not chain:
        return None
    last = chain[0]
    reason = last.end_reason
    if reason is None or reason not in RESUMABLE_REASONS:
        return None
    # A clock set back a little must not hide the offer.
    if now - last.ended >= within or last.ended - now >= within:
        return None
    done = Counter((r.exercise, r.side) for session in chain for r in session.reps)
    planned = {(p.exercise, p.side): p.reps for p in chain[-1].planned}
    for index, exercise in enumerate(program.exercises):
        left = {
            side: planned.get((exercise.id, side), exercise.reps * exercise.sets)
            - done[(exercise.id, side)]
            for side in sides_of(exercise)
        }
        unfinished, side = _next_side(exercise, left, done)
        if unfinished:
            reps_done = done[(exercise.id, side)]
            return ResumePoint(last.id, exercise.id, index, side, reps_done, reason, last.ended)
    return None


def _next_side(
    exercise: Exercise, left: dict[Side | None, int], done: Counter[tuple[str, Side | None]]
) -> tuple[bool, Side | None]:
    """Whether the exercise has reps left, and the side to continue on."""
    unfinished = [side for side, n in left.items() if n > 0]
    if not unfinished:
        return False, None
    if exercise.sides == "alternate" and len(unfinished) == 2:
        # Alternating goes right, left, right...: the side with fewer reps done is next.
        ahead = done[(exercise.id, "right")] > done[(exercise.id, "left")]
        return True, "left" if ahead else "right"
    return True, unfinished[0]
