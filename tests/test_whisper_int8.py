"""The int8 copy of Whisper's weights: made once, remade when stale, and the same model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from speech_audio import speak

from voicecoach.errors import RecognizerError
from voicecoach.speech.backends import whisper_missing
from voicecoach.speech.whisper_features import log_mel
from voicecoach.speech.whisper_int8 import int8_folder, quantize
from voicecoach.speech.whisper_verifier import model_dir

pytestmark = pytest.mark.skipif(
    whisper_missing() is not None, reason=f"needs the whisper backend ({whisper_missing()})"
)


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
        model = ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8")
        encoded = model.encode(ctranslate2.StorageView.from_array(features))
        outputs.append(np.asarray(encoded).copy())
    assert np.array_equal(outputs[0], outputs[1])


def test_the_copy_is_made_once_and_again_when_stale(tmp_path: Path) -> None:
    copy = int8_folder(model_dir(), tmp_path)
    made_ns = (copy / "model.bin").stat().st_mtime_ns
    assert int8_folder(model_dir(), tmp_path) == copy
    assert (copy / "model.bin").stat().st_mtime_ns == made_ns
    stamp = json.loads((copy / "source.json").read_text())
    (copy / "source.json").write_text(json.dumps({**stamp, "revision": 0}))
    assert int8_folder(model_dir(), tmp_path) == copy
    assert json.loads((copy / "source.json").read_text()) == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == [copy.name]


def test_a_file_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    bogus = tmp_path / "model.bin"
    bogus.write_bytes(b"\x06\x00\x00\x00" + b"\xff" * 40)
    with pytest.raises(RecognizerError, match="model.bin is not a CTranslate2 model"):
        quantize(bogus, tmp_path / "out.bin")
