"""Where the person's voice examples live: one WAV file per utterance, readable by them alone.

Examples are kept as ``WORD_N.wav`` (``stop_1.wav``, ``nine_2.wav``) in the ``enrolment``
folder of the user data folder (beside the journal), or in ``$VOICECOACH_ENROLMENT``. They are
the utterance as the recognizer cuts it out of the microphone stream, at 16 kHz. Recordings of
a person's voice are personal data, so the folder is 0700 and each file 0600.
"""

from __future__ import annotations

import os
import re
import wave
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import platformdirs

from voicecoach.audio.files import read_audio, write_wav
from voicecoach.errors import AudioFileError, UsageError
from voicecoach.frames import RATE_HZ, Samples, from_int16
from voicecoach.speech.personal import WORDS, longest_utterance
from voicecoach.speech.vad import SpeechProbability

#: Environment variable that points at the examples' folder.
ENV_VAR = "VOICECOACH_ENROLMENT"
_FILE_MODE = 0o600
_DIR_MODE = 0o700
_NAME = re.compile(r"^(?P<word>[a-z]+)_(?P<n>[1-9][0-9]*)\.wav$")
#: Recordings below this rate lack the upper half of speech the recognizer listens to.
MIN_RATE_HZ = RATE_HZ
#: Loudest sample of a file below this (dBFS) is silence: nothing was recorded.
_SILENT_PEAK_DBFS = -50.0

Examples = dict[str, list[Samples]]


def default_folder() -> Path:
    """The examples' folder: ``$VOICECOACH_ENROLMENT``, else ``enrolment`` in the data folder."""
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return platformdirs.user_data_path("voicecoach") / "enrolment"


def file_name(word: str, n: int) -> str:
    """``stop_1.wav``: the name of the n-th example of ``word`` (n from 1)."""
    return f"{word}_{n}.wav"


def parse_name(path: Path) -> tuple[str, int]:
    """The word and number a file's name gives, or a UsageError that names the file."""
    match = _NAME.match(path.name.lower())
    if match is None:
        raise UsageError(
            f"{path}: name it WORD_N.wav, such as stop_1.wav or nine_2.wav "
            f"(WORD is one of {', '.join(WORDS)})",
            event=path,
        )
    word = match["word"]
    if word not in WORDS:
        raise UsageError(
            f"{path}: {word!r} is not a word voicecoach listens for; use one of {', '.join(WORDS)}",
            event=path,
        )
    return word, int(match["n"])


def load(folder: Path | None = None) -> Examples:
    """Every stored example, by word (empty when there are none)."""
    folder = folder or default_folder()
    found: dict[str, list[tuple[int, Samples]]] = {}
    for path in sorted(folder.glob("*.wav")) if folder.is_dir() else ():
        try:
            word, n = parse_name(path)
        except UsageError:
            continue  # not ours: a stray file is left alone
        found.setdefault(word, []).append((n, _read_own(path)))
    return {
        word: [s for _, s in sorted(items, key=lambda x: x[0])] for word, items in found.items()
    }


def count(folder: Path | None = None) -> int:
    """How many examples are stored."""
    folder = folder or default_folder()
    if not folder.is_dir():
        return 0
    return sum(1 for p in folder.glob("*.wav") if _NAME.match(p.name.lower()))


def save(examples: Mapping[str, Sequence[Samples]], folder: Path | None = None) -> list[Path]:
    """Replace the stored examples with ``examples``; returns the files written."""
    folder = folder or default_folder()
    forget(folder)
    _make_private_folder(folder)
    written = []
    for word, clips in examples.items():
        for n, samples in enumerate(clips, start=1):
            path = folder / file_name(word, n)
            write_wav(path, samples, mode=_FILE_MODE)
            written.append(path)
    return written


def forget(folder: Path | None = None) -> int:
    """Delete every stored example (and the folder, when nothing else is in it)."""
    folder = folder or default_folder()
    if not folder.is_dir():
        return 0
    deleted = 0
    for path in folder.glob("*.wav"):
        if _NAME.match(path.name.lower()):
            path.unlink()
            deleted += 1
    try:
        folder.rmdir()
    except OSError:
        pass  # other files are in it: they are not ours to delete
    return deleted


def _make_private_folder(folder: Path) -> None:
    try:
        folder.mkdir(mode=_DIR_MODE, parents=True, exist_ok=True)
        os.chmod(folder, _DIR_MODE)
    except OSError as err:
        raise AudioFileError(
            f"{folder}: cannot create: {err.strerror or err}", event=folder
        ) from err


def _read_own(path: Path) -> Samples:
    """One stored example (always 16 kHz mono 16-bit, as ``save`` wrote it)."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getframerate() != RATE_HZ or wav.getnchannels() != 1:
                raise AudioFileError(
                    f"{path}: not a stored example (16 kHz mono); `voicecoach enrol --forget` "
                    "removes the stored examples",
                    event=path,
                )
            return from_int16(wav.readframes(wav.getnframes()))
    except (wave.Error, EOFError, OSError) as err:
        raise AudioFileError(f"{path}: cannot read: {err}", event=path) from err


def source_rate_hz(path: Path) -> int | None:
    """The sample rate a WAV file was recorded at, when its header says so plainly."""
    try:
        with wave.open(str(path), "rb") as wav:
            return int(wav.getframerate())
    except (wave.Error, EOFError, OSError):
        return None


def check_recording(path: Path, samples: Samples) -> None:
    """Refuse, naming the file, a recording that is too low in rate, empty or silent."""
    rate_hz = source_rate_hz(path)
    if rate_hz is not None and rate_hz < MIN_RATE_HZ:
        raise AudioFileError(
            f"{path}: recorded at {rate_hz} Hz; record at {MIN_RATE_HZ} Hz or more "
            "(higher rates are converted)",
            event=path,
        )
    if len(samples) == 0:
        raise AudioFileError(f"{path}: the file holds no audio", event=path)
    peak = float(np.max(np.abs(samples)))
    if peak <= 10 ** (_SILENT_PEAK_DBFS / 20):
        raise AudioFileError(
            f"{path}: silent (loudest sample {20 * np.log10(max(peak, 1e-9)):.0f} dBFS); "
            "check the microphone and record it again",
            event=path,
        )


def import_folder(folder: Path, vad: SpeechProbability) -> Examples:
    """The examples in a folder of ``WORD_N.wav`` recordings, each cut as the recognizer cuts
    it; an error names the first file that is misnamed, unreadable, too low in rate, empty
    or silent."""
    if not folder.is_dir():
        raise UsageError(f"{folder}: not a folder", event=folder)
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".wav")
    if not paths:
        raise UsageError(
            f"{folder}: no recordings; put WORD_N.wav files in it, such as stop_1.wav",
            event=folder,
        )
    found: dict[str, list[tuple[int, Samples]]] = {}
    for path in paths:
        word, n = parse_name(path)
        samples = read_audio(path).samples
        check_recording(path, samples)
        cut = longest_utterance(samples, vad)
        if cut is None:
            raise AudioFileError(
                f"{path}: no speech found; say the word clearly, close to the microphone",
                event=path,
            )
        found.setdefault(word, []).append((n, cut))
    return {
        word: [s for _, s in sorted(items, key=lambda x: x[0])] for word, items in found.items()
    }
