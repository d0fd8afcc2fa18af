"""Every wait of a session ends by itself: a paused session reminds, then says goodbye."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import SimulateFn, finish_steps, walk_to_count
from voicecoach.actions import Expect, Output, Say, StopSpeaking
from voicecoach.commands import NUMBER_WORDS, PHRASES, Command, Parsed, parse
from voicecoach.events import SessionEnded, StateChanged
from voicecoach.plan import build_plan
from voicecoach.program import Program
from voicecoach.session import Session
from voicecoach.settings import SessionSettings
from voicecoach.spoken import LOST_TEXT, MILD_REMINDER, PAUSE_REMINDER, PAUSE_TIMEOUT_TEXT


def _paused_by(session: Session, how: str) -> float:
    """Bring a counting session into a pause ``how``; returns when the pause began."""
    t = walk_to_count(session)
    if how == "mild pain":
        session.command(Parsed(Command.PAIN), t)
        session.speech_ended(t + 5.0)
        t += 8.0
        session.command(Parsed(Command.NUMBER, 2), t)
    elif how.startswith("microphone"):
        session.device_lost(t, "microphone")
        if how == "microphone back":
            session.speech_ended(t + 4.0)
            session.device_back(t + 6.0, "microphone")
    else:
        session.command(Parsed(Command.PAUSE), t)
    assert session.mode == "paused"
    return t


@pytest.mark.parametrize(
    ("how", "reminder"),
    [
        ("pause", PAUSE_REMINDER),
        ("mild pain", MILD_REMINDER),
        ("microphone lost", LOST_TEXT["microphone"]),
        ("microphone back", PAUSE_REMINDER),
    ],
)
def test_a_pause_reminds_after_a_silent_minute_and_ends_after_ten(
    tiny_program: Program, how: str, reminder: str
) -> None:
    session = Session(build_plan(tiny_program))
    paused_at = _paused_by(session, how)
    spoken_end = paused_at + 10.0
    session.speech_ended(spoken_end)
    assert session.tick(spoken_end + 59.9) == []
    assert session.tick(spoken_end + 60.0) == [Say(reminder)]
    assert session.tick(spoken_end + 100.0) == []
    session.speech_ended(spoken_end + 68.0)
    assert session.tick(spoken_end + 127.9) == []
    assert session.tick(spoken_end + 128.0) == [Say(reminder)]
    assert session.mode == "paused"
    out = session.tick(paused_at + 600.0)
    assert session.mode == "ending"
    assert [o.state for o in out if isinstance(o, StateChanged)] == ["paused_too_long"]
    assert Say(PAUSE_TIMEOUT_TEXT) in out
    assert Expect() in out
    end = session.speech_ended(paused_at + 615.0)
    assert end == [SessionEnded(paused_at + 615.0, "interrupted", paused_at + 615.0)]


def test_resuming_starts_the_next_pause_afresh(tiny_program: Program) -> None:
    session = Session(build_plan(tiny_program))
    paused_at = _paused_by(session, "pause")
    session.command(Parsed(Command.RESUME), paused_at + 590.0)
    session.command(Parsed(Command.PAUSE), paused_at + 595.0)
    session.tick(paused_at + 600.0)
    assert session.mode == "paused"
    session.tick(paused_at + 1194.9)
    assert session.mode == "paused"
    assert Say(PAUSE_TIMEOUT_TEXT) in session.tick(paused_at + 1195.0)


def test_pause_reminder_and_timeout_are_settings(tiny_program: Program) -> None:
    settings = SessionSettings(pause_reminder_seconds=20.0, pause_timeout_seconds=90.0)
    session = Session(build_plan(tiny_program), settings)
    paused_at = _paused_by(session, "pause")
    session.speech_ended(paused_at + 3.0)
    assert session.tick(paused_at + 23.0) == [Say(PAUSE_REMINDER)]
    session.tick(paused_at + 89.9)
    assert session.mode == "paused"
    assert Say(PAUSE_TIMEOUT_TEXT) in session.tick(paused_at + 90.0)


@pytest.mark.parametrize(
    "field",
    [
        "pain_answer_seconds",
        "question_answer_seconds",
        "pause_reminder_seconds",
        "pause_timeout_seconds",
    ],
)
def test_waits_of_no_time_are_refused(field: str) -> None:
    from voicecoach.errors import UsageError

    with pytest.raises(UsageError, match="above 0 seconds"):
        SessionSettings(**{field: 0.0})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("script", "reminder"),
    [
        ([(15.0, "pause")], PAUSE_REMINDER),
        ([(15.0, "pain"), (25.0, "two")], MILD_REMINDER),
    ],
)
def test_a_session_left_paused_ends_interrupted_with_a_goodbye(
    simulate: SimulateFn, journal_path: Path, script: list[tuple[float, str]], reminder: str
) -> None:
    from voicecoach.journal import Journal

    with Journal(journal_path) as journal:
        rec = simulate(script, listeners=[journal])
    said = [r for r in rec.records() if r["type"] == "say"]
    paused_at = script[-1][0]
    assert [r["text"] for r in said[-7:]] == [reminder] * 6 + [PAUSE_TIMEOUT_TEXT]
    assert said[-1]["t"] == pytest.approx(paused_at + 600.0, abs=0.021)
    end = rec.events[-1]
    assert isinstance(end, SessionEnded)
    assert end.reason == "interrupted"
    with Journal(journal_path, readonly=True) as journal:
        assert [s.end_reason for s in journal.sessions()] == ["interrupted"]


def test_stop_during_the_offer_ends_stopped_and_the_offer_does_not_time_out(
    tiny_program: Program,
) -> None:
    resumed = build_plan(tiny_program, start_exercise="bridge")
    session = Session(build_plan(tiny_program), resume_plan=resumed)
    session.start(0.0)
    session.speech_ended(4.0)
    session.command(Parsed(Command.STOP), 18.0)
    assert session.tick(20.0) == []
    assert session.mode == "ending"
    assert session.speech_ended(26.0) == [SessionEnded(26.0, "stopped", 26.0)]


def test_pain_during_the_rating_ends_for_pain_and_the_rating_does_not_time_out(
    tiny_program: Program,
) -> None:
    session = Session(build_plan(tiny_program))
    t = finish_steps(session, walk_to_count(session))
    session.speech_ended(t)
    session.command(Parsed(Command.PAIN), t + 14.0)
    session.speech_ended(t + 20.0)
    session.command(Parsed(Command.NUMBER, 8), t + 22.0)
    assert session.tick(t + 30.0) == []
    assert session.mode == "ending"
    assert session.speech_ended(t + 40.0) == [SessionEnded(t + 40.0, "pain", t + 40.0)]


#: Everything a script may do: every phrase, every score, and the microphone coming and going.
_DOINGS = [
    *(phrase for phrases in PHRASES.values() for phrase in phrases),
    *NUMBER_WORDS,
    "microphone lost",
    "microphone back",
]


class _Driver:
    """Plays the runner for a session: speech takes time by its length, commands come on cue."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.t = 0.0
        self._speech_ends: float | None = None

    def apply(self, out: list[Output]) -> None:
        for output in out:
            if isinstance(output, Say):
                self._speech_ends = self.t + 1.0 + len(output.text) / 20.0
            elif isinstance(output, StopSpeaking):
                self._speech_ends = None

    def do(self, doing: str) -> None:
        if doing == "microphone lost":
            self.apply(self.session.device_lost(self.t, "microphone"))
        elif doing == "microphone back":
            self.apply(self.session.device_back(self.t, "microphone"))
        elif (parsed := parse(doing)) is not None:
            self.apply(self.session.command(parsed, self.t))

    def step(self, seconds: float) -> None:
        self.t += seconds
        if self._speech_ends is not None and self.t >= self._speech_ends:
            self._speech_ends = None
            self.apply(self.session.speech_ended(self.t))
        self.apply(self.session.tick(self.t))


@pytest.mark.parametrize("seed", range(0, 600, 100))
def test_every_script_ends_by_itself(tiny_program: Program, seed: int) -> None:
    """Whatever is said when, with or without an offer to carry on, the session ends."""
    for run in range(seed, seed + 100):
        rnd = random.Random(run)
        resumed = build_plan(tiny_program, start_exercise="bridge") if run % 3 == 0 else None
        driver = _Driver(Session(build_plan(tiny_program), resume_plan=resumed))
        script = sorted(
            (rnd.uniform(0, 400), rnd.choice(_DOINGS)) for _ in range(rnd.randint(0, 12))
        )
        driver.apply(driver.session.start(0.0))
        # The rest of the plan, then the rating asked twice, or a whole pause, and a goodbye.
        ends_by = max((at for at, _ in script), default=0.0) + 1200.0
        while not driver.session.finished and driver.t < ends_by:
            driver.step(0.5)
            while script and script[0][0] <= driver.t:
                driver.do(script.pop(0)[1])
        assert driver.session.finished, (run, driver.session.mode)
