"""Shared fixtures: a small program and a way to run it in virtual time with the real runner."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from voicecoach.app.catalogue import load_program_file
from voicecoach.app.preparation import prepare
from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.clock import VirtualClock
from voicecoach.events import Listener
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.journal import Journal
from voicecoach.plan import build_plan, estimate_speech_seconds
from voicecoach.program import Exercise, Program
from voicecoach.session import Session
from voicecoach.settings import SessionSettings
from voicecoach.spoken import EMERGENCY_OPENING, HOW_TO_STOP

SimulateFn = Callable[..., EventRecorder]

#: Seconds the opening lines every program shares add before the first exercise (each is an
#: intro step: its speech, then a second's pause), for scripts timed against a program's own.
#: Rounded to whole seconds so that shifted times stay on the 20 ms frames.
OPENING_SECONDS = round(
    sum(estimate_speech_seconds(t) + 1.0 for t in (EMERGENCY_OPENING, HOW_TO_STOP))
)


#: A short program file for whole sessions in tests.
SHORT_PROGRAM = Path(__file__).parent / "data" / "short.toml"


def journal_real_session(journal_path: Path, day: datetime | None = None) -> None:
    """Record one real (not simulated) completed session of the short program, started on
    ``day`` (now by default), with the fakes standing in for the devices."""
    started = day or datetime.now().astimezone()
    with Journal(journal_path) as journal:
        prepared = prepare(load_program_file(SHORT_PROGRAM), journal, resume=False, today=started)
        Runner(
            session=prepared.session,
            clock=VirtualClock(),
            mic=SilentMicrophone(),
            speaker=NullSpeaker(),
            synthesizer=EstimatedSynthesizer(),
            recognizer=ScriptedRecognizer([]),
            listeners=[journal],
            wall_clock=lambda: started,
        ).run()


def walk_to_count(session: Session) -> float:
    """Drive the machine (speech ending at once) until it is counting a hold; returns the time."""
    t = 0.0
    session.start(t)
    while session.current.kind != "count":
        t += 0.5
        session.speech_ended(t)
        session.tick(t)
    return t


def finish_steps(session: Session, t: float) -> float:
    """Let every step play out (speech ending at once) until the machine leaves ``running``."""
    while session.mode == "running":
        t += 0.5
        session.speech_ended(t)
        session.tick(t)
    return t


#: The fixture that loads PulseAudio's null sink and makes it the server's default.
_PULSE_FIXTURE = "pulse_sink"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of a module that uses the sound server ``pulse`` (scripts/test runs
    them alone), and keep each module on one worker under ``pytest -n 2 --dist loadgroup``:
    its module-scoped fixtures (a whole simulated session, a rendered corpus) then run once."""
    pulse_modules = {
        item.module.__name__
        for item in items
        if isinstance(item, pytest.Function) and _PULSE_FIXTURE in item.fixturenames
    }
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        module = item.module.__name__
        if module in pulse_modules:
            item.add_marker(pytest.mark.pulse)
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(module))


@pytest.fixture(autouse=True)
def _private_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep every test away from the user's real journal, programs and caches."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("VOICECOACH_JOURNAL", raising=False)
    monkeypatch.delenv("VOICECOACH_PROGRAMS_DIR", raising=False)
    monkeypatch.delenv("VOICECOACH_ENROLMENT", raising=False)


@pytest.fixture
def tiny_program() -> Program:
    """Two short exercises: one alternating sides with a counted hold, one with two sets."""
    knee = Exercise(
        id="knee-to-chest",
        name="Knee to chest",
        position="supine",
        setup=("Lie on your back with your knees bent.",),
        move_cue="Bring your {side} knee toward your chest.",
        release_cue="Lower the leg slowly.",
        sides="alternate",
        reps=2,
        hold_seconds=3,
        rest_between_reps_seconds=2,
    )
    bridge = Exercise(
        id="bridge",
        name="Bridge",
        position="supine",
        setup=("Keep your feet flat on the floor.",),
        move_cue="Lift your hips.",
        release_cue="Lower down.",
        reps=2,
        sets=2,
        hold_seconds=2,
        rest_between_sets_seconds=5,
    )
    return Program("tiny", "Tiny test program", "For tests.", "Stop if it hurts.", (knee, bridge))


@pytest.fixture
def simulate(tiny_program: Program) -> SimulateFn:
    """Run a program in virtual time with scripted words heard; returns the recorded events."""

    def run(
        script: Sequence[tuple[float, str]] = (),
        program: Program | None = None,
        settings: SessionSettings | None = None,
        listeners: Sequence[Listener] = (),
        guard: SelfHearingGuard | None = None,
    ) -> EventRecorder:
        recorder = EventRecorder()
        runner = Runner(
            session=Session(build_plan(program or tiny_program), settings),
            clock=VirtualClock(),
            mic=SilentMicrophone(),
            speaker=NullSpeaker(),
            synthesizer=EstimatedSynthesizer(),
            recognizer=ScriptedRecognizer(script),
            listeners=[recorder, *listeners],
            guard=guard,
        )
        runner.run()
        return recorder

    return run


@pytest.fixture(scope="session")
def speech_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rendered test speech shared by every test of the session."""
    return tmp_path_factory.mktemp("speech")


@pytest.fixture
def journal_path(tmp_path: Path) -> Path:
    """Where a test's journal lives."""
    return tmp_path / "journal.sqlite3"
