"""Enrolment: the examples' folder, ``enrol --from``, ``--forget`` and ``--report``, and the CLI."""

from __future__ import annotations

import stat
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from speech_audio import needs_mbrola, speak, write_wav

from voicecoach.cli import main
from voicecoach.commands import Command, Parsed
from voicecoach.enrol import store
from voicecoach.errors import AudioFileError, UsageError
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.speech.backends import whisper_missing
from voicecoach.speech.personal import PersonalExamples, PersonalTuning
from voicecoach.speech.whisper_verifier import Verdict


def loud(seconds: float = 0.5, rate_hz: int = RATE_HZ) -> Samples:
    """A tone standing for a word: loud enough for the level checks."""
    t = np.arange(int(seconds * rate_hz)) / rate_hz
    return (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def energy(chunk: Samples) -> float:
    """A stand-in for Silero: anything loud is speech."""
    return 1.0 if float(np.sqrt(np.mean(chunk**2))) > 0.01 else 0.0


def with_quiet(samples: Samples) -> Samples:
    """Half a second of quiet around ``samples``, as a recording has."""
    quiet = np.zeros(RATE_HZ // 2, np.float32)
    return np.concatenate([quiet, samples, quiet])


def test_examples_are_private_and_come_back(tmp_path: Path) -> None:
    folder = tmp_path / "enrolment"
    written = store.save({"stop": [loud(), loud(0.3)], "nine": [loud()]}, folder)
    assert sorted(p.name for p in written) == ["nine_1.wav", "stop_1.wav", "stop_2.wav"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in written)
    loaded = store.load(folder)
    assert sorted(loaded) == ["nine", "stop"]
    assert [len(s) for s in loaded["stop"]] == [RATE_HZ // 2, int(0.3 * RATE_HZ)]
    assert store.count(folder) == 3


def test_the_default_folder_is_in_the_user_data_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    assert store.default_folder().parts[-2:] == ("voicecoach", "enrolment")
    monkeypatch.setenv("VOICECOACH_ENROLMENT", "/somewhere/else")
    assert store.default_folder() == Path("/somewhere/else")


def test_forget_deletes_the_examples_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "enrolment"
    store.save({"pain": [loud()]}, folder)
    assert store.forget(folder) == 1
    assert not folder.exists()
    store.save({"pain": [loud()]}, folder)
    (folder / "notes.txt").write_text("mine")
    assert store.forget(folder) == 1
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]
    assert store.load(folder) == {}


def test_saving_replaces_what_was_stored(tmp_path: Path) -> None:
    store.save({"pain": [loud()] * 3}, tmp_path)
    store.save({"stop": [loud()]}, tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.wav")) == ["stop_1.wav"]


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("stop.wav", "name it WORD_N.wav"),
        ("stop_0.wav", "name it WORD_N.wav"),
        ("jump_1.wav", "'jump' is not a word"),
        ("stop-1.wav", "name it WORD_N.wav"),
    ],
)
def test_a_badly_named_recording_is_named_in_the_error(
    tmp_path: Path, name: str, says: str
) -> None:
    write_wav(tmp_path / name, with_quiet(loud()))
    with pytest.raises(UsageError, match=says) as caught:
        store.import_folder(tmp_path, energy)
    assert name in str(caught.value)


@pytest.mark.parametrize(
    ("samples", "rate_hz", "says"),
    [
        (loud(rate_hz=8000), 8000, "recorded at 8000 Hz"),
        (np.zeros(0, np.float32), RATE_HZ, "holds no audio"),
        (np.zeros(RATE_HZ, np.float32), RATE_HZ, "silent"),
        (with_quiet(loud(0.05)), RATE_HZ, "no speech found"),
    ],
    ids=["8 kHz", "empty", "silent", "a click"],
)
def test_an_unusable_recording_is_named_in_the_error(
    tmp_path: Path, samples: Samples, rate_hz: int, says: str
) -> None:
    write_wav(tmp_path / "stop_1.wav", with_quiet(loud()))
    write_wav(tmp_path / "pain_2.wav", samples, rate_hz)
    with pytest.raises(AudioFileError, match=says) as caught:
        store.import_folder(tmp_path, energy)
    assert "pain_2.wav" in str(caught.value)


def test_recordings_at_a_higher_rate_are_converted(tmp_path: Path) -> None:
    write_wav(tmp_path / "Stop_1.WAV", with_quiet(loud(rate_hz=48_000)), 48_000)
    write_wav(tmp_path / "stop_2.wav", with_quiet(loud()))
    (tmp_path / "README.txt").write_text("not a recording")
    examples = store.import_folder(tmp_path, energy)
    assert list(examples) == ["stop"]
    assert len(examples["stop"]) == 2
    # Cut as the recognizer cuts it: the tone, a little before it and the quiet after.
    assert 0.5 <= len(examples["stop"][0]) / RATE_HZ <= 1.2


def test_a_folder_without_recordings_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no recordings"):
        store.import_folder(tmp_path, energy)


# -- the command line ------------------------------------------------------------------------


def test_help_says_what_it_does() -> None:
    result = CliRunner().invoke(main, ["enrol", "--help"])
    assert result.exit_code == 0
    for option in ("--from", "--forget", "--report", "--input-device"):
        assert option in result.output
    assert "WORD_N.wav" in result.output


def test_forget_with_nothing_stored_says_so() -> None:
    result = CliRunner().invoke(main, ["enrol", "--forget"])
    assert result.exit_code == 0
    assert "no voice examples" in result.output


def test_forget_deletes_what_is_stored() -> None:
    store.save({"stop": [loud()]})
    result = CliRunner().invoke(main, ["enrol", "--forget"])
    assert result.exit_code == 0, result.output
    assert "deleted 1 voice examples" in result.output
    assert store.count() == 0


def test_forget_goes_alone() -> None:
    result = CliRunner().invoke(main, ["enrol", "--forget", "--report"])
    assert result.exit_code == 2
    assert "on its own" in result.output


def test_report_without_examples_says_how_to_make_them() -> None:
    result = CliRunner().invoke(main, ["enrol", "--report"])
    assert result.exit_code == 2
    assert "voicecoach enrol --from" in result.output


def test_from_a_badly_named_file_exits_2_naming_it(tmp_path: Path) -> None:
    write_wav(tmp_path / "stopp_1.wav", with_quiet(loud()))
    result = CliRunner().invoke(main, ["enrol", "--from", str(tmp_path)])
    assert result.exit_code == 2
    assert "stopp_1.wav" in result.output
    assert store.count() == 0


def test_from_a_low_rate_file_exits_1_naming_it(tmp_path: Path) -> None:
    write_wav(tmp_path / "stop_1.wav", with_quiet(loud(rate_hz=8000)), 8000)
    result = CliRunner().invoke(main, ["enrol", "--from", str(tmp_path)])
    assert result.exit_code == 1
    assert "stop_1.wav: recorded at 8000 Hz" in result.output


@needs_mbrola
@pytest.mark.skipif(whisper_missing() is not None, reason="needs the whisper backend")
def test_from_recordings_then_report(tmp_path: Path, speech_cache: Path) -> None:
    for word in ("stop", "pain"):
        for n, rate_wpm in enumerate((140, 170), start=1):
            write_wav(tmp_path / f"{word}_{n}.wav", speak(word, "mb-us2", speech_cache, rate_wpm))
    result = CliRunner().invoke(main, ["enrol", "--from", str(tmp_path), "--report"])
    assert result.exit_code == 0, result.output
    assert "stored 4 examples" in result.output
    lines = {line.split()[0]: line.split()[1:] for line in result.output.splitlines()[2:]}
    assert lines["stop"][0] == "2"
    assert lines["all"][0] == "4"
    # Never heard as another command, with or without the examples.
    assert lines["all"][3] == "0"
    assert store.count() == 4


# -- the spoken enrolment --------------------------------------------------------------------


@needs_mbrola
def test_the_spoken_enrolment_keeps_each_answer(speech_cache: Path) -> None:
    from voicecoach.audio.room import Room, RoomSettings, UserSpeech
    from voicecoach.enrol.session import EnrolmentSession, Prompt, timeline
    from voicecoach.fakes import EstimatedSynthesizer
    from voicecoach.speech.vad import silero

    requests = [Prompt("stop", "Say stop."), Prompt("stop", "Again."), Prompt("pain", "Say pain.")]
    synthesizer = EstimatedSynthesizer()
    # The person answers the first two prompts and says nothing to the third.
    speech = [
        UserSpeech(listen.start_seconds + 0.4, speak(listen.prompt.word, "mb-us2", speech_cache))
        for listen in timeline(synthesizer, requests, listen_seconds=3.0)[:2]
    ]
    room = Room(RoomSettings(noise_snr_db=30.0), speech)
    said: list[str] = []
    session = EnrolmentSession(
        room.microphone(), room.speaker(), synthesizer, silero(), requests=requests,
        progress=said.append,
    )  # fmt: skip
    examples = session.run()
    assert list(examples) == ["stop"]
    assert len(examples["stop"]) == 2
    assert all(0.4 <= len(s) / RATE_HZ <= 2.5 for s in examples["stop"])
    assert said[-1] == "pain: nothing heard"


# -- the second opinion's rule ---------------------------------------------------------------

STOP, PAIN = Parsed(Command.STOP), Parsed(Command.PAIN)
NEAR = {"stop": 0.01, "pause": 0.05, "pain": 0.06}


def rejected(closest: Parsed | None, gap: float = -5.0, per_token: float = -3.0) -> Verdict:
    """Whisper's verdict on an utterance it did not take."""
    return Verdict("Top.", None, 0.1, "scored", gap, per_token, closest)


@pytest.mark.parametrize(
    ("verdict", "distances", "taken"),
    [
        (rejected(STOP), NEAR, STOP),
        (rejected(STOP, gap=-20.0), NEAR, None),
        (rejected(STOP, per_token=-6.0), NEAR, None),
        (rejected(None), NEAR, None),
        (rejected(Parsed(Command.SKIP)), NEAR, None),
        (rejected(PAIN), NEAR, None),
        (rejected(PAIN), {"pain": 0.01, "pause": 0.05}, None),
        (rejected(STOP), {"stop": 0.01, "pause": 0.011}, None),
        (rejected(STOP), {"stop": 0.5, "pause": 0.9}, None),
        (rejected(STOP), {"pause": 0.01}, None),
        (Verdict("Stop.", STOP, 0.9), NEAR, None),
    ],
    ids=[
        "agrees", "too far for Whisper", "too unlikely per token", "nothing close",
        "closest not enrolled", "examples prefer another word", "pain is Whisper's alone",
        "no clear margin",
        "examples too far", "word without examples", "Whisper took it itself",
    ],
)  # fmt: skip
def test_the_examples_only_confirm_what_whisper_found_closest(
    verdict: Verdict, distances: dict[str, float], taken: Parsed | None
) -> None:
    examples = PersonalExamples({}, PersonalTuning(-8.0, -4.0, 0.02, 0.1, 2.0))
    examples.spread = 0.04
    assert examples.decide(verdict, distances) == taken


# -- sessions load the examples --------------------------------------------------------------


@pytest.mark.skipif(whisper_missing() is not None, reason="needs the whisper backend")
def test_sessions_hear_with_the_examples_when_there_are_any() -> None:
    from voicecoach.speech.backends import open_recognizer

    assert "voice examples" not in open_recognizer("whisper", None, personal=True)[1]
    store.save({"stop": [loud(), loud(0.4)]})
    assert (
        "with your voice examples of 1 word" in open_recognizer("whisper", None, personal=True)[1]
    )
    # Not for the bench or the start phrase: those hear as Whisper alone.
    assert "voice examples" not in open_recognizer("whisper", None)[1]
    assert "voice examples" not in open_recognizer("whisper", None, wake=True, personal=True)[1]


def test_a_damaged_example_leaves_whisper_alone(caplog: pytest.LogCaptureFixture) -> None:
    from voicecoach.speech.backends import load_personal

    folder = store.default_folder()
    store.save({"stop": [loud()]})
    (folder / "pause_1.wav").write_bytes(b"RIFF, but not really")
    assert load_personal() is None
    assert "not using your voice examples" in caplog.text
    assert "pause_1.wav" in caplog.text
