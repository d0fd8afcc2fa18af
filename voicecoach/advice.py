"""Advice on a valid program, for ``check``: what would be hard to follow by ear."""

from __future__ import annotations

from voicecoach.program import Exercise, Position, Program, cue_warnings
from voicecoach.progression import effective_progression
from voicecoach.spoken import (
    COUNT_EVERY_SECOND_MAX,
    MAX_SPOKEN_COUNTS,
    count_every_seconds,
    count_schedule,
)

POSITION_WORDS: dict[Position, str] = {
    "supine": "lying on your back",
    "prone": "lying on your stomach",
    "quadruped": "hands and knees",
    "standing": "standing",
    "seated": "sitting",
    "side-lying": "lying on your side",
}


def program_warnings(program: Program) -> list[str]:
    """Every piece of advice on ``program``: cues, changes of position and hold counts."""
    warnings = cue_warnings(program)
    before: Position | None = None
    for index, exercise in enumerate(program.exercises, start=1):
        warnings += [f"exercises[{index}]{w}" for w in _transition_advice(exercise, before)]
        warnings += [f"exercises[{index}]{w}" for w in _count_advice(exercise)]
        before = exercise.position
    return warnings


def _transition_advice(exercise: Exercise, before: Position | None) -> list[str]:
    changes = before is not None and before != exercise.position
    if changes and not exercise.transition:
        assert before is not None
        moves = f"{POSITION_WORDS[before]} to {POSITION_WORDS[exercise.position]}"
        return [
            f": changes position from {moves} with no transition; the coach says a general"
            " one: write 'transition' to say how to get there safely"
        ]
    if exercise.transition and not changes:
        return [".transition: is never said: the position does not change before this exercise"]
    return []


def _count_advice(exercise: Exercise) -> list[str]:
    if exercise.count == "none" or exercise.hold_seconds <= 0:
        return []
    # A hold may grow over sessions: the advice is about the longest it can become.
    longest = max(exercise.hold_seconds, effective_progression(exercise).hold_max_seconds or 0.0)
    every = exercise.count_every_seconds or count_every_seconds(longest)
    said = len(count_schedule(longest, exercise.count, every))
    if every == 1 and longest > COUNT_EVERY_SECOND_MAX:
        return [
            f".count_every_seconds: counts every second of a hold of up to {longest:g} seconds,"
            f" {said} numbers in a row; leave count_every_seconds out to count every five"
            " seconds and the last five"
        ]
    if said > MAX_SPOKEN_COUNTS:
        return [
            f".count_every_seconds: says {said} numbers in a hold of up to {longest:g} seconds;"
            f" keep it to {MAX_SPOKEN_COUNTS} by counting less often"
        ]
    return []
