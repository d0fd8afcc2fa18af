"""``simulate`` records only when given a journal, marks what it records, and never moves a
person's real dose, resume point or report totals."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from tests.conftest import journal_real_session
from voicecoach.app.catalogue import load_program_file
from voicecoach.app.invocation import voicecoach_command
from voicecoach.app.preparation import prepare
from voicecoach.cli import main
from voicecoach.journal import SCHEMA_VERSION, Journal
from voicecoach.journal.schema import MIGRATIONS

SHORT = Path(__file__).parent / "data" / "short.toml"
MARCH = [f"2025-03-{day:02d}T09:00" for day in (10, 11, 12, 13)]


def _cli(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env)


def _simulate(journal_path: Path, *args: str) -> None:
    result = _cli(
        "simulate", str(SHORT), "--journal", str(journal_path), "--log", "/dev/null", *args
    )
    assert result.exit_code == 0, result.output


def _planned_reps(journal_path: Path) -> list[tuple[str, int, int]]:
    """(started_at, planned bridge reps, simulated) of every session, oldest first."""
    with closing(sqlite3.connect(journal_path)) as conn:
        return conn.execute(
            "SELECT started_at, reps, simulated FROM sessions JOIN planned"
            " ON planned.session_id = sessions.id WHERE exercise = 'bridge' ORDER BY started_ts"
        ).fetchall()


def test_a_plain_simulate_leaves_the_journal_empty(tmp_path: Path) -> None:
    result = _cli("simulate", str(SHORT))
    assert result.exit_code == 0, result.output
    assert "[end: completed after" in result.output
    listing = _cli("journal")
    assert listing.exit_code == 0, listing.output
    assert listing.output.startswith("No sessions yet: there is no journal at ")


def test_simulate_records_marked_sessions_where_it_is_told(journal_path: Path) -> None:
    result = _cli(
        "simulate", str(SHORT), "--log", "/dev/null", env={"VOICECOACH_JOURNAL": str(journal_path)}
    )
    assert result.exit_code == 0, result.output
    listing = _cli("journal", "--journal", str(journal_path))
    assert listing.exit_code == 0, listing.output
    header, row = listing.output.splitlines()
    assert row.split()[2:4] == ["short", "completed"]
    assert row.endswith("simulated")
    listed = _cli("journal", "--journal", str(journal_path), "--json")
    assert [s["simulated"] for s in json.loads(listed.output)] == [True]


def test_a_journal_of_real_sessions_has_no_simulated_column(journal_path: Path) -> None:
    journal_real_session(journal_path)
    listing = _cli("journal", "--journal", str(journal_path))
    assert listing.exit_code == 0, listing.output
    header, row = listing.output.splitlines()
    assert header.split() == ["date", "program", "ended", "duration", "reps", "pain"]
    assert row.split()[2:4] == ["short", "completed"]


def test_simulated_sessions_never_set_a_real_dose(journal_path: Path) -> None:
    for started in MARCH:
        _simulate(journal_path, "--started-at", started)
    program = load_program_file(SHORT)
    today = datetime.fromisoformat("2025-03-14T09:00").astimezone()
    with Journal(journal_path) as journal:
        real = prepare(program, journal, resume=False, today=today)
    with Journal(journal_path, simulated=True) as journal:
        rehearsal = prepare(program, journal, resume=False, today=today)
    assert {d.level for d in real.doses} == {0}
    assert all(d.reason == "No sessions yet: the program's dose." for d in real.doses)
    # Three comfortable sessions earn a step: the rehearsals do progress among themselves.
    assert {d.level for d in rehearsal.doses} == {1}


def test_a_back_filled_session_takes_its_dose_from_before_its_date(journal_path: Path) -> None:
    for started in MARCH:
        _simulate(journal_path, "--started-at", started)
    _simulate(journal_path, "--started-at", "2025-03-01T09:00")
    planned = _planned_reps(journal_path)
    assert [row[0][:10] for row in planned] == ["2025-03-01", *(d[:10] for d in MARCH)]
    assert [row[1] for row in planned] == [2, 2, 2, 2, 3]
    assert {row[2] for row in planned} == {1}


def test_a_real_session_does_not_offer_to_resume_a_simulated_one(journal_path: Path) -> None:
    _simulate(journal_path, "--heard", "50:stop")
    program = load_program_file(SHORT)
    now = datetime.now().astimezone()
    with Journal(journal_path) as journal:
        assert journal.last_unfinished(program, now=now) is None
    with Journal(journal_path, simulated=True) as journal:
        point = journal.last_unfinished(program, now=now)
    assert point is not None


@pytest.fixture
def mixed_journal(journal_path: Path) -> Path:
    """Two simulated sessions, then one real session of the same program."""
    for started in MARCH[:2]:
        _simulate(journal_path, "--started-at", started)
    journal_real_session(journal_path)
    return journal_path


def test_the_report_counts_real_sessions_and_names_the_simulated_ones(
    mixed_journal: Path,
) -> None:
    result = _cli("report", "--journal", str(mixed_journal))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ": 1 session, " in lines[0]
    shows = voicecoach_command("report --simulated")
    assert f"Not counted: 2 simulated sessions ({shows} shows them)." in lines
    as_json = json.loads(_cli("report", "--journal", str(mixed_journal), "--json").output)
    assert (as_json["sessions"], as_json["simulated"], as_json["left_out"]) == (1, False, 2)
    simulated = _cli("report", "--journal", str(mixed_journal), "--simulated")
    assert simulated.output.startswith("Simulated sessions from 2025-03-10 to 2025-03-11: 2 ")
    shows = voicecoach_command("report")
    assert f"Not counted: 1 real session ({shows} shows them)." in simulated.output


def test_the_csv_marks_simulated_sessions(mixed_journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    result = _cli("report", "--journal", str(mixed_journal), "--simulated", "--csv", str(out))
    assert result.exit_code == 0, result.output
    header, *rows = out.read_text(encoding="utf-8").splitlines()
    column = header.split(",").index("simulated")
    assert {row.split(",")[column] for row in rows} == {"1"}


def test_a_journal_of_only_simulated_sessions_says_how_to_see_them(journal_path: Path) -> None:
    _simulate(journal_path)
    result = _cli("report", "--journal", str(journal_path), "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"sessions": 0, "simulated": False, "left_out": 1}
    assert "Not counted: 1 simulated session" in result.stderr


def test_a_journal_from_before_simulations_were_marked_still_works(journal_path: Path) -> None:
    with closing(sqlite3.connect(journal_path)) as conn:
        conn.executescript("\n".join(MIGRATIONS[:2]) + "\nPRAGMA user_version = 2;")
        conn.execute(
            "INSERT INTO sessions (program, title, started_at, started_ts, total_reps,"
            " end_reason, duration_s) VALUES ('short', 'Short', ?, ?, 4, 'completed', 60)",
            ("2025-03-01T09:00:00+00:00", 1740819600.0),
        )
        conn.commit()
    with Journal(journal_path, readonly=True) as reader:
        (old,) = reader.history()
        (summary,) = reader.sessions()
    assert (old.simulated, summary.simulated) == (False, False)
    _simulate(journal_path)
    with closing(sqlite3.connect(journal_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)
        rows = conn.execute("SELECT program, simulated FROM sessions ORDER BY id").fetchall()
    assert rows == [("short", 0), ("short", 1)]
    report = json.loads(_cli("report", "--journal", str(journal_path), "--json").output)
    assert (report["sessions"], report["left_out"]) == (1, 1)
