"""Progression: today's dose from the journal, as table tests over short and long histories."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from voicecoach.app.catalogue import resolve_program
from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.clock import VirtualClock
from voicecoach.commands import Command, parse
from voicecoach.events import SayStarted, SessionEnded
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.journal import Journal, read_history
from voicecoach.plan import Plan, build_plan, estimate_speech_seconds, step_seconds
from voicecoach.program import Exercise, Program, Progression
from voicecoach.progression import (
    Dose,
    PastSession,
    announcements,
    effective_progression,
    histories,
    personal_program,
    says_a_command,
    todays_dose,
)
from voicecoach.session import Session

DAY0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)
#: Days between sessions unless a history says otherwise.
EVERY_DAYS = 2

#: Base 5 reps and 10 s; a step is +1 rep and +2 s; top at 8 reps (3 steps) and 14 s (2 steps);
#: bottom at 1 rep (4 steps down) and 1 s (5 steps down).
BRIDGE = Exercise(
    id="bridge",
    name="Bridge",
    position="supine",
    setup=("Lie on your back with your knees bent.",),
    move_cue="Lift your hips.",
    release_cue="Lower down.",
    reps=5,
    hold_seconds=10,
    progression=Progression(
        reps_step=1, hold_step_seconds=2, reps_max=8, hold_max_seconds=14, sessions_per_step=3
    ),
)


def history(spec: str) -> list[PastSession]:
    """Sessions from words: ok, p<score>, numb, stop, stop-p<score>, skip, int; gap<days>."""
    sessions: list[PastSession] = []
    at = DAY0
    gap = 0
    for word in spec.split():
        if word.startswith("gap"):
            gap = int(word[3:])
            continue
        at = at + timedelta(days=gap or EVERY_DAYS) if sessions else at
        gap = 0
        sessions.append(_session(word, at))
    return sessions


def _session(word: str, at: datetime) -> PastSession:
    reason, _, pain = word.partition("-")
    if word.startswith("p"):
        reason, pain = "completed", word
    if word == "numb":
        return PastSession(at, "pain", True, (None,))
    scores = (int(pain[1:]),) if pain else ()
    end = {"ok": "completed", "stop": "stopped", "int": "interrupted", "skip": "completed"}
    return PastSession(at, end.get(reason, reason), word != "skip", scores)


def dose_after(spec: str, days_later: int = EVERY_DAYS, exercise: Exercise = BRIDGE) -> Dose:
    sessions = history(spec)
    today = (sessions[-1].started if sessions else DAY0) + timedelta(days=days_later)
    return todays_dose(exercise, sessions, today)


def times(word: str, n: int) -> str:
    return " ".join([word] * n)


@pytest.mark.parametrize(
    ("spec", "level", "reps", "hold_seconds", "easy", "changed", "reason"),
    [
        ("", 0, 5, 10.0, False, False, "No sessions yet: the program's dose."),
        ("ok ok", 0, 5, 10.0, False, False, "Steady: 2 of 3 comfortable sessions toward a step"),
        # Step up, and the run starts again after it.
        ("ok ok ok", 1, 6, 12.0, False, True, "3 comfortable sessions in a row: up one step."),
        ("ok ok ok ok", 1, 6, 12.0, False, False, "Steady: 1 of 3"),
        (times("ok", 6), 2, 7, 14.0, False, True, "up one step"),
        # Ceilings: the hold stops at 14 s a step before the reps stop at 8.
        (times("ok", 9), 3, 8, 14.0, False, True, "up one step"),
        (times("ok", 30), 3, 8, 14.0, False, False, "At the top of its progression."),
        # Green band pain (0-3) still counts as comfortable.
        ("ok ok p3", 1, 6, 12.0, False, True, "3 comfortable sessions in a row"),
        # Amber: one step back.
        ("ok ok ok p4", 0, 5, 10.0, False, True, "Pain of 4 on it last time: down one step."),
        ("ok ok ok p5", 0, 5, 10.0, False, True, "Pain of 5 on it last time: down one step."),
        ("ok ok p5", -1, 4, 8.0, False, True, "down one step"),
        # Red: two steps back, and easy.
        (
            times("ok", 6) + " p6",
            0,
            5,
            10.0,
            True,
            True,
            "Pain of 6 on it last time: down two steps, and easy for 2 comfortable sessions.",
        ),
        (times("ok", 6) + " p10", 0, 5, 10.0, True, True, "Pain of 10"),
        (times("ok", 6) + " numb", 0, 5, 10.0, True, True, "Numbness, tingling or an unanswered"),
        # Easy is released after two comfortable sessions; only then does the run start.
        ("p7", -2, 3, 6.0, True, True, "down two steps"),
        ("p7 ok", -2, 3, 6.0, True, False, "Kept easy: 1 more comfortable session to go."),
        ("p7 ok ok", -2, 3, 6.0, False, False, "Steady: 0 of 3"),
        ("p7 ok ok ok ok", -2, 3, 6.0, False, False, "Steady: 2 of 3"),
        ("p7 ok ok ok ok ok", -1, 4, 8.0, False, True, "up one step"),
        # Amber pain while easy: one more step back, still easy.
        ("p7 p4", -3, 2, 4.0, True, True, "Pain of 4 on it last time: down one step."),
        # Floors: reps stop at 1, the hold at 1 s; steps stop there too.
        ("p7 p7", -4, 1, 2.0, True, True, "down two steps"),
        ("p7 p7 p7", -5, 1, 1.0, True, True, "down one step"),
        ("p7 p7 p7 p7", -5, 1, 1.0, True, False, "already at the lowest dose"),
        (times("p7", 4) + " " + times("ok", 5), -4, 1, 2.0, False, True, "up one step"),
        # Stopped or interrupted sessions and skipped exercises neither count nor break the run.
        ("stop stop stop", 0, 5, 10.0, False, False, "Steady: 0 of 3"),
        ("ok stop ok int ok", 1, 6, 12.0, False, True, "up one step"),
        ("ok skip ok skip skip ok", 1, 6, 12.0, False, True, "up one step"),
        # ...but pain in a stopped session counts.
        ("ok ok stop-p5", -1, 4, 8.0, False, True, "Pain of 5"),
        ("ok ok stop-p2", 0, 5, 10.0, False, False, "Steady: 2 of 3"),
        # A break of more than 7 days between sessions: one step lower, and the run restarts.
        ("ok ok ok gap10 ok", 0, 5, 10.0, False, False, "Steady: 1 of 3"),
        ("ok ok gap8 ok", -1, 4, 8.0, False, False, "Steady: 1 of 3"),
        ("ok ok gap7 ok", 1, 6, 12.0, False, True, "up one step"),
    ],
)
def test_rules(
    spec: str,
    level: int,
    reps: int,
    hold_seconds: float,
    easy: bool,
    changed: bool,
    reason: str,
) -> None:
    dose = dose_after(spec)
    assert (dose.level, dose.reps, dose.hold_seconds, dose.easy) == (
        level,
        reps,
        hold_seconds,
        easy,
    )
    assert dose.changed is changed
    assert reason in dose.reason
    assert dose.exercise_id == "bridge"


@pytest.mark.parametrize(
    ("spec", "days_later", "level", "changed", "reason"),
    [
        ("ok", 7, 0, False, "Steady: 1 of 3"),
        ("ok", 8, -1, True, "A break of 8 days: down one step."),
        ("ok", 60, -1, True, "A break of 60 days"),
        # The step up of the last session and today's break cancel out, and both are said.
        (
            "ok ok ok",
            9,
            0,
            False,
            "3 comfortable sessions in a row: up one step. A break of 9 days: down one step.",
        ),
        (
            "p7 p7 p7",
            20,
            -5,
            True,
            "Pain of 7 on it last time: down one step, and easy for 2 comfortable sessions. "
            "A break of 20 days: already at the lowest dose.",
        ),
    ],
)
def test_a_break_before_today(
    spec: str, days_later: int, level: int, changed: bool, reason: str
) -> None:
    dose = dose_after(spec, days_later)
    assert (dose.level, dose.changed) == (level, changed)
    assert reason in dose.reason


def test_naive_times_are_local_and_order_does_not_matter() -> None:
    sessions = history("ok ok ok")
    naive = [replace(s, started=s.started.astimezone().replace(tzinfo=None)) for s in sessions]
    today = sessions[-1].started + timedelta(days=1)
    expected = todays_dose(BRIDGE, sessions, today)
    assert todays_dose(BRIDGE, list(reversed(naive)), today.replace(tzinfo=None)) == expected


# -- long histories -----------------------------------------------------------------------


#: Thirty sessions two days apart; pain of 5 on session 10, 7 on 20, numbness on 27.
LONG = " ".join({10: "p5", 20: "p7", 27: "numb"}.get(n, "ok") for n in range(1, 31))
#: The level after each of those sessions, worked out by hand from the rules.
LONG_LEVELS = [0, 0, 1, 1, 1, 2, 2, 2, 3, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 2, 2, 0,
               0, 0, 0]  # fmt: skip
LONG_EASY = {20, 21, 27, 28}


def test_a_long_history_goes_up_and_backs_off() -> None:
    sessions = history(LONG)
    assert len(sessions) == 30
    levels, easy = [], set()
    for n in range(1, 31):
        dose = todays_dose(BRIDGE, sessions[:n], sessions[n - 1].started + timedelta(days=1))
        levels.append(dose.level)
        if dose.easy:
            easy.add(n)
    assert levels == LONG_LEVELS
    assert easy == LONG_EASY


def test_a_long_history_with_breaks_never_leaves_its_limits() -> None:
    words = []
    for n in range(1, 61):
        words.append("gap12" if n % 9 == 0 else "")
        words.append("p6" if n % 13 == 0 else "p4" if n % 7 == 0 else "ok")
    sessions = history(" ".join(words))
    for n in range(len(sessions) + 1):
        today = (sessions[n - 1].started if n else DAY0) + timedelta(days=3)
        dose = todays_dose(BRIDGE, sessions[:n], today)
        assert -5 <= dose.level <= 3
        assert 1 <= dose.reps <= 8
        assert 1.0 <= dose.hold_seconds <= 14.0


# -- defaults -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reps", "hold_seconds", "expected"),
    [
        (5, 0.0, Progression(1, 0.0, 10, 0.0, 3)),
        (5, 10.0, Progression(1, 2.0, 10, 20.0, 3)),
        (3, 40.0, Progression(1, 2.0, 6, 60.0, 3)),
        (2, 90.0, Progression(1, 2.0, 4, 90.0, 3)),
    ],
)
def test_defaults_without_a_progression_table(
    reps: int, hold_seconds: float, expected: Progression
) -> None:
    exercise = replace(BRIDGE, reps=reps, hold_seconds=hold_seconds, progression=None)
    assert effective_progression(exercise) == expected


def test_defaults_grow_reps_only_for_an_exercise_without_a_hold() -> None:
    rolls = replace(BRIDGE, id="knee-rolls", reps=10, hold_seconds=0.0, progression=None)
    assert [dose_after(times("ok", n), exercise=rolls).reps for n in (2, 3, 6, 60)] == [
        10,
        11,
        12,
        20,
    ]
    low = dose_after(times("p7", 6), exercise=rolls)
    assert (low.reps, low.hold_seconds, low.level) == (1, 0.0, -9)


def test_a_table_that_only_steps_the_hold_keeps_the_reps() -> None:
    knee = replace(
        BRIDGE, reps=3, progression=Progression(hold_step_seconds=5, hold_max_seconds=30)
    )
    assert [(d.reps, d.hold_seconds) for d in (dose_after("ok ok ok", exercise=knee),)] == [
        (3, 15.0)
    ]
    assert dose_after("p7 p7", exercise=knee).hold_seconds == 1.0


# -- the personal program and its announcements -------------------------------------------


def _program(*exercises: Exercise) -> Program:
    return Program("back", "Back", "", "Move gently.", exercises)


ROLLS = replace(
    BRIDGE,
    id="knee-rolls",
    name="Knee rolls",
    sides="alternate",
    move_cue="Knees to the {side}.",
    reps=5,
    hold_seconds=0.0,
    progression=None,
)
KNEE = replace(
    BRIDGE,
    id="knee-to-chest",
    name="Knee to chest",
    sides="alternate",
    move_cue="Draw your {side} knee in.",
    reps=3,
    progression=Progression(hold_step_seconds=5, hold_max_seconds=30),
)


def test_personal_program_carries_todays_doses() -> None:
    program = _program(BRIDGE, ROLLS, KNEE)
    histories = {"bridge": history("ok ok ok"), "knee-rolls": history("ok ok p7")}
    today = DAY0 + timedelta(days=6)
    personal, doses = personal_program(program, histories, today)
    assert [d.exercise_id for d in doses] == ["bridge", "knee-rolls", "knee-to-chest"]
    assert [(e.reps, e.hold_seconds) for e in personal.exercises] == [(6, 12.0), (3, 0.0), (3, 10)]
    assert [d.changed for d in doses] == [True, True, False]
    assert personal.name == program.name
    assert personal.exercises[0].setup == BRIDGE.setup


@pytest.mark.parametrize(
    ("exercise", "spec", "sentence"),
    [
        (
            BRIDGE,
            "ok ok ok",
            "Today we'll do the bridge six times, and hold it for twelve seconds.",
        ),
        (ROLLS, "ok ok ok", "Today we'll do the knee rolls six times on each side."),
        (KNEE, "ok ok ok", "Today we'll hold the knee to chest for fifteen seconds."),
        (KNEE, "ok ok ok gap9 ok p4", "Today we'll hold the knee to chest for five seconds."),
        (ROLLS, "p6", "We'll keep the knee rolls easy today."),
        (replace(ROLLS, reps=2), "p4", "Today we'll do the knee rolls once on each side."),
        (
            replace(ROLLS, sets=3),
            "ok ok ok",
            "Today we'll do the knee rolls six times on each side in each set.",
        ),
        (
            replace(BRIDGE, sets=2),
            "ok ok ok",
            "Today we'll do the bridge six times in each set, and hold it for twelve seconds.",
        ),
    ],
)
def test_announcements_say_each_change_once(exercise: Exercise, spec: str, sentence: str) -> None:
    program = _program(exercise)
    sessions = history(spec)
    today = sessions[-1].started + timedelta(days=1)
    _, doses = personal_program(program, {exercise.id: sessions}, today)
    assert announcements(doses, program) == [sentence]


@pytest.mark.parametrize(
    ("name", "exercise_id", "reps", "hold_seconds"),
    [
        # The article gives 5-7 repetitions, in 3 sets, with 2 s and 1 s pauses.
        ("three-for-chronic-pain", "press-up-sit-back", 7, 2),
        ("three-for-chronic-pain", "side-hip-lift", 7, 0),
        ("three-for-chronic-pain", "good-morning-squat", 7, 1),
        # The articles give ten: ten knee rolls to each side, the hip hinge ten times.
        ("gentle-start", "knee-rolls", 10, 0),
        ("strength", "hip-hinge", 10, 1),
    ],
)
def test_fifteen_comfortable_days_keep_the_doses_the_articles_give(
    name: str, exercise_id: str, reps: int, hold_seconds: float
) -> None:
    program = resolve_program(name)
    days = [PastSession(DAY0 + timedelta(days=day), "completed", True) for day in range(15)]
    today = DAY0 + timedelta(days=15)
    personal, _ = personal_program(program, {ex.id: days for ex in program.exercises}, today)
    exercise = next(ex for ex in personal.exercises if ex.id == exercise_id)
    assert (exercise.reps, exercise.hold_seconds) == (reps, hold_seconds)


def test_unchanged_doses_are_not_announced() -> None:
    program = _program(BRIDGE, ROLLS)
    sessions = history("ok ok ok ok")
    _, doses = personal_program(
        program, {"bridge": sessions, "knee-rolls": sessions}, DAY0 + timedelta(days=8)
    )
    assert announcements(doses, program) == []


def test_a_name_with_a_command_word_is_left_out_of_the_announcement() -> None:
    risky = replace(BRIDGE, id="stop-and-go", name="Stop and go")
    program = _program(ROLLS, risky)
    sessions = history("ok ok ok")
    _, doses = personal_program(program, {risky.id: sessions}, DAY0 + timedelta(days=6))
    assert announcements(doses, program) == [
        "Today we'll do exercise two six times, and hold it for twelve seconds."
    ]


@pytest.mark.parametrize("text", ["Hold on.", "Say stop.", "Next, the bridge.", "Say yes."])
def test_command_words_are_found(text: str) -> None:
    assert says_a_command(text)


@pytest.mark.parametrize(
    "name", ["gentle-start", "spine-stabilise", "strength", "three-for-chronic-pain"]
)
def test_no_announcement_of_a_built_in_program_holds_a_command(name: str) -> None:
    program = resolve_program(name)
    specs = ["ok ok ok", times("ok", 30), "p5", "p7", "numb", "ok ok ok gap20"]
    for spec in specs:
        sessions = history(spec)
        histories = {e.id: sessions for e in program.exercises}
        _, doses = personal_program(program, histories, sessions[-1].started + timedelta(1))
        for sentence in announcements(doses, program):
            assert not says_a_command(sentence), sentence
            # Numbers are heard only while the coach waits for a pain score.
            parsed = parse(sentence)
            assert parsed is None or parsed.command is Command.NUMBER, sentence


# -- with the real session and journal ----------------------------------------------------


def _session_day(
    journal_path: Path, program: Program, today: datetime, pain_in: str | None
) -> tuple[list[Dose], list[str], EventRecorder]:
    """One simulated session on ``today`` with today's personal dose; pain 7 in ``pain_in``."""
    personal, doses = personal_program(
        program, histories(read_history(journal_path), program), today
    )
    notes = announcements(doses, program)
    plan = build_plan(personal, notes=notes)
    script: list[tuple[float, str]] = []
    if pain_in is not None:
        at = _seconds_until(
            plan, next(i for i, s in enumerate(plan.steps) if s.exercise == pain_in)
        )
        script = [(at + 1.0, "it hurts"), (at + 3.0, "seven")]
    recorder = EventRecorder()
    with Journal(journal_path) as journal:
        Runner(
            session=Session(plan),
            clock=VirtualClock(),
            mic=SilentMicrophone(),
            speaker=NullSpeaker(),
            synthesizer=EstimatedSynthesizer(),
            recognizer=ScriptedRecognizer(script),
            listeners=[recorder, journal],
            wall_clock=lambda: today,
        ).run()
    return doses, notes, recorder


def _seconds_until(plan: Plan, index: int) -> float:
    return sum(step_seconds(s, estimate_speech_seconds(s.text)) for s in plan.steps[:index])


THREE_TIMES = (
    "Today we'll do the knee to chest three times on each side, and hold it for five seconds."
)
FOUR_TIMES = (
    "Today we'll do the knee to chest four times on each side, and hold it for six seconds."
)


def test_simulated_weeks_step_up_and_back_off(journal_path: Path, tiny_program: Program) -> None:
    # Knee to chest: 2 each side, 3 s holds; bridge: 2 x 2, 2 s holds; default progression.
    days = {0: None, 2: None, 4: None, 6: "bridge", 8: None, 10: None, 12: None, 14: None, 30: None}
    seen = []
    for day, pain_in in days.items():
        today = DAY0 + timedelta(days=day)
        doses, notes, recorder = _session_day(journal_path, tiny_program, today, pain_in)
        said = [e.text for e in recorder.events if isinstance(e, SayStarted)]
        # Each change is said once, right after the opening (safety note, signs, how to stop).
        assert said[4 : 4 + len(notes)] == notes
        (end,) = [e for e in recorder.events if isinstance(e, SessionEnded)]
        seen.append(([(d.level, d.easy) for d in doses], notes, end.reason))
    assert seen == [
        ([(0, False), (0, False)], [], "completed"),
        ([(0, False), (0, False)], [], "completed"),
        ([(0, False), (0, False)], [], "completed"),
        (
            [(1, False), (1, False)],
            [
                THREE_TIMES,
                "Today we'll do the bridge three times in each set, and hold it for four seconds.",
            ],
            "pain",
        ),
        ([(1, False), (-1, True)], ["We'll keep the bridge easy today."], "completed"),
        ([(1, False), (-1, True)], [], "completed"),
        ([(1, False), (-1, False)], [], "completed"),
        ([(2, False), (-1, False)], [FOUR_TIMES], "completed"),
        # Sixteen days without a session: one step lower (the bridge is already at its lowest).
        ([(1, False), (-1, False)], [THREE_TIMES], "completed"),
    ]


def test_a_dose_as_json_for_show() -> None:
    assert dose_after("ok ok ok").to_json() == {
        "exercise": "bridge",
        "reps": 6,
        "hold_seconds": 12.0,
        "level": 1,
        "easy": False,
        "changed": True,
        "reason": "3 comfortable sessions in a row: up one step.",
    }
