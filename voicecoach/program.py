"""Exercise programs: the frozen data model, TOML loading and complete validation."""

from __future__ import annotations

import difflib
import logging
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, NoReturn

import platformdirs

from voicecoach.commands import PHRASES, normalize
from voicecoach.errors import ProgramError

_LOGGER = logging.getLogger(__name__)

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

#: The program a session uses when none is named.
DEFAULT_PROGRAM = "gentle-start"

#: Spoken at the start when a program gives no ``safety_note`` of its own.
DEFAULT_SAFETY_NOTE = (
    "Move slowly, and only as far as feels comfortable. "
    "If you feel sharp pain, numbness or tingling, stop the exercise and rest. "
    "If your back pain lasts or gets worse, see a doctor or a physiotherapist."
)

#: Environment variable that points the user programs folder somewhere else.
PROGRAMS_DIR_ENV = "VOICECOACH_PROGRAMS_DIR"


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


_PLACEHOLDER = re.compile(r"\{(side|other_side)\}")


def cue_for_side(text: str, side: Literal["left", "right"]) -> str:
    """A cue with ``{side}`` and ``{other_side}`` filled in for the side being worked."""
    other = "left" if side == "right" else "right"
    return _PLACEHOLDER.sub(lambda m: side if m.group(1) == "side" else other, text)


# --- checks: each returns the clean value or raises _Invalid with (key-path suffix, rule) ---


class _Invalid(Exception):
    """A value breaks a rule; each problem is (suffix to the key path, rule broken)."""

    def __init__(self, *problems: tuple[str, str]) -> None:
        super().__init__(problems)
        self.problems = list(problems)


_Check = Callable[[object], Any]


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


def _hint(word: object, options: list[str]) -> str:
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


def _slug(value: object) -> str:
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or len(value) > 40:
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
            _fail(f"must be one of {allowed}", value, _hint(value, list(options)))
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


def _read_table(
    raw: object, keys: Mapping[str, _Key]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Check every key of a table; returns the good values and every (key path, rule) problem."""
    if not isinstance(raw, dict):
        return {}, [("", f"must be a table of keys; got {_describe(raw)}")]
    values: dict[str, Any] = {}
    problems: list[tuple[str, str]] = []
    for key, value in raw.items():
        if key not in keys:
            hint = _hint(key, list(keys)) or f" (allowed: {', '.join(keys)})"
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


def _usable(values: Mapping[str, Any], raw: object, keys: tuple[str, ...]) -> bool:
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


def _cues(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    setup = [(f".setup[{i}]", line) for i, line in enumerate(values["setup"], start=1)]
    transition = [(".transition", values["transition"])] if values.get("transition") else []
    cues = [(".move_cue", values["move_cue"]), (".release_cue", values["release_cue"])]
    return [*transition, *setup, *cues]


def _cue_rules(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``{side}`` only where there are sides, and a sided move must say which side."""
    sided = values.get("sides", "none") != "none"
    problems = []
    for path, text in _cues(values):
        if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
            problems.append((path, "braces may only hold {side} or {other_side}"))
        elif _PLACEHOLDER.search(text) and not path.endswith("_cue"):
            # Set-up and transition are spoken once, before either side, so cannot name it.
            problems.append((path, "cannot use {side} or {other_side}; name the side in move_cue"))
        elif _PLACEHOLDER.search(text) and not sided:
            problems.append((path, "uses {side} or {other_side} but sides is 'none'"))
    if sided and not _PLACEHOLDER.search(values["move_cue"]):
        rule = (
            f"must say {{side}} because sides is '{values['sides']}': the listener needs the side"
        )
        problems.append((".move_cue", rule))
    return problems


def _dose_rules(values: Mapping[str, Any]) -> list[tuple[str, str]]:
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
    values.setdefault("description", "")
    values.setdefault("safety_note", DEFAULT_SAFETY_NOTE)
    return Program(**values)


def _read_text(path: Path) -> str:
    source = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ProgramError(source, ["is a folder, not a program file"]) from None
    except UnicodeDecodeError as err:
        raise ProgramError(
            source, [f"is not UTF-8 text (bad byte at offset {err.start})"]
        ) from None
    except OSError as err:
        raise ProgramError(source, [f"cannot be read: {err.strerror or err}"]) from None
    except ValueError as err:  # a path with a NUL byte in it
        raise ProgramError(source, [f"cannot be read: {err}"]) from None


def _require_file_name(program: Program, stem: str, source: str) -> None:
    # Programs are found by file name, so a different `name` could never be looked up.
    if program.name != stem:
        rule = f"must match the file name '{stem}.toml' so it can be found by name"
        raise ProgramError(source, [f"name: {rule}; got '{program.name}'"])


def load_program_file(path: Path) -> Program:
    """Load and validate a program file; a file in the user programs folder must match its name."""
    program = parse_program(_read_text(path), str(path))
    if path.resolve().parent == user_programs_dir().resolve():
        _require_file_name(program, path.stem, str(path))
        return replace(program, origin="user")
    return replace(program, origin="file")


def user_programs_dir() -> Path:
    """The folder of the user's own programs (``$VOICECOACH_PROGRAMS_DIR`` overrides it)."""
    override = os.environ.get(PROGRAMS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("voicecoach")) / "programs"


def _builtin_dir() -> Traversable:
    return resources.files("voicecoach") / "programs"


def _builtin_names() -> list[str]:
    return sorted(
        e.name.removesuffix(".toml") for e in _builtin_dir().iterdir() if e.name.endswith(".toml")
    )


def _load_builtin(name: str) -> Program:
    source = f"<built-in>/{name}.toml"
    program = parse_program((_builtin_dir() / f"{name}.toml").read_text(encoding="utf-8"), source)
    _require_file_name(program, name, source)
    return replace(program, origin="built-in")


def _user_files() -> list[Path]:
    folder = user_programs_dir()
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def _looks_like_path(name_or_path: str) -> bool:
    separators = {"/", os.sep, os.altsep or "/"}
    return name_or_path.endswith(".toml") or any(s in name_or_path for s in separators)


def resolve_program(name_or_path: str) -> Program:
    """Load a program by file path, or by name: a user program wins over a built-in one."""
    if _looks_like_path(name_or_path):
        return load_program_file(Path(name_or_path).expanduser())
    if _SLUG.fullmatch(name_or_path):
        user_file = user_programs_dir() / f"{name_or_path}.toml"
        if user_file.is_file():
            return load_program_file(user_file)
        if name_or_path in _builtin_names():
            return _load_builtin(name_or_path)
    names = sorted({*_builtin_names(), *(p.stem for p in _user_files())})
    problem = f"no program by that name; available: {', '.join(names)}{_hint(name_or_path, names)}"
    raise ProgramError(name_or_path, [problem])


def list_programs() -> list[Program]:
    """Every built-in and user program by name; a user program replaces a built-in of that name."""
    found = {name: _load_builtin(name) for name in _builtin_names()}
    for path in _user_files():
        try:
            found[path.stem] = load_program_file(path)
        except ProgramError as err:
            # One broken file in the user's folder must not hide every other program.
            _LOGGER.warning("skipping user program %s:\n%s", path, err)
    return [found[name] for name in sorted(found)]


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


def _cue_warnings_of(exercises: Sequence[Mapping[str, Any]]) -> list[str]:
    warnings = []
    for index, cues in enumerate(exercises, start=1):
        for path, text in _cues(cues):
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
