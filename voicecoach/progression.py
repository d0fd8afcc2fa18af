"""Today's dose of each exercise, from its base dose and the journal: pure functions only.

The rules replay an exercise's history, oldest session first, moving a ``level`` in steps:

- a break of more than ``BREAK_DAYS`` days before a session (or before today) costs one step;
- a pain report of 4 or 5 on the exercise costs one step, 6 or more (or numbness, tingling or
  no answer) two steps, and keeps the exercise easy until two comfortable sessions have passed;
- ``sessions_per_step`` comfortable sessions in a row (completed, the exercise done, no pain
  above 3 on it) earn one step up, except while easy;
- anything else (the exercise not done, or the session stopped or interrupted without pain on
  it) leaves the level and the run of comfortable sessions as they were.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from voicecoach.commands import PHRASES, normalize
from voicecoach.plan import number_words
from voicecoach.program import Exercise, Program, Progression

if TYPE_CHECKING:
    from voicecoach.history import SessionRecord

_LOGGER = logging.getLogger(__name__)

#: Pain scores up to this are the green band: the session still counts as comfortable.
GREEN_MAX = 3
#: Scores from here go back one step.
AMBER_MIN = 4
#: Scores from here (and reports without a number) go back two steps and keep it easy.
RED_MIN = 6
#: Comfortable sessions an exercise stays easy after a red pain report.
EASY_SESSIONS = 2
#: More days than this between sessions costs one step.
BREAK_DAYS = 7
#: What a report without a number counts as: numbness, tingling or no answer is severe.
UNSCORED_PAIN = 10

#: Defaults when an exercise has no ``progression`` table.
DEFAULT_REPS_STEP = 1
DEFAULT_HOLD_STEP_SECONDS = 2.0
DEFAULT_HOLD_CAP_SECONDS = 60.0
DEFAULT_SESSIONS_PER_STEP = 3


@dataclass(frozen=True)
class PastSession:
    """One earlier session of the program, as one exercise saw it."""

    started: datetime
    #: How the session ended: completed, stopped, pain, interrupted or error.
    end_reason: str
    #: Whether at least one rep of the exercise was done.
    done: bool
    #: Pain scores reported during the exercise; None is numbness, tingling or no answer.
    pain_scores: tuple[int | None, ...] = ()


@dataclass(frozen=True)
class Dose:
    """Today's dose of one exercise, ``level`` steps from its base dose, and why."""

    exercise_id: str
    reps: int
    hold_seconds: float
    level: int
    easy: bool
    reason: str
    #: Whether the reps or hold differ from the last session's, or the exercise just became easy.
    changed: bool

    def to_json(self) -> dict[str, object]:
        """The dose as a JSON-ready dict."""
        return {
            "exercise": self.exercise_id,
            "reps": self.reps,
            "hold_seconds": self.hold_seconds,
            "level": self.level,
            "easy": self.easy,
            "changed": self.changed,
            "reason": self.reason,
        }


def effective_progression(exercise: Exercise) -> Progression:
    """The exercise's progression table, with every missing limit filled in by the defaults."""
    hold = exercise.hold_seconds
    table = exercise.progression
    if table is None:
        return Progression(
            reps_step=DEFAULT_REPS_STEP,
            hold_step_seconds=DEFAULT_HOLD_STEP_SECONDS if hold > 0 else 0.0,
            reps_max=2 * exercise.reps,
            hold_max_seconds=max(hold, min(2 * hold, DEFAULT_HOLD_CAP_SECONDS)),
            sessions_per_step=DEFAULT_SESSIONS_PER_STEP,
        )
    return replace(
        table,
        reps_max=exercise.reps if table.reps_max is None else table.reps_max,
        hold_max_seconds=hold if table.hold_max_seconds is None else table.hold_max_seconds,
    )


class _Ladder:
    """The doses of one exercise by level, between its floor and its ceiling."""

    def __init__(self, exercise: Exercise) -> None:
        self.exercise = exercise
        self.table = effective_progression(exercise)
        self.hold_floor = 0.0 if exercise.hold_seconds == 0 else min(1.0, exercise.hold_seconds)
        reps_max = self.table.reps_max or exercise.reps
        hold_max = self.table.hold_max_seconds or exercise.hold_seconds
        up = [_steps(reps_max - exercise.reps, self.table.reps_step)]
        up.append(_steps(hold_max - exercise.hold_seconds, self.table.hold_step_seconds))
        down = [_steps(exercise.reps - 1, self.table.reps_step)]
        down.append(_steps(exercise.hold_seconds - self.hold_floor, self.table.hold_step_seconds))
        self.top = max(up)
        self.bottom = -max(down)

    def clamp(self, level: int) -> int:
        """The level kept between the floor and the ceiling."""
        return max(self.bottom, min(self.top, level))

    def dose(self, level: int) -> tuple[int, float]:
        """Reps and hold seconds at ``level``."""
        ex, table = self.exercise, self.table
        reps = ex.reps + level * table.reps_step
        reps = max(1, min(table.reps_max or ex.reps, reps))
        hold = ex.hold_seconds + level * table.hold_step_seconds
        hold = max(self.hold_floor, min(table.hold_max_seconds or ex.hold_seconds, hold))
        return reps, round(hold, 1)


def _steps(distance: float, step: float) -> int:
    """Whole steps needed to cover ``distance`` (0 when the dose does not move)."""
    if step <= 0 or distance <= 0:
        return 0
    return math.ceil(distance / step - 1e-9)


@dataclass
class _Walk:
    """The state of the replay: level, easy sessions left, comfortable run, and the reasons."""

    ladder: _Ladder
    level: int = 0
    easy_left: int = 0
    run: int = 0
    last_started: datetime | None = None
    reasons: tuple[str, ...] = ()

    def move(self, steps: int, cause: str, then: str = "") -> None:
        """Move ``steps`` (within the ladder), restart the run, and say why."""
        before = self.level
        self.level = self.ladder.clamp(self.level + steps)
        self.run = 0
        moved = self.level - before
        if moved == 0:
            effect = "already at the lowest dose" if steps < 0 else "already at the top"
        else:
            effect = f"{'up' if moved > 0 else 'down'} {_STEP_WORDS.get(abs(moved), 'more')} step"
            effect += "s" if abs(moved) > 1 else ""
        self.reasons += (f"{cause}: {effect}{then}.",)

    def take_break(self, at: datetime) -> None:
        """One step lower after more than ``BREAK_DAYS`` days without a session."""
        if self.last_started is None:
            return
        gap = at - self.last_started
        if gap > timedelta(days=BREAK_DAYS):
            self.move(-1, f"A break of {gap.days} days")

    def session(self, past: PastSession) -> None:
        """Apply what happened in one session to the exercise."""
        # Only the last session's outcome explains today's dose; earlier ones are in the level.
        self.reasons = ()
        scores = [UNSCORED_PAIN if s is None else s for s in past.pain_scores]
        worst = max(scores, default=0)
        if worst >= RED_MIN:
            self.easy_left = EASY_SESSIONS
            easy = f", and easy for {EASY_SESSIONS} comfortable sessions"
            self.move(-2, _red_cause(past.pain_scores), easy)
        elif worst >= AMBER_MIN:
            self.move(-1, f"Pain of {worst} on it last time")
        elif past.done and past.end_reason == "completed":
            self._comfortable()

    def _comfortable(self) -> None:
        needed = self.ladder.table.sessions_per_step
        if self.easy_left > 0:
            self.easy_left -= 1
            return
        self.run += 1
        if self.run >= needed and self.level < self.ladder.top:
            self.move(+1, f"{needed} comfortable sessions in a row")

    def steady_reason(self) -> str:
        """Why the dose stays as it was."""
        needed = self.ladder.table.sessions_per_step
        if self.easy_left > 0:
            more = self.easy_left
            return f"Kept easy: {more} more comfortable session{'s' if more > 1 else ''} to go."
        if self.level >= self.ladder.top and self.ladder.top > 0:
            return "At the top of its progression."
        if self.level >= self.ladder.top:
            return "This exercise does not progress."
        return f"Steady: {min(self.run, needed)} of {needed} comfortable sessions toward a step up."


_STEP_WORDS = {1: "one", 2: "two"}


def _red_cause(scores: tuple[int | None, ...]) -> str:
    if any(s is None for s in scores):
        what = "Numbness, tingling or an unanswered pain check"
    else:
        what = f"Pain of {max(s for s in scores if s is not None)}"
    return f"{what} on it last time"


def _aware(moment: datetime) -> datetime:
    """A naive time is taken as local time, so that it compares with journal times."""
    return moment if moment.tzinfo is not None else moment.astimezone()


def todays_dose(exercise: Exercise, history: Sequence[PastSession], today: datetime) -> Dose:
    """The dose of ``exercise`` for a session starting at ``today``, from its history."""
    walk = _Walk(_Ladder(exercise))
    last: tuple[int, float, bool] | None = None
    for past in sorted(history, key=lambda p: _aware(p.started)):
        started = _aware(past.started)
        walk.take_break(started)
        last = (*walk.ladder.dose(walk.level), walk.easy_left > 0)
        walk.session(past)
        walk.last_started = started
    if last is not None:
        # The last session's outcome and today's break together explain today's change.
        walk.take_break(_aware(today))
    reps, hold_seconds = walk.ladder.dose(walk.level)
    easy = walk.easy_left > 0
    if last is None:
        reason = "No sessions yet: the program's dose."
    else:
        reason = " ".join(walk.reasons) or walk.steady_reason()
    changed = last is not None and ((reps, hold_seconds) != last[:2] or (easy and not last[2]))
    return Dose(exercise.id, reps, hold_seconds, walk.level, easy, reason, changed)


def histories(
    records: Sequence[SessionRecord],
    program: Program,
    *,
    before: datetime | None = None,
    simulated: bool = False,
) -> dict[str, list[PastSession]]:
    """Each exercise's history from the journal's finished sessions of ``program``.

    Only sessions started before ``before`` count, so a session back-filled on an earlier date
    takes its dose from what came before it. Simulated sessions count only for a simulated one:
    a rehearsal never moves a person's real dose.
    """
    finished = [
        r
        for r in records
        if r.end_reason is not None
        and r.program == program.name
        and (simulated or not r.simulated)
        and (before is None or r.started < _aware(before))
    ]
    return {
        exercise.id: [
            PastSession(
                r.started, r.end_reason or "", r.did(exercise.id), r.pain_scores(exercise.id)
            )
            for r in finished
        ]
        for exercise in program.exercises
    }


def personal_program(
    program: Program, history_by_exercise: Mapping[str, Sequence[PastSession]], today: datetime
) -> tuple[Program, list[Dose]]:
    """``program`` with today's dose of every exercise, and those doses in program order."""
    doses = [todays_dose(ex, history_by_exercise.get(ex.id, ()), today) for ex in program.exercises]
    exercises = tuple(
        replace(ex, reps=dose.reps, hold_seconds=dose.hold_seconds)
        for ex, dose in zip(program.exercises, doses, strict=True)
    )
    return replace(program, exercises=exercises), doses


# -- announcements ----------------------------------------------------------------------------

_COMMAND_PHRASES = tuple(p for phrases in PHRASES.values() for p in phrases)
# "next" alone is not a command, but the recognizer may still take it for "next exercise".
_RISKY_WORDS = ("next",)


def announcements(doses: Sequence[Dose], program: Program) -> list[str]:
    """One short spoken sentence for each exercise whose dose changed today, in program order."""
    by_id = {exercise.id: exercise for exercise in program.exercises}
    sentences = []
    for position, dose in enumerate(doses, start=1):
        exercise = by_id.get(dose.exercise_id)
        if not dose.changed or exercise is None:
            continue
        sentence = _announcement(dose, exercise, f"the {exercise.name.lower()}")
        if says_a_command(sentence):
            # The coach's own voice must not trigger the listener; leave the name out.
            sentence = _announcement(dose, exercise, f"exercise {number_words(position)}")
        sentences.append(sentence)
    return sentences


def _announcement(dose: Dose, exercise: Exercise, name: str) -> str:
    if dose.easy:
        return f"We'll keep {name} easy today."
    table = effective_progression(exercise)
    each_side = " on each side" if exercise.sides != "none" else ""
    each_set = " in each set" if exercise.sets > 1 else ""
    times = (
        ("once" if dose.reps == 1 else f"{number_words(dose.reps)} times") + each_side + each_set
    )
    hold = f"for {_seconds(dose.hold_seconds)}"
    # Say what the exercise's steps move: its hold, its reps, or both.
    holds = table.hold_step_seconds > 0 and dose.hold_seconds > 0
    if holds and table.reps_step == 0:
        return f"Today we'll hold {name} {hold}."
    if holds:
        return f"Today we'll do {name} {times}, and hold it {hold}."
    return f"Today we'll do {name} {times}."


def _seconds(seconds: float) -> str:
    if seconds == int(seconds):
        whole = int(seconds)
        return f"{number_words(whole)} second{'s' if whole != 1 else ''}"
    return f"{seconds:g} seconds"


def says_a_command(text: str) -> bool:
    """Whether ``text`` holds a command phrase (or a word the recognizer may take for one)."""
    padded = f" {normalize(text)} "
    return any(f" {p} " in padded for p in (*_COMMAND_PHRASES, *_RISKY_WORDS))
