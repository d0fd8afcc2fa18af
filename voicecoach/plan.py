"""Expand a program into the timeline of steps the session machine walks through."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from voicecoach.events import PlannedDose, Side
from voicecoach.program import Exercise, Position, Program, cue_for_side, sides_of
from voicecoach.spoken import (
    EMERGENCY_OPENING,
    HOW_TO_STOP,
    ROLL_OVER,
    ROLL_OVER_SECONDS,
    closing,
    count_every_seconds,
    count_schedule,
    transition,
)
from voicecoach.spoken import number_words as number_words

StepKind = Literal[
    "intro",
    "transition",
    "setup",
    "move",
    "count",
    "hold",
    "release",
    "rest",
    "side",
    "set",
    "summary",
]

#: The machine state each kind of step puts the session in (as written to the event log).
STATE_OF_KIND: dict[StepKind, str] = {
    "intro": "intro",
    # Changing position is the start of the next exercise, as its set-up is.
    "transition": "setup",
    "setup": "setup",
    "move": "move",
    "count": "hold",
    "hold": "hold",
    "release": "release",
    "rest": "rest",
    "side": "side_change",
    "set": "set_change",
    "summary": "summary",
}

#: Words per minute the duration estimate assumes, matching the default TTS rate.
ESTIMATE_RATE_WPM = 160.0


@dataclass(frozen=True)
class Step:
    """One step: the coach says ``text`` at its start, and it lasts at least ``seconds``.

    A step ends when both its ``seconds`` have passed and its speech has finished, so a hold
    count stays on schedule while a long set-up cue simply takes as long as it takes to say.
    ``restart`` is the index of the step to go back to on resume or repeat: the move cue for
    the steps of a hold, so that an interrupted hold starts again from its beginning.
    """

    kind: StepKind
    text: str
    seconds: float
    exercise: str | None = None
    exercise_index: int = -1
    set: int = 0
    side: Side | None = None
    rep: int = 0
    restart: int = 0
    #: Set on the step that completes a rep: the seconds held in that rep.
    completes_rep_hold_seconds: float | None = None

    @property
    def state(self) -> str:
        """The machine state while this step runs."""
        return STATE_OF_KIND[self.kind]


@dataclass(frozen=True)
class ExerciseTotal:
    """Planned reps and hold seconds of one exercise on one side (side None: no sides)."""

    exercise: str
    name: str
    side: Side | None
    reps: int
    hold_seconds: float


@dataclass(frozen=True)
class Plan:
    """The expanded program: its steps and totals."""

    program: Program
    steps: tuple[Step, ...]
    totals: tuple[ExerciseTotal, ...]
    total_seconds: float

    @property
    def total_reps(self) -> int:
        """Reps over every exercise and side."""
        return sum(t.reps for t in self.totals)

    @property
    def planned(self) -> tuple[PlannedDose, ...]:
        """The reps and per-rep hold planned for every exercise and side, as history keeps them."""
        index_of = {exercise.id: i for i, exercise in enumerate(self.program.exercises)}
        return tuple(
            PlannedDose(
                total.exercise,
                index_of[total.exercise],
                total.side,
                total.reps,
                total.hold_seconds / total.reps if total.reps else 0.0,
            )
            for total in self.totals
        )


def estimate_speech_seconds(text: str, rate_wpm: float = ESTIMATE_RATE_WPM) -> float:
    """How long saying ``text`` takes, from its word count, until real audio lengths are known."""
    words = len(text.split())
    if words == 0:
        return 0.0
    # A short lead-in and the pauses at sentence ends make short phrases longer than words alone.
    sentences = max(1, sum(text.count(c) for c in ".?!"))
    return 0.15 + words * 60.0 / rate_wpm + 0.25 * (sentences - 1)


def build_plan(
    program: Program,
    speech_seconds: Callable[[str], float] = estimate_speech_seconds,
    notes: Sequence[str] = (),
    *,
    start_exercise: str | None = None,
    start_side: Side | None = None,
) -> Plan:
    """Expand ``program`` into steps, with the intro and closing summary.

    ``notes`` are said once after the safety note, e.g. today's change of dose. A plan that
    resumes an unfinished session starts at ``start_exercise`` (and, for exercises done in
    blocks, at ``start_side``); the intro and its safety note are always kept.
    """
    intro = list(_intro_steps(program, notes))
    first = _exercise_index(program, start_exercise)
    steps = intro + steps_from(program, first, offset=len(intro), first_side=start_side)
    total = sum(step_seconds(s, speech_seconds(s.text)) for s in steps)
    return Plan(program, tuple(steps), tuple(exercise_totals(program)), total)


def step_seconds(step: Step, speech_seconds: float) -> float:
    """How long a step takes: a count keeps its schedule, other steps pause after speaking."""
    if step.kind == "count" or not step.text:
        return max(step.seconds, speech_seconds)
    return speech_seconds + step.seconds


def steps_from(
    program: Program,
    first_exercise: int,
    *,
    offset: int = 0,
    gentle: bool = False,
    first_side: Side | None = None,
) -> list[Step]:
    """Steps from exercise ``first_exercise`` to the summary, to stand at index ``offset``.

    ``gentle`` eases every dose, for the rest of a session after moderate pain.
    """
    steps: list[Step] = []
    for index in range(first_exercise, len(program.exercises)):
        exercise = program.exercises[index]
        dose = gentler(exercise) if gentle else exercise
        side = first_side if index == first_exercise else None
        before = program.exercises[index - 1].position if index > 0 else None
        steps.extend(_exercise_steps(dose, index, offset + len(steps), side, before))
    last = program.exercises[-1].position
    steps.append(Step("summary", closing(last), 2.0, restart=offset + len(steps)))
    return steps


def gentler(exercise: Exercise) -> Exercise:
    """An easier dose after moderate pain: fewer reps and sets, shorter holds."""
    return replace(
        exercise,
        reps=max(1, math.ceil(exercise.reps / 2)),
        sets=1,
        hold_seconds=float(math.ceil(exercise.hold_seconds * 0.6))
        if exercise.hold_seconds
        else 0.0,
    )


def exercise_totals(program: Program) -> list[ExerciseTotal]:
    """Planned reps and hold seconds per exercise and side."""
    totals: list[ExerciseTotal] = []
    for ex in program.exercises:
        for side in sides_of(ex):
            reps = ex.reps * ex.sets
            totals.append(ExerciseTotal(ex.id, ex.name, side, reps, reps * ex.hold_seconds))
    return totals


def _intro_steps(program: Program, notes: Sequence[str]) -> Iterator[Step]:
    texts = [
        f"Welcome. This is {program.title}.",
        program.safety_note,
        EMERGENCY_OPENING,
        HOW_TO_STOP,
        *notes,
    ]
    for index, text in enumerate(texts):
        yield Step("intro", text, 0.5 if index == 0 else 1.0, restart=index)


def _rep_order(exercise: Exercise) -> list[tuple[Side | None, int]]:
    """The (side, rep) sequence of one set: alternating sides, or all right then all left."""
    reps = range(1, exercise.reps + 1)
    if exercise.sides == "none":
        return [(None, r) for r in reps]
    if exercise.sides == "alternate":
        return [(side, r) for r in reps for side in ("right", "left")]
    return [(side, r) for side in ("right", "left") for r in reps]


class _Builder:
    """Appends the steps of one exercise, numbering restarts in the whole step list."""

    def __init__(self, exercise: Exercise, index: int, offset: int) -> None:
        self.exercise = exercise
        self.index = index
        self.offset = offset
        self.steps: list[Step] = []

    @property
    def next_index(self) -> int:
        """The absolute index the next added step will have."""
        return self.offset + len(self.steps)

    def add(
        self,
        kind: StepKind,
        text: str,
        seconds: float,
        where: tuple[int, Side | None, int] = (0, None, 0),
        *,
        restart: int | None = None,
        completes_rep_hold_seconds: float | None = None,
    ) -> None:
        """Append a step; ``where`` is (set, side, rep)."""
        set_number, side, rep = where
        self.steps.append(
            Step(
                kind,
                text,
                seconds,
                self.exercise.id,
                self.index,
                set_number,
                side,
                rep,
                self.next_index if restart is None else restart,
                completes_rep_hold_seconds,
            )
        )


def _exercise_index(program: Program, exercise_id: str | None) -> int:
    if exercise_id is None:
        return 0
    for index, exercise in enumerate(program.exercises):
        if exercise.id == exercise_id:
            return index
    raise ValueError(f"no exercise {exercise_id!r} in program {program.name!r}")


def _exercise_steps(
    exercise: Exercise,
    index: int,
    offset: int,
    first_side: Side | None = None,
    before: Position | None = None,
) -> list[Step]:
    """A change of position from ``before``, set-up cues, then every set and rep.

    With ``first_side`` "left" an exercise done in blocks skips its right-side blocks: they
    were done before an interrupted session ended.
    """
    build = _Builder(exercise, index, offset)
    if before is not None and before != exercise.position:
        text, seconds = transition(before, exercise.position)
        build.add("transition", exercise.transition or text, seconds)
    for n, sentence in enumerate(exercise.setup + exercise.safety):
        build.add("setup", f"{exercise.name}. {sentence}" if n == 0 else sentence, 0.5)
    for set_number in range(1, exercise.sets + 1):
        if set_number > 1:
            rest = exercise.rest_between_sets_seconds
            build.add("rest", f"Rest for {_seconds_words(rest)}.", rest, (set_number - 1, None, 0))
            build.add("set", f"Set {set_number} of {exercise.sets}.", 0.5, (set_number, None, 0))
        _add_set(build, set_number, first_side)
    return build.steps


def _add_set(build: _Builder, set_number: int, first_side: Side | None) -> None:
    exercise = build.exercise
    order = _rep_order(exercise)
    if first_side == "left" and exercise.sides == "blocks":
        order = [(side, rep) for side, rep in order if side == "left"]
    previous_side: Side | None = None
    for position, (side, rep) in enumerate(order):
        where = (set_number, side, rep)
        if exercise.sides == "blocks" and side != previous_side:
            build.add("side", *_side_change(build, side), where)
        previous_side = side
        _add_rep(build, where)
        if position < len(order) - 1 and exercise.rest_between_reps_seconds > 0:
            build.add("rest", "", exercise.rest_between_reps_seconds, where)


def _side_change(build: _Builder, side: Side | None) -> tuple[str, float]:
    """Naming the side; lying on it, after the other side, means rolling over first."""
    turns = build.exercise.position == "side-lying" and any(s.kind == "side" for s in build.steps)
    if turns:
        return f"Now the {side} side. {ROLL_OVER.format(side=side)}", ROLL_OVER_SECONDS
    return f"Now the {side} side.", 0.5


def _add_rep(build: _Builder, where: tuple[int, Side | None, int]) -> None:
    """Move, hold with its count, release; the release completes the rep."""
    exercise = build.exercise
    side = where[1]
    move_at = build.next_index
    build.add("move", _side_cue(exercise.move_cue, side), exercise.move_seconds, where)
    kind: StepKind = "hold" if exercise.count == "none" else "count"
    for text, seconds in _hold_counts(exercise):
        build.add(kind, text, seconds, where, restart=move_at)
    build.add(
        "release",
        _side_cue(exercise.release_cue, side),
        max(1.0, exercise.move_seconds),
        where,
        restart=move_at,
        completes_rep_hold_seconds=exercise.hold_seconds,
    )


def _side_cue(cue: str, side: Side | None) -> str:
    """A cue for one side; validation guarantees sided move cues name ``{side}``."""
    return cue if side is None else cue_for_side(cue, side)


def _hold_counts(exercise: Exercise) -> list[tuple[str, float]]:
    """The spoken count of a hold, up or down (see ``spoken.count_schedule``), or a silent hold."""
    if exercise.hold_seconds <= 0:
        return []
    if exercise.count == "none":
        return [("Hold.", exercise.hold_seconds)]
    every = exercise.count_every_seconds or count_every_seconds(exercise.hold_seconds)
    return count_schedule(exercise.hold_seconds, exercise.count, every)


def _seconds_words(seconds: float) -> str:
    whole = round(seconds)
    return f"{number_words(whole)} second" + ("" if whole == 1 else "s")
