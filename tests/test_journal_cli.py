"""``voicecoach journal``: the table, the JSON, and clean errors, through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from voicecoach.cli import main
from voicecoach.events import (
    CommandHandled,
    Event,
    PainReported,
    RepDone,
    SessionEnded,
    SessionStarted,
)
from voicecoach.journal import Journal

KEYS = [
    "id",
    "program",
    "started_at",
    "end_reason",
    "duration_s",
    "reps_done",
    "exercises",
    "pain",
    "simulated",
]


def _session(started_at: str, program: str, end: SessionEnded, *extra: Event) -> list[Event]:
    return [
        SessionStarted(0.0, program, program.title(), started_at, 4),
        RepDone(10.0, "bridge", None, 1, 1, 3.0),
        RepDone(20.0, "bridge", None, 1, 2, 3.0),
        *extra,
        end,
    ]


@pytest.fixture
def filled_journal(journal_path: Path) -> Path:
    """A journal with a completed, a stopped and a painful session, on three days."""
    sessions = [
        _session("2025-03-01T09:30:00", "back-basics", SessionEnded(754.0, "completed", 754.0)),
        _session(
            "2025-03-02T18:05:00",
            "gentle",
            SessionEnded(65.4, "stopped", 65.4),
            CommandHandled(30.0, "pause", "paused"),
            CommandHandled(40.0, "resume", "move"),
            CommandHandled(65.0, "stop", "stopped"),
        ),
        _session(
            "2025-03-03T07:00:00",
            "back-basics",
            SessionEnded(90.0, "pain", 90.0),
            PainReported(25.0, "bridge", None, 3, 7),
            PainReported(80.0, "bridge", None, 3, None, symptom="numbness"),
        ),
    ]
    with Journal(journal_path) as journal:
        for events in sessions:
            for event in events:
                journal.on_event(event)
    return journal_path


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["journal", *args], env=env)


def test_table_lists_sessions_newest_first(filled_journal: Path) -> None:
    result = _run("--journal", str(filled_journal))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["date", "program", "ended", "duration", "reps", "pain"]
    assert lines[1].split() == ["2025-03-03", "07:00", "back-basics", "pain", "1:30", "2", "7", "?"]
    assert lines[2].split() == ["2025-03-02", "18:05", "gentle", "stopped", "1:05", "2", "-"]
    assert lines[3].split() == [
        "2025-03-01",
        "09:30",
        "back-basics",
        "completed",
        "12:34",
        "2",
        "-",
    ]
    assert len(lines) == 4


def test_limit_keeps_the_newest(filled_journal: Path) -> None:
    result = _run("--journal", str(filled_journal), "--limit", "1")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2
    assert "2025-03-03" in result.stdout


def test_limit_zero_shows_all(filled_journal: Path) -> None:
    result = _run("--journal", str(filled_journal), "--limit", "0")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 4


def test_json_lists_session_objects(filled_journal: Path) -> None:
    result = _run("--journal", str(filled_journal), "--json")
    assert result.exit_code == 0, result.output
    sessions = json.loads(result.stdout)
    assert [list(s) for s in sessions] == [KEYS] * 3
    newest = sessions[0]
    assert newest["program"] == "back-basics"
    assert newest["started_at"] == "2025-03-03T07:00:00"
    assert (newest["end_reason"], newest["duration_s"], newest["reps_done"]) == ("pain", 90.0, 2)
    assert newest["exercises"] == [
        {"exercise": "bridge", "side": None, "reps": 2, "hold_seconds": 6.0}
    ]
    assert newest["pain"] == [
        {"exercise": "bridge", "side": None, "rep": 3, "score": 7},
        {"exercise": "bridge", "side": None, "rep": 3, "score": None},
    ]


def test_journal_path_comes_from_the_environment(filled_journal: Path) -> None:
    result = _run("--json", env={"VOICECOACH_JOURNAL": str(filled_journal)})
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 3


def test_default_path_is_in_the_data_folder() -> None:
    result = _run()
    assert result.exit_code == 0
    assert "No sessions yet" in result.stdout
    assert "voicecoach/journal.sqlite3" in result.stdout


def test_a_missing_journal_has_no_sessions_and_is_not_created(journal_path: Path) -> None:
    result = _run("--journal", str(journal_path))
    assert result.exit_code == 0
    assert result.stdout == f"No sessions yet: there is no journal at {journal_path}.\n"
    assert not journal_path.exists()


def test_a_missing_journal_gives_an_empty_json_list(journal_path: Path) -> None:
    result = _run("--journal", str(journal_path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []
    assert str(journal_path) in result.stderr
    assert not journal_path.exists()


def test_an_empty_journal_has_no_sessions(journal_path: Path) -> None:
    with Journal(journal_path):
        pass
    result = _run("--journal", str(journal_path))
    assert result.exit_code == 0
    assert result.stdout == f"No sessions yet in {journal_path}.\n"


def test_a_session_still_running_is_shown_as_running(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        journal.on_event(SessionStarted(0.0, "gentle", "Gentle", "2025-03-04T08:00:00", 4))
        journal.on_event(RepDone(10.0, "bridge", None, 1, 1, 3.0))
        result = _run("--journal", str(journal_path))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1].split() == [
        "2025-03-04",
        "08:00",
        "gentle",
        "running",
        "-",
        "1",
        "-",
    ]


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        ("corrupt", "damaged or not a journal"),
        ("directory", "is a folder"),
    ],
)
def test_unusable_journal_is_a_clean_error(journal_path: Path, make: str, expected: str) -> None:
    if make == "corrupt":
        journal_path.write_bytes(b"\x00\xffnot sqlite at all" * 300)
    else:
        journal_path.mkdir()
    result = _run("--journal", str(journal_path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert expected in result.stderr
    assert str(journal_path) in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_a_negative_limit_is_a_usage_error(filled_journal: Path) -> None:
    result = _run("--journal", str(filled_journal), "--limit", "-1")
    assert result.exit_code == 2
    assert "--limit" in result.stderr


def test_help_explains_the_options() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for text in ("--journal", "--limit", "--json", "VOICECOACH_JOURNAL", "newest first"):
        assert text in result.stdout
