"""Real test speech: espeak-ng renderings and the recordings in Debian's pocketsphinx-testdata."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from voicecoach.commands import Parsed
from voicecoach.frames import (
    FRAME_SAMPLES,
    RATE_HZ,
    Samples,
    from_int16,
    rms_dbfs,
    to_int16_bytes,
)
from voicecoach.ports import Hit

#: Recorded human speech shipped by Debian's pocketsphinx-testdata.
TESTDATA = Path("/usr/share/pocketsphinx/test/data")
#: Real read speech with no command word in it (Jane Austen, LibriVox).
LIBRIVOX = TESTDATA / "librivox"
#: Real speech with numbers in it: "eight of spades four of clubs seven of hearts".
CARDS_NUMBERS = TESTDATA / "cards" / "005.wav"

#: Two MBROLA diphone voices (cut from recorded human speech), the main test voices: one the
#: recognizer was tuned on, one it never saw (bench/corpus.py has the split).
VOICES = ("mb-us1", "mb-us2")
#: espeak-ng formant voices: far from human speech, kept so that no voice family is untested.
FORMANT_VOICES = ("en-us", "en-gb-x-rp+f2")
#: Speech level of rendered clips, in dB full scale (RMS), like a person a metre from a mic.
SPEECH_DBFS = -24.0


def have_espeak() -> bool:
    """Whether espeak-ng and sox are installed."""
    return shutil.which("espeak-ng") is not None and shutil.which("sox") is not None


def have_mbrola() -> bool:
    """Whether espeak-ng can speak with the MBROLA voices of ``VOICES``."""
    if not have_espeak():
        return False
    done = subprocess.run(
        ["espeak-ng", "-v", VOICES[0], "--stdout", "yes"], capture_output=True, check=False
    )
    return done.returncode == 0 and len(done.stdout) > 1000


needs_espeak = pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng and sox")
needs_mbrola = pytest.mark.skipif(not have_mbrola(), reason="needs espeak-ng MBROLA voices")
needs_testdata = pytest.mark.skipif(
    not TESTDATA.is_dir(), reason="needs Debian's pocketsphinx-testdata"
)


def speak(text: str, voice: str, cache_dir: Path, rate_wpm: int = 150, pitch: int = 50) -> Samples:
    """``text`` spoken by espeak-ng at 16 kHz, with 0.5 s of quiet noise before and 1 s after."""
    pitched = "" if pitch == 50 else f"|{pitch}"
    key = hashlib.sha256(f"{text}|{voice}|{rate_wpm}{pitched}".encode()).hexdigest()[:16]
    path = cache_dir / f"{key}.wav"
    if not path.exists():
        write_wav(path, _render(text, voice, rate_wpm, pitch))
    speech = read_wav(path)
    rms = float(np.sqrt(np.mean(np.square(speech, dtype=np.float64))))
    speech = speech * np.float32(10 ** (SPEECH_DBFS / 20) / max(rms, 1e-9))
    return with_room_noise(np.concatenate([quiet(0.5), speech, quiet(1.0)]))


def _render(text: str, voice: str, rate_wpm: int, pitch: int = 50) -> Samples:
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    raw = subprocess.run(
        ["sox", "-V1", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1"]
        + ["-r", str(RATE_HZ), "-"],
        input=wav,
        check=True,
        capture_output=True,
    ).stdout
    return from_int16(raw)


def commands(hits: list[Hit]) -> list[Parsed | None]:
    """What a session listening for everything would make of each hit."""
    return [hit.command(numbers=True, answers=True) for hit in hits]


def listened_for(hits: list[Hit], *, numbers: bool = False, answers: bool = False) -> list[Hit]:
    """The hits a session listening for ``numbers`` and ``answers`` does not drop unheard."""
    return [hit for hit in hits if not hit.ignored(numbers=numbers, answers=answers)]


def quiet(seconds: float) -> Samples:
    """Zeros; ``with_room_noise`` turns them into a microphone's noise floor."""
    return np.zeros(int(seconds * RATE_HZ), dtype=np.float32)


def with_room_noise(samples: Samples, dbfs: float = -66.0, seed: int = 7) -> Samples:
    """Add a fixed, faint noise floor: real microphones never deliver digital silence."""
    noise = np.random.default_rng(seed).standard_normal(len(samples)).astype(np.float32)
    return (samples + noise * np.float32(10 ** (dbfs / 20))).astype(np.float32)


def pink_noise(seconds: float, dbfs: float, seed: int = 11) -> Samples:
    """Pink noise (power falling 3 dB an octave, like a fan or traffic) at ``dbfs`` RMS."""
    count = int(seconds * RATE_HZ)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(count))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, count)
    noise *= 10 ** (dbfs / 20) / np.sqrt(np.mean(noise**2))
    return noise.astype(np.float32)


def in_pink_noise(speech: Samples, snr_db: float, lead_seconds: float = 2.0) -> Samples:
    """``speech`` after ``lead_seconds`` of pink noise, the noise ``snr_db`` under its level."""
    level = rms_dbfs(speech[np.abs(speech) > 0.01 * np.abs(speech).max()])
    stream = np.concatenate([quiet(lead_seconds), speech, quiet(0.5)])
    return (stream + pink_noise(len(stream) / RATE_HZ, level - snr_db)).astype(np.float32)


def frames(samples: Samples) -> list[Samples]:
    """Split into 20 ms frames, zero-padding the last one."""
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME_SAMPLES, dtype=np.float32)])
    return [padded[i : i + FRAME_SAMPLES] for i in range(0, len(padded), FRAME_SAMPLES)]


def read_wav(path: Path) -> Samples:
    """Samples of a 16-bit mono 16 kHz WAV file."""
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == RATE_HZ
        assert wav.getnchannels() == 1
        return from_int16(wav.readframes(wav.getnframes()))


def write_wav(path: Path, samples: Samples, rate_hz: int = RATE_HZ) -> Path:
    """Write 16-bit mono PCM; returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate_hz)
        wav.writeframes(to_int16_bytes(samples))
    return path
