"""The one internal audio format: mono float32 in [-1, 1] at 16 kHz, moved in 20 ms frames."""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
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

# Resampling filter: a Kaiser-windowed sinc, 16 zero crossings either side of the centre.
# Measured: aliases of 8.2-10 kHz tones into a 16 kHz signal stay below -60 dB, the passband is
# flat to 6 kHz and 1.5 dB down at 7 kHz, which is more than speech recognition needs.
_ZERO_CROSSINGS = 16
_KAISER_BETA = 6.0
#: Fraction of the lower Nyquist frequency where the passband ends; the rest is the transition.
_CUTOFF_FRACTION = 0.92
#: Outputs computed per vectorised step; bounds memory (outputs x taps) on long files.
_CHUNK_OUTPUTS = 1024
#: Above this many filter phases the bank is computed per call instead of stored.
_MAX_STORED_PHASES = 4096


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


def split_frames(samples: Samples) -> Iterator[Samples]:
    """FRAME_SAMPLES-long frames of ``samples``; the last one is padded with silence."""
    for start in range(0, len(samples), FRAME_SAMPLES):
        frame = samples[start : start + FRAME_SAMPLES]
        if len(frame) < FRAME_SAMPLES:
            frame = np.concatenate([frame, np.zeros(FRAME_SAMPLES - len(frame), np.float32)])
        yield frame.astype(np.float32, copy=False)


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


class _Kernel:
    """A polyphase windowed-sinc filter bank for one rational rate ratio up/down."""

    def __init__(self, from_hz: int, to_hz: int) -> None:
        divisor = math.gcd(from_hz, to_hz)
        self.up = to_hz // divisor
        self.down = from_hz // divisor
        self.cutoff = _CUTOFF_FRACTION * min(1.0, self.up / self.down)
        #: Half the kernel length, in input samples; wider when downsampling, to keep its shape.
        self.half_width = int(math.ceil(_ZERO_CROSSINGS / self.cutoff))
        self.offsets = np.arange(-self.half_width + 1, self.half_width + 1, dtype=np.int64)
        self._bank: Samples | None = None
        if self.up <= _MAX_STORED_PHASES:
            self._bank = self._compute(np.arange(self.up, dtype=np.int64))

    def _compute(self, phases: npt.NDArray[np.int64]) -> Samples:
        x = phases[:, None] / self.up - self.offsets[None, :]
        ratio = np.clip(1.0 - np.square(x / self.half_width), 0.0, None)
        window = np.i0(_KAISER_BETA * np.sqrt(ratio)) / np.i0(_KAISER_BETA)
        taps = self.cutoff * np.sinc(self.cutoff * x) * window
        # Each phase sums to exactly one, so a constant stays constant: no ripple at the phase rate.
        taps /= taps.sum(axis=1, keepdims=True)
        return taps.astype(np.float32)

    def weights(self, phases: npt.NDArray[np.int64]) -> Samples:
        """Taps for each output phase, shape (len(phases), 2 * half_width)."""
        return self._bank[phases] if self._bank is not None else self._compute(phases)

    def apply(self, padded: Samples, first: int, start_n: int, stop_n: int) -> Samples:
        """Outputs start_n..stop_n-1; ``padded[0]`` is input sample ``first``."""
        out = np.empty(max(0, stop_n - start_n), dtype=np.float32)
        for chunk_start in range(start_n, stop_n, _CHUNK_OUTPUTS):
            n = np.arange(chunk_start, min(stop_n, chunk_start + _CHUNK_OUTPUTS), dtype=np.int64)
            base, phases = np.divmod(n * self.down, self.up)
            window = padded[(base - first)[:, None] + self.offsets[None, :]]
            taps = self.weights(phases)
            out[chunk_start - start_n : chunk_start - start_n + len(n)] = np.einsum(
                "ij,ij->i", window, taps
            )
        return out


@functools.lru_cache(maxsize=16)
def _kernel(from_hz: int, to_hz: int) -> _Kernel:
    return _Kernel(from_hz, to_hz)


def _check_rates(from_hz: int, to_hz: int) -> None:
    if from_hz <= 0 or to_hz <= 0:
        raise ValueError(f"sample rates must be positive, got {from_hz} and {to_hz} Hz")


def resample(samples: Samples, from_hz: int, to_hz: int = RATE_HZ) -> Samples:
    """Band-limited resampling by a polyphase windowed-sinc filter (no SciPy needed on a Pi).

    The output has ``round(len * to_hz / from_hz)`` samples; output n sits at input position
    ``n * from_hz / to_hz`` with no delay, and the signal is taken as zero outside its ends.
    """
    _check_rates(from_hz, to_hz)
    if from_hz == to_hz or len(samples) == 0:
        return samples.astype(np.float32, copy=False)
    kernel = _kernel(from_hz, to_hz)
    n_out = int(round(len(samples) * to_hz / from_hz))
    width = kernel.half_width
    padded = np.concatenate(
        [np.zeros(width, np.float32), samples.astype(np.float32), np.zeros(width + 1, np.float32)]
    )
    return kernel.apply(padded, -width, 0, n_out)


class StreamingResampler:
    """Resamples a stream piece by piece, keeping filter state across pieces (no edge clicks).

    Feeding a signal in any split and then calling ``flush`` gives the same samples as one
    ``resample`` call. Output lags input by ``latency_seconds``, the filter's look-ahead.
    """

    def __init__(self, from_hz: int, to_hz: int = RATE_HZ) -> None:
        _check_rates(from_hz, to_hz)
        self.from_hz = from_hz
        self.to_hz = to_hz
        self._kernel = _kernel(from_hz, to_hz) if from_hz != to_hz else None
        self.reset()

    @property
    def latency_seconds(self) -> float:
        """How long input waits for the filter's look-ahead before it comes out."""
        return 0.0 if self._kernel is None else self._kernel.half_width / self.from_hz

    def reset(self) -> None:
        """Forget the stream so far and start a new one."""
        width = 0 if self._kernel is None else self._kernel.half_width
        self._held: Samples = np.zeros(width, np.float32)
        self._held_first = -width  # input index of _held[0]; negative indices are zeros
        self._inputs = 0
        self._next_out = 0

    def process(self, samples: Samples) -> Samples:
        """Resample the next piece; returns what the filter can produce so far (maybe empty)."""
        if self._kernel is None:
            return samples.astype(np.float32, copy=False)
        self._held = np.concatenate([self._held, samples.astype(np.float32, copy=False)])
        self._inputs += len(samples)
        kernel = self._kernel
        ready = self._inputs - kernel.half_width  # inputs whose look-ahead has arrived
        stop = (ready * kernel.up - 1) // kernel.down + 1 if ready > 0 else 0
        return self._emit(max(stop, self._next_out))

    def flush(self) -> Samples:
        """The remaining output, as if the stream were followed by silence; then ``reset``."""
        if self._kernel is None:
            return np.zeros(0, np.float32)
        total = int(round(self._inputs * self.to_hz / self.from_hz))
        self._held = np.concatenate([self._held, np.zeros(self._kernel.half_width + 1, np.float32)])
        out = self._emit(max(total, self._next_out))
        self.reset()
        return out

    def _emit(self, stop: int) -> Samples:
        kernel = self._kernel
        assert kernel is not None
        out = kernel.apply(self._held, self._held_first, self._next_out, stop)
        self._next_out = stop
        # Keep only the inputs that later outputs can still reach.
        keep_from = (stop * kernel.down) // kernel.up - kernel.half_width + 1
        drop = max(0, keep_from - self._held_first)
        self._held = self._held[drop:]
        self._held_first += drop
        return out


def rms_dbfs(samples: Samples) -> float:
    """Root-mean-square level in dB relative to full scale (-120 for silence)."""
    if len(samples) == 0:
        return -120.0
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 1e-6 else -120.0
