"""The ``check`` and ``programs`` commands, run through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.cli import main

GOOD = """\
name = "my-program"
title = "My program"
description = "One bridge."

[[exercises]]
id = "bridge"
name = "Bridge"
position = "supine"
setup = ["Lie on your back, with your knees bent."]
move_cue = "Lift your hips."
release_cue = "Lower your hips."
"""


@pytest.fixture(autouse=True)
def user_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user programs folder, so the real one never leaks into a test."""
    folder = tmp_path / "user-programs"
    folder.mkdir()
    monkeypatch.setenv("VOICECOACH_PROGRAMS_DIR", str(folder))
    return folder


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_check_good_file_prints_ok(tmp_path: Path) -> None:
    path = _write(tmp_path / "good.toml", GOOD)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert (result.exit_code, result.output) == (0, f"{path}: ok\n")


def test_check_syntax_error_is_file_line_column(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.toml", 'name = "x"\ntitle = \n')
    result = CliRunner().invoke(main, ["check", str(path)])
    assert (result.exit_code, result.output) == (2, f"{path}:2:9: Invalid value\n")


def test_check_reports_every_file_even_after_bad_and_missing_ones(tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.toml", GOOD.replace('"supine"', '"lying"') + "hold_second = 1\n")
    missing = tmp_path / "missing.toml"
    good = _write(tmp_path / "good.toml", GOOD)
    result = CliRunner().invoke(main, ["check", str(bad), str(missing), str(good)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"{bad}: exercises[1].position: must be one of 'supine', 'prone', 'quadruped', "
        "'standing', 'seated', 'side-lying'; got 'lying'; did you mean 'side-lying'?",
        f"{bad}: exercises[1].hold_second: unknown key; did you mean 'hold_seconds'?",
        f"{missing}: file not found",
        f"{good}: ok",
    ]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'name = "caf\xe9"\n', "is not UTF-8 text (bad byte at offset 11)"),
        (None, "is a folder, not a program file"),
    ],
)
def test_check_unreadable_file_is_a_problem(
    content: bytes | None, expected: str, tmp_path: Path
) -> None:
    path = tmp_path / "odd.toml"
    if content is None:
        path.mkdir()
    else:
        path.write_bytes(content)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert (result.exit_code, result.output) == (2, f"{path}: {expected}\n")


def test_check_prints_warnings_without_failing(tmp_path: Path) -> None:
    path = _write(tmp_path / "talky.toml", GOOD.replace("Lift your hips.", "Stop, then lift."))
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"{path}: warning: exercises[1].move_cue: says 'stop', a spoken command; "
        "the coach's voice may trigger it",
        f"{path}: ok",
    ]


def test_check_warns_of_command_words_in_a_file_with_errors(tmp_path: Path) -> None:
    text = GOOD.replace("Lift your hips.", "Stop, then lift.").replace('"supine"', '"lying"')
    text = text.replace('setup = ["', 'setup = [3, "Pause here. ')
    path = _write(tmp_path / "talky.toml", text)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{path}: exercises[1].position: must be one of")
    assert lines[-2:] == [
        f"{path}: warning: exercises[1].setup[2]: says 'pause', a spoken command; "
        "the coach's voice may trigger it",
        f"{path}: warning: exercises[1].move_cue: says 'stop', a spoken command; "
        "the coach's voice may trigger it",
    ]
    assert f"{path}: ok" not in lines


STANDING = """
[[exercises]]
id = "hinge"
name = "Hip hinge"
position = "standing"
setup = ["Stand tall."]
move_cue = "Hips back."
release_cue = "Stand up tall."
"""
TRANSITION = 'transition = "Take your time getting up, using a chair."\n'


@pytest.mark.parametrize(
    ("extra", "bridge_keys", "warning"),
    [
        (
            STANDING,
            "",
            "exercises[2]: changes position from lying on your back to standing with no "
            "transition; the coach says a general one: write 'transition' to say how to get "
            "there safely",
        ),
        (STANDING + TRANSITION, "", None),
        (
            "",
            TRANSITION,
            "exercises[1].transition: is never said: the position does not change before "
            "this exercise",
        ),
        (
            "",
            "hold_seconds = 30\ncount_every_seconds = 1\n",
            "exercises[1].count_every_seconds: counts every second of a hold of up to 60 "
            "seconds, 60 numbers in a row; leave count_every_seconds out to count every five "
            "seconds and the last five",
        ),
        ("", "hold_seconds = 30\ncount_every_seconds = 1\ncount = 'none'\n", None),
        (
            "",
            "hold_seconds = 10\ncount_every_seconds = 1\n",
            "exercises[1].count_every_seconds: counts every second of a hold of up to 20 "
            "seconds, 20 numbers in a row; leave count_every_seconds out to count every five "
            "seconds and the last five",
        ),
        (
            "[exercises.progression]\nreps_step = 1\nreps_max = 6\n",
            "hold_seconds = 10\ncount_every_seconds = 1\n",
            None,
        ),
        (
            "",
            "hold_seconds = 60\ncount_every_seconds = 2\n",
            "exercises[1].count_every_seconds: says 33 numbers in a hold of up to 60 seconds; "
            "keep it to 12 by counting less often",
        ),
        ("", "hold_seconds = 30\n", None),
    ],
)
def test_check_warns_of_changes_of_position_and_long_counts(
    tmp_path: Path, extra: str, bridge_keys: str, warning: str | None
) -> None:
    path = _write(tmp_path / "mine.toml", GOOD + bridge_keys + extra)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 0
    warnings = [] if warning is None else [f"{path}: warning: {warning}"]
    assert result.output.splitlines() == [*warnings, f"{path}: ok"]


def test_check_user_program_must_match_its_file_name(user_dir: Path) -> None:
    path = _write(user_dir / "other-name.toml", GOOD)
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert f"{path}: name: must match the file name 'other-name.toml'" in result.output


def test_check_built_in_programs_are_clean() -> None:
    folder = Path(__file__).parent.parent / "voicecoach" / "programs"
    files = sorted(str(p) for p in folder.glob("*.toml"))
    result = CliRunner().invoke(main, ["check", *files])
    assert (result.exit_code, result.output) == (0, "".join(f"{f}: ok\n" for f in files))


def test_check_needs_at_least_one_file() -> None:
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 2
    assert "Missing argument 'FILES...'" in result.output


def test_programs_table_lists_built_in_and_user_programs(user_dir: Path) -> None:
    _write(user_dir / "my-program.toml", GOOD)
    result = CliRunner().invoke(main, ["programs"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["NAME", "TITLE", "EXERCISES", "SOURCE"]
    assert lines[1].split() == ["gentle-start", "Gentle", "start", "5", "built-in"]
    assert lines[2].split() == ["my-program", "My", "program", "1", "user"]
    assert f"your programs: {user_dir}" in lines[-1]


def test_programs_json_shape(user_dir: Path) -> None:
    _write(user_dir / "my-program.toml", GOOD)
    result = CliRunner().invoke(main, ["programs", "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    assert [p["name"] for p in listed] == [
        "gentle-start",
        "my-program",
        "spine-stabilise",
        "strength",
        "three-for-chronic-pain",
    ]
    assert listed[1] == {
        "name": "my-program",
        "title": "My program",
        "description": "One bridge.",
        "exercises": ["bridge"],
        "source": "user",
    }
    assert listed[0]["exercises"][0] == "knee-to-chest"
    assert all(set(p) == {"name", "title", "description", "exercises", "source"} for p in listed)


def test_programs_skips_a_broken_user_file_with_a_warning(user_dir: Path) -> None:
    _write(user_dir / "broken.toml", "name = ")
    result = CliRunner().invoke(main, ["programs", "--json"])
    assert result.exit_code == 0
    assert "broken" not in result.stdout
    assert len(json.loads(result.stdout)) == 4


@pytest.mark.parametrize(
    ("command", "expected"),
    [("check", "Validate program files"), ("programs", "List the built-in programs")],
)
def test_every_command_has_help(command: str, expected: str) -> None:
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    assert expected in result.output
