"""The command network's second opinion: it may only take the phrase Whisper found closest.

The network and its speech embeddings are the real ones shipped in the package; the audio is
real MBROLA speech. The verdicts are written by hand, so each rule is tested on its own.
"""

from __future__ import annotations

import pytest
from speech_audio import needs_mbrola, quiet, speak, with_room_noise

from voicecoach.commands import Command, Parsed
from voicecoach.frames import Samples
from voicecoach.speech.command_net import class_names, class_of
from voicecoach.speech.embedding import Embeddings, SpeechEmbedder
from voicecoach.speech.net_opinion import NetOpinion, NetOpinionTuning
from voicecoach.speech.whisper_verifier import Verdict

pytestmark = needs_mbrola

PAIN, PAUSE, STOP = Parsed(Command.PAIN), Parsed(Command.PAUSE), Parsed(Command.STOP)
#: A tuning voice the network names "ouch" as pain in with 0.993, and "stop" as stop with 0.995
#: (min_probability is 0.98).
VOICE = "mb-us1"


class CountingEmbedder(SpeechEmbedder):
    """The real embedder, counting the audio it is asked to embed."""

    def __init__(self) -> None:
        super().__init__()
        self.fed = 0

    def feed(self, samples: Samples) -> Embeddings:
        self.fed += 1
        return super().feed(samples)


@pytest.fixture(scope="module")
def ouch_said(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return speak("ouch", VOICE, tmp_path_factory.mktemp("speech"))


@pytest.fixture(scope="module")
def stop_said(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    return speak("stop", VOICE, tmp_path_factory.mktemp("speech"))


def rejected(closest: Parsed, gap_nats: float = -6.0, per_token_nats: float = -3.0) -> Verdict:
    """What Whisper says of an utterance it did not take: its closest phrase, and how close."""
    return Verdict("Puzzle.", None, 0.0, "scored", gap_nats, per_token_nats, closest)


@pytest.mark.parametrize(("fixture", "command"), [("ouch_said", "pain"), ("stop_said", "stop")])
def test_the_network_hears_the_command_in_a_real_utterance(
    fixture: str, command: str, request: pytest.FixtureRequest
) -> None:
    opinion = NetOpinion()
    probabilities = opinion.probabilities(request.getfixturevalue(fixture))
    commands = probabilities[1:]  # class 0 is "none", high in the quiet around any word
    assert class_names()[1 + int(commands.argmax())] == command
    assert commands.max() >= opinion.tuning.min_probability


def test_a_rejected_command_is_taken_when_the_network_names_the_same(ouch_said: Samples) -> None:
    verdict = NetOpinion().second_opinion(ouch_said, rejected(PAIN))
    assert verdict.parsed == PAIN
    assert verdict.how == "net"
    assert verdict.text == "Puzzle."


def test_a_rejected_stop_is_never_confirmed_though_the_network_hears_it(
    stop_said: Samples,
) -> None:
    verdict = NetOpinion().second_opinion(stop_said, rejected(STOP))
    assert verdict.parsed is None
    assert verdict.how == "scored"


def test_the_network_never_names_a_command_whisper_did_not_put_closest(
    ouch_said: Samples,
) -> None:
    verdict = NetOpinion().second_opinion(ouch_said, rejected(PAUSE))
    assert verdict.parsed is None
    assert verdict.how == "scored"


@pytest.mark.parametrize(
    ("said", "closest"),
    [("nine", Parsed(Command.NUMBER, 9)), ("yes", Parsed(Command.YES))],
)
def test_numbers_and_answers_are_left_to_whisper(
    said: str, closest: Parsed, tmp_path_factory: pytest.TempPathFactory
) -> None:
    samples = speak(said, "mb-us3", tmp_path_factory.mktemp("speech"))
    opinion = NetOpinion()
    heard = opinion.probabilities(samples)[list(class_names()).index(class_of(closest))]
    assert heard >= opinion.tuning.min_probability  # the network does hear it
    assert opinion.second_opinion(samples, rejected(closest)).parsed is None


def test_outside_whispers_band_the_audio_is_not_even_embedded(ouch_said: Samples) -> None:
    embedder = CountingEmbedder()
    opinion = NetOpinion(embedder=embedder, tuning=NetOpinionTuning(margin_nats=-10.0))
    far = rejected(PAIN, gap_nats=-10.5)
    embedder.fed = 0  # the quiet room it starts from was embedded once, when it was made
    assert opinion.second_opinion(ouch_said, far).parsed is None
    assert embedder.fed == 0
    assert opinion.second_opinion(ouch_said, rejected(PAIN, gap_nats=-9.5)).parsed == PAIN
    assert embedder.fed == 1


def test_a_verdict_whisper_took_is_left_alone(stop_said: Samples) -> None:
    taken = Verdict(" Stop.", STOP, 0.9)
    assert NetOpinion().second_opinion(stop_said, taken) is taken


def test_a_command_whisper_wrote_but_the_session_does_not_listen_for_is_not_replaced(
    ouch_said: Samples,
) -> None:
    start = Verdict(" Start session.", None, 0.0, "scored", -6.0, -3.0, PAIN)
    assert NetOpinion().second_opinion(ouch_said, start).parsed is None


def test_quiet_gives_no_command() -> None:
    probabilities = NetOpinion().probabilities(with_room_noise(quiet(1.0)))
    assert probabilities[0] > 0.99
    assert probabilities[1:].max() < 0.5
