"""Session time: it starts with the runner's first frame, whatever happened before."""

from __future__ import annotations

import time

from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.clock import MonotonicClock, VirtualClock
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.plan import build_plan
from voicecoach.program import Program
from voicecoach.session import Session


def test_monotonic_clock_counts_from_start() -> None:
    clock = MonotonicClock()
    time.sleep(0.2)  # rendering and opening devices happen here in a live run
    assert clock.now() >= 0.2
    clock.start()
    assert clock.now() < 0.15


def test_runner_starts_session_time_with_its_first_frame(tiny_program: Program) -> None:
    clock = VirtualClock()
    for _ in range(150):  # three seconds gone before the session began
        clock.frame_elapsed(0.02)
    recorder = EventRecorder()
    # The recognizer's times are stream times: seconds of audio fed since the session began.
    Runner(
        session=Session(build_plan(tiny_program)),
        clock=clock,
        mic=SilentMicrophone(),
        speaker=NullSpeaker(),
        synthesizer=EstimatedSynthesizer(),
        recognizer=ScriptedRecognizer([(4.0, "stop")]),
        listeners=[recorder],
    ).run()
    heard = next(r for r in recorder.records() if r["type"] == "heard")
    # Heard at 4 s of audio, logged at 4 s of session time; not 3 s later.
    assert abs(float(heard["t"]) - 4.0) <= 0.021
