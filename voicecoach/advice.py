"""Advice for ``check``: what in a program would be hard to follow by ear."""

from __future__ import annotations

import tomllib
from collections.abc import Sequence

from voicecoach.commands import PHRASES, normalize
from voicecoach.program import Exercise, Position, Program
from voicecoach.programfile import Values, spoken_cues
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


#: Move and release cues are spoken on every repetition; longer ones belong in ``setup``.
LONG_CUE_WORDS = 12


def cue_warnings(program: Program) -> list[str]:
    """Advice that does not stop a program loading: command words in cues, long repeated cues."""
    return _cue_warnings_of(
        [
            {
                "setup": exercise.setup,
                "move_cue": exercise.move_cue,
                "release_cue": exercise.release_cue,
                "transition": exercise.transition,
            }
            for exercise in program.exercises
        ]
    )


def text_cue_warnings(text: str) -> list[str]:
    """``cue_warnings`` of program TOML that may not validate: every cue that is text is read,
    so a file with errors still hears about its command words."""
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError):
        return []
    exercises = data.get("exercises")
    if not isinstance(exercises, list):
        return []
    tables = []
    for raw in exercises:
        values = raw if isinstance(raw, dict) else {}
        setup = values.get("setup")
        tables.append(
            {
                # Non-text lines stay as empty ones, so each warning names the right line.
                "setup": [_text_or_empty(s) for s in setup] if isinstance(setup, list) else [],
                **{key: _text_or_empty(values.get(key)) for key in _SPOKEN_ONCE_OR_MORE},
            }
        )
    return _cue_warnings_of(tables)


_SPOKEN_ONCE_OR_MORE = ("move_cue", "release_cue", "transition")


def _text_or_empty(value: object) -> str:
    return value if isinstance(value, str) else ""


def _cue_warnings_of(exercises: Sequence[Values]) -> list[str]:
    warnings = []
    for index, cues in enumerate(exercises, start=1):
        for path, text in spoken_cues(cues):
            warnings += [f"exercises[{index}]{path}: {rule}" for rule in _cue_advice(path, text)]
    return warnings


def _cue_advice(path: str, text: str) -> list[str]:
    padded = f" {normalize(text)} "
    phrases = sorted({p for ps in PHRASES.values() for p in ps if f" {p} " in padded})
    advice = [f"says '{p}', a spoken command; the coach's voice may trigger it" for p in phrases]
    words = len(text.split())
    if path.endswith("_cue") and words > LONG_CUE_WORDS:
        advice.append(
            f"has {words} words but is spoken on every repetition; keep it to {LONG_CUE_WORDS}"
            " and explain the move in setup"
        )
    return advice
