"""Audio files: read WAV or FLAC into the internal format, write 16-bit WAV, and file adapters.

PCM WAV (8, 16, 24 or 32-bit integer) is read with the standard library alone; FLAC, float WAV
and WAVE_FORMAT_EXTENSIBLE headers (which sox writes for 24-bit audio) go through ``soundfile``.
"""

from __future__ import annotations

import importlib
import logging
import os
import secrets
import wave
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt

from voicecoach.errors import AudioFileError
from voicecoach.frames import (
    RATE_HZ,
    AudioChunk,
    Samples,
    resample,
    silence,
    split_frames,
    to_int16_bytes,
    to_mono,
)

_LOGGER = logging.getLogger(__name__)

PathLike = str | os.PathLike[str]

_SOUNDFILE_FIX = (
    "install the soundfile package (pip install soundfile); "
    "where pip builds it from source, also apt-get install libsndfile1"
)


def read_audio(path: PathLike) -> AudioChunk:
    """Read a WAV or FLAC file at any rate and width, as mono float32 at 16 kHz."""
    file = Path(path)
    head = _head(file)
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        samples, rate_hz = _read_wav(file)
    elif head[:4] == b"fLaC":
        samples, rate_hz = _read_with_soundfile(file)
    else:
        raise AudioFileError(f"{file}: not a WAV or FLAC file", event=file)
    return AudioChunk(resample(samples, rate_hz, RATE_HZ), RATE_HZ)


def write_wav(
    path: PathLike,
    samples: Samples | npt.NDArray[np.int16],
    rate_hz: int = RATE_HZ,
    mode: int = 0o666,
) -> None:
    """Write mono 16-bit PCM (from floats, or int16 as is); atomically, never half a file.

    ``mode`` is the file's permission before the umask: 0o600 keeps a private recording
    owner-only from its first byte.
    """
    file = Path(path)
    pcm = (
        samples.astype("<i2").tobytes()
        if samples.dtype == np.int16
        else to_int16_bytes(np.asarray(samples, dtype=np.float32))
    )
    temp = file.with_name(f".{file.name}.{secrets.token_hex(4)}.tmp")
    try:
        # os.open with the mode, so the final file gets the user's umask on top of it.
        descriptor = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
        with os.fdopen(descriptor, "wb") as handle, wave.open(handle, "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(rate_hz)
            out.writeframes(pcm)
        os.replace(temp, file)
    except OSError as err:
        raise AudioFileError(f"{file}: cannot write: {err.strerror or err}", event=file) from err
    finally:
        temp.unlink(missing_ok=True)


def _head(file: Path) -> bytes:
    try:
        with file.open("rb") as handle:
            return handle.read(12)
    except FileNotFoundError as err:
        raise AudioFileError(f"{file}: no such file", event=file) from err
    except OSError as err:
        raise AudioFileError(f"{file}: cannot read: {err.strerror or err}", event=file) from err


def _read_wav(file: Path) -> tuple[Samples, int]:
    try:
        with wave.open(str(file), "rb") as wav:
            channels = wav.getnchannels()
            width_bytes = wav.getsampwidth()
            rate_hz = wav.getframerate()
            frames = wav.getnframes()
            data = wav.readframes(frames)
    except wave.Error as err:
        if "unknown format" in str(err):
            # Float samples or an extensible header: libsndfile reads both.
            return _read_with_soundfile(file)
        raise AudioFileError(f"{file}: damaged WAV file ({err})", event=file) from err
    except EOFError as err:
        raise AudioFileError(f"{file}: truncated WAV header", event=file) from err
    frame_bytes = channels * width_bytes
    if len(data) < frames * frame_bytes:
        raise AudioFileError(
            f"{file}: truncated: the header promises {frames} frames, "
            f"the file holds {len(data) // frame_bytes}",
            event=file,
        )
    return _decode_pcm(file, data, width_bytes, channels), rate_hz


def _decode_pcm(file: Path, data: bytes, width_bytes: int, channels: int) -> Samples:
    if width_bytes == 1:
        # 8-bit WAV is the one unsigned width.
        values = (np.frombuffer(data, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width_bytes == 2:
        values = np.frombuffer(data, "<i2").astype(np.float32) / 32768.0
    elif width_bytes == 3:
        triples = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        joined = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        signed = np.where(joined >= 1 << 23, joined - (1 << 24), joined)
        values = signed.astype(np.float32) / float(1 << 23)
    elif width_bytes == 4:
        values = (np.frombuffer(data, "<i4").astype(np.float64) / float(1 << 31)).astype(np.float32)
    else:
        raise AudioFileError(f"{file}: unsupported sample width {8 * width_bytes} bits", event=file)
    return to_mono(values.reshape(-1, channels))


def _soundfile(file: Path) -> ModuleType:
    try:
        # Through importlib: soundfile ships no type information.
        return importlib.import_module("soundfile")
    except (ImportError, OSError) as err:
        message = f"{file}: reading this file needs libsndfile: {_SOUNDFILE_FIX}"
        raise AudioFileError(message, event=file) from err


def _read_with_soundfile(file: Path) -> tuple[Samples, int]:
    soundfile = _soundfile(file)
    try:
        data, rate_hz = soundfile.read(str(file), dtype="float32", always_2d=True)
    except (RuntimeError, ValueError) as err:
        # LibsndfileError is a RuntimeError; its text says what is wrong with the file.
        raise AudioFileError(f"{file}: damaged or unsupported audio ({err})", event=file) from err
    return to_mono(data), int(rate_hz)


class FileMicrophone:
    """A microphone that plays back a recording as 20 ms frames, then reports the end."""

    def __init__(self, path: PathLike, pad_seconds: float = 0.0) -> None:
        if pad_seconds < 0:
            raise ValueError(f"pad_seconds must be >= 0, got {pad_seconds}")
        self.path = Path(path)
        #: Silence appended after the recording, so recognizers can find the end of the last word.
        self.pad_seconds = pad_seconds
        self._frames: list[Samples] = []
        self._next = 0

    def __enter__(self) -> Self:
        audio = read_audio(self.path).samples
        padded = np.concatenate([audio, silence(self.pad_seconds)]) if self.pad_seconds else audio
        self._frames = list(split_frames(padded))
        self._next = 0
        _LOGGER.debug("%s: %d frames", self.path, len(self._frames))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._frames = []

    def read(self) -> Samples | None:
        """The next frame, or None once the recording (and its padding) is used up."""
        if self._next >= len(self._frames):
            return None
        frame = self._frames[self._next]
        self._next += 1
        return frame


class WavFileSpeaker:
    """A speaker that collects every frame played and writes them as a 16-bit WAV on exit."""

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path)
        self._frames: list[Samples] = []

    def __enter__(self) -> Self:
        self._frames = []
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Written even after a failure: what was played up to then helps to explain it.
        try:
            write_wav(self.path, self.samples)
        except AudioFileError:
            if exc is None:
                raise
            _LOGGER.exception("could not save what was played")

    def play(self, frame: Samples) -> None:
        """Keep one frame for the file."""
        self._frames.append(np.array(frame, dtype=np.float32))

    @property
    def samples(self) -> Samples:
        """Everything played so far, joined."""
        if not self._frames:
            return np.zeros(0, np.float32)
        return np.concatenate(self._frames)
