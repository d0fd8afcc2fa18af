"""The program file format: TOML text checked against the schema, every problem with its key."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from voicecoach.errors import ProgramError
from voicecoach.program import (
    COUNT_STYLES,
    DEFAULT_SAFETY_NOTE,
    PLACEHOLDER,
    POSITIONS,
    SIDES,
    Exercise,
    Program,
    Progression,
)

# --- checks: each returns the clean value or raises _Invalid with (key-path suffix, rule) ---


class _Invalid(Exception):
    """A value breaks a rule; each problem is (suffix to the key path, rule broken)."""

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__(problems)
        self.problems = list(problems)


_Check = Callable[[object], object]

#: A table's good values by key, each of the type its key's check gives.
Values = Mapping[str, Any]


@dataclass(frozen=True)
class _Key:
    """How one key of a table is checked, and whether the table must have it."""

    check: _Check
    required: bool = False


def _fail(rule: str, value: object, hint: str = "") -> NoReturn:
    raise _Invalid(("", f"{rule}; got {_describe(value)}{hint}"))


def _describe(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) > 10**15:
        # Huge TOML integers (hex can have thousands of digits) are too long to print.
        return "a very large number"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "empty text" if not value.strip() else repr(value[:40])
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def did_you_mean(word: object, options: list[str]) -> str:
    """``; did you mean 'x'?`` for the option closest to ``word``, or nothing."""
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, options, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        _fail("must be non-empty text", value)
    # Multi-line TOML strings are read aloud as one sentence flow.
    return " ".join(value.split())


_SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def is_program_name(text: str) -> bool:
    """Whether ``text`` has the form of a program's or an exercise's name (of any length)."""
    return _SLUG.fullmatch(text) is not None


def _slug(value: object) -> str:
    if not isinstance(value, str) or not is_program_name(value) or len(value) > 40:
        _fail("must be lowercase letters, digits and single hyphens, like 'knee-to-chest'", value)
    return value


def _whole(low: int, high: int) -> _Check:
    def check(value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            _fail(f"must be a whole number from {low} to {high}", value)
        return value

    return check


def _number(low: float, high: float) -> _Check:
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            _fail(f"must be a number from {low:g} to {high:g}", value)
        if (isinstance(value, float) and not math.isfinite(value)) or not low <= value <= high:
            _fail(f"must be a number from {low:g} to {high:g}", value)
        return float(value)

    return check


def _choice(options: tuple[str, ...]) -> _Check:
    def check(value: object) -> str:
        if not isinstance(value, str) or value not in options:
            allowed = ", ".join(f"'{o}'" for o in options)
            _fail(f"must be one of {allowed}", value, did_you_mean(value, list(options)))
        return value

    return check


def _sentences(*, at_least: int) -> _Check:
    def check(value: object) -> tuple[str, ...]:
        if not isinstance(value, list):
            _fail('must be a list of sentences, like ["First.", "Second."]', value)
        if len(value) < at_least:
            raise _Invalid(("", f"must list at least {at_least} sentence"))
        problems = []
        for index, item in enumerate(value, start=1):
            try:
                _text(item)
            except _Invalid as err:
                problems += [(f"[{index}]{suffix}", rule) for suffix, rule in err.problems]
        if problems:
            raise _Invalid(*problems)
        return tuple(_text(item) for item in value)

    return check


def _read_table(raw: object, keys: Mapping[str, _Key]) -> tuple[Values, list[tuple[str, str]]]:
    """Check every key of a table; returns the good values and every (key path, rule) problem."""
    if not isinstance(raw, dict):
        return {}, [("", f"must be a table of keys; got {_describe(raw)}")]
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, value in raw.items():
        if key not in keys:
            hint = did_you_mean(key, list(keys)) or f" (allowed: {', '.join(keys)})"
            problems.append((f".{key}", f"unknown key{hint}"))
            continue
        try:
            values[key] = keys[key].check(value)
        except _Invalid as err:
            problems += [(f".{key}{suffix}", rule) for suffix, rule in err.problems]
    for key, spec in keys.items():
        if spec.required and key not in raw:
            problems.append((f".{key}", "required key is missing"))
    return values, problems


# --- the schema ---


def _progression(raw: object) -> Progression:
    values, problems = _read_table(raw, _PROGRESSION_KEYS)
    progression = Progression(**values)
    if not problems:
        problems = _progression_rules(progression)
    if problems:
        raise _Invalid(*problems)
    return progression


def _progression_rules(p: Progression) -> list[tuple[str, str]]:
    problems = []
    if p.reps_step == 0 and p.hold_step_seconds == 0:
        problems.append(("", "set reps_step or hold_step_seconds above 0, or leave the table out"))
    if p.reps_step > 0 and p.reps_max is None:
        problems.append((".reps_max", "required when reps_step is above 0"))
    if p.hold_step_seconds > 0 and p.hold_max_seconds is None:
        problems.append((".hold_max_seconds", "required when hold_step_seconds is above 0"))
    return problems


_PROGRESSION_KEYS: dict[str, _Key] = {
    "reps_step": _Key(_whole(0, 10)),
    "hold_step_seconds": _Key(_number(0, 60)),
    "reps_max": _Key(_whole(1, 50)),
    "hold_max_seconds": _Key(_number(0, 300)),
    "sessions_per_step": _Key(_whole(1, 30)),
}

_EXERCISE_KEYS: dict[str, _Key] = {
    "id": _Key(_slug, required=True),
    "name": _Key(_text, required=True),
    "position": _Key(_choice(POSITIONS), required=True),
    "setup": _Key(_sentences(at_least=1), required=True),
    "move_cue": _Key(_text, required=True),
    "release_cue": _Key(_text, required=True),
    "sides": _Key(_choice(SIDES)),
    "reps": _Key(_whole(1, 50)),
    "sets": _Key(_whole(1, 10)),
    "hold_seconds": _Key(_number(0, 300)),
    "count": _Key(_choice(COUNT_STYLES)),
    "count_every_seconds": _Key(_whole(1, 60)),
    "move_seconds": _Key(_number(0.5, 60)),
    "rest_between_reps_seconds": _Key(_number(0, 600)),
    "rest_between_sets_seconds": _Key(_number(0, 600)),
    "safety": _Key(_sentences(at_least=0)),
    "transition": _Key(_text),
    "source": _Key(_text),
    "progression": _Key(_progression),
}


def _usable(values: Values, raw: object, keys: tuple[str, ...]) -> bool:
    """Whether each key passed its own checks or was left out, so rules across keys can run."""
    present = raw if isinstance(raw, dict) else {}
    return all(
        key in values or (key not in present and not _EXERCISE_KEYS[key].required) for key in keys
    )


def _exercise(raw: object) -> Exercise:
    values, problems = _read_table(raw, _EXERCISE_KEYS)
    if _usable(values, raw, ("setup", "move_cue", "release_cue", "sides", "transition")):
        problems += _cue_rules(values)
    if _usable(values, raw, ("reps", "hold_seconds")) and "progression" in values:
        problems += _dose_rules(values)
    if problems:
        raise _Invalid(*problems)
    return Exercise(**values)


def spoken_cues(values: Values) -> list[tuple[str, str]]:
    """(key path, text) of each cue an exercise table speaks: transition, setup, move, release."""
    setup = [(f".setup[{i}]", line) for i, line in enumerate(values["setup"], start=1)]
    transition = [(".transition", values["transition"])] if values.get("transition") else []
    cues = [(".move_cue", values["move_cue"]), (".release_cue", values["release_cue"])]
    return [*transition, *setup, *cues]


def _cue_rules(values: Values) -> list[tuple[str, str]]:
    """``{side}`` only where there are sides, and a sided move must say which side."""
    sided = values.get("sides", "none") != "none"
    problems = []
    for path, text in spoken_cues(values):
        if "{" in PLACEHOLDER.sub("", text) or "}" in PLACEHOLDER.sub("", text):
            problems.append((path, "braces may only hold {side} or {other_side}"))
        elif PLACEHOLDER.search(text) and not path.endswith("_cue"):
            # Set-up and transition are spoken once, before either side, so cannot name it.
            problems.append((path, "cannot use {side} or {other_side}; name the side in move_cue"))
        elif PLACEHOLDER.search(text) and not sided:
            problems.append((path, "uses {side} or {other_side} but sides is 'none'"))
    if sided and not PLACEHOLDER.search(values["move_cue"]):
        rule = (
            f"must say {{side}} because sides is '{values['sides']}': the listener needs the side"
        )
        problems.append((".move_cue", rule))
    return problems


def _dose_rules(values: Values) -> list[tuple[str, str]]:
    progression: Progression = values["progression"]
    problems = []
    reps = values.get("reps", 5)
    hold_seconds = values.get("hold_seconds", 0.0)
    if progression.reps_max is not None and progression.reps_max < reps:
        problems.append((".progression.reps_max", f"must be at least reps ({reps})"))
    if progression.hold_max_seconds is not None and progression.hold_max_seconds < hold_seconds:
        rule = f"must be at least hold_seconds ({hold_seconds:g})"
        problems.append((".progression.hold_max_seconds", rule))
    return problems


def _exercises(value: object) -> tuple[Exercise, ...]:
    if not isinstance(value, list):
        _fail("must be a list of [[exercises]] tables", value)
    if not value:
        raise _Invalid(("", "must list at least one exercise"))
    exercises: list[Exercise] = []
    problems: list[tuple[str, str]] = []
    first_index: dict[str, int] = {}
    for index, raw in enumerate(value, start=1):
        try:
            exercises.append(_exercise(raw))
        except _Invalid as err:
            problems += [(f"[{index}]{suffix}", rule) for suffix, rule in err.problems]
        exercise_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(exercise_id, str) and exercise_id in first_index:
            rule = f"'{exercise_id}' is already used by exercises[{first_index[exercise_id]}]"
            problems.append((f"[{index}].id", rule))
        elif isinstance(exercise_id, str):
            first_index[exercise_id] = index
    if problems:
        raise _Invalid(*problems)
    return tuple(exercises)


_PROGRAM_KEYS: dict[str, _Key] = {
    "name": _Key(_slug, required=True),
    "title": _Key(_text, required=True),
    "description": _Key(_text),
    "safety_note": _Key(_text),
    "exercises": _Key(_exercises, required=True),
}


# --- parsing and loading ---

_AT_POSITION = re.compile(
    r"(?P<message>.*) \(at line (?P<line>\d+), column (?P<column>\d+)\)", re.S
)
_AT_END = " (at end of document)"


def _syntax_problem(err: tomllib.TOMLDecodeError, text: str) -> str:
    """``LINE:COL: message`` for a TOML syntax error, so editors can jump to it."""
    message = str(err)
    match = _AT_POSITION.fullmatch(message)
    if match:
        return f"{match['line']}:{match['column']}: {match['message']}"
    if message.endswith(_AT_END):
        lines = text.split("\n")
        return f"{len(lines)}:{len(lines[-1]) + 1}: {message.removesuffix(_AT_END)}"
    return message


def parse_program(text: str, source: str) -> Program:
    """Parse and validate a program from TOML text; ``source`` names it in every problem."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ProgramError(source, [_syntax_problem(err, text)]) from None
    except ValueError as err:
        # tomllib lets Python's limit on integer digits escape as a plain ValueError.
        raise ProgramError(source, [f"cannot be read as TOML: {err}"]) from None
    except RecursionError:
        raise ProgramError(
            source, ["cannot be read as TOML: arrays or tables nested too deeply"]
        ) from None
    values, problems = _read_table(data, _PROGRAM_KEYS)
    if problems:
        raise ProgramError(source, [f"{path.lstrip('.')}: {rule}" for path, rule in problems])
    defaults = {"description": "", "safety_note": DEFAULT_SAFETY_NOTE}
    return Program(**{**defaults, **values})
