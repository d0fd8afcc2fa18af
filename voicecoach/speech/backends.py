"""Choosing a recognizer: Vosk when a model is installed, else the embedded pocketsphinx.

Both embedded recognizers need no download. The command network (``net``) hears far more on
the bench (bench/README.md: held-out clean recall 82 % against 31 %), but it is not the
default yet: in one run of the whole test suite it heard the coach's own welcome as "yes",
and twice it heard "pain" as "yes". pocketsphinx has neither fault on the same tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from voicecoach.errors import RecognizerError
from voicecoach.ports import Recognizer

Backend = Literal["auto", "vosk", "net", "sphinx"]
BACKENDS: tuple[Backend, ...] = ("auto", "vosk", "net", "sphinx")
#: What each embedded backend is, as told to the user.
NET_DESCRIPTION = "the embedded command network (speech embeddings, no download)"
SPHINX_DESCRIPTION = "pocketsphinx (embedded English model)"


def open_recognizer(
    backend: Backend, model: str | Path | None, *, wake: bool = False
) -> tuple[Recognizer, str]:
    """The recognizer to use (not yet entered) and a one-line description of it.

    ``auto`` takes Vosk when ``find_model(model)`` finds a model, else pocketsphinx, which
    needs no download; ``vosk`` without a model is an error that says how to get one.
    ``wake`` asks for a recognizer that waits for the start phrase (the command network then
    listens for nothing else; the other backends hear every command and the caller filters).
    """
    if backend not in BACKENDS:
        raise RecognizerError(f"unknown recognizer backend {backend!r}; use one of {BACKENDS}")
    if backend == "sphinx":
        return _sphinx(), SPHINX_DESCRIPTION
    if backend == "net":
        return _net(NET_DESCRIPTION, wake)
    # Imported here: the model finder pulls in nothing heavy, but Vosk itself must stay lazy.
    from voicecoach.speech.models import find_model, no_model_message

    found = find_model(model)
    if found is not None:
        from voicecoach.speech.vosk_recognizer import VoskRecognizer

        return VoskRecognizer(found), f"Vosk with the model in {found}"
    if backend == "vosk":
        raise RecognizerError(no_model_message())
    return (
        _sphinx(),
        f"{SPHINX_DESCRIPTION}; no Vosk model found, `voicecoach model download` gets one",
    )


def _sphinx() -> Recognizer:
    from voicecoach.speech.sphinx_recognizer import SphinxRecognizer

    return SphinxRecognizer()


def _net(description: str, wake: bool) -> tuple[Recognizer, str]:
    from voicecoach.speech.net_recognizer import NetRecognizer

    return NetRecognizer(wake=wake), description
