"""Whisper's log-mel front end in numpy: 80 mel bands, 25 ms windows every 10 ms, 30 s padded.

This reproduces OpenAI's ``log_mel_spectrogram`` (a Hann-windowed 400-point STFT, Slaney mel
filters, log10 clipped to 8 decades below the peak, then scaled) without torch or librosa, so
the verifier needs nothing beyond numpy and CTranslate2.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from voicecoach.frames import RATE_HZ, Samples

N_FFT = 400
HOP_SAMPLES = 160
MEL_BANDS = 80
#: Whisper's encoder always reads 30 s of features: 3000 frames of 10 ms.
CHUNK_SECONDS = 30
CHUNK_FRAMES = CHUNK_SECONDS * RATE_HZ // HOP_SAMPLES

Features = npt.NDArray[np.float32]


def _hz_to_mel(hz: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Slaney's mel scale: linear below 1 kHz, logarithmic above."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mel = hz / f_sp
    above = hz >= min_log_hz
    mel[above] = min_log_mel + np.log(hz[above] / min_log_hz) / logstep
    return mel


def _mel_to_hz(mel: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The inverse of ``_hz_to_mel``."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    hz = f_sp * mel
    above = mel >= min_log_mel
    hz[above] = min_log_hz * np.exp(logstep * (mel[above] - min_log_mel))
    return hz


@functools.cache
def mel_filters() -> npt.NDArray[np.float32]:
    """The (80, 201) Slaney-normalised triangular filter bank Whisper was trained with."""
    fft_hz = np.linspace(0, RATE_HZ / 2, N_FFT // 2 + 1)
    edges_mel = np.linspace(
        _hz_to_mel(np.array([0.0]))[0], _hz_to_mel(np.array([RATE_HZ / 2]))[0], MEL_BANDS + 2
    )
    edges_hz = _mel_to_hz(edges_mel)
    widths = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    lower = -ramps[:-2] / widths[:-1, None]
    upper = ramps[2:] / widths[1:, None]
    weights = np.maximum(0, np.minimum(lower, upper))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    return weights.astype(np.float32)


@functools.cache
def _window() -> npt.NDArray[np.float64]:
    # Periodic Hann, as torch.hann_window builds it.
    return np.hanning(N_FFT + 1)[:-1]


def log_mel(samples: Samples, frames: int = CHUNK_FRAMES) -> Features:
    """(80, ``frames``) features of ``samples``, zero-padded as Whisper expects (30 s by
    default; fewer frames cost less when the encoder is to read only the start)."""
    audio = np.zeros(frames * HOP_SAMPLES, dtype=np.float64)
    clip = np.asarray(samples, dtype=np.float64)[: len(audio)]
    audio[: len(clip)] = clip
    padded = np.pad(audio, N_FFT // 2, mode="reflect")
    count = 1 + (len(padded) - N_FFT) // HOP_SAMPLES
    strides = (padded.strides[0] * HOP_SAMPLES, padded.strides[0])
    windows = np.lib.stride_tricks.as_strided(padded, (count, N_FFT), strides)
    power = np.abs(np.fft.rfft(windows * _window(), axis=1)) ** 2
    mel = mel_filters() @ power[:-1].T
    log_spec = np.log10(np.maximum(mel, 1e-10))
    log_spec = np.maximum(log_spec, log_spec.max() - 8.0)
    features: Features = ((log_spec + 4.0) / 4.0).astype(np.float32)[:, :frames]
    return features
