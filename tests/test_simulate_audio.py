"""Sessions with real audio in virtual time: real TTS, the simulated room, the real recognizer.

The person's words are synthesised with MBROLA voices unlike the coach's, placed on the room's
timeline either in a quiet moment or while the coach is mid-sentence, and must be accepted
quickly; the coach's own voice, fed back through the echo path, must never be accepted.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.app.catalogue import resolve_program
from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.app.simulation import Script, make_room
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.espeak import Voice, synthesize
from voicecoach.audio.files import read_audio
from voicecoach.audio.room import RoomSettings
from voicecoach.cli import main
from voicecoach.clock import VirtualClock
from voicecoach.commands import parse
from voicecoach.fakes import ScriptedRecognizer
from voicecoach.frames import FRAME_SECONDS, RATE_HZ, rms_dbfs
from voicecoach.plan import build_plan
from voicecoach.session import Session
from voicecoach.speech.tts import Pyttsx3Synthesizer
from voicecoach.speech.whisper_recognizer import CheckZone, WhisperRecognizer

pytestmark = pytest.mark.slow

USER_VOICES = (Voice("mb-us2", 150, 50), Voice("mb-us1", 170, 55), Voice("mb-en1", 140, 45))
Records = list[dict[str, object]]


@pytest.fixture(scope="module")
def tts_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One phrase cache for the module: the coach's voice is rendered once."""
    return tmp_path_factory.mktemp("tts")


def simulate(
    cache: Path,
    says: Sequence[tuple[float, str]] = (),
    *,
    program: str = "gentle-start",
    voice: Voice = USER_VOICES[0],
    echo_gain_db: float = -6.0,
    noise_snr_db: float | None = None,
    until_seconds: float | None = None,
) -> Records:
    """Run a session with real audio in virtual time; the event log records."""
    room = make_room(Script(says, (), voice), RoomSettings(echo_gain_db, noise_snr_db=noise_snr_db))
    recorder = EventRecorder()
    plan = build_plan(resolve_program(program))
    mic = room.microphone(until_seconds)
    Runner(
        session=Session(plan),
        clock=VirtualClock(),
        mic=mic,
        speaker=room.speaker(),
        synthesizer=Pyttsx3Synthesizer(cache_dir=cache),
        recognizer=WhisperRecognizer(check=CheckZone()),
        listeners=[recorder],
        echo=EchoCanceller(),
        guard=SelfHearingGuard(),
    ).run()
    return recorder.records()


@functools.cache
def _timeline(cache: Path) -> tuple[float, float]:
    """A quiet moment and a moment mid-sentence in the first minutes of gentle-start."""
    records = simulate(cache, until_seconds=120.0)
    says = [r for r in records if r["type"] == "say"]
    ends = [float(r["t"]) for r in records if r["type"] == "say_end"]
    starts = [float(r["t"]) for r in says]
    long_cue = next(r for r in says if len(str(r["text"]).split()) >= 12 and float(r["t"]) > 5)
    # A quiet moment: a cue ended a second ago (its echo has died away: a word begun within
    # ECHO_TAIL_SECONDS of the coach may be the coach) and the next one is at least 3 s away.
    gap_start = next(end for end in ends if min(s - end for s in starts if s >= end) >= 3.0)
    return gap_start + 1.0, float(long_cue["t"]) + 1.5


def _heard(records: Records) -> Records:
    return [r for r in records if r["type"] == "heard"]


def _end(records: Records) -> dict[str, object]:
    return next(r for r in records if r["type"] == "end")


CASES = [
    (voice, moment, words, expect)
    for voice in USER_VOICES
    for moment in ("quiet", "mid-sentence")
    for words, expect in (
        (["stop"], "stopped"),
        (["pause", "resume"], "resumed"),
        (["pain", "seven"], "pain"),
    )
]
#: Scripted words (of 30) that must be heard. Measured with Whisper (the default): 9 early on,
#: then 12 in two runs, and 14 once the quiet moment began a second after the coach; it hears
#: mb-us1 poorly ("stop" comes out as "Jump", "pain" as "Pen"). The count moves because
#: espeak-ng carries internal state from one render to the next in a process: the same cue
#: rendered twice comes out slightly different, and so does what the echo canceller leaves of
#: it (pocketsphinx heard 12 when nothing was rendered before, 8 and 9 after other tests).
#: The target is every word; this floor, measured less a margin, keeps what works from
#: getting worse and is raised as the recognizer improves.
MIN_WORDS_HEARD = 10
#: Seconds after a word is scripted to start within which its hit must end (words are shorter).
WORD_SPAN_SECONDS = 2.0
#: Seconds between the first and second word of a case.
SECOND_WORD_AFTER_SECONDS = 12.0
#: Seconds after the second word for the session to end: a pain score of 7 ends it with the
#: urgent advice and the emergency number, which the coach takes about 25 s to say.
SEVERE_REPLY_SECONDS = 45.0


@dataclass(frozen=True)
class CaseRun:
    """One simulated case: what was said when, what should follow, and the event records."""

    moment: str
    says: list[tuple[float, str]]
    expect: str
    records: Records


@pytest.fixture(scope="module")
def command_runs(tts_cache: Path) -> list[CaseRun]:
    """Every case simulated once."""
    quiet, mid = _timeline(tts_cache)
    runs = []
    for voice, moment, words, expect in CASES:
        first_at = quiet if moment == "quiet" else mid
        says = [(first_at + i * SECOND_WORD_AFTER_SECONDS, w) for i, w in enumerate(words)]
        records = simulate(
            tts_cache,
            says,
            voice=voice,
            until_seconds=first_at + SECOND_WORD_AFTER_SECONDS + SEVERE_REPLY_SECONDS,
        )
        runs.append(CaseRun(moment, says, expect, records))
    return runs


def _heard_for(records: Records, at: float) -> Records:
    """The hits whose word ended in the span of a word scripted at ``at``."""
    return [
        r
        for r in _heard(records)
        if r["audio_end"] is not None
        and at <= float(r["audio_end"]) <= at + WORD_SPAN_SECONDS
        and r["command"] != "check"
    ]


def test_commands_heard_are_right_fast_and_cut_the_coach_off(
    command_runs: list[CaseRun],
) -> None:
    heard_words = said_words = 0
    for run in command_runs:
        for index, (at, word) in enumerate(run.says):
            said_words += 1
            hits = _heard_for(run.records, at)
            if not hits:
                continue
            heard_words += 1
            # Never the wrong command: "pain" above all must never come out as anything else.
            assert [parse(str(h["text"])) for h in hits] == [parse(word)], (word, hits)
            hit = hits[0]
            assert float(hit["t"]) - float(hit["audio_end"]) <= 0.5, hit
            if index == 0 and run.moment == "mid-sentence":
                cut = [r for r in run.records if r["type"] == "say_end" and r["interrupted"]]
                assert cut
                assert abs(float(cut[0]["t"]) - float(hit["t"])) <= FRAME_SECONDS + 1e-9
        if all(_heard_for(run.records, at) for at, _ in run.says):
            _assert_outcome(run.records, run.expect)
    print(f"heard {heard_words} of {said_words} scripted words")  # shown with pytest -rP
    assert heard_words >= MIN_WORDS_HEARD, f"{heard_words}/{said_words}"


def _assert_outcome(records: Records, expect: str) -> None:
    commands = [r["command"] for r in records if r["type"] == "command" and not r["ignored"]]
    if expect == "stopped":
        assert _end(records)["reason"] == "stopped"
    elif expect == "resumed":
        assert commands[:2] == ["pause", "resume"]
    else:
        pain = next(r for r in records if r["type"] == "pain")
        assert pain["score"] == 7
        assert _end(records)["reason"] == "pain"


@pytest.mark.parametrize(
    ("program", "echo_gain_db"),
    # Two whole programs: each takes about a minute and a half with Whisper hearing every
    # utterance the coach's echo leaves; bench/safety.py and the bench's sessions cover more.
    [
        ("gentle-start", -6.0),
        ("three-for-chronic-pain", 0.0),
    ],
)
def test_the_coach_never_triggers_itself(
    tts_cache: Path, program: str, echo_gain_db: float
) -> None:
    records = simulate(tts_cache, program=program, echo_gain_db=echo_gain_db)
    assert _end(records)["reason"] == "completed"
    assert _heard(records) == []


def test_stop_is_caught_in_noise(tts_cache: Path) -> None:
    quiet, _ = _timeline(tts_cache)
    records = simulate(tts_cache, [(quiet, "stop")], noise_snr_db=10.0, until_seconds=quiet + 30)
    assert _end(records)["reason"] == "stopped"


def test_record_holds_the_person_and_the_echo(tts_cache: Path, tmp_path: Path) -> None:
    quiet, _ = _timeline(tts_cache)
    out = tmp_path / "mic.wav"
    result = CliRunner().invoke(
        main,
        [
            "simulate",
            "gentle-start",
            "--no-journal",
            "--say",
            f"{quiet:.2f}:stop",
            "--record",
            str(out),
            "--log",
            str(tmp_path / "log.jsonl"),
            "--user-voice",
            "mb-us2",
        ],
    )
    assert result.exit_code == 0, result.output
    audio = read_audio(out).samples
    # The coach's welcome arrives through the echo path in the first seconds...
    assert rms_dbfs(audio[: 2 * RATE_HZ]) > -45.0
    # ...and the person's word is in the recording exactly where it was scripted.
    word = synthesize("stop", Voice("mb-us2", 165, 50))
    start = int(quiet * RATE_HZ)
    heard = audio[start : start + len(word)].astype(np.float64)
    similarity = float(np.dot(heard, word) / (np.linalg.norm(heard) * np.linalg.norm(word)))
    assert similarity > 0.5


def _scripted_intro(
    cache: Path,
    recognizer: ScriptedRecognizer,
    until_seconds: float,
    settings: RoomSettings | None = None,
) -> tuple[Records, EchoCanceller]:
    """gentle-start's first seconds in the simulated room, with nobody talking and
    ``recognizer`` hearing what it is scripted to; the event log and the canceller."""
    room = make_room(Script((), (), USER_VOICES[0]), settings or RoomSettings(-6.0))
    recorder = EventRecorder()
    echo = EchoCanceller()
    Runner(
        session=Session(build_plan(resolve_program("gentle-start"))),
        clock=VirtualClock(),
        mic=room.microphone(until_seconds),
        speaker=room.speaker(),
        synthesizer=Pyttsx3Synthesizer(cache_dir=cache),
        recognizer=recognizer,
        listeners=[recorder],
        echo=echo,
        guard=SelfHearingGuard(),
    ).run()
    return recorder.records(), echo


def test_words_are_judged_by_the_canceller_as_it_was_when_they_ended(tts_cache: Path) -> None:
    # "stop" ends 0.8 s into the coach's welcome, before the canceller can have learned the
    # room (it needs a second of the coach's speech), and Whisper hands it out 7 s later, after
    # the canceller has settled: it is judged as heard then, over an unlearned echo.
    records, echo = _scripted_intro(
        tts_cache, ScriptedRecognizer([(0.8, "stop")], late_seconds=7.0), 20.0
    )
    assert echo.converged, "the canceller settled before the hit was handed out"
    assert _heard(records) == []
    assert _end(records)["reason"] != "stopped"


@pytest.mark.parametrize(("start_seconds", "asked"), [(3.2, False), (4.6, True)])
def test_words_that_began_before_the_canceller_settled_are_not_asked_about(
    tts_cache: Path, start_seconds: float, asked: bool
) -> None:
    # The canceller settles 3.6 s into gentle-start's intro, the coach still talking; a "stop"
    # Whisper nearly heard, begun before that and ended after, holds echo it had not learnt to
    # take out. One begun after it is asked about: the coach never says "stop" there.
    said = ScriptedRecognizer([(start_seconds + 1.0, "stop?")], utterance_seconds=1.0)
    records, echo = _scripted_intro(tts_cache, said, 12.0)
    assert echo.converged
    assert [r["command"] for r in _heard(records)] == (["check"] if asked else [])


@pytest.mark.parametrize("end_seconds", [13.0, 14.0, 15.0])
def test_a_lone_sound_over_the_coach_after_the_device_delay_moved_is_not_asked_about(
    tts_cache: Path, end_seconds: float
) -> None:
    # The echo arrives 28 ms later from 12 s on, the coach talking through it, as a sound
    # server's latency moved in live runs. Until the canceller follows, its echo comes through:
    # a lone sound heard then was asked about until 15 s; now from 13 s on it is not.
    said = ScriptedRecognizer([(end_seconds, "?")], utterance_seconds=0.5)
    moved = RoomSettings(-6.0, echo_delay_move=(12.0, 0.028))
    records, _ = _scripted_intro(tts_cache, said, end_seconds + 3.0, moved)
    assert _heard(records) == []
