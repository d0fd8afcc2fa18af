"""Program files: loading, complete validation, lookup of built-in and user programs."""

from __future__ import annotations

import copy
import datetime
import json
import logging
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.advice import cue_warnings
from voicecoach.app.catalogue import (
    DEFAULT_PROGRAM,
    list_programs,
    load_program_file,
    resolve_program,
    user_programs_dir,
)
from voicecoach.cli import main
from voicecoach.errors import ProgramError
from voicecoach.plan import build_plan, number_words
from voicecoach.program import (
    DEFAULT_SAFETY_NOTE,
    Exercise,
    Program,
    Progression,
    cue_for_side,
    total_reps,
)
from voicecoach.programfile import parse_program

BUILT_IN = ("gentle-start", "three-for-chronic-pain", "spine-stabilise", "strength")


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user programs folder, so the real one never leaks into a test."""
    folder = tmp_path / "user-programs"
    folder.mkdir()
    monkeypatch.setenv("VOICECOACH_PROGRAMS_DIR", str(folder))
    return folder


# --- a tiny TOML writer, for building documents from Python values ---


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_value(v)}" for k, v in value.items()) + "}"
    return str(value.isoformat())


def to_toml(data: dict[str, Any]) -> str:
    """Top-level keys, then one [[exercises]] table per dict (lists of other things inline)."""
    raw = data.get("exercises")
    tables: list[dict[str, Any]] = []
    if isinstance(raw, list) and raw and all(isinstance(e, dict) for e in raw):
        tables = raw
    lines = [
        f"{json.dumps(k)} = {_value(v)}" for k, v in data.items() if k != "exercises" or not tables
    ]
    for table in tables:
        lines += ["", "[[exercises]]"]
        lines += [f"{json.dumps(k)} = {_value(v)}" for k, v in table.items()]
    return "\n".join(lines) + "\n"


def exercise(**changes: Any) -> dict[str, Any]:
    """A valid exercise table, with changes; a change to None removes the key."""
    base: dict[str, Any] = {
        "id": "bridge",
        "name": "Bridge",
        "position": "supine",
        "setup": ["Lie on your back.", "Bend your knees."],
        "move_cue": "Lift your hips.",
        "release_cue": "Lower your hips.",
        "reps": 5,
        "hold_seconds": 10,
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def document(*exercises: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A valid program document, with changes; a change to None removes the key."""
    base: dict[str, Any] = {
        "name": "my-program",
        "title": "My program",
        "exercises": list(exercises) or [exercise()],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def problems_of(text: str) -> list[str]:
    with pytest.raises(ProgramError) as caught:
        parse_program(text, "my.toml")
    assert caught.value.source == "my.toml"
    return caught.value.problems


def test_valid_document_loads_with_defaults() -> None:
    program = parse_program(to_toml(document()), "my.toml")
    assert program == Program(
        name="my-program",
        title="My program",
        description="",
        safety_note=DEFAULT_SAFETY_NOTE,
        exercises=(
            Exercise(
                id="bridge",
                name="Bridge",
                position="supine",
                setup=("Lie on your back.", "Bend your knees."),
                move_cue="Lift your hips.",
                release_cue="Lower your hips.",
                reps=5,
                hold_seconds=10.0,
            ),
        ),
    )
    assert program.origin == "text"


def test_default_safety_note_covers_pain_numbness_and_help() -> None:
    for words in ("sharp pain", "numbness", "tingling", "stop", "doctor or a physiotherapist"):
        assert words in DEFAULT_SAFETY_NOTE


def test_progression_table_is_read() -> None:
    text = to_toml(document()) + "[exercises.progression]\nreps_step = 1\nreps_max = 10\n"
    (bridge,) = parse_program(text, "my.toml").exercises
    assert bridge.progression == Progression(reps_step=1, reps_max=10)


def test_multi_line_text_is_read_as_one_flowing_sentence() -> None:
    text = to_toml(document()).replace('"Lift your hips."', '"""\nLift\n   your hips."""')
    assert parse_program(text, "my.toml").exercises[0].move_cue == "Lift your hips."


# --- malformed files: (change to a valid document, exact text of the problem it causes) ---

Change = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Change:
    """Set (or with None, remove) a key; ``path`` is "key" or "N.key" for exercise N (1-based)."""

    def change(data: dict[str, Any]) -> None:
        table = data
        if "." in path:
            index, path_key = path.split(".", 1)
            table = data["exercises"][int(index) - 1]
        else:
            path_key = path
        if value is None:
            del table[path_key]
        else:
            table[path_key] = value

    return change


def _two_bridges(data: dict[str, Any]) -> None:
    data["exercises"] = [exercise(), exercise(name="Bridge again"), exercise(id="bridge")]


MALFORMED: list[tuple[Change, str]] = [
    (_set("title", None), "title: required key is missing"),
    (_set("1.move_cue", None), "exercises[1].move_cue: required key is missing"),
    (_set("titel", "Mine"), "titel: unknown key; did you mean 'title'?"),
    (_set("1.hold_secs", 10), "exercises[1].hold_secs: unknown key; did you mean 'hold_seconds'?"),
    (_set("colour", "blue"), "colour: unknown key (allowed: name, title, description,"),
    (
        _set("1.hold_seconds", True),
        "exercises[1].hold_seconds: must be a number from 0 to 300; got true",
    ),
    (
        _set("1.hold_seconds", 301),
        "exercises[1].hold_seconds: must be a number from 0 to 300; got 301",
    ),
    (
        _set("1.hold_seconds", math.nan),
        "exercises[1].hold_seconds: must be a number from 0 to 300; got nan",
    ),
    (
        _set("1.hold_seconds", "ten"),
        "exercises[1].hold_seconds: must be a number from 0 to 300; got 'ten'",
    ),
    (_set("1.reps", 0), "exercises[1].reps: must be a whole number from 1 to 50; got 0"),
    (_set("1.sets", 2.5), "exercises[1].sets: must be a whole number from 1 to 10; got 2.5"),
    (
        _set("1.move_seconds", 0),
        "exercises[1].move_seconds: must be a number from 0.5 to 60; got 0",
    ),
    (
        _set("1.rest_between_sets_seconds", -1),
        "exercises[1].rest_between_sets_seconds: must be a number from 0 to 600; got -1",
    ),
    (
        _set("1.reps", datetime.date(2024, 5, 1)),
        "exercises[1].reps: must be a whole number from 1 to 50; got a date or time",
    ),
    (_set("1.name", "   "), "exercises[1].name: must be non-empty text; got empty text"),
    (_set("title", 5), "title: must be non-empty text; got 5"),
    (
        _set("1.position", "suppine"),
        "exercises[1].position: must be one of 'supine', 'prone', 'quadruped', 'standing', "
        "'seated', 'side-lying'; got 'suppine'; did you mean 'supine'?",
    ),
    (
        _set("1.sides", "both"),
        "exercises[1].sides: must be one of 'none', 'alternate', 'blocks'; got 'both'",
    ),
    (
        _set("1.count", "sideways"),
        "exercises[1].count: must be one of 'up', 'down', 'none'; got 'sideways'",
    ),
    (_two_bridges, "exercises[3].id: 'bridge' is already used by exercises[1]"),
    (_set("exercises", []), "exercises: must list at least one exercise"),
    (_set("exercises", None), "exercises: required key is missing"),
    (
        _set("exercises", "all of them"),
        "exercises: must be a list of [[exercises]] tables; got 'all of them'",
    ),
    (_set("exercises", [1]), "exercises[1]: must be a table of keys; got 1"),
    (
        _set("1.id", "Knee To Chest"),
        "exercises[1].id: must be lowercase letters, digits and single hyphens, "
        "like 'knee-to-chest'; got 'Knee To Chest'",
    ),
    (_set("name", "my--program"), "name: must be lowercase letters, digits and single hyphens"),
    (_set("1.setup", "Lie down."), "exercises[1].setup: must be a list of sentences"),
    (_set("1.setup", []), "exercises[1].setup: must list at least 1 sentence"),
    (
        _set("1.setup", ["Lie down.", "", 3]),
        "exercises[1].setup[2]: must be non-empty text; got empty text",
    ),
    (_set("1.setup", ["Lie down.", "", 3]), "exercises[1].setup[3]: must be non-empty text; got 3"),
    (_set("1.safety", "Be careful."), "exercises[1].safety: must be a list of sentences"),
    (_set("1.progression", 3), "exercises[1].progression: must be a table of keys; got 3"),
    (
        _set("1.progression", {"reps_stp": 1}),
        "exercises[1].progression.reps_stp: unknown key; did you mean 'reps_step'?",
    ),
    (
        _set("1.progression", {"reps_step": 1}),
        "exercises[1].progression.reps_max: required when reps_step is above 0",
    ),
    (
        _set("1.progression", {"sessions_per_step": 2}),
        "exercises[1].progression: set reps_step or hold_step_seconds above 0",
    ),
    (
        _set("1.progression", {"reps_step": 1, "reps_max": 3}),
        "exercises[1].progression.reps_max: must be at least reps (5)",
    ),
    (
        _set("1.progression", {"hold_step_seconds": 2, "hold_max_seconds": 5}),
        "exercises[1].progression.hold_max_seconds: must be at least hold_seconds (10)",
    ),
    (
        _set("1.sides", "alternate"),
        "exercises[1].move_cue: must say {side} because sides is 'alternate'",
    ),
    (
        _set("1.move_cue", "Lift your {side} leg."),
        "exercises[1].move_cue: uses {side} or {other_side} but sides is 'none'",
    ),
    (
        _set("1.release_cue", "Lower your {leg}."),
        "exercises[1].release_cue: braces may only hold {side} or {other_side}",
    ),
    (
        _set("1.setup", ["Lie on your {side} side."]),
        "exercises[1].setup[1]: cannot use {side} or {other_side}",
    ),
]


@pytest.mark.parametrize(("change", "expected"), MALFORMED)
def test_malformed_program_reports_every_problem(
    change: Change, expected: str, tmp_path: Path
) -> None:
    data = document()
    change(data)
    # A second, unrelated problem proves that validation never stops at the first one.
    data["version"] = 2
    text = to_toml(data)
    problems = problems_of(text)
    assert any(p.startswith(expected) for p in problems), problems
    assert (
        "version: unknown key (allowed: name, title, description, safety_note, exercises)"
        in problems
    )

    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: {expected}" in result.output
    assert f"{path}: version: unknown key" in result.output
    assert "Traceback" not in result.output


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    data = document(
        exercise(reps=0, hold_seconds=True, position="upside-down"),
        exercise(id="bridge", sets=11, setup=[]),
        title="",
        colour="blue",
    )
    problems = problems_of(to_toml(data))
    assert problems == [
        "title: must be non-empty text; got empty text",
        "colour: unknown key (allowed: name, title, description, safety_note, exercises)",
        "exercises[1].position: must be one of 'supine', 'prone', 'quadruped', 'standing', "
        "'seated', 'side-lying'; got 'upside-down'",
        "exercises[1].reps: must be a whole number from 1 to 50; got 0",
        "exercises[1].hold_seconds: must be a number from 0 to 300; got true",
        "exercises[2].setup: must list at least 1 sentence",
        "exercises[2].sets: must be a whole number from 1 to 10; got 11",
        "exercises[2].id: 'bridge' is already used by exercises[1]",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('name = "x"\ntitle = \n', "2:9: Invalid value"),
        ('name = "x"\ntitle = "abc', "2:13: Unterminated string"),
        ('name = "x"\nname = "y"\n', "2:"),
        ("[[exercises]]\nid = 1\n[exercises]\n", "3:"),
    ],
)
def test_toml_syntax_error_gives_line_and_column(text: str, expected: str) -> None:
    (problem,) = problems_of(text)
    assert problem.startswith(expected)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("1" + "0" * 400, "must be a number from 0 to 300; got a very large number"),
        ("0x" + "f" * 5000, "must be a number from 0 to 300; got a very large number"),
        ("1" * 5000, "cannot be read as TOML: Exceeds the limit (4300 digits)"),
    ],
)
def test_huge_numbers_are_problems_not_crashes(number: str, expected: str) -> None:
    text = to_toml(document()).replace('"hold_seconds" = 10', f'"hold_seconds" = {number}')
    assert any(expected in p for p in problems_of(text))


@pytest.mark.parametrize("value", ["[" * 5000 + "]" * 5000, "{b = " * 2000 + "1" + "}" * 2000])
def test_deeply_nested_values_are_problems_not_crashes(value: str) -> None:
    assert problems_of(f"name = {value}\n") == [
        "cannot be read as TOML: arrays or tables nested too deeply"
    ]


# --- hypothesis: any document gives a Program or a ProgramError, never anything else ---

_KEYS = [
    "name", "title", "description", "safety_note", "exercises", "id", "position", "setup",
    "move_cue", "release_cue", "sides", "reps", "sets", "hold_seconds", "count", "move_seconds",
    "rest_between_reps_seconds", "rest_between_sets_seconds", "safety", "source", "progression",
    "reps_step", "hold_step_seconds", "reps_max", "hold_max_seconds", "sessions_per_step",
]  # fmt: skip
_keys = st.sampled_from(_KEYS) | st.text(min_size=1, max_size=8)
_scalars = (
    st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["supine", "alternate", "blocks", "down", "{side}", "Lift your {side} leg."])
    | st.dates()
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_keys, inner, max_size=5),
    max_leaves=12,
)


def _assert_program_or_program_error(text: str) -> None:
    problems: list[str] = []
    try:
        program: Program | None = parse_program(text, "random.toml")
    except ProgramError as err:
        program, problems = None, err.problems
    # Anything else escapes and fails the test, which is the point.
    assert isinstance(program, Program) != bool(problems)
    assert all(isinstance(p, str) and p for p in problems)


_SETTINGS = settings(
    max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


@_SETTINGS
@given(st.text())
def test_any_text_parses_or_raises_program_error(text: str) -> None:
    _assert_program_or_program_error(text)


@_SETTINGS
@given(st.dictionaries(_keys, _values, max_size=6), st.lists(st.dictionaries(_keys, _values)))
def test_random_documents_parse_or_raise_program_error(
    top: dict[str, Any], exercises: list[dict[str, Any]]
) -> None:
    top = {**top, "exercises": exercises} if exercises else top
    _assert_program_or_program_error(to_toml(top))


@_SETTINGS
@given(st.sampled_from(_KEYS), _values)
def test_one_bad_value_in_a_valid_document_is_handled(key: str, value: Any) -> None:
    data = document()
    for table in (data, data["exercises"][0]):
        changed = copy.deepcopy(data)
        target = changed if table is data else changed["exercises"][0]
        target[key] = value
        _assert_program_or_program_error(to_toml(changed))


# --- built-in programs ---


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_program_loads_and_fits_a_short_session(name: str) -> None:
    program = resolve_program(name)
    assert program.name == name
    assert program.origin == "built-in"
    assert program.title
    assert program.description
    assert cue_warnings(program) == []
    # The planner's estimate includes speaking every cue, count and rest announcement.
    minutes = build_plan(program).total_seconds / 60
    assert 8 <= minutes <= 20
    # The description tells the truth about the length.
    said = re.search(r"[Aa]bout ([a-z-]+) minutes", program.description)
    assert said is not None
    assert abs([number_words(n) for n in range(61)].index(said[1]) - minutes) <= 1
    for ex in program.exercises:
        assert ex.source in {
            "Best Exercise for Lower Back Pain Relief",
            "17 Best Physical Therapy Exercises For Lower Back Pain Relief",
            "Back Pain Exercises to Help Improve Your Spine",
            "3 Exercises to Reduce Back Pain",
        }


def test_default_program_is_the_gentle_start() -> None:
    assert DEFAULT_PROGRAM == "gentle-start"
    assert resolve_program(DEFAULT_PROGRAM).exercises[0].id == "knee-to-chest"


def test_list_programs_holds_every_built_in() -> None:
    assert [p.name for p in list_programs()] == sorted(BUILT_IN)


# --- lookup: paths, user programs, unknown names ---


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(to_toml(data), encoding="utf-8")
    return path


def test_user_program_wins_over_built_in_of_the_same_name(user_dir: Path) -> None:
    _write(user_dir / "gentle-start.toml", document(name="gentle-start", title="Mine"))
    program = resolve_program("gentle-start")
    assert (program.title, program.origin) == ("Mine", "user")
    listed = {p.name: p for p in list_programs()}
    assert listed["gentle-start"].title == "Mine"
    assert listed["strength"].origin == "built-in"


def test_user_programs_dir_follows_the_environment(user_dir: Path) -> None:
    assert user_programs_dir() == user_dir


def test_new_user_program_is_listed_and_found_by_name(user_dir: Path) -> None:
    _write(user_dir / "my-program.toml", document())
    assert resolve_program("my-program").origin == "user"
    assert "my-program" in [p.name for p in list_programs()]


def test_user_program_name_must_match_its_file(user_dir: Path) -> None:
    path = _write(user_dir / "morning.toml", document(name="evening"))
    with pytest.raises(ProgramError) as caught:
        resolve_program("morning")
    assert caught.value.problems == [
        "name: must match the file name 'morning.toml' so it can be found by name; got 'evening'"
    ]
    assert caught.value.source == str(path)


def test_broken_user_program_is_skipped_in_listing_with_a_warning(
    user_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (user_dir / "broken.toml").write_text("name = ", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="voicecoach.app.catalogue"):
        names = [p.name for p in list_programs()]
    assert names == sorted(BUILT_IN)
    assert "broken.toml" in caplog.text


def test_broken_user_program_is_an_error_when_asked_for_by_name(user_dir: Path) -> None:
    (user_dir / "strength.toml").write_text("name = ", encoding="utf-8")
    with pytest.raises(ProgramError, match="1:8: Invalid value"):
        resolve_program("strength")


def test_path_is_loaded_as_a_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "anything.toml", document(name="whatever-name"))
    program = resolve_program(str(path))
    assert (program.name, program.origin) == ("whatever-name", "file")
    assert load_program_file(path) == program


@pytest.mark.parametrize("name", ["missing.toml", "some/folder/missing"])
def test_missing_file_names_the_path(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProgramError) as caught:
        resolve_program(name)
    assert (caught.value.source, caught.value.problems) == (name, ["file not found"])


def test_unknown_name_lists_available_programs_and_suggests_one() -> None:
    with pytest.raises(ProgramError) as caught:
        resolve_program("gentle-strat")
    (problem,) = caught.value.problems
    assert problem == (
        "no program by that name; available: gentle-start, spine-stabilise, strength, "
        "three-for-chronic-pain; did you mean 'gentle-start'?"
    )
    assert caught.value.exit_code == 2


# --- helpers used by the planner and the session ---


@pytest.mark.parametrize(
    ("sides", "reps", "sets", "expected"),
    [("none", 5, 1, 5), ("none", 5, 3, 15), ("alternate", 3, 1, 6), ("blocks", 5, 3, 30)],
)
def test_total_reps_counts_each_side(sides: str, reps: int, sets: int, expected: int) -> None:
    move_cue = "Lift your hips." if sides == "none" else "Lift your {side} leg."
    data = document(exercise(sides=sides, reps=reps, sets=sets, move_cue=move_cue))
    (ex,) = parse_program(to_toml(data), "my.toml").exercises
    assert total_reps(ex) == expected


@pytest.mark.parametrize(
    ("side", "expected"),
    [
        ("left", "Hug your right knee. Keep your left leg long."),
        ("right", "Hug your left knee. Keep your right leg long."),
    ],
)
def test_cue_for_side_fills_in_both_sides(side: Any, expected: str) -> None:
    assert cue_for_side("Hug your {other_side} knee. Keep your {side} leg long.", side) == expected


def test_cue_warnings_flag_command_words_and_long_repeated_cues() -> None:
    long_cue = (
        "Slowly and gently lift your hips up toward the ceiling while you keep breathing calmly."
    )
    data = document(exercise(move_cue="Lift, then wait a moment.", release_cue=long_cue))
    program = parse_program(to_toml(data), "my.toml")
    assert cue_warnings(program) == [
        "exercises[1].move_cue: says 'wait', a spoken command; the coach's voice may trigger it",
        "exercises[1].release_cue: has 15 words but is spoken on every repetition; keep it to 12"
        " and explain the move in setup",
    ]
