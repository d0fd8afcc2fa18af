"""Synthesised user speech for the simulated room and test corpora, straight from espeak-ng.

The coach's own voice goes through pyttsx3 (``voicecoach.speech.tts``); this module makes the
*person's* voice, which must sound unlike the coach: another espeak-ng voice, rate and pitch.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass

import numpy as np

from voicecoach.errors import SpeechError
from voicecoach.frames import Samples, from_int16, resample

#: A default user voice that differs from the coach's default (en, male, 160 wpm).
DEFAULT_USER_VOICE = "en-us+f3"


@dataclass(frozen=True)
class Voice:
    """An espeak-ng voice with its speaking rate (words per minute) and pitch (0-99)."""

    name: str = DEFAULT_USER_VOICE
    rate_wpm: int = 165
    pitch: int = 50

    def label(self) -> str:
        """A short, file-name-safe description."""
        return f"{self.name.replace('+', '_')}-s{self.rate_wpm}-p{self.pitch}"


def synthesize(text: str, voice: Voice = Voice()) -> Samples:
    """``text`` spoken by ``voice``, as 16 kHz mono float samples."""
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SpeechError("espeak-ng is not installed; install it with: apt-get install espeak-ng")
    cmd = [exe, "-v", voice.name, "-s", str(voice.rate_wpm), "-p", str(voice.pitch), "--stdout"]
    try:
        done = subprocess.run(cmd, input=text.encode(), capture_output=True, check=True, timeout=60)
    except subprocess.CalledProcessError as err:
        message = err.stderr.decode(errors="replace").strip()
        raise SpeechError(f"espeak-ng voice {voice.name!r} failed: {message}") from err
    return _wav_bytes_to_samples(done.stdout)


def _wav_bytes_to_samples(data: bytes) -> Samples:
    # espeak-ng writes a streaming WAV header with unknown sizes; the wave module reads the
    # format, and the frame count comes from the bytes actually present.
    with wave.open(io.BytesIO(data)) as wav:
        rate_hz = wav.getframerate()
        header = len(data) - len(wav.readframes(wav.getnframes()))
    pcm = data[header:]
    pcm = pcm[: len(pcm) - len(pcm) % 2]
    samples = from_int16(np.frombuffer(pcm, dtype="<i2"))
    return resample(samples, rate_hz)
