"""RNNoise on real audio: recorded speech in pink noise comes out with the noise taken down."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from speech_audio import LIBRIVOX, in_pink_noise, needs_testdata, read_wav

from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, rms_dbfs
from voicecoach.speech.denoise import Denoiser, denoiser_missing

needs_rnnoise = pytest.mark.skipif(
    denoiser_missing() is not None, reason=f"needs RNNoise ({denoiser_missing()})"
)
#: A person reading (LibriVox, in Debian's pocketsphinx-testdata).
READING = LIBRIVOX / "sense_and_sensibility_01_austen_64kb-0880.wav"
LEAD_SECONDS = 2.0


@needs_testdata
@needs_rnnoise
def test_steady_noise_goes_down_and_the_speech_stays_where_it_was() -> None:
    speech = read_wav(READING)
    noisy = in_pink_noise(speech, snr_db=10.0, lead_seconds=LEAD_SECONDS)
    cleaned = Denoiser()(noisy)
    assert len(cleaned) == len(noisy)
    lead = int(LEAD_SECONDS * RATE_HZ)
    room_only = slice(lead // 2, lead)  # RNNoise has heard a second of the room by then
    said = slice(lead, lead + len(speech))
    # Measured: the room alone 73 dB quieter, the speech within 1 dB of its level.
    assert rms_dbfs(cleaned[room_only]) < rms_dbfs(noisy[room_only]) - 20
    assert abs(rms_dbfs(cleaned[said]) - rms_dbfs(speech)) < 3
    # Time-aligned with the input, RNNoise's own 20 ms delay taken out: the cleaned speech
    # lines up with the clean recording best with no shift at all.
    lags = range(-40, 41)
    fit = [float(np.dot(cleaned[lead + lag : lead + lag + len(speech)], speech)) for lag in lags]
    assert lags[int(np.argmax(fit))] == 0


def test_a_missing_library_is_named_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(RecognizerError, match=r"librnnoise\.so.*--no-deps pyrnnoise"):
        Denoiser(tmp_path / "librnnoise.so")
