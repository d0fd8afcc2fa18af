"""Where an interrupted or stopped session can continue: pure, from journal records and a plan."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from voicecoach.events import Side
from voicecoach.journal.records import SessionRecord
from voicecoach.program import Exercise, Program

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
            for side in _sides(exercise)
        }
        unfinished, side = _next_side(exercise, left, done)
        if unfinished:
            reps_done = done[(exercise.id, side)]
            return ResumePoint(last.id, exercise.id, index, side, reps_done, reason, last.ended)
    return None


def _sides(exercise: Exercise) -> tuple[Side | None, ...]:
    return (None,) if exercise.sides == "none" else ("right", "left")


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
