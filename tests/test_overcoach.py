"""A lone sound heard over the coach: asked about when a person made it, dropped when it is
what the echo canceller left of the coach's own voice."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import SHORT_PROGRAM
from voicecoach.app.catalogue import load_program_file
from voicecoach.app.overcoach import CancellerFrames, OverCoach
from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.espeak import Voice, synthesize
from voicecoach.audio.room import NOMINAL_SPEECH_DBFS, Room, RoomSettings, UserSpeech
from voicecoach.clock import VirtualClock
from voicecoach.events import Heard, SayEnded, SayStarted
from voicecoach.fakes import ScriptedRecognizer
from voicecoach.frames import FRAME_SECONDS, rms_dbfs
from voicecoach.plan import build_plan
from voicecoach.session import Session
from voicecoach.speech.tts import Pyttsx3Synthesizer
from voicecoach.spoken import EMERGENCY_OPENING as OPENING

#: When the lone sound ends: in the emergency opening, which the coach says from about 4.5 s
#: to 17 s of the short program, after the canceller has settled (in about 3 s of speech).
HEARD_AT_SECONDS = 12.0
#: How long the lone sound lasted, preroll included, as Whisper reports it.
UTTERANCE_SECONDS = 0.6


def test_frames_are_counted_by_what_the_canceller_judged() -> None:
    frames = CancellerFrames()
    for talking, above_echo in [(False, False)] * 5 + [(True, False)] * 10 + [(True, True)] * 2:
        frames.note(talking, above_echo)
    assert frames.between(0.0, 5 * FRAME_SECONDS) == OverCoach(5, 0, 0)
    assert frames.between(6 * FRAME_SECONDS, 15 * FRAME_SECONDS) == OverCoach(10, 10, 0)
    assert frames.between(6 * FRAME_SECONDS, 17 * FRAME_SECONDS) == OverCoach(12, 12, 2)


def test_only_the_coach_means_over_the_coach_and_nothing_above_its_echo() -> None:
    assert OverCoach(30, 30, 0).only_coach
    assert OverCoach(30, 15, 0).only_coach
    # A sound heard mostly while the coach was quiet is not put down to the coach ...
    assert not OverCoach(30, 14, 0).only_coach
    assert not OverCoach(0, 0, 0).only_coach
    # ... nor one the canceller found above the echo, even for a frame.
    assert not OverCoach(30, 30, 1).only_coach


@pytest.fixture(scope="module")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The coach's rendered phrases, shared by this module's sessions."""
    return tmp_path_factory.mktemp("tts")


def _session(tts_cache: Path, person: list[UserSpeech]) -> EventRecorder:
    """The short program's first 20 s in a room with the real coach voice and canceller; the
    recognizer hears a lone sound it did not understand, ending at ``HEARD_AT_SECONDS``."""
    room = Room(RoomSettings(), person)
    recorder = EventRecorder()
    Runner(
        session=Session(build_plan(load_program_file(SHORT_PROGRAM))),
        clock=VirtualClock(),
        mic=room.microphone(20.0),
        speaker=room.speaker(),
        synthesizer=Pyttsx3Synthesizer(cache_dir=tts_cache),
        recognizer=ScriptedRecognizer(
            [(HEARD_AT_SECONDS, "?")], utterance_seconds=UTTERANCE_SECONDS
        ),
        listeners=[recorder],
        echo=EchoCanceller(),
        guard=SelfHearingGuard(),
    ).run()
    return recorder


def _person(level_below_nominal_db: float) -> list[UserSpeech]:
    """A person's "ouch", begun inside the lone sound (the recognizer's utterance)."""
    word = synthesize("ouch", Voice("mb-us2", 150, 50))
    gain_db = NOMINAL_SPEECH_DBFS - level_below_nominal_db - rms_dbfs(word)
    word = (word * np.float32(10 ** (gain_db / 20))).astype(np.float32)
    return [UserSpeech(HEARD_AT_SECONDS - UTTERANCE_SECONDS + 0.1, word, "ouch")]


def _asked(recorder: EventRecorder) -> bool:
    return any(isinstance(e, Heard) and e.command == "check" for e in recorder.events)


def test_a_lone_sound_with_nobody_over_the_coach_is_not_asked_about(tts_cache: Path) -> None:
    """On the null sink, what the canceller left of "around" was written "and" and asked
    about: the session paused before its first exercise with nobody there to answer."""
    recorder = _session(tts_cache, [])
    started = next(e.t for e in recorder.events if isinstance(e, SayStarted) and e.text == OPENING)
    ended = next(e.t for e in recorder.events if isinstance(e, SayEnded) and e.t > started)
    assert started < HEARD_AT_SECONDS - UTTERANCE_SECONDS < HEARD_AT_SECONDS < ended
    assert not _asked(recorder)


@pytest.mark.parametrize("level_below_nominal_db", [0.0, 12.0])
def test_a_person_who_cries_out_over_the_coach_is_asked_about(
    tts_cache: Path, level_below_nominal_db: float
) -> None:
    """The same lone sound with a person's "ouch" in it, at a speaking level (about as loud as
    the coach's echo) and 12 dB under it (measured: asked down to 15 dB under, not at 18)."""
    assert _asked(_session(tts_cache, _person(level_below_nominal_db)))
