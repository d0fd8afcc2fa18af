"""Exercise programs: the frozen data model, and the cues filled in for a side."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from voicecoach.events import Side

Position = Literal["supine", "prone", "quadruped", "standing", "seated", "side-lying"]
Sides = Literal["none", "alternate", "blocks"]
CountStyle = Literal["up", "down", "none"]
Origin = Literal["text", "built-in", "user", "file"]

POSITIONS: tuple[Position, ...] = (
    "supine",
    "prone",
    "quadruped",
    "standing",
    "seated",
    "side-lying",
)
SIDES: tuple[Sides, ...] = ("none", "alternate", "blocks")
COUNT_STYLES: tuple[CountStyle, ...] = ("up", "down", "none")

#: Spoken at the start when a program gives no ``safety_note`` of its own.
DEFAULT_SAFETY_NOTE = (
    "Move slowly, and only as far as feels comfortable. "
    "If you feel sharp pain, numbness or tingling, stop the exercise and rest. "
    "If your back pain lasts or gets worse, see a doctor or a physiotherapist."
)


@dataclass(frozen=True)
class Progression:
    """How an exercise's dose may grow: steps added every ``sessions_per_step`` sessions."""

    reps_step: int = 0
    hold_step_seconds: float = 0.0
    #: Upper limits; required when the matching step is above zero.
    reps_max: int | None = None
    hold_max_seconds: float | None = None
    sessions_per_step: int = 3


@dataclass(frozen=True)
class Exercise:
    """One exercise with its dose; every duration is in seconds."""

    id: str
    name: str
    position: Position
    setup: tuple[str, ...]
    move_cue: str
    release_cue: str
    sides: Sides = "none"
    reps: int = 5
    sets: int = 1
    hold_seconds: float = 0.0
    count: CountStyle = "up"
    #: Seconds between spoken numbers in a hold; None lets the coach choose by the hold's length.
    count_every_seconds: int | None = None
    move_seconds: float = 2.0
    rest_between_reps_seconds: float = 3.0
    rest_between_sets_seconds: float = 20.0
    safety: tuple[str, ...] = ()
    #: Said when the position differs from the exercise before, to get into this one's.
    transition: str = ""
    source: str = ""
    progression: Progression | None = None


@dataclass(frozen=True)
class Program:
    """A named, ordered list of exercises with a spoken safety note at the start."""

    name: str
    title: str
    description: str
    safety_note: str
    exercises: tuple[Exercise, ...]
    #: Where it was loaded from; not part of a program's identity.
    origin: Origin = field(default="text", compare=False)


def total_reps(exercise: Exercise) -> int:
    """Every repetition the exercise asks for, counting each side separately."""
    return exercise.reps * exercise.sets * (2 if exercise.sides != "none" else 1)


def sides_of(exercise: Exercise) -> tuple[Side | None, ...]:
    """The sides the exercise is done on, right first; (None,) for one without sides."""
    return (None,) if exercise.sides == "none" else ("right", "left")


#: The placeholders a cue may hold, filled in for the side being worked.
PLACEHOLDER = re.compile(r"\{(side|other_side)\}")


def cue_for_side(text: str, side: Side) -> str:
    """A cue with ``{side}`` and ``{other_side}`` filled in for the side being worked."""
    other = "left" if side == "right" else "right"
    return PLACEHOLDER.sub(lambda m: side if m.group(1) == "side" else other, text)
