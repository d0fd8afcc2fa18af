"""Faults a session survives: devices lost mid-session, Ctrl-C, and failures before the start."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.clock import VirtualClock
from voicecoach.events import DeviceChanged, RepDone, SayStarted, SessionEnded
from voicecoach.fakes import (
    EstimatedSynthesizer,
    FlakyMicrophone,
    FlakySpeaker,
    NullSpeaker,
    ScriptedRecognizer,
    SilentMicrophone,
)
from voicecoach.frames import FRAME_SAMPLES, Samples
from voicecoach.journal import Journal
from voicecoach.plan import build_plan
from voicecoach.ports import Microphone, Speaker
from voicecoach.program import Program
from voicecoach.session import Session
from voicecoach.spoken import BACK_TEXT, LOST_TEXT


def _run(
    program: Program,
    journal_path: Path,
    *,
    mic: Microphone | None = None,
    speaker: Speaker | None = None,
    script: list[tuple[float, str]] | None = None,
) -> EventRecorder:
    recorder = EventRecorder()
    with Journal(journal_path) as journal:
        Runner(
            session=Session(build_plan(program)),
            clock=VirtualClock(),
            mic=mic or SilentMicrophone(),
            speaker=speaker or NullSpeaker(),
            synthesizer=EstimatedSynthesizer(),
            recognizer=ScriptedRecognizer(script or []),
            listeners=[recorder, journal],
        ).run()
    return recorder


def test_lost_microphone_pauses_reconnects_and_resumes(
    tiny_program: Program, journal_path: Path
) -> None:
    mic = FlakyMicrophone(fail_after_frames=1500, failed_reopens=2)  # lost at 30 s
    rec = _run(tiny_program, journal_path, mic=mic, script=[(60.0, "resume")])
    changes = [e for e in rec.events if isinstance(e, DeviceChanged)]
    assert [(c.device, c.status) for c in changes] == [
        ("microphone", "lost"),
        ("microphone", "back"),
    ]
    assert changes[0].t == pytest.approx(30.0, abs=0.03)
    assert "disappeared" in changes[0].detail
    # Retries every 3 s: two fail, the third works.
    assert changes[1].t == pytest.approx(39.0, abs=0.05)
    said = [e.text for e in rec.events if isinstance(e, SayStarted)]
    assert LOST_TEXT["microphone"] in said
    assert BACK_TEXT["microphone"] in said
    states = [r["state"] for r in rec.records() if r["type"] == "state"]
    assert "paused" in states
    end = rec.events[-1]
    assert isinstance(end, SessionEnded)
    assert end.reason == "completed"
    reps = [e for e in rec.events if isinstance(e, RepDone)]
    assert len(reps) == build_plan(tiny_program).total_reps
    with Journal(journal_path, readonly=True) as journal:
        (summary,) = journal.sessions()
    assert summary.reps_done == len(reps)


def test_reps_done_before_the_microphone_is_lost_are_kept(
    tiny_program: Program, journal_path: Path
) -> None:
    mic = FlakyMicrophone(fail_after_frames=2500, failed_reopens=1000)  # never comes back
    rec = _run(tiny_program, journal_path, mic=mic, script=[(200.0, "stop")])
    done_before = [e for e in rec.events if isinstance(e, RepDone) and e.t < 50.0]
    assert done_before
    end = rec.events[-1]
    assert isinstance(end, SessionEnded)
    with Journal(journal_path, readonly=True) as journal:
        (summary,) = journal.sessions()
    assert summary.reps_done == len(done_before)
    assert summary.end_reason == "stopped"


def test_lost_speaker_shows_cues_and_pauses(tiny_program: Program, journal_path: Path) -> None:
    speaker = FlakySpeaker(fail_after_frames=1000)  # lost at 20 s
    rec = _run(tiny_program, journal_path, speaker=speaker, script=[(80.0, "resume")])
    changes = [e for e in rec.events if isinstance(e, DeviceChanged)]
    assert [(c.device, c.status) for c in changes] == [("speaker", "lost")]
    said = [e for e in rec.events if isinstance(e, SayStarted)]
    # The cue is still published for the terminal, and the session waits to be resumed.
    lost = next(e for e in said if e.text == LOST_TEXT["speaker"])
    assert not [e for e in said if lost.t < e.t < 80.0]
    assert rec.events[-1].reason == "completed"  # type: ignore[union-attr]


class _CtrlCMicrophone(SilentMicrophone):
    """A microphone whose read is interrupted by Ctrl-C after some frames."""

    def __init__(self, frames: int) -> None:
        self.frames = frames

    def read(self) -> Samples:
        self.frames -= 1
        if self.frames == 0:
            raise KeyboardInterrupt
        return super().read()


def test_ctrl_c_closes_the_journal_as_interrupted(
    tiny_program: Program, journal_path: Path
) -> None:
    rec = _run(tiny_program, journal_path, mic=_CtrlCMicrophone(2000))
    end = rec.events[-1]
    assert isinstance(end, SessionEnded)
    assert end.reason == "interrupted"
    assert end.t == pytest.approx(2000 * FRAME_SAMPLES / 16000 - 0.02, abs=0.03)
    with Journal(journal_path, readonly=True) as journal:
        (summary,) = journal.sessions()
    assert summary.end_reason == "interrupted"
    assert summary.reps_done == len([e for e in rec.events if isinstance(e, RepDone)])
