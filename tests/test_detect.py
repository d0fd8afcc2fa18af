"""``voicecoach detect`` and backend choice, on real audio files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from speech_audio import LIBRIVOX, needs_mbrola, needs_testdata, speak, write_wav

import voicecoach.cli.detect_cmds  # noqa: F401  (registers `detect` until the CLI imports it)
from voicecoach.cli import main
from voicecoach.errors import RecognizerError
from voicecoach.speech.backends import open_recognizer

pytest.importorskip("pocketsphinx")


@pytest.fixture
def no_vosk_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Vosk model anywhere: not named, not in ./models/, not in the (private) data folder."""
    monkeypatch.delenv("VOICECOACH_VOSK_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def stop_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A voice saying "okay stop", then nothing."""
    folder = tmp_path_factory.mktemp("detect")
    return write_wav(folder / "stop.wav", speak("okay stop", "mb-us2", folder))


def test_pocketsphinx_is_chosen_by_name() -> None:
    recognizer, description = open_recognizer("sphinx", None)
    assert recognizer.name == "sphinx"
    assert "pocketsphinx" in description


def test_the_command_network_is_chosen_by_name() -> None:
    recognizer, description = open_recognizer("net", None)
    assert recognizer.name == "net"
    assert "command network" in description


@pytest.mark.usefixtures("no_vosk_model")
def test_vosk_without_a_model_says_how_to_get_one() -> None:
    with pytest.raises(RecognizerError, match="voicecoach model download"):
        open_recognizer("vosk", None)


@needs_mbrola
@pytest.mark.usefixtures("no_vosk_model")
@pytest.mark.parametrize("backend", ["auto", "net"])
def test_json_lines_give_file_command_text_and_time(stop_wav: Path, backend: str) -> None:
    result = CliRunner().invoke(main, ["detect", "--backend", backend, "--json", str(stop_wav)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(d["file"], d["command"]) for d in lines] == [(str(stop_wav), "stop")]
    assert lines[0]["text"] in ("stop", "stop session")
    # Accepted as the word is heard: after it starts (0.5 s lead), before the file ends.
    assert 0.6 < lines[0]["time"] < 2.5


@needs_mbrola
@pytest.mark.parametrize(("flag", "heard"), [([], []), (["--answers"], ["yes"])])
def test_yes_is_reported_only_when_answers_are_listened_for(
    tmp_path: Path, flag: list[str], heard: list[str]
) -> None:
    """A session hears "yes" only while it asks whether to carry on; detect does the same."""
    wav = write_wav(tmp_path / "yes.wav", speak("yes", "mb-us2", tmp_path))
    result = CliRunner().invoke(main, ["detect", "--backend", "net", "--json", *flag, str(wav)])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["command"] for line in result.stdout.splitlines()] == heard


@needs_mbrola
@needs_testdata
@pytest.mark.usefixtures("no_vosk_model")
def test_unreadable_file_is_reported_and_the_others_still_run(
    stop_wav: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    ordinary = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0870.wav"
    args = ["detect", "--json", str(broken), str(stop_wav), str(ordinary)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert str(broken) in result.stderr
    assert [json.loads(line)["command"] for line in result.stdout.splitlines()] == ["stop"]


@needs_mbrola
@pytest.mark.usefixtures("no_vosk_model")
def test_table_names_the_backend_and_says_when_nothing_was_heard(
    stop_wav: Path, tmp_path: Path
) -> None:
    quiet = write_wav(tmp_path / "quiet.wav", np.zeros(16_000, dtype=np.float32))
    result = CliRunner().invoke(main, ["detect", str(stop_wav), str(quiet)])
    assert result.exit_code == 0, result.output
    assert "Whisper tiny.en" in result.stdout
    assert "stop" in result.stdout
    assert f"{quiet}: no command heard" in result.stdout


def test_help_offers_it_as_a_microphone_and_voice_test() -> None:
    result = CliRunner().invoke(main, ["detect", "--help"])
    assert result.exit_code == 0
    assert "test your microphone" in result.output
