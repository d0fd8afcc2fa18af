"""Text to speech: pyttsx3 renders each phrase to a WAV file, which is trimmed and cached.

pyttsx3 is used only to render (``save_to_file`` + ``runAndWait``), never to play: it blocks,
hangs in threads and its ``stop()`` works once. The program plays the samples itself.

Silence: espeak-ng 1.51 puts 0-15 ms before the speech and about 350 ms after it (its
end-of-sentence pause). The pause after is cut to 80 ms, ending in a 5 ms fade, and the lead to
10 ms: pauses between cues belong to the session plan, and the coach's timing (when a cue ends,
when "stop" can be heard over it) should not include a third of a second of nothing. 80 ms
keeps the decay of the last word, so cues do not sound clipped.

Batching: pyttsx3 2.99's espeak-ng driver keeps only the last ``save_to_file`` queued before a
``runAndWait`` (the others are never written), so ``prerender`` renders one phrase per
``runAndWait`` within one engine session. A render takes about 10 ms, almost all of it the
driver loop's fixed 10 ms sleep.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import gc
import importlib
import importlib.metadata
import io
import logging
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from voicecoach.audio.files import read_audio
from voicecoach.errors import AudioFileError, SpeechError
from voicecoach.frames import Samples
from voicecoach.speech.cached import (
    CachedSynthesizer,
    ProgressFn,
    VoiceInfo,
    audible,
    default_cache_dir,
    trim_silence,
)

__all__ = [
    "MAX_RATE_WPM",
    "MIN_RATE_WPM",
    "ProgressFn",
    "Pyttsx3Synthesizer",
    "VoiceInfo",
    "audible",
    "default_cache_dir",
    "list_voices",
    "trim_silence",
]

_LOGGER = logging.getLogger(__name__)

#: espeak-ng's speaking-rate range, in words per minute.
MIN_RATE_WPM, MAX_RATE_WPM = 80, 450

_INSTALL_FIX = "install espeak-ng: sudo apt-get install espeak-ng (and pip install pyttsx3)"

#: The espeak-ng library keeps one global state per process, so renders take turns.
_ENGINE_LOCK = threading.Lock()

#: The engine's own default voice, noted when it first starts: later the current voice may be
#: one another synthesizer in this process chose, since espeak-ng's state is global.
_default_voice: list[str] = []
#: The one pyttsx3 engine of this process, kept from its first use to the end. Each pyttsx3
#: engine has its own espeak-ng driver, yet all drivers share espeak-ng's global state: a new
#: driver sets the rate to 200 wpm and takes over the speech callback, and a driver being
#: collected switches the callback off, whichever driver is using it then.
_engine: list[Any] = []


def _start_engine() -> Any:
    """The process's engine, started on first use; call with ``_ENGINE_LOCK`` held."""
    if _engine:
        return _engine[0]
    try:
        pyttsx3 = importlib.import_module("pyttsx3")
        engine = pyttsx3.init()
    except ImportError as err:
        raise SpeechError(f"pyttsx3 is not installed ({err}); {_INSTALL_FIX}") from err
    except (OSError, RuntimeError) as err:
        # pyttsx3's espeak driver raises RuntimeError when libespeak-ng cannot be loaded.
        raise SpeechError(f"the speech engine cannot start ({err}); {_INSTALL_FIX}") from err
    _bound_synth_text()
    if not _default_voice:
        _default_voice.append(str(engine.getProperty("voice") or ""))
    # One empty run, so that pyttsx3 applies every later property at once instead of queueing
    # it behind the next render, where _settle could not wait for it.
    _settle()
    with contextlib.redirect_stdout(io.StringIO()):
        engine.runAndWait()
    _engine.append(engine)
    atexit.register(_release_engine)
    return engine


def _release_engine() -> None:
    """Let the engine go while the interpreter is still whole: collected during its teardown,
    pyttsx3's clean-up finds its modules gone and prints an ignored AttributeError."""
    if _engine:
        _settle()
        _engine.clear()
        gc.collect()


def _bound_synth_text() -> None:
    """Tell espeak-ng the true size of each phrase's text.

    pyttsx3 2.99 passes ten times the text's length to ``espeak_Synth``, which copies that many
    bytes, reading far past the end of the text: now and then into unmapped memory, and the
    process dies (a segmentation fault in one full test run). Fixed upstream in pyttsx3 pull
    request 451, not yet released; the replacement below passes the length with its final NUL.
    """
    espeak: Any = sys.modules.get("pyttsx3.drivers._espeak")
    if espeak is None or getattr(espeak, "voicecoach_bounded", False):
        return
    c_synth = espeak.cSynth

    def synth(
        text: str | bytes,
        position: int = 0,
        position_type: int = espeak.POS_CHARACTER,
        end_position: int = 0,
        flags: int = 0,
        user_data: Any = None,
    ) -> Any:
        data = text.encode("utf-8") if isinstance(text, str) else text
        return c_synth(
            data, len(data) + 1, position, position_type, end_position, flags, None, user_data
        )

    espeak.Synth = synth
    espeak.voicecoach_bounded = True


def _settle() -> None:
    """Wait until espeak-ng has done everything asked of it so far.

    pyttsx3 runs espeak-ng in its asynchronous retrieval mode, and its run loop begins by
    cancelling whatever espeak-ng is still busy with: the tail of the previous phrase, and
    with it a rate change still queued (espeak-ng's cancel restores the last applied
    parameters), or the new phrase itself. Back to back at two rates, 42 renders in 200 came
    out empty or at the other rate; none after waiting here.
    """
    espeak = sys.modules.get("pyttsx3.drivers._espeak")
    if espeak is not None:  # the espeak-ng driver: Linux, and the Raspberry Pi
        espeak.Synchronize()


def _abandon_engine() -> None:
    """Start a new engine next time: a run loop broken off (Ctrl-C) leaves pyttsx3 stuck."""
    espeak = sys.modules.get("pyttsx3.drivers._espeak")
    if espeak is not None:
        # espeak-ng goes on speaking the broken-off phrase on its own thread, into the old
        # driver's callback; replacing that callback under it crashed the process (3 runs in
        # 6 after a Ctrl-C mid-phrase). Stop it and wait until it is idle first.
        with contextlib.redirect_stdout(io.StringIO()):  # its "Audio saved" line, too
            espeak.Cancel()
            espeak.Synchronize()
    _engine.clear()
    # Collected now, the old driver switches off its callback before a new driver sets one;
    # collected later, it would switch off the new driver's in the middle of its work.
    gc.collect()


def _engine_version(engine: Any) -> str:
    parts = [f"pyttsx3 {importlib.metadata.version('pyttsx3')}", str(engine)]
    with contextlib.suppress(Exception):
        # Voices and phonemes change between espeak-ng releases, so its version is in the key.
        espeak = importlib.import_module("pyttsx3.drivers._espeak")
        parts.append(f"espeak-ng {espeak.Info(None).decode()}")
    return "; ".join(parts)


def _voices(engine: Any) -> list[VoiceInfo]:
    voices = []
    for voice in engine.getProperty("voices"):
        languages = tuple(str(lang) for lang in (getattr(voice, "languages", None) or ()))
        voices.append(VoiceInfo(str(voice.id), str(voice.name), languages))
    return voices + mbrola_voices()


#: Where MBROLA's diphone databases are installed (Debian's mbrola-* packages).
MBROLA_DIR = Path("/usr/share/mbrola")


def mbrola_voices(mbrola_dir: Path = MBROLA_DIR) -> list[VoiceInfo]:
    """espeak-ng's MBROLA voices whose database is installed (``mb-us1`` needs ``us1``)."""
    exe = shutil.which("espeak-ng")
    if exe is None or not mbrola_dir.is_dir() or shutil.which("mbrola") is None:
        return []
    try:
        done = subprocess.run(
            [exe, "--voices=mb"], capture_output=True, check=True, timeout=10, text=True
        )
    except (OSError, subprocess.SubprocessError):
        return []
    voices = []
    for line in done.stdout.splitlines()[1:]:
        # "5  en-us  --/F  us-mbrola-1  mb/mb-us1  (en 8)": the last part names the database.
        fields = line.split()
        if len(fields) < 5 or not fields[4].startswith("mb/"):
            continue
        voice_id = fields[4].removeprefix("mb/")
        database = voice_id.removeprefix("mb-").split("-")[0]
        if (mbrola_dir / database).exists():
            voices.append(VoiceInfo(voice_id, f"{fields[3]} (MBROLA)", (fields[1],)))
    return voices


def list_voices() -> list[VoiceInfo]:
    """The voices espeak-ng offers here, MBROLA's included, sorted by id."""
    with _ENGINE_LOCK:
        return sorted(_voices(_start_engine()), key=lambda voice: voice.id)


def _resolve_voice(requested: str, voices: list[VoiceInfo]) -> str:
    """A voice id from an id, a name, a language code or the last part of an id, with an
    espeak-ng variant after a ``+`` if one is asked for (``en-us+f3``)."""
    base, plus, variant = requested.strip().partition("+")
    wanted = base.casefold()

    def keys(voice: VoiceInfo) -> list[str]:
        return [voice.id, voice.name, voice.id.rsplit("/", 1)[-1], *voice.languages]

    exact = [voice.id for voice in voices if voice.id.casefold() == wanted]
    other = [voice.id for voice in voices if wanted in (key.casefold() for key in keys(voice))]
    if (exact or other) and (not plus or variant in espeak_variants()):
        return (exact or other)[0] + plus + variant
    if exact or other:
        known = ", ".join(espeak_variants()[:12])
        raise SpeechError(
            f"no voice variant {variant!r} in {requested!r}; variants: {known}, ...",
            event=requested,
        )
    every = dict.fromkeys(key for voice in voices for key in keys(voice))
    close = difflib.get_close_matches(base, list(every), n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise SpeechError(
        f"no voice {requested!r}{hint} (voicecoach voices lists them all)", event=requested
    )


def espeak_variants() -> list[str]:
    """espeak-ng's voice variants (``f3``, ``m1``, ``klatt`` ...), to add after a ``+``."""
    for root in sorted(Path("/usr/lib").glob("*/espeak-ng-data")) + [
        Path("/usr/share/espeak-ng-data")
    ]:
        folder = root / "voices" / "!v"
        if folder.is_dir():
            return sorted(path.name for path in folder.iterdir() if path.is_file())
    return []


class Pyttsx3Synthesizer(CachedSynthesizer):
    """Renders text with pyttsx3 (espeak-ng) to 16 kHz mono samples, cached on disk and in memory.

    ``renders``, ``disk_hits`` and ``memory_hits`` count where each phrase came from.
    """

    def __init__(
        self,
        voice: str | None = None,
        rate_wpm: int = 160,
        volume: float = 1.0,
        cache_dir: Path | None = None,
        memory_items: int = 256,
    ) -> None:
        if not MIN_RATE_WPM <= rate_wpm <= MAX_RATE_WPM:
            raise ValueError(f"rate_wpm must be {MIN_RATE_WPM}..{MAX_RATE_WPM}, got {rate_wpm}")
        super().__init__(volume, cache_dir, memory_items)
        self.voice = voice
        self.rate_wpm = rate_wpm
        #: The resolved voice id and engine description (known after ``__enter__``).
        self.voice_id = ""
        self.engine_version = ""
        self._engine: Any = None
        self._listening: Any = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self._errors: list[BaseException] = []

    def __enter__(self) -> Self:
        with _ENGINE_LOCK:
            engine = self._start()
            self.engine_version = _engine_version(engine)
            voices = _voices(engine)
        self.voice_id = _resolve_voice(self.voice, voices) if self.voice else _default_voice[0]
        self.description = f"espeak-ng voice {self.voice_id}"
        self._workdir = tempfile.TemporaryDirectory(prefix="voicecoach-tts-")
        self._open_cache()
        _LOGGER.debug("speech engine %s, voice %s", self.engine_version, self.voice_id)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._close_cache()
        self._stop()
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _start(self) -> Any:
        engine = _start_engine()
        if self._engine is not engine:
            self._stop()
            self._engine = engine
            self._listening = engine.connect("error", self._on_error)
        return engine

    def _stop(self) -> None:
        # The engine outlives this synthesizer; leave it without our listener.
        if self._engine is not None and self._listening is not None:
            with contextlib.suppress(Exception):
                self._engine.disconnect(self._listening)
        self._engine = self._listening = None

    def _on_error(self, name: object = None, exception: BaseException | None = None) -> None:
        # pyttsx3 reports failures of queued commands here instead of raising them.
        self._errors.append(exception or RuntimeError("speech engine error"))

    def cache_fields(self) -> dict[str, object]:
        """The voice, rate and engine description: what shapes espeak-ng's audio."""
        return {"voice": self.voice_id, "rate_wpm": self.rate_wpm, "engine": self.engine_version}

    def _synthesize(self, phrase: str) -> Samples:
        with _ENGINE_LOCK:
            return self._run_engine(phrase)

    def _run_engine(self, phrase: str) -> Samples:
        assert self._workdir is not None
        out = Path(self._workdir.name) / "phrase.wav"
        out.unlink(missing_ok=True)
        engine = self._start()
        self._errors.clear()
        engine.setProperty("voice", self.voice_id)
        engine.setProperty("rate", self.rate_wpm)
        engine.setProperty("volume", 1.0)  # volume is applied to the samples, exactly
        engine.save_to_file(phrase, str(out))
        _settle()
        said = io.StringIO()
        try:
            # The espeak-ng driver prints "Audio saved to ..." on stdout; our output stays clean.
            with contextlib.redirect_stdout(said):
                engine.runAndWait()
        except BaseException:
            self._stop()
            _abandon_engine()
            raise
        finally:
            _LOGGER.debug("engine said: %s", said.getvalue().strip())
        return self._read_rendered(out, phrase)

    def _read_rendered(self, out: Path, phrase: str) -> Samples:
        if self._errors or not out.exists():
            reason = "; ".join(str(err) for err in self._errors) or "no audio was written"
            raise SpeechError(
                f"the speech engine failed on {phrase[:40]!r}: {reason}", event=phrase
            )
        try:
            return read_audio(out).samples
        except AudioFileError as err:
            raise SpeechError(f"the speech engine wrote unreadable audio: {err}") from err
