"""The command-network recognizer on real audio: synthetic speech, recordings and streams."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from speech_audio import (
    CARDS_NUMBERS,
    FORMANT_VOICES,
    LIBRIVOX,
    VOICES,
    commands,
    frames,
    listened_for,
    needs_mbrola,
    needs_testdata,
    quiet,
    read_wav,
    speak,
    with_room_noise,
)

from voicecoach.commands import PHRASES, Command, Parsed, parse
from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.ports import Hit
from voicecoach.speech.command_net import CommandNet, class_names
from voicecoach.speech.embedding import SpeechEmbedder
from voicecoach.speech.net_recognizer import Decider, NetRecognizer

pytest.importorskip("onnxruntime")


@pytest.fixture
def recognizer() -> Iterator[NetRecognizer]:
    """A fresh recognizer per test, so no test depends on what came before."""
    with NetRecognizer() as opened:
        yield opened


def hear(
    recognizer: NetRecognizer, samples: Samples, numbers: bool = False, answers: bool = False
) -> list[Hit]:
    """Every hit for one clip."""
    recognizer.expect(numbers, answers)
    hits = [hit for frame in frames(samples) for hit in recognizer.feed(frame)]
    return listened_for(hits, numbers=numbers, answers=answers)


#: Every phrase of the urgent commands, and the rest of the vocabulary's first phrases.
SPOKEN = [
    *PHRASES[Command.STOP],
    *PHRASES[Command.PAUSE],
    *PHRASES[Command.PAIN],
    *PHRASES[Command.RESUME],
    "skip",
    "repeat",
]
#: Share of (phrase, voice, rate) renderings that must be heard as their command. The bench
#: measures recall on the full corpus (bench/results.md); this keeps it from getting worse.
#: Measured: 53 of 78 (68 %); these renderings are untrimmed, at a pitch the corpus lacks.
RECALL_FLOOR = 0.65


@needs_mbrola
def test_commands_are_heard_as_themselves_and_never_as_another(
    recognizer: NetRecognizer, speech_cache: Path
) -> None:
    cases = [
        (text, voice, rate)
        for text in SPOKEN
        for voice in (*VOICES, FORMANT_VOICES[0])
        for rate in (140, 175)
    ]
    heard_right = 0
    for text, voice, rate in cases:
        recognizer.reset()
        heard = commands(hear(recognizer, speak(text, voice, speech_cache, rate)))
        # A miss is allowed (the floor below counts them); a wrong command never is.
        assert heard in ([], [parse(text)]), (text, voice, rate, heard)
        heard_right += heard == [parse(text)]
    print(f"heard {heard_right} of {len(cases)}")  # shown with pytest -rP
    assert heard_right / len(cases) >= RECALL_FLOOR, f"{heard_right}/{len(cases)}"


@needs_mbrola
# Measured: "start session" is heard in mb-us1 and missed in the held-out mb-us2 at 150 wpm.
@pytest.mark.parametrize("voice", VOICES)
def test_waiting_to_be_woken_it_hears_the_start_phrase_and_nothing_else(
    speech_cache: Path, voice: str
) -> None:
    with NetRecognizer(wake=True) as waiting:
        heard = commands(hear(waiting, speak("start session", voice, speech_cache)))
        assert heard == [Parsed(Command.START)] or (voice == VOICES[1] and heard == [])
        for text in ("stop", "pause", "stop session"):
            assert hear(waiting, speak(text, voice, speech_cache)) == [], text


@needs_mbrola
@pytest.mark.parametrize("voice", VOICES)
def test_in_a_session_the_start_phrase_is_never_reported(
    recognizer: NetRecognizer, speech_cache: Path, voice: str
) -> None:
    heard = commands(hear(recognizer, speak("start session", voice, speech_cache)))
    assert Parsed(Command.START) not in heard


@needs_mbrola
@pytest.mark.parametrize("voice", [*VOICES, FORMANT_VOICES[0]])
@pytest.mark.parametrize(
    "text",
    [
        "keep the pace",
        "plain water",
        "pass the pen",
        "the spine is a column of bones stacked on one another",
        "breathe in slowly through your nose",
    ],
)
def test_confusable_words_and_ordinary_speech_give_nothing(
    recognizer: NetRecognizer, speech_cache: Path, voice: str, text: str
) -> None:
    assert hear(recognizer, speak(text, voice, speech_cache)) == []


@needs_mbrola
@pytest.mark.parametrize("voice", [*VOICES, *FORMANT_VOICES])
@pytest.mark.parametrize("text", ["pain", "ouch", "it hurts"])
def test_pain_is_never_heard_as_another_command(
    recognizer: NetRecognizer, speech_cache: Path, voice: str, text: str
) -> None:
    heard = commands(hear(recognizer, speak(text, voice, speech_cache)))
    assert all(p == Parsed(Command.PAIN) for p in heard), heard


@needs_mbrola
@pytest.mark.parametrize("numbers", [False, True])
def test_numbers_count_only_when_expected(
    recognizer: NetRecognizer, speech_cache: Path, numbers: bool
) -> None:
    heard = commands(hear(recognizer, speak("seven", VOICES[1], speech_cache), numbers))
    assert heard == ([Parsed(Command.NUMBER, 7)] if numbers else [])


@needs_mbrola
@pytest.mark.parametrize("voice", VOICES)
@pytest.mark.parametrize("answers", [False, True])
def test_answers_count_only_while_the_question_is_asked(
    recognizer: NetRecognizer, speech_cache: Path, voice: str, answers: bool
) -> None:
    heard = commands(hear(recognizer, speak("yes", voice, speech_cache), answers=answers))
    assert heard == ([Parsed(Command.YES)] if answers else [])


@needs_mbrola
def test_pain_scores_are_heard_in_an_unseen_voice(
    recognizer: NetRecognizer, speech_cache: Path
) -> None:
    scores = {"two": 2, "five": 5, "seven": 7, "nine": 9, "ten": 10}
    heard = 0
    for word, value in scores.items():
        recognizer.reset()
        got = commands(hear(recognizer, speak(word, VOICES[1], speech_cache), numbers=True))
        assert got in ([], [Parsed(Command.NUMBER, value)]), (word, got)
        heard += got == [Parsed(Command.NUMBER, value)]
    # Measured: 4 of 5 ("five" is missed in this voice).
    assert heard >= 4


@needs_testdata
def test_recorded_human_speech_with_numbers_gives_no_wrong_number(
    recognizer: NetRecognizer,
) -> None:
    """ "eight of spades four of clubs seven of hearts", read by a person, numbers expected.

    Measured: nothing is heard. The network learned numbers said alone, as a pain score is,
    not inside running speech; what it must never do is report a number that was not said.
    """
    heard = commands(hear(recognizer, with_room_noise(read_wav(CARDS_NUMBERS)), numbers=True))
    values = [p.value for p in heard if p is not None and p.command == Command.NUMBER]
    assert set(values) <= {8, 4, 7}, heard


@needs_testdata
@pytest.mark.parametrize("path", sorted(LIBRIVOX.glob("*.wav"))[:4], ids=lambda p: p.stem)
def test_recorded_ordinary_speech_gives_no_command(recognizer: NetRecognizer, path: Path) -> None:
    heard = commands(hear(recognizer, with_room_noise(read_wav(path))))
    assert [p for p in heard if p is not None and p.command != Command.NUMBER] == []


@needs_mbrola
def test_a_stream_hears_words_at_their_time_and_nothing_else(
    recognizer: NetRecognizer, speech_cache: Path
) -> None:
    """One stream, words 4 s apart: what is heard is the right word, soon after it ends."""
    words = ["pause", "resume", "stop", "pain"]
    parts: list[Samples] = [with_room_noise(quiet(3.0))]
    spans: dict[str, tuple[float, float]] = {}
    for word in words:
        start = sum(len(p) for p in parts) / RATE_HZ
        speech = speak(word, VOICES[0], speech_cache)
        parts += [speech, with_room_noise(quiet(4.0))]
        # speak() puts 0.5 s of quiet before the rendering and 1 s after it.
        spans[word] = (start + 0.5, start + len(speech) / RATE_HZ - 1.0)
    hits = hear(recognizer, np.concatenate(parts))
    # Recall is the bench's to measure; this test is about the stream: every hit is a word that
    # was said, once, at its time. Measured here: "resume" and "stop" heard, "pause" and
    # "pain" missed in this voice at 150 wpm.
    assert len(hits) >= 2, hits
    assert len({h.text for h in hits}) == len(hits), hits
    for hit in hits:
        assert hit.text in spans, hit
        assert hit.end_seconds is not None
        first, last = spans[hit.text]
        # The word ends inside its rendering (espeak-ng pads it with silence).
        assert first < hit.end_seconds <= last + 0.3, (hit, spans[hit.text])


@needs_mbrola
def test_a_word_acted_on_is_not_reported_again(
    recognizer: NetRecognizer, speech_cache: Path
) -> None:
    """The runner resets the recognizer after acting; the word is still in the window then."""
    audio = np.concatenate([speak("stop", VOICES[1], speech_cache), quiet(2.0)])
    chunks = frames(with_room_noise(audio))
    first = next(i for i, frame in enumerate(chunks) if recognizer.feed(frame))
    recognizer.reset()
    assert [hit for frame in chunks[first + 1 :] for hit in recognizer.feed(frame)] == []


def test_room_noise_alone_gives_nothing(recognizer: NetRecognizer) -> None:
    assert hear(recognizer, with_room_noise(quiet(10.0), dbfs=-50.0)) == []


def test_digital_silence_gives_nothing(recognizer: NetRecognizer) -> None:
    assert hear(recognizer, quiet(5.0)) == []


def test_embeddings_do_not_depend_on_how_audio_is_cut() -> None:
    """20 ms frames and one whole buffer give the same embeddings: training saw the latter."""
    audio = with_room_noise(quiet(3.0), dbfs=-30.0)
    whole = SpeechEmbedder().feed(audio)
    streamed = SpeechEmbedder()
    pieces = np.concatenate([streamed.feed(f) for f in frames(audio)])
    assert whole.shape == (28, 96)
    assert np.allclose(whole, pieces[: len(whole)], atol=1e-4)


def test_feeding_a_closed_recognizer_says_how_to_use_it() -> None:
    with pytest.raises(RecognizerError, match="with"):
        NetRecognizer().feed(quiet(0.02))


def test_a_corrupt_network_file_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "command_net.npz"
    bad.write_bytes(b"not a network")
    with pytest.raises(RecognizerError, match=str(bad)):
        CommandNet.load(bad)


def test_the_shipped_network_knows_every_command() -> None:
    net = CommandNet.load()
    assert net.classes == class_names()
    assert 0.0 < net.threshold < 1.0
    assert net.hold_embeddings >= 1


def test_the_safety_commands_may_have_lower_thresholds_than_the_rest() -> None:
    net = CommandNet.load()
    thresholds = dict(zip(net.classes, net.thresholds(), strict=True))
    assert thresholds["resume"] == net.threshold
    assert all(thresholds[c] <= net.threshold for c in ("pain", "stop", "pause"))


def test_per_class_thresholds_survive_saving_and_older_files_use_one(tmp_path: Path) -> None:
    net = CommandNet.load()
    lowered = tuple(0.5 if c == "stop" else 0.9 for c in net.classes)
    replace(net, class_thresholds=lowered).save(tmp_path / "net.npz")
    assert CommandNet.load(tmp_path / "net.npz").thresholds() == pytest.approx(lowered)
    # A file written before per-class thresholds existed holds only the common one.
    with np.load(tmp_path / "net.npz") as data:
        older = {k: data[k] for k in data.files if k != "class_thresholds"}
    np.savez(tmp_path / "older.npz", **older)
    assert CommandNet.load(tmp_path / "older.npz").thresholds() == (net.threshold,) * len(
        net.classes
    )


def test_each_class_is_held_to_its_own_threshold() -> None:
    classes = class_names()
    stop, resume = classes.index("stop"), classes.index("resume")
    thresholds = [0.9] * len(classes)
    thresholds[stop] = 0.6
    allowed = [stop, resume]
    row = np.zeros(len(classes), np.float32)
    row[0] = 0.3
    decider = Decider(classes, thresholds, hold=1, release=0.5)
    row[stop] = 0.7
    assert decider.push(row.copy(), allowed) == ("stop", pytest.approx(0.7))
    decider = Decider(classes, thresholds, hold=1, release=0.5)
    row[stop], row[resume] = 0.0, 0.7
    assert decider.push(row.copy(), allowed) is None
