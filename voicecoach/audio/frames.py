"""The one internal audio format: mono float32 in [-1, 1] at 16 kHz, moved in 20 ms frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]

#: Rate of every signal inside the program, in hertz; devices and files are resampled to it.
RATE_HZ = 16_000
#: Length of one audio frame, the runner's time step, in seconds.
FRAME_SECONDS = 0.02
#: Samples in one frame at RATE_HZ.
FRAME_SAMPLES = int(RATE_HZ * FRAME_SECONDS)


@dataclass(frozen=True)
class AudioChunk:
    """A stretch of mono audio that knows its own rate and length."""

    samples: Samples
    rate_hz: int = RATE_HZ

    @property
    def seconds(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate_hz


def silence(seconds: float) -> Samples:
    """A run of zeros ``seconds`` long at RATE_HZ."""
    return np.zeros(int(round(seconds * RATE_HZ)), dtype=np.float32)


def to_int16_bytes(samples: Samples) -> bytes:
    """Little-endian 16-bit PCM, the format the recognizers take."""
    clipped = np.clip(samples, -1.0, 1.0)
    return (clipped * 32767.0).astype("<i2").tobytes()


def from_int16(data: bytes | npt.NDArray[np.int16]) -> Samples:
    """Float samples from 16-bit PCM bytes or an int16 array."""
    raw = np.frombuffer(data, dtype="<i2") if isinstance(data, bytes) else data
    return (raw.astype(np.float32) / 32768.0).astype(np.float32)


def to_mono(samples: npt.NDArray[np.floating] | npt.NDArray[np.integer]) -> Samples:
    """Average the channels of a (frames, channels) array; pass mono through."""
    arr = np.asarray(samples, dtype=np.float32)
    return arr.mean(axis=1).astype(np.float32) if arr.ndim == 2 else arr


def resample(samples: Samples, from_hz: int, to_hz: int = RATE_HZ) -> Samples:
    """Band-limited resampling by windowed-sinc interpolation (no SciPy on a Pi needed)."""
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    n_out = int(round(len(samples) * to_hz / from_hz))
    # Polyphase via FFT would be faster for long files; per-frame device audio is short, and
    # rendered TTS is cached, so this straightforward filter is fast enough where it runs.
    ratio = to_hz / from_hz
    cutoff = min(1.0, ratio)
    half_width = 16
    positions = np.arange(n_out, dtype=np.float64) / ratio
    base = np.floor(positions).astype(np.int64)
    out = np.zeros(n_out, dtype=np.float64)
    padded = np.concatenate(
        [np.zeros(half_width), samples.astype(np.float64), np.zeros(half_width + 1)]
    )
    for k in range(-half_width + 1, half_width + 1):
        idx = base + k
        x = positions - idx
        weight = cutoff * np.sinc(cutoff * x) * (0.5 + 0.5 * np.cos(np.pi * x / half_width))
        out += padded[idx + half_width] * weight
    return out.astype(np.float32)


def rms_dbfs(samples: Samples) -> float:
    """Root-mean-square level in dB relative to full scale (-120 for silence)."""
    if len(samples) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 1e-6 else -120.0
