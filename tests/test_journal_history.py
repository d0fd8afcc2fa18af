"""Journal questions for progression, reports and resuming: whole sessions, ratings, plans."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.clock import VirtualClock
from voicecoach.commands import Command, Parsed
from voicecoach.events import (
    BackRating,
    CommandHandled,
    EndReason,
    Event,
    PainReported,
    PlannedDose,
    RepDone,
    ResumeAccepted,
    SessionEnded,
    SessionStarted,
    Side,
)
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.history import ResumePoint
from voicecoach.journal import SCHEMA_VERSION, Journal, read_history
from voicecoach.journal.schema import MIGRATIONS
from voicecoach.plan import Plan, build_plan, estimate_speech_seconds, step_seconds
from voicecoach.program import Exercise, Program
from voicecoach.progression import PastSession, histories
from voicecoach.session import Session

START = datetime.fromisoformat("2025-03-01T09:30:00+01:00")


def _events(
    started: datetime,
    *middle: Event,
    end: EndReason | None = "completed",
    duration: float = 600.0,
    program: str = "tiny",
    planned: tuple[PlannedDose, ...] = (),
    resumed_from: int | None = None,
) -> list[Event]:
    start = SessionStarted(0.0, program, "Tiny", started.isoformat(), 12, planned, resumed_from)
    events: list[Event] = [start]
    events += middle
    if end is not None:
        events.append(SessionEnded(duration, end, duration))
    return events


def _reps(exercise: str, side: Side | None, count: int, t0: float = 10.0) -> list[Event]:
    return [RepDone(t0 + i, exercise, side, 1, i + 1, 3.0) for i in range(count)]


def _record(path: Path, *sessions: Sequence[Event]) -> None:
    with Journal(path) as journal:
        for events in sessions:
            for event in events:
                journal.on_event(event)


# -- history ------------------------------------------------------------------------------


def test_history_holds_whole_sessions_oldest_first(journal_path: Path) -> None:
    _record(
        journal_path,
        _events(
            START + timedelta(days=2),
            *_reps("bridge", None, 2),
            PainReported(20.0, "bridge", None, 2, 5),
            CommandHandled(21.0, "pause", "paused"),
            end="stopped",
            duration=30.0,
        ),
        _events(START, *_reps("knee-to-chest", "right", 1), BackRating(599.0, 2)),
        _events(START + timedelta(days=1), program="other"),
    )
    with Journal(journal_path, readonly=True) as journal:
        everything = journal.history()
        tiny = journal.history("tiny")
        recent = journal.history(since=START + timedelta(hours=12))
    assert [r.started for r in everything] == [START + timedelta(days=d) for d in (0, 1, 2)]
    first, last = tiny
    assert (first.rating, first.end_reason, first.duration_s) == (2, "completed", 600.0)
    assert first.did("knee-to-chest")
    assert not first.did("bridge")
    assert (last.end_reason, last.rating, len(last.reps)) == ("stopped", None, 2)
    assert last.pain_scores("bridge") == (5,)
    assert [c.kind for c in last.commands] == ["pause"]
    assert last.ended == last.started + timedelta(seconds=30)
    assert [r.program for r in recent] == ["other", "tiny"]


def test_a_rating_after_the_end_belongs_to_the_session_just_ended(journal_path: Path) -> None:
    _record(journal_path, [*_events(START), BackRating(601.0, 4)], [BackRating(1.0, 9)])
    with Journal(journal_path, readonly=True) as journal:
        (session,) = journal.history()
        assert journal.rating(session.id) == 4


def test_a_session_still_running_has_no_end(journal_path: Path) -> None:
    with Journal(journal_path) as journal:
        for event in _events(START, *_reps("bridge", None, 1), end=None):
            journal.on_event(event)
        (running,) = journal.history()
    assert (running.end_reason, running.duration_s) == (None, None)


def test_read_history_of_a_missing_journal_is_empty(journal_path: Path) -> None:
    assert read_history(journal_path) == []
    assert not journal_path.exists()


def test_histories_give_each_exercise_its_sessions(
    journal_path: Path, tiny_program: Program
) -> None:
    _record(
        journal_path,
        _events(START, *_reps("bridge", None, 4)),
        _events(
            START + timedelta(days=2),
            *_reps("knee-to-chest", "right", 1),
            PainReported(15.0, "knee-to-chest", "right", 1, None, "numbness"),
            end="pain",
        ),
        _events(START + timedelta(days=3), program="other"),
    )
    by_exercise = histories(read_history(journal_path), tiny_program)
    day2 = START + timedelta(days=2)
    assert by_exercise["knee-to-chest"] == [
        PastSession(START, "completed", False, ()),
        PastSession(day2, "pain", True, (None,)),
    ]
    assert by_exercise["bridge"] == [
        PastSession(START, "completed", True, ()),
        PastSession(day2, "pain", False, ()),
    ]


# -- planned doses ------------------------------------------------------------------------


def test_the_plan_of_a_session_is_recorded_with_it(
    journal_path: Path, tiny_program: Program
) -> None:
    plan = build_plan(tiny_program)
    with Journal(journal_path) as journal:
        for event in _events(START, planned=plan.planned):
            journal.on_event(event)
        # The plan belongs to one session only.
        for event in _events(START + timedelta(days=1)):
            journal.on_event(event)
        first, second = journal.history()
    assert first.planned == (
        PlannedDose("knee-to-chest", 0, "right", 2, 3.0),
        PlannedDose("knee-to-chest", 0, "left", 2, 3.0),
        PlannedDose("bridge", 1, None, 4, 2.0),
    )
    assert second.planned == ()


def test_a_journal_from_the_first_schema_is_read_and_upgraded(journal_path: Path) -> None:
    with closing(sqlite3.connect(journal_path)) as conn:
        conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
        conn.execute(
            "INSERT INTO sessions (program, title, started_at, started_ts, total_reps,"
            " end_reason, duration_s, rating) VALUES ('tiny', 'Tiny', ?, ?, 4, 'completed', 60, 3)",
            (START.isoformat(), START.timestamp()),
        )
        conn.execute(
            "INSERT INTO reps (session_id, t, exercise, side, set_no, rep, hold_seconds)"
            " VALUES (1, 5.0, 'bridge', NULL, 1, 1, 2.0)"
        )
        conn.commit()
    with Journal(journal_path, readonly=True) as reader:
        (old,) = reader.history("tiny")
    assert (old.rating, old.resumed_from, old.planned, len(old.reps)) == (3, None, (), 1)
    with Journal(journal_path) as journal:
        assert len(journal.history()) == 1
    with closing(sqlite3.connect(journal_path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone() == (SCHEMA_VERSION,)


# -- resuming -----------------------------------------------------------------------------


def _unfinished(
    journal_path: Path, program: Program, now: datetime, within: timedelta | None = None
) -> ResumePoint | None:
    with Journal(journal_path, readonly=True) as journal:
        if within is None:
            return journal.last_unfinished(program, now=now)
        return journal.last_unfinished(program, within, now)


AFTER = START + timedelta(seconds=600, minutes=30)


@pytest.mark.parametrize(
    ("middle", "end", "now", "expected"),
    [
        ((), "stopped", AFTER, ("knee-to-chest", 0, "right", 0)),
        (_reps("knee-to-chest", "right", 1), "interrupted", AFTER, ("knee-to-chest", 0, "left", 0)),
        (
            [*_reps("knee-to-chest", "right", 1), *_reps("knee-to-chest", "left", 1, t0=20)],
            "stopped",
            AFTER,
            ("knee-to-chest", 0, "right", 1),
        ),
        (
            [*_reps("knee-to-chest", "right", 2), *_reps("knee-to-chest", "left", 2, t0=20)],
            "stopped",
            AFTER,
            ("bridge", 1, None, 0),
        ),
        (
            [*_reps("knee-to-chest", "right", 2), *_reps("knee-to-chest", "left", 2, t0=20)],
            "interrupted",
            START + timedelta(seconds=600, minutes=119),
            ("bridge", 1, None, 0),
        ),
        ((), "interrupted", START + timedelta(seconds=600, hours=2), None),
        ((), "completed", AFTER, None),
        ((), "pain", AFTER, None),
        ((), "error", AFTER, None),
        (
            [*_reps("knee-to-chest", "right", 2), *_reps("knee-to-chest", "left", 2, t0=20)]
            + _reps("bridge", None, 4, t0=40),
            "stopped",
            AFTER,
            None,
        ),
    ],
)
def test_last_unfinished(
    journal_path: Path,
    tiny_program: Program,
    middle: Sequence[Event],
    end: EndReason,
    now: datetime,
    expected: tuple[str, int, Side | None, int] | None,
) -> None:
    _record(journal_path, _events(START - timedelta(days=1)), _events(START, *middle, end=end))
    point = _unfinished(journal_path, tiny_program, now)
    if expected is None:
        assert point is None
    else:
        assert point is not None
        assert (point.exercise, point.exercise_index, point.side, point.reps_done) == expected
        assert (point.session_id, point.end_reason) == (2, end)


def test_only_the_last_session_of_that_program_counts(
    journal_path: Path, tiny_program: Program
) -> None:
    _record(
        journal_path,
        _events(START, end="stopped"),
        _events(START + timedelta(minutes=15), end="completed"),
        _events(START + timedelta(minutes=20), end="stopped", program="other"),
    )
    assert _unfinished(journal_path, tiny_program, AFTER) is None
    assert _unfinished(journal_path, replace(tiny_program, name="other"), AFTER) is not None


def test_the_window_can_be_set(journal_path: Path, tiny_program: Program) -> None:
    _record(journal_path, _events(START, end="stopped"))
    assert _unfinished(journal_path, tiny_program, AFTER, timedelta(minutes=10)) is None
    assert _unfinished(journal_path, tiny_program, AFTER, timedelta(hours=1)) is not None


BLOCKS = Exercise(
    id="side-plank",
    name="Side plank",
    position="side-lying",
    setup=("Lie on your side.",),
    move_cue="Lift your hips, on your {side} side.",
    release_cue="Lower down.",
    sides="blocks",
    reps=2,
    sets=2,
)


@pytest.mark.parametrize(
    ("right", "left", "expected"),
    [(0, 0, ("right", 0)), (3, 0, ("right", 3)), (4, 0, ("left", 0)), (4, 3, ("left", 3))],
)
def test_an_exercise_in_blocks_continues_on_the_side_not_done(
    journal_path: Path, right: int, left: int, expected: tuple[Side, int]
) -> None:
    program = Program("planks", "Planks", "", "Gently.", (BLOCKS,))
    reps = _reps("side-plank", "right", right) + _reps("side-plank", "left", left, t0=50)
    _record(journal_path, _events(START, *reps, end="interrupted", program="planks"))
    point = _unfinished(journal_path, program, AFTER)
    assert point is not None
    assert (point.side, point.reps_done) == expected


def test_a_resumed_session_continues_the_one_before(
    journal_path: Path, tiny_program: Program
) -> None:
    plan = build_plan(tiny_program)
    with Journal(journal_path) as journal:
        first = _events(
            START, *_reps("knee-to-chest", "right", 2), end="stopped", planned=plan.planned
        )
        for event in first:
            journal.on_event(event)
        point = journal.last_unfinished(tiny_program, now=AFTER)
        assert point is not None
        assert (point.exercise, point.side) == ("knee-to-chest", "left")
        # The resumed session does the left side, and is itself interrupted.
        later = START + timedelta(minutes=40)
        left = _reps("knee-to-chest", "left", 2)
        linked = {"planned": plan.planned, "resumed_from": point.session_id}
        for event in _events(later, *left, end="interrupted", **linked):
            journal.on_event(event)
        again = journal.last_unfinished(tiny_program, now=later + timedelta(minutes=20))
        (_, resumed) = journal.history()
    assert resumed.resumed_from == point.session_id
    assert again is not None
    assert (again.session_id, again.exercise, again.side) == (resumed.id, "bridge", None)


def _run(
    session: Session, journal: Journal, script: Sequence[tuple[float, str]] = ()
) -> EventRecorder:
    recorder = EventRecorder()
    Runner(
        session=session,
        clock=VirtualClock(),
        mic=SilentMicrophone(),
        speaker=NullSpeaker(),
        synthesizer=EstimatedSynthesizer(),
        recognizer=ScriptedRecognizer(script),
        listeners=[recorder, journal],
    ).run()
    return recorder


def _start_of(plan: Plan, index: int) -> float:
    return sum(step_seconds(s, estimate_speech_seconds(s.text)) for s in plan.steps[:index])


def test_a_stopped_simulated_session_resumes_at_the_right_exercise(
    journal_path: Path, tiny_program: Program
) -> None:
    plan = build_plan(tiny_program)
    first_bridge = next(i for i, s in enumerate(plan.steps) if s.exercise == "bridge")
    with Journal(journal_path) as journal:
        # Stop a little after the bridge's set-up starts.
        stopped = _run(Session(plan), journal, [(_start_of(plan, first_bridge) + 1.0, "stop")])
        now = datetime.now().astimezone() + timedelta(minutes=5)
        point = journal.last_unfinished(tiny_program, now=now)
    assert [e.reason for e in stopped.events if isinstance(e, SessionEnded)] == ["stopped"]
    assert point is not None
    assert (point.exercise, point.side, point.reps_done) == ("bridge", None, 0)
    resumed = build_plan(tiny_program, start_exercise=point.exercise, start_side=point.side)
    with Journal(journal_path) as journal:
        # Taken up without asking, as ``--resume`` does.
        session = Session(
            plan, resume_plan=resumed, ask_resume=False, resumed_from=point.session_id
        )
        done = _run(session, journal)
        assert journal.last_unfinished(tiny_program, now=now) is None
        (_, second) = journal.history()
    assert {e.exercise for e in done.events if isinstance(e, RepDone)} == {"bridge"}
    assert (second.end_reason, second.resumed_from) == ("completed", point.session_id)


@pytest.mark.parametrize(
    ("answer", "linked"), [("yes", True), ("start_over", False), (None, False)]
)
def test_an_offer_to_continue_links_the_sessions_only_when_taken(
    journal_path: Path, tiny_program: Program, answer: str | None, linked: bool
) -> None:
    plan = build_plan(tiny_program)
    resume_plan = build_plan(tiny_program, start_exercise="bridge")
    # The session machine reports the answer to its offer, and a yes as the offer taken.
    session = Session(plan, resume_plan=resume_plan, resumed_from=1)
    session.start(0.0)
    command = Command.YES if answer == "yes" else Command.START_OVER
    answered = [
        e
        for e in session.command(Parsed(command), 1.0)
        if isinstance(e, CommandHandled | ResumeAccepted)
    ]
    handled = [e for e in answered if isinstance(e, CommandHandled)]
    with Journal(journal_path) as journal:
        for event in _events(START, end="stopped"):
            journal.on_event(event)
        later = START + timedelta(minutes=20)
        for event in _events(later, *(answered if answer else []), end="completed"):
            journal.on_event(event)
        (_, second) = journal.history()
    assert [(e.command, e.state) for e in handled] == [(command.value, "offer")]
    assert second.resumed_from == (1 if linked else None)


def test_the_recognizer_listens_for_answers_only_while_the_offer_is_made(
    tiny_program: Program,
) -> None:
    recognizer = ScriptedRecognizer([(6.0, "yes")])
    recorder = EventRecorder()
    Runner(
        session=Session(
            build_plan(tiny_program),
            resume_plan=build_plan(tiny_program, start_exercise="bridge"),
        ),
        clock=VirtualClock(),
        mic=SilentMicrophone(),
        speaker=NullSpeaker(),
        synthesizer=EstimatedSynthesizer(),
        recognizer=recognizer,
        listeners=[recorder],
    ).run()
    # (numbers, answers): the answers while the offer is made, then neither once it is taken.
    assert recognizer.expectations[:2] == [(False, True), (False, False)]
    assert (True, True) not in recognizer.expectations
    handled = [e for e in recorder.events if isinstance(e, CommandHandled)]
    assert [(e.command, e.state, e.ignored) for e in handled] == [("yes", "offer", False)]
