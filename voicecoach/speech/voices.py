"""Which voice speaks: the natural voice where it is installed, espeak-ng everywhere else.

``open_synthesizer`` turns a ``--voice`` value into a synthesizer: no value (or ``natural``,
``joe``, the natural voice's id) means the natural voice, and espeak-ng, with a notice saying
what is missing, where the voice package is not installed; anything else is an espeak-ng
voice (``en-us``, ``en-us+f3``, ``mb-us1``). ``all_voices`` lists them for ``voicecoach
voices``, the natural voice first, then English, each id one that ``--voice`` takes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from voicecoach.errors import SpeechError
from voicecoach.speech.cached import CachedSynthesizer, VoiceInfo
from voicecoach.speech.piper_voice import (
    NATURAL_ALIASES,
    VOICE_PACKAGE,
    PiperSynthesizer,
    VoiceFiles,
    VoiceFinder,
    find_natural_voice,
)

#: ``--voice espeak`` asks for espeak-ng's own default voice.
ESPEAK_ALIAS = "espeak"
MISSING_NATURAL = (
    f"the natural voice is not installed (pip install {VOICE_PACKAGE}); "
    "speaking with espeak-ng's voice instead"
)


@dataclass(frozen=True)
class VoiceChoice:
    """A synthesizer, and a notice for the person when it is not the voice they would expect."""

    synthesizer: CachedSynthesizer
    notice: str | None


def natural_voice_info(files: VoiceFiles) -> VoiceInfo:
    """The natural voice as ``voicecoach voices`` lists it."""
    return VoiceInfo(files.id, "Joe, natural neural voice (Piper; the default)", ("en-us",))


def is_natural(voice: str | None) -> bool:
    """True if ``voice`` names the natural voice (no voice at all means it, too)."""
    return voice is None or voice.strip().casefold() in NATURAL_ALIASES


def open_synthesizer(
    voice: str | None = None,
    rate_wpm: int = 160,
    volume: float = 1.0,
    cache_dir: Path | None = None,
    find_voice: VoiceFinder = find_natural_voice,
) -> VoiceChoice:
    """The synthesizer for ``--voice``: the natural voice unless another is asked for."""
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    if voice is not None and voice.strip().casefold() == ESPEAK_ALIAS:
        return VoiceChoice(Pyttsx3Synthesizer(None, rate_wpm, volume, cache_dir), None)
    if not is_natural(voice):
        return VoiceChoice(Pyttsx3Synthesizer(voice, rate_wpm, volume, cache_dir), None)
    files = find_voice()
    if files is None:
        return VoiceChoice(Pyttsx3Synthesizer(None, rate_wpm, volume, cache_dir), MISSING_NATURAL)
    return VoiceChoice(PiperSynthesizer(files, rate_wpm, volume, cache_dir), None)


def _english(voice: VoiceInfo) -> bool:
    return any(lang.casefold().startswith("en") for lang in voice.languages)


def all_voices(
    include_all: bool = False, find_voice: VoiceFinder = find_natural_voice
) -> list[VoiceInfo]:
    """The natural voice, then English espeak-ng and MBROLA voices; with ``include_all``, then
    every other language's voice."""
    from voicecoach.speech.tts import list_voices

    try:
        espeak = list_voices()
    except SpeechError:
        espeak = []  # no espeak-ng engine: the natural voice alone, if it can speak
    files = find_voice()
    natural = [natural_voice_info(files)] if files is not None else []
    english = [v for v in espeak if _english(v)]
    others = [v for v in espeak if not _english(v)] if include_all else []
    if not natural and not espeak:
        raise SpeechError("no voice is installed; install espeak-ng: apt-get install espeak-ng")
    return natural + english + others
