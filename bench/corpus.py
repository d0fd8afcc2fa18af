"""A reproducible synthetic speech corpus for tuning and benchmarking the recognizers.

Speech is rendered with espeak-ng in many English voices, rates and pitches, then mixed with
pink noise (sox) or a babble of overlapping voices at a stated SNR. Rendered audio is cached
under ``bench/.corpus/`` by a hash of everything that shaped it, so a second run is instant and
two machines get the same samples.

Extending it: add a group to ``GROUPS`` (a function returning utterances), a noise kind to
``_NOISE_MAKERS``, or voices to ``VOICES``; existing cache entries stay valid because each key
only covers its own inputs. The tuning/held-out split is defined here, in ``VOICES``, and nowhere
else.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import wave
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.audio.files import write_wav
from voicecoach.commands import ANSWERS, PHRASES, Command, Parsed, parse
from voicecoach.frames import RATE_HZ, Samples, from_int16

CORPUS_DIR = Path(__file__).resolve().parent / ".corpus"
SEEDS_DIR = Path("/work/shared/seeds")
#: Bump when rendering changes in a way that should invalidate the cache.
RENDER_VERSION = 1

#: Every voice, with its split. Held-out voices never influence a threshold. MBROLA diphone
#: voices (``mb-*``, cut from recorded human speech) come first: the acoustic model hears them
#: far more like people than espeak-ng's formant voices. The held-out split has an unseen
#: MBROLA speaker (mb-us2) and formant accents absent from tuning (New York, Lancaster).
VOICES: dict[str, str] = {
    "mb-us1": "tune",
    "mb-us3": "tune",
    "mb-en1": "tune",
    "en-us": "tune",
    "en-gb-x-rp+m3": "tune",
    "mb-us2": "heldout",
    "en-us-nyc+f5": "heldout",
    "en-gb-x-gbclan+m4": "heldout",
}
#: Voices that only the command network learns from (training/train_commands.py), never scored by
#: a bench: MBROLA voices of speakers of other languages reading English, and formant variants
#: unlike any scored voice. VALIDATION_VOICES among them choose its thresholds.
TRAIN_VOICES: tuple[str, ...] = (
    "mb-de1-en", "mb-de2-en", "mb-de4-en", "mb-fr1-en", "mb-nl2-en", "mb-sw1-en", "mb-sw2-en",
    "mb-af1-en", "mb-hu1-en", "mb-ro1-en", "mb-gr2-en",
    "en-us+m1", "en-029+m2", "en-gb-scotland+f4", "en-gb-x-gbcwmd+m6", "en-us+f2",
    "mb-de6-en", "mb-fr4-en", "mb-pl1-en", "en-gb+f2",
)  # fmt: skip
VALIDATION_VOICES: tuple[str, ...] = ("mb-de6-en", "mb-fr4-en", "mb-pl1-en", "en-gb+f2")
#: The MBROLA voices of each split, for benches and tests that want only human-like speech.
MBROLA_PREFIX = "mb-"


#: Voice families of other engines (``bench/families.py``): each is a split of its own, never
#: tuned on, so that recognition is reported per family.
FAMILY_SPLITS: tuple[str, ...] = ("piper", "pico", "rhvoice")


def voices(split: str | None = None, *, mbrola_only: bool = False) -> list[str]:
    """The voices of a split (``tune``, ``heldout``, a family, or the first two), optionally
    only MBROLA ones."""
    if split in FAMILY_SPLITS:
        from bench import families  # imported here: it builds on this module

        return [] if mbrola_only else list(families.FAMILIES[split])
    return [
        v
        for v, s in VOICES.items()
        if (split is None or s == split) and (not mbrola_only or v.startswith(MBROLA_PREFIX))
    ]


#: Voices mixed into the babble noise; chosen from both splits so no split owns the babble.
BABBLE_VOICES = ("en-us+m1", "en-gb+f5", "en-029+m6", "en-us+f1", "en-gb-scotland+f2", "en+m4")

RATES_WPM = (130, 165, 200)
PITCHES = (35, 65)
#: Speech level of every clip (RMS over the whole rendered utterance), in dB full scale.
SPEECH_DBFS = -24.0
LEAD_SECONDS = 0.5
TRAIL_SECONDS = 1.0
#: How long a recognizer hears the room alone before a clip (``Clip.audio(room_seconds=...)``).
#: A room is as noisy before the person speaks as while they do; a clip whose noise starts
#: with it made the segmenter take the noise's onset for a word, which then ran into the
#: person's first syllable. Three seconds fill the segmenter's background window.
ROOM_SECONDS = 3.0


@dataclass(frozen=True)
class Noise:
    """Additive noise: a kind from ``_NOISE_MAKERS`` at ``snr_db`` below the speech."""

    kind: str
    snr_db: float

    @property
    def label(self) -> str:
        """Short name, such as ``pink10``."""
        return f"{self.kind}{self.snr_db:g}"


#: A quiet microphone floor, so that "clean" clips are never digital silence.
FLOOR = Noise("pink", 45.0)
NOISES: tuple[Noise, ...] = (
    Noise("pink", 10.0),
    Noise("pink", 5.0),
    Noise("babble", 10.0),
    Noise("babble", 5.0),
)


@dataclass(frozen=True)
class Utterance:
    """Text to speak, its group, and what a recognizer should make of it."""

    group: str
    text: str
    #: Whether the session expects a pain score while this is spoken.
    numbers: bool
    #: The command a perfect recognizer reports, or None when it must stay silent.
    expected: Parsed | None

    @property
    def answers(self) -> bool:
        """Whether the session asks its yes-or-no question while this is spoken: only an
        answer ("yes", "start over") is said then."""
        return self.expected is not None and self.expected.command in ANSWERS


@dataclass(frozen=True)
class Clip:
    """One rendering of an utterance: voice, rate, pitch and noise."""

    utterance: Utterance
    voice: str
    rate_wpm: int
    pitch: int
    noise: Noise

    @property
    def split(self) -> str:
        """``tune``, ``heldout``, a family's name, or ``train`` for a training-only voice."""
        family = self.voice.split(":", 1)[0]
        return family if family in FAMILY_SPLITS else VOICES.get(self.voice, "train")

    @property
    def speech_key(self) -> str:
        """Cache key of the clean rendering."""
        return _hash(RENDER_VERSION, self.voice, self.rate_wpm, self.pitch, self.utterance.text)

    @property
    def condition(self) -> str:
        """``clean`` or the noise label."""
        return "clean" if self.noise == FLOOR else self.noise.label

    def audio(self, room_seconds: float = 0.0) -> Samples:
        """Lead silence, speech, trailing silence, with noise mixed in (rendered if needed);
        ``room_seconds`` more of the noise alone come first."""
        speech = _speech(self.voice, self.rate_wpm, self.pitch, self.utterance.text)
        gap = np.zeros(int((room_seconds + LEAD_SECONDS) * RATE_HZ), dtype=np.float32)
        tail = np.zeros(int(TRAIL_SECONDS * RATE_HZ), dtype=np.float32)
        clean = np.concatenate([gap, speech, tail])
        return _mix(clean, speech, self.noise, seed=self.speech_key)


# --- utterance groups -------------------------------------------------------------------------

#: Natural short phrases around commands; ``parse`` of each must give the intended command.
_CARRIERS: dict[Command, tuple[str, ...]] = {
    Command.PAUSE: ("can we pause", "okay pause", "wait a moment", "hold on please"),
    Command.RESUME: ("let's continue", "okay resume", "please go on"),
    Command.STOP: ("okay stop", "stop please", "I want to stop"),
    Command.SKIP: ("skip this one", "let's do the next exercise"),
    Command.REPEAT: ("can you repeat", "please say again"),
    Command.PAIN: ("ouch, pain", "I feel pain", "ouch that hurts", "it hurts a lot"),
    Command.NUMB: ("my leg is numb", "I feel tingling"),
    Command.YES: ("yes please",),
    Command.START_OVER: ("let's start over",),
    Command.START: ("okay start session", "let's start my session"),
}
_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
_NUMBERS = (*_NUMBER_WORDS, "ten")
_CONFUSABLES = (
    "top", "spot", "post", "plain", "pace", "paint", "stomp", "pen", "pass",
    "on the top", "a good spot", "keep the pace", "plain water", "paint it", "pass the pen",
    # Words that differ from a command in one sound: Whisper wrote "stuff.", "Stock" and
    # "Chop." for them and found " Stop." close, and the command network confirmed it.
    "stuff", "stock", "shop", "step", "pays", "plus", "paste", "repeal", "skipper", "number",
)  # fmt: skip
_HOLD_COUNTS = (
    "one, two, three, four, five",
    "six, seven, eight, nine, ten",
    "and hold, two, three, four",
)


def _commands() -> Iterator[Utterance]:
    for command, phrases in PHRASES.items():
        for text in (*phrases, *_CARRIERS[command]):
            # "numb" and "tingling" are answers to the pain question, listened for only then.
            asked = command == Command.NUMB
            yield Utterance("command", text, numbers=asked, expected=Parsed(command))


def _numbers() -> Iterator[Utterance]:
    for value, word in enumerate(_NUMBERS):
        for text in (word, f"about {word}"):
            yield Utterance("number", text, numbers=True, expected=Parsed(Command.NUMBER, value))


def _confusables() -> Iterator[Utterance]:
    for text in _CONFUSABLES:
        yield Utterance("confusable", text, numbers=False, expected=None)
    # The coach counts holds aloud; numbers must not count as commands outside a pain question.
    for text in (*_NUMBERS[1:], *_HOLD_COUNTS):
        yield Utterance("count", text, numbers=False, expected=None)


def _ordinary() -> Iterator[Utterance]:
    for text in ordinary_sentences()[:ORDINARY_SENTENCES]:
        yield Utterance("ordinary", text, numbers=False, expected=None)


#: How many seed sentences the ordinary group reads; the rest feed the babble.
ORDINARY_SENTENCES = 48

GROUPS: dict[str, Callable[[], Iterator[Utterance]]] = {
    "command": _commands,
    "number": _numbers,
    "confusable": _confusables,
    "ordinary": _ordinary,
}


def utterances(groups: Iterable[str] | None = None) -> list[Utterance]:
    """Every utterance of the named groups (all groups by default)."""
    names = list(GROUPS) if groups is None else list(groups)
    return [u for name in names for u in GROUPS[name]()]


def ordinary_sentences() -> list[str]:
    """Sentences from the seed articles with no command word in them, in a fixed order."""
    found: list[str] = []
    for path in sorted(SEEDS_DIR.glob("*.txt")):
        text = path.read_text(encoding="utf-8").replace("\u2019", "'").replace("\u2018", "'")
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
            words = sentence.split()
            if 6 <= len(words) <= 28 and sentence.rstrip().endswith(".") and _no_command(sentence):
                found.append(" ".join(words))
    return list(dict.fromkeys(found))


def _no_command(sentence: str) -> bool:
    parsed = parse(sentence)
    if parsed is not None and parsed.command != Command.NUMBER:
        return False
    stems = [p for phrases in PHRASES.values() for p in phrases if " " not in p]
    words = re.findall(r"[a-z']+", sentence.lower())
    # Inflections ("painful", "stopping", "paused") carry the command's sound, so drop them too.
    return not any(w.startswith(stem) for w in words for stem in stems)


# --- clips ------------------------------------------------------------------------------------


def conditions(utterance: Utterance) -> Iterator[tuple[int, int, Noise]]:
    """Rate, pitch and noise combinations for one utterance in one voice.

    Every rate and pitch is heard clean, and once more with one of the noises, rotating so that
    each noise meets each rate and pitch across utterances. Long sentences get fewer renderings.
    """
    offset = int(_hash(utterance.text)[:6], 16)
    combos = [(r, p) for r in RATES_WPM for p in PITCHES]
    if utterance.group == "ordinary":
        combos = [combos[offset % len(combos)], combos[(offset + 3) % len(combos)]]
    for i, (rate, pitch) in enumerate(combos):
        yield rate, pitch, FLOOR
        yield rate, pitch, NOISES[(offset + i) % len(NOISES)]


def clips(
    split: str | None = None,
    groups: Iterable[str] | None = None,
    *,
    mbrola_only: bool = False,
) -> list[Clip]:
    """Every clip of a voice split (``tune``, ``heldout`` or both) and groups."""
    return [
        Clip(u, voice, rate, pitch, noise)
        for u in utterances(groups)
        for voice in voices(split, mbrola_only=mbrola_only)
        for rate, pitch, noise in conditions(u)
    ]


def training_clips(voice_names: Iterable[str]) -> list[Clip]:
    """Half the renderings of every utterance in each training-only voice.

    Every rate and pitch is heard once, clean or noisy by turns, and the turns shift from
    voice to voice so that each voice is heard both ways.
    """
    out = []
    for u in utterances():
        for k, voice in enumerate(voice_names):
            # ``conditions`` gives each rate and pitch twice in a row: clean, then noisy.
            for i, (rate, pitch, noise) in enumerate(conditions(u)):
                if i % 2 == (i // 2 + k) % 2:
                    out.append(Clip(u, voice, rate, pitch, noise))
    return out


def render_all(items: Iterable[Clip], jobs: int = 4) -> None:
    """Render (or find in the cache) the speech of every clip, in parallel."""
    todo = {c.speech_key: c for c in items if not _speech_path(c.speech_key).exists()}
    _noise_track("pink")
    _noise_track("babble")
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(
            pool.map(
                lambda c: _speech(c.voice, c.rate_wpm, c.pitch, c.utterance.text), todo.values()
            )
        )


# --- rendering and mixing ---------------------------------------------------------------------


def _hash(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:20]


def _speech_path(key: str) -> Path:
    return CORPUS_DIR / "speech" / f"{key}.wav"


def _speech(voice: str, rate_wpm: int, pitch: int, text: str) -> Samples:
    if ":" in voice:
        from bench import families  # imported here: it builds on this module

        # A family voice carries its own rate and pitch; ``families`` caches it.
        return _scale_to(families.speech(voice, text), SPEECH_DBFS)
    path = _speech_path(_hash(RENDER_VERSION, voice, rate_wpm, pitch, text))
    if not path.exists():
        raw = espeak(text, voice, rate_wpm, pitch)
        _write_wav(path, raw)
    return _scale_to(read_wav(path), SPEECH_DBFS)


def espeak(text: str, voice: str, rate_wpm: int = 165, pitch: int = 50) -> Samples:
    """Speech from espeak-ng, converted to 16 kHz mono by sox, leading/trailing silence trimmed."""
    synth = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate_wpm), "-p", str(pitch), "--stdout", text],
        check=True,
        capture_output=True,
    )
    convert = subprocess.run(
        ["sox", "-V1", "-t", "wav", "-", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1",
         "-r", str(RATE_HZ), "-", "silence", "1", "0.01", "0.1%", "reverse", "silence", "1",
         "0.01", "0.1%", "reverse"],
        input=synth.stdout,
        check=True,
        capture_output=True,
    )  # fmt: skip
    return from_int16(convert.stdout)


def _noise_track(kind: str) -> Samples:
    path = CORPUS_DIR / "noise" / f"{kind}-{_hash(RENDER_VERSION, kind, BABBLE_VOICES)}.wav"
    if not path.exists():
        _write_wav(path, _NOISE_MAKERS[kind]())
    return read_wav(path)


def _pink() -> Samples:
    # -R makes sox's random generator repeatable, so the noise is the same on every machine.
    out = subprocess.run(
        ["sox", "-R", "-n", "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-r",
         str(RATE_HZ), "-", "synth", "120", "pinknoise", "vol", "0.5"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return from_int16(out.stdout)


def _babble() -> Samples:
    # Several voices reading different sentences at once: speech-like, but no words stand out.
    pool = ordinary_sentences()[ORDINARY_SENTENCES:] or ordinary_sentences()
    seconds = 120
    track = np.zeros(seconds * RATE_HZ, dtype=np.float64)
    for i, voice in enumerate(BABBLE_VOICES):
        parts = [espeak(s, voice, 170, 40 + 7 * i) for s in pool[i::2][:30]]
        talk = np.concatenate(parts)
        talk = np.resize(talk, len(track))
        track += np.roll(talk, i * 7919)
    scaled: Samples = (track / np.max(np.abs(track)) * 0.5).astype(np.float32)
    return scaled


_NOISE_MAKERS: dict[str, Callable[[], Samples]] = {"pink": _pink, "babble": _babble}


def _mix(clean: Samples, speech: Samples, noise: Noise, seed: str) -> Samples:
    track = _noise_track(noise.kind)
    start = int(seed[:8], 16) % max(1, len(track) - len(clean))
    part = np.resize(track[start:], len(clean)).astype(np.float64)
    speech_rms = _rms(speech)
    gain = speech_rms / max(_rms(part), 1e-9) * 10 ** (-noise.snr_db / 20)
    return np.clip(clean + part * gain, -1.0, 1.0).astype(np.float32)


def _rms(x: Samples | np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _scale_to(x: Samples, dbfs: float) -> Samples:
    rms = _rms(x)
    return (x * (10 ** (dbfs / 20) / rms)).astype(np.float32) if rms > 0 else x


def read_wav(path: Path) -> Samples:
    """Samples of a 16-bit mono 16 kHz WAV file."""
    with wave.open(str(path), "rb") as wav:
        return from_int16(wav.readframes(wav.getnframes()))


def _write_wav(path: Path, samples: Samples) -> None:
    # Atomic under a temporary name of its own: two test workers on an empty cache render the
    # same noise track at once, and with one shared temporary name one of them lost it.
    path.parent.mkdir(parents=True, exist_ok=True)
    write_wav(path, samples)


def summary() -> str:
    """Clip and audio counts per split and group, for the README."""
    lines = []
    for split in ("tune", "heldout"):
        for group in GROUPS:
            n = len(clips(split, [group]))
            lines.append(f"{split:8} {group:11} {n:6d} clips")
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    every = clips()
    render_all(every, jobs=int(sys.argv[1]) if len(sys.argv) > 1 else 4)
    print(summary())
