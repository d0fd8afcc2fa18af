"""Exercise programs: the frozen data model, TOML loading and complete validation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Position = Literal["supine", "prone", "quadruped", "standing", "seated", "side-lying"]
Sides = Literal["none", "alternate", "blocks"]
CountStyle = Literal["up", "down", "none"]

POSITIONS: tuple[Position, ...] = ("supine", "prone", "quadruped", "standing", "seated", "side-lying")
SIDES: tuple[Sides, ...] = ("none", "alternate", "blocks")
COUNT_STYLES: tuple[CountStyle, ...] = ("up", "down", "none")


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
    move_seconds: float = 2.0
    rest_between_reps_seconds: float = 3.0
    rest_between_sets_seconds: float = 20.0
    safety: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Program:
    """A named, ordered list of exercises with a spoken safety note at the start."""

    name: str
    title: str
    description: str
    safety_note: str
    exercises: tuple[Exercise, ...]
