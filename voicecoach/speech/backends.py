"""Choosing a recognizer: Vosk when a model is installed, else the embedded pocketsphinx."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from voicecoach.errors import RecognizerError
from voicecoach.ports import Recognizer

Backend = Literal["auto", "vosk", "sphinx"]
BACKENDS: tuple[Backend, ...] = ("auto", "vosk", "sphinx")


def open_recognizer(backend: Backend, model: str | Path | None) -> tuple[Recognizer, str]:
    """The recognizer to use (not yet entered) and a one-line description of it.

    ``auto`` takes Vosk when ``find_model(model)`` finds a model, else pocketsphinx, which needs
    no download; ``vosk`` without a model is an error that says how to get one.
    """
    if backend not in BACKENDS:
        raise RecognizerError(f"unknown recognizer backend {backend!r}; use one of {BACKENDS}")
    if backend == "sphinx":
        return _sphinx("pocketsphinx (embedded English model)")
    # Imported here: the model finder pulls in nothing heavy, but Vosk itself must stay lazy.
    from voicecoach.speech.models import find_model, no_model_message

    found = find_model(model)
    if found is not None:
        from voicecoach.speech.vosk_recognizer import VoskRecognizer

        return VoskRecognizer(found), f"Vosk with the model in {found}"
    if backend == "vosk":
        raise RecognizerError(no_model_message())
    return _sphinx(
        "pocketsphinx (embedded English model; no Vosk model found, "
        "`voicecoach model download` gets a more accurate one)"
    )


def _sphinx(description: str) -> tuple[Recognizer, str]:
    from voicecoach.speech.sphinx_recognizer import SphinxRecognizer

    return SphinxRecognizer(), description
