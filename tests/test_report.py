"""``voicecoach report``: numbers, table, CSV export and plot, from a real journal."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import voicecoach.cli.report_cmds  # noqa: F401  (registers the command)
from voicecoach.cli import main
from voicecoach.events import (
    BackRating,
    CommandHandled,
    EndReason,
    Event,
    PainReported,
    PlannedDose,
    RepDone,
    SessionEnded,
    SessionStarted,
    Side,
)
from voicecoach.history import SessionRecord
from voicecoach.journal import Journal, read_history
from voicecoach.plan import build_plan
from voicecoach.program import Program
from voicecoach.report import build_report, format_report, short_reps

MONDAY = datetime(2025, 3, 3, 8, 30)


def _session(
    started: datetime,
    *middle: Event,
    end: EndReason = "completed",
    duration: float = 600.0,
    rating: int | None = None,
) -> list[Event]:
    events: list[Event] = [SessionStarted(0.0, "tiny", "Tiny", started.isoformat(), 8)]
    events += middle
    if rating is not None:
        events.append(BackRating(duration - 1, rating))
    events.append(SessionEnded(duration, end, duration))
    return events


def _reps(
    exercise: str, side: Side | None, count: int, hold_seconds: float = 3.0, t0: float = 10.0
) -> list[Event]:
    return [RepDone(t0 + i, exercise, side, 1, i + 1, hold_seconds) for i in range(count)]


def _full(*, left_hold: float = 3.0, t0: float = 10.0) -> list[Event]:
    """The tiny program done in full: knee to chest 2 each side (3 s holds), bridge 4 (2 s)."""
    return [
        *_reps("knee-to-chest", "right", 2, t0=t0),
        *_reps("knee-to-chest", "left", 2, left_hold, t0=t0 + 5),
        *_reps("bridge", None, 4, 2.0, t0=t0 + 20),
    ]


def _record(path: Path, sessions: Sequence[Sequence[Event]], program: Program | None) -> None:
    with Journal(path) as journal:
        for events in sessions:
            start, *rest = events
            if program is not None and isinstance(start, SessionStarted):
                start = replace(start, planned=build_plan(program).planned)
            for event in (start, *rest):
                journal.on_event(event)


@pytest.fixture
def weeks_journal(journal_path: Path, tiny_program: Program) -> Path:
    """Three weeks: sessions on 3 days of week 1, a break in week 2, 4 days in a row in week 3.

    Pain of 5 on the bridge in the 2nd session, numbness in the 6th (which ends it); the left
    knee to chest hold is cut short in three sessions; one session is stopped.
    """
    days = [0, 2, 4, 14, 15, 16, 17]
    sessions = []
    for n, day in enumerate(days, start=1):
        started = MONDAY + timedelta(days=day)
        if n == 2:
            events = _session(started, *_full(), PainReported(40.0, "bridge", None, 3, 5), rating=3)
        elif n == 6:
            numb = PainReported(20.0, "knee-to-chest", "left", 1, None, "numbness")
            events = _session(started, *_full()[:3], numb, end="pain", duration=25.0)
        elif n == 4:
            stop = CommandHandled(16.0, "stop", "stopped")
            events = _session(started, *_full()[:2], stop, end="stopped", duration=20.0)
        else:
            events = _session(started, *_full(left_hold=1.0 if n in (1, 3, 5) else 3.0), rating=2)
        sessions.append(events)
    _record(journal_path, sessions, tiny_program)
    return journal_path


def _records(path: Path) -> list[SessionRecord]:
    return read_history(path)


# -- the numbers --------------------------------------------------------------------------


def test_report_numbers(weeks_journal: Path) -> None:
    report = build_report(_records(weeks_journal), MONDAY.date() + timedelta(days=18))
    assert report.sessions == 7
    assert report.total_seconds == 5 * 600 + 20 + 25
    assert [(w.week_start, w.sessions) for w in report.weeks] == [
        (date(2025, 3, 3), 3),
        (date(2025, 3, 17), 4),
    ]
    assert (report.day_streak.current, report.day_streak.longest) == (4, 4)
    assert (report.week_streak.current, report.week_streak.longest) == (1, 1)
    rows = {(e.exercise, e.side): e for e in report.exercises}
    assert rows[("knee-to-chest", "right")].reps == 14
    assert rows[("knee-to-chest", "left")].reps == 11
    assert rows[("knee-to-chest", "left")].hold_seconds == 3 * 2 * 1.0 + 2 * 2 * 3.0 + 3.0
    assert rows[("bridge", None)].reps == 20
    assert rows[("knee-to-chest", "left")].short_reps == 6
    assert rows[("knee-to-chest", "left")].imbalanced
    assert not rows[("knee-to-chest", "right")].imbalanced
    assert [(p.during, p.rating) for p in report.pain][:2] == [((), 2), ((("bridge", 5),), 3)]
    assert report.pain[5].during == (("knee-to-chest", None),)


@pytest.mark.parametrize(
    ("today", "days", "weeks"),
    [
        (date(2025, 3, 20), (4, 4), (1, 1)),
        (date(2025, 3, 21), (4, 4), (1, 1)),
        (date(2025, 3, 22), (0, 4), (1, 1)),
        (date(2025, 3, 30), (0, 4), (1, 1)),
        (date(2025, 3, 31), (0, 4), (0, 1)),
    ],
)
def test_streaks_are_current_until_the_next_day_or_week_is_over(
    weeks_journal: Path, today: date, days: tuple[int, int], weeks: tuple[int, int]
) -> None:
    report = build_report(_records(weeks_journal), today)
    assert (report.day_streak.current, report.day_streak.longest) == days
    assert (report.week_streak.current, report.week_streak.longest) == weeks


def test_consecutive_weeks_make_a_week_streak(journal_path: Path) -> None:
    sessions = [_session(MONDAY + timedelta(days=d), *_full()) for d in (0, 9, 20, 21, 40)]
    _record(journal_path, sessions, None)
    report = build_report(_records(journal_path), date(2025, 4, 14))
    assert (report.week_streak.current, report.week_streak.longest) == (1, 4)
    assert (report.day_streak.current, report.day_streak.longest) == (0, 2)


def _one(path: Path, events: Sequence[Event], program: Program | None) -> SessionRecord:
    _record(path, [events], program)
    (record,) = _records(path)
    return record


@pytest.mark.parametrize(
    ("events", "with_plan", "expected"),
    [
        # Done in full: nothing short, with or without a recorded plan.
        (_full(), True, {}),
        (_full(), False, {}),
        # Holds shorter than planned; without a plan the longest hold stands for it.
        (_full(left_hold=2.0), True, {("knee-to-chest", "left"): 2}),
        (_full(left_hold=2.0), False, {("knee-to-chest", "left"): 2}),
        (_full(left_hold=2.7), True, {}),
        # A rep left out while the session went on to the bridge.
        (
            [*_reps("knee-to-chest", "right", 2), *_reps("knee-to-chest", "left", 1, t0=15)]
            + _reps("bridge", None, 4, 2.0, t0=30),
            True,
            {("knee-to-chest", "left"): 1},
        ),
        # Stopped in the middle of an exercise: the reps not done are not "cut short".
        (_reps("knee-to-chest", "right", 2) + _reps("knee-to-chest", "left", 1, t0=15), True, {}),
    ],
)
def test_reps_cut_short(
    journal_path: Path,
    tiny_program: Program,
    events: list[Event],
    with_plan: bool,
    expected: dict[tuple[str, str | None], int],
) -> None:
    went_on = any(isinstance(e, RepDone) and e.exercise == "bridge" for e in events)
    end: EndReason = "completed" if went_on else "stopped"
    plan = tiny_program if with_plan else None
    record = _one(journal_path, _session(MONDAY, *events, end=end), plan)
    assert bool(record.planned) is with_plan
    assert short_reps(record) == Counter(expected)


def test_a_planned_hold_sets_what_counts_as_short(journal_path: Path) -> None:
    record = _one(journal_path, _session(MONDAY, *_full()), None)
    planned = (
        PlannedDose("knee-to-chest", 0, "right", 2, 5.0),
        PlannedDose("knee-to-chest", 0, "left", 2, 3.0),
    )
    assert short_reps(replace(record, planned=planned)) == Counter({("knee-to-chest", "right"): 2})


# -- the command --------------------------------------------------------------------------


def _run(*args: str) -> Result:
    return CliRunner().invoke(main, ["report", *args])


def test_table(weeks_journal: Path) -> None:
    result = _run("--journal", str(weeks_journal))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Sessions from 2025-03-03 to 2025-03-20: 7 sessions, 51 min in all." in text
    assert "(longest 1 week)" in text
    assert "(longest 4 days)" in text
    lines = text.splitlines()
    assert ["2025-03-17", "4", "21"] in [line.split() for line in lines]
    left = next(line for line in lines if line.split()[:2] == ["knee-to-chest", "left"])
    assert left.split()[2:5] == ["11", "0:21", "6"]
    assert left.endswith("<< cut short more often")
    bridge = next(line for line in lines if line.split()[:2] == ["bridge", "-"])
    assert bridge.split()[2:5] == ["20", "0:40", "0"]
    pain = [line for line in lines if line.split()[1:2] == ["08:30"]]
    assert len(pain) == 7
    assert pain[1].split()[3:] == ["completed", "10", "bridge", "5", "3"]
    assert pain[5].split()[3:] == ["pain", "0", "knee-to-chest", "?", "-"]
    assert pain[3].split()[3:] == ["stopped", "0", "-", "-"]


def test_json(weeks_journal: Path) -> None:
    result = _run("--journal", str(weeks_journal), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sessions"] == 7
    assert report["day_streak"]["longest"] == 4
    assert [w["sessions"] for w in report["weeks"]] == [3, 4]
    assert {(e["exercise"], e["side"]) for e in report["exercises"] if e["imbalanced"]} == {
        ("knee-to-chest", "left")
    }
    assert report["pain"][1]["during"] == [{"exercise": "bridge", "score": 5}]


def test_since_limits_the_range(weeks_journal: Path) -> None:
    result = _run("--journal", str(weeks_journal), "--since", "2025-03-17", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["sessions"] == 4
    assert report["first"].startswith("2025-03-17")


@pytest.mark.parametrize("value", ["2025-13-01", "yesterday", "17/03/2025", "2025-3"])
def test_a_bad_date_is_a_usage_error(weeks_journal: Path, value: str) -> None:
    result = _run("--journal", str(weeks_journal), "--since", value)
    assert result.exit_code == 2
    assert "--since" in result.stderr
    assert "YYYY-MM-DD" in result.stderr


def test_csv_has_every_session_and_event(weeks_journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "sessions.csv"
    result = _run("--journal", str(weeks_journal), "--csv", str(out))
    assert result.exit_code == 0, result.output
    assert f"Wrote 67 rows to {out}." in result.stdout
    with out.open(newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 67
    assert Counter(r["event"] for r in rows) == Counter(
        {"start": 7, "end": 7, "rep": 45, "pain": 2, "command": 1, "rating": 5}
    )
    assert rows[0]["event"] == "start"
    assert rows[0]["started_at"] == "2025-03-03T08:30:00"
    second = [r for r in rows if r["session_id"] == "2"]
    assert [r["event"] for r in second][-3:] == ["pain", "rating", "end"]
    pain = next(r for r in second if r["event"] == "pain")
    assert (pain["exercise"], pain["score"], pain["rating"]) == ("bridge", "5", "3")
    numb = next(r for r in rows if r["event"] == "pain" and r["session_id"] == "6")
    assert (numb["score"], numb["symptom"], numb["end_reason"]) == ("", "numbness", "pain")
    stop = next(r for r in rows if r["event"] == "command")
    assert (stop["command"], stop["state"], stop["t"]) == ("stop", "stopped", "16.0")
    rep = next(r for r in rows if r["event"] == "rep" and r["side"] == "left")
    assert (rep["exercise"], rep["set"], rep["rep"], rep["hold_seconds"]) == (
        "knee-to-chest",
        "1",
        "1",
        "1.0",
    )
    assert out.stat().st_mode & 0o077 == 0


def test_an_unwritable_csv_is_a_clean_error(weeks_journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "missing" / "sessions.csv"
    result = _run("--journal", str(weeks_journal), "--csv", str(out))
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: cannot write {out}")


def test_an_empty_journal_is_a_friendly_message(journal_path: Path) -> None:
    with Journal(journal_path):
        pass
    result = _run("--journal", str(journal_path))
    assert result.exit_code == 0
    assert "No sessions in the journal" in result.stdout
    assert "first session" in result.stdout


def test_a_missing_journal_is_a_friendly_message_and_is_not_created(journal_path: Path) -> None:
    result = _run("--journal", str(journal_path), "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {"sessions": 0, "simulated": False, "left_out": 0}
    assert "No sessions" in result.stderr
    assert not journal_path.exists()


def test_nothing_since_a_date_says_so(weeks_journal: Path) -> None:
    result = _run("--journal", str(weeks_journal), "--since", "2030-01-01")
    assert result.exit_code == 0
    assert "No sessions since 2030-01-01" in result.stdout


def test_help_explains_the_definitions() -> None:
    result = _run("--help")
    assert result.exit_code == 0
    for text in (
        "--since",
        "--plot",
        "--csv",
        "--json",
        "streak",
        "cut short",
        "needs matplotlib",
        "--simulated",
    ):
        assert text in result.stdout


def test_the_table_of_a_single_session(journal_path: Path) -> None:
    _record(journal_path, [_session(MONDAY, *_full(), duration=3725.0)], None)
    text = format_report(build_report(_records(journal_path), MONDAY.date()))
    assert "1 session, 1 h 02 min in all." in text
    assert "1 day in a row with a session (longest 1 day)" in text


# -- the plot -----------------------------------------------------------------------------


def test_plot_is_a_readable_png(weeks_journal: Path, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the report extra (matplotlib)")
    import matplotlib.image
    import numpy as np

    out = tmp_path / "out.png"
    result = _run("--journal", str(weeks_journal), "--plot", str(out))
    assert result.exit_code == 0, result.output
    assert f"Drew the plot in {out}." in result.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert 20_000 < out.stat().st_size < 2_000_000
    pixels = matplotlib.image.imread(str(out))
    assert pixels.shape[:2] == (750, 1100)
    rgb = pixels[..., :3]
    assert float(rgb.std()) > 0.05
    # The three pain bands are drawn: green, amber and red areas are each clearly present.
    for colour in ("#c8e6c9", "#ffe0b2", "#ffcdd2"):
        wanted = np.array([int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
        share = float(np.mean(np.all(np.abs(rgb - wanted) < 0.02, axis=-1)))
        assert share > 0.02, colour


def test_plot_without_matplotlib_names_the_extra(weeks_journal: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.png"
    # A fresh interpreter where importing matplotlib fails, as when the extra is not installed.
    script = textwrap.dedent(
        """
        import sys
        sys.modules["matplotlib"] = None
        import voicecoach.cli.report_cmds
        from voicecoach.cli import main
        main(sys.argv[1:], prog_name="voicecoach")
        """
    )
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "report",
            "--journal",
            str(weeks_journal),
            "--plot",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert f"run: {sys.executable} -m pip install 'matplotlib>=3.7'" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""
    assert not out.exists()


def test_the_plot_has_one_bar_per_session_even_on_one_day(journal_path: Path) -> None:
    pytest.importorskip("matplotlib", reason="--plot needs the report extra (matplotlib)")
    from voicecoach.report.plot import draw_sessions

    starts = [MONDAY + timedelta(hours=h) for h in (0, 2, 9, 24)]
    _record(
        journal_path,
        [_session(s, *_full(), duration=60.0 * (i + 5)) for i, s in enumerate(starts)],
        None,
    )
    figure = draw_sessions(_records(journal_path))
    bars = sorted(figure.axes[1].patches, key=lambda bar: bar.get_x())
    assert [round(bar.get_height()) for bar in bars] == [5, 6, 7, 8]
    for left, right in zip(bars, bars[1:], strict=False):
        assert left.get_x() + left.get_width() < right.get_x()


def test_the_csv_has_rounded_numbers(journal_path: Path, tmp_path: Path) -> None:
    rep = RepDone(140.14000000000001, "bridge", None, 1, 1, 2.9999999999999996)
    _record(journal_path, [_session(MONDAY, rep, duration=600.0000000000001)], None)
    out = tmp_path / "s.csv"
    assert _run("--journal", str(journal_path), "--csv", str(out)).exit_code == 0
    with out.open(newline="", encoding="utf-8") as file:
        row = next(r for r in csv.DictReader(file) if r["event"] == "rep")
    assert (row["t"], row["hold_seconds"], row["duration_s"]) == ("140.14", "3.0", "600.0")
