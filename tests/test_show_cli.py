"""``voicecoach show``: today's dose and why, and a plan that reads cleanly in a terminal."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import journal_real_session
from voicecoach.cli import main
from voicecoach.durations import minutes_seconds

SHORT = Path(__file__).parent / "data" / "short.toml"
STEP_LINE = re.compile(r"^ *\d+:\d\d\.\d +\d+\.\ds  ")


def _show(*args: str) -> Result:
    return CliRunner().invoke(main, ["show", *args])


def _real_sessions(journal_path: Path, days_ago: tuple[int, ...]) -> None:
    """Comfortable, completed real sessions of the short program, ``days_ago`` days ago."""
    for ago in days_ago:
        journal_real_session(journal_path, datetime.now().astimezone() - timedelta(days=ago))


def test_without_a_journal_today_is_the_programs_dose(journal_path: Path) -> None:
    result = _show(str(SHORT), "--journal", str(journal_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1] == f"Today's dose, from the journal {journal_path}:"
    assert (
        lines[2].split() == "knee-hug 1 reps, 5 s hold No sessions yet: the program's dose.".split()
    )
    assert not journal_path.exists()


def test_after_comfortable_sessions_the_dose_steps_up_and_says_why(journal_path: Path) -> None:
    _real_sessions(journal_path, (3, 2, 1))
    result = _show(str(SHORT), "--journal", str(journal_path))
    assert result.exit_code == 0, result.output
    bridge = next(line for line in result.output.splitlines() if line.startswith("  bridge"))
    assert bridge.split()[1:5] == ["3", "reps,", "5", "s"]
    assert "comfortable sessions in a row" in bridge
    record = json.loads(_show(str(SHORT), "--journal", str(journal_path), "--json").output)
    assert record["dose"] == "personal"
    doses = {d["exercise"]: d for d in record["doses"]}
    assert (doses["bridge"]["reps"], doses["bridge"]["level"]) == (3, 1)
    assert "comfortable sessions in a row" in doses["bridge"]["reason"]
    assert record["exercises"][-1]["reps"] == 3


def test_dose_base_ignores_the_journal(journal_path: Path) -> None:
    _real_sessions(journal_path, (3, 2, 1))
    result = _show(str(SHORT), "--journal", str(journal_path), "--dose", "base")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1] == (
        "The program's own dose (--dose base): the journal is not read."
    )
    record = json.loads(_show(str(SHORT), "--dose", "base", "--json").output)
    assert (record["dose"], record["doses"], record["exercises"][-1]["reps"]) == ("base", [], 2)


def test_the_journal_comes_from_the_environment_too(
    journal_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _real_sessions(journal_path, (3, 2, 1))
    monkeypatch.setenv("VOICECOACH_JOURNAL", str(journal_path))
    record = json.loads(_show(str(SHORT), "--json").output)
    assert {d["level"] for d in record["doses"]} == {1}


@pytest.fixture
def long_ids(tmp_path: Path) -> Path:
    """The short program with a long exercise id."""
    path = tmp_path / "long.toml"
    text = SHORT.read_text(encoding="utf-8")
    path.write_text(
        text.replace('id = "knee-hug"', 'id = "knee-hug-held-with-both-hands-slowly"'), "utf-8"
    )
    return path


def test_the_plan_reads_cleanly(long_ids: Path) -> None:
    result = _show(str(long_ids), "--dose", "base")
    assert result.exit_code == 0, result.output
    steps = [line for line in result.output.splitlines() if STEP_LINE.match(line)]
    assert len(steps) > 20
    assert not any(" set 0" in line or " rep 0" in line for line in steps)
    # Every step's text starts in the same column, whatever the exercise id's length.
    record = json.loads(_show(str(long_ids), "--dose", "base", "--json").output)
    starts = {
        line.rindex(step["text"] or "(quiet)")
        for line, step in zip(steps, record["steps"], strict=True)
    }
    assert len(starts) == 1
    times = [line.split()[0] for line in steps]
    assert len(set(times)) == len(times)
    assert times == sorted(times, key=lambda t: (len(t), t))


@pytest.mark.parametrize(
    ("seconds", "tenths", "expected"),
    [
        (0.0, False, "0:00"),
        (59.99, False, "0:59"),
        (76.99999999999999, False, "1:17"),
        (154.5, False, "2:34"),
        (155.5, False, "2:35"),
        (154.5, True, "2:34.5"),
        (154.45, True, "2:34.4"),
        (3600.0, False, "60:00"),
        (None, False, "-"),
    ],
)
def test_minutes_seconds_rounds_down_consistently(
    seconds: float | None, tenths: bool, expected: str
) -> None:
    assert minutes_seconds(seconds, tenths=tenths) == expected
