"""The int8 copy of Whisper's weights: made once, the same model, and never in the way."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from speech_audio import speak

from voicecoach.errors import RecognizerError
from voicecoach.speech.backends import whisper_missing
from voicecoach.speech.whisper_features import log_mel
from voicecoach.speech.whisper_int8 import cache_root, int8_folder, load_from_copy, quantize
from voicecoach.speech.whisper_verifier import WhisperVerifier, model_dir

pytestmark = pytest.mark.skipif(
    whisper_missing() is not None, reason=f"needs the whisper backend ({whisper_missing()})"
)
START = [50257, 50362]  # <|startoftranscript|> <|notimestamps|> of tiny.en


def _whisper(folder: Path) -> object:
    import ctranslate2

    return ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8")


def test_the_copy_computes_exactly_what_the_shipped_weights_do(
    tmp_path: Path, speech_cache: Path
) -> None:
    import ctranslate2

    shipped = model_dir()
    copy = int8_folder(shipped, tmp_path)
    assert (copy / "model.bin").stat().st_size < 0.6 * (shipped / "model.bin").stat().st_size
    audio = speak("please stop now", "en-us", speech_cache)
    features = log_mel(np.concatenate([audio, np.zeros(8000, np.float32)]), 800)[None]
    outputs = []
    for folder in (shipped, copy):
        model = _whisper(folder)
        encoded = model.encode(ctranslate2.StorageView.from_array(features))  # type: ignore[attr-defined]
        result = model.generate(encoded, [START], return_scores=True)[0]  # type: ignore[attr-defined]
        outputs.append((np.asarray(encoded).copy(), result.sequences_ids[0], result.scores[0]))
    assert np.array_equal(outputs[0][0], outputs[1][0])
    assert outputs[0][1:] == outputs[1][1:]
    assert len(outputs[0][1]) >= 2


def test_the_recognizer_loads_the_copy_and_makes_it_once() -> None:
    WhisperVerifier()
    (copy,) = cache_root().glob("*-int8")
    made_ns = (copy / "model.bin").stat().st_mtime_ns
    WhisperVerifier()
    assert [p.name for p in cache_root().iterdir()] == [copy.name]
    assert (copy / "model.bin").stat().st_mtime_ns == made_ns


def test_new_weights_get_a_new_copy_and_the_old_one_goes(tmp_path: Path) -> None:
    source = tmp_path / "weights"
    shutil.copytree(model_dir(), source)
    old = int8_folder(source, tmp_path / "cache")
    os.utime(source / "model.bin", ns=(1, 1))
    new = int8_folder(source, tmp_path / "cache")
    assert new != old
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [new.name]


def test_a_damaged_copy_is_removed_and_the_shipped_weights_load(tmp_path: Path) -> None:
    source = tmp_path / "weights"
    shutil.copytree(model_dir(), source)
    copy = int8_folder(source)
    with (copy / "model.bin").open("r+b") as model:
        model.truncate(1000)
    loaded_from: list[Path] = []

    def load(folder: Path) -> object:
        loaded_from.append(folder)
        return _whisper(folder)

    load_from_copy(source, load)
    assert loaded_from == [copy, source]
    assert not copy.exists()
    load_from_copy(source, load)
    assert loaded_from[-1] == copy


def test_a_source_that_is_not_a_model_is_named_and_leaves_nothing_behind(tmp_path: Path) -> None:
    source = tmp_path / "weights"
    source.mkdir()
    (source / "model.bin").write_bytes(b"\x06\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(RecognizerError, match="model.bin is not a CTranslate2 model"):
        int8_folder(source, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []
    with pytest.raises(RecognizerError, match="model.bin is not a CTranslate2 model"):
        quantize(source / "model.bin", tmp_path / "out.bin")
