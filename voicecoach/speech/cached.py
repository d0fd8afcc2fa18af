"""What every speech engine shares: trimming, volume, and the memory and disk cache of phrases.

An engine subclasses ``CachedSynthesizer`` with two things: the fields that shape its audio
(``cache_fields``: engine, voice, settings; the text, volume and format are added here) and
``_synthesize``, which turns one phrase into raw 16 kHz samples. Everything else (the cache
files, the counters, the lock, prerendering) is the same for espeak-ng and the natural voice.
"""

from __future__ import annotations

import collections
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import numpy as np
import numpy.typing as npt
import platformdirs

from voicecoach.audio.files import read_audio, write_wav
from voicecoach.errors import AudioFileError, SpeechError
from voicecoach.frames import RATE_HZ, Samples, from_int16, to_int16_bytes

#: 16-bit PCM samples, as phrases are kept on disk and in memory.
Pcm = npt.NDArray[np.int16]

_LOGGER = logging.getLogger(__name__)

#: Changes whenever the stored audio would come out differently for the same engine and text.
FORMAT_VERSION = 1
_LEAD_SECONDS = 0.01
_TAIL_SECONDS = 0.08
_FADE_SECONDS = 0.005
#: Level below which a 10 ms window counts as silence, in dB relative to full scale.
_SILENCE_DBFS = -50.0
_WINDOW_SECONDS = 0.01
#: Renders tried before an empty result is an error.
_RENDER_ATTEMPTS = 3
#: Shortest audible render, in seconds: even "one" lasts several times this.
_MIN_RENDER_SECONDS = 0.05

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class VoiceInfo:
    """A voice the engine offers: its id (pass it as ``voice``), display name and languages."""

    id: str
    name: str
    languages: tuple[str, ...]


def cache_home() -> Path:
    """voicecoach's cache folder: ``$VOICECOACH_CACHE_DIR`` or the user cache dir."""
    return Path(os.environ.get("VOICECOACH_CACHE_DIR") or platformdirs.user_cache_dir("voicecoach"))


def default_cache_dir() -> Path:
    """Where rendered phrases are kept: ``$VOICECOACH_CACHE_DIR/tts`` or the user cache dir."""
    return cache_home() / "tts"


def trim_silence(samples: Samples) -> Samples:
    """Cut the engine's silence to a 10 ms lead and an 80 ms tail that fades out."""
    window = int(_WINDOW_SECONDS * RATE_HZ)
    count = len(samples) // window
    if count == 0:
        return samples
    levels = np.sqrt(np.mean(np.square(samples[: count * window].reshape(count, window)), axis=1))
    loud = np.flatnonzero(levels > 10 ** (_SILENCE_DBFS / 20))
    if len(loud) == 0:
        return samples
    start = max(0, loud[0] * window - int(_LEAD_SECONDS * RATE_HZ))
    stop = min(len(samples), (loud[-1] + 1) * window + int(_TAIL_SECONDS * RATE_HZ))
    kept = samples[start:stop].copy()
    fade = min(len(kept), int(_FADE_SECONDS * RATE_HZ))
    kept[len(kept) - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
    return kept


def audible(samples: Samples) -> bool:
    """True if ``samples`` hold some real sound, not an empty or silent file."""
    return len(samples) >= _MIN_RENDER_SECONDS * RATE_HZ and float(np.max(np.abs(samples))) > 1e-3


class CachedSynthesizer:
    """Renders phrases through ``_synthesize`` once, then from memory or the disk cache.

    ``renders``, ``disk_hits`` and ``memory_hits`` count where each phrase came from.
    """

    #: Shown to the person: which voice speaks (set by each engine once it is open).
    description = ""

    def __init__(self, volume: float, cache_dir: Path | None, memory_items: int) -> None:
        if not 0.0 <= volume <= 1.0:
            raise ValueError(f"volume must be 0..1, got {volume}")
        self.volume = volume
        #: Directory of cached phrases (``default_cache_dir()`` unless given).
        self.cache_dir = cache_dir if cache_dir is not None else default_cache_dir()
        self.memory_items = memory_items
        self.renders = 0
        self.disk_hits = 0
        self.memory_hits = 0
        self._opened = False
        #: Phrases in 16-bit PCM, as on disk: half the memory of float samples (a session's
        #: phrases held 30 MB as floats), and converted back exactly on each render.
        self._memory: collections.OrderedDict[str, Pcm] = collections.OrderedDict()
        self._disk_ok = True
        # render() may run on a prerendering thread and on the session's at once.
        self._lock = threading.Lock()

    def cache_fields(self) -> dict[str, object]:
        """Everything besides the text and volume that shapes the audio."""
        raise NotImplementedError

    def _synthesize(self, phrase: str) -> Samples:
        """The phrase as raw 16 kHz samples, straight from the engine."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._open_cache()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close_cache()

    def _open_cache(self) -> None:
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            self._disk_ok = False
            _LOGGER.warning("no phrase cache at %s (%s); rendering every time", self.cache_dir, err)
        self._opened = True

    @property
    def cache_ready(self) -> bool:
        """True when phrases can be kept on disk (the cache folder could be made)."""
        return self._opened and self._disk_ok

    def _close_cache(self) -> None:
        self._opened = False

    def cache_key(self, text: str) -> str:
        """A hash of everything that shapes the rendered audio."""
        fields = {
            **self.cache_fields(),
            "text": text,
            "volume": self.volume,
            "format": FORMAT_VERSION,
        }
        return hashlib.sha256(json.dumps(fields, sort_keys=True).encode()).hexdigest()[:40]

    def cache_path(self, text: str) -> Path:
        """The file a phrase is (or would be) cached in."""
        return self.cache_dir / f"{self.cache_key(text)}.wav"

    def render(self, text: str) -> Samples:
        """The phrase as 16 kHz samples: from memory, the disk cache, or the engine."""
        with self._lock:
            return self._render(text)

    def prerender(self, texts: Iterable[str], progress: ProgressFn | None = None) -> None:
        """Render ahead, so that a later ``render`` is instant."""
        phrases = list(dict.fromkeys(texts))
        for done, phrase in enumerate(phrases, start=1):
            self.render(phrase)
            if progress is not None:
                progress(done, len(phrases))

    def _render(self, text: str) -> Samples:
        if not self._opened:
            raise SpeechError("the synthesizer is not open; use it in a with block")
        phrase = " ".join(text.split())
        if not phrase:
            return np.zeros(0, np.float32)
        key = self.cache_key(phrase)
        pcm = self._memory.get(key)
        if pcm is not None:
            self._memory.move_to_end(key)
            self.memory_hits += 1
            return from_int16(pcm)
        pcm = self._load(phrase)
        if pcm is None:
            pcm = self._render_new(phrase)
        pcm.flags.writeable = False  # shared by every later render, so nobody may change it
        self._remember(key, pcm)
        return from_int16(pcm)

    def _remember(self, key: str, pcm: Pcm) -> None:
        self._memory[key] = pcm
        while len(self._memory) > self.memory_items:
            self._memory.popitem(last=False)

    def _load(self, phrase: str) -> Pcm | None:
        path = self.cache_path(phrase)
        if not self._disk_ok or not path.exists():
            return None
        try:
            samples = read_audio(path).samples
        except AudioFileError as err:
            _LOGGER.warning("re-rendering a damaged cache entry: %s", err)
            path.unlink(missing_ok=True)
            return None
        if not audible(samples):
            _LOGGER.warning("re-rendering an empty cache entry for %r", phrase[:40])
            path.unlink(missing_ok=True)
            return None
        self.disk_hits += 1
        pcm: Pcm = np.rint(samples * 32768.0).clip(-32768, 32767).astype(np.int16)
        return pcm

    def _render_new(self, phrase: str) -> Pcm:
        for attempt in range(1, _RENDER_ATTEMPTS + 1):
            raw = self._synthesize(phrase)
            if audible(raw):
                break
            # Under heavy load espeak-ng now and then hands back an empty file; an empty cue
            # must never be played or cached, so render again.
            _LOGGER.warning(
                "empty render of %r (attempt %d); rendering again", phrase[:40], attempt
            )
        else:
            raise SpeechError(f"the speech engine produced no audio for {phrase[:40]!r}")
        shaped = (trim_silence(raw) * np.float32(self.volume)).astype(np.float32)
        # Returned exactly as the cache stores it, so the first render equals every later one
        # (neither engine renders a phrase twice the same, so a re-render would not).
        pcm = np.frombuffer(to_int16_bytes(shaped), dtype="<i2").astype(np.int16)
        self.renders += 1
        if self._disk_ok:
            try:
                write_wav(self.cache_path(phrase), pcm)
            except AudioFileError as err:
                _LOGGER.warning("cannot cache a phrase (%s); it will be rendered again", err)
        return pcm
