"""The Vosk recognizer: logic without a model; espeak-ng speech with ``VOICECOACH_VOSK_MODEL``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from voicecoach.commands import NUMBER_WORDS, PHRASES, Command, command_phrases, parse
from voicecoach.errors import RecognizerError
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, from_int16, silence
from voicecoach.ports import Hit
from voicecoach.speech.vosk_recognizer import (
    CONFIRM_FRAMES,
    UNKNOWN_WORD,
    UtteranceTracker,
    VoskRecognizer,
    build_grammar,
    vocabulary,
)
from voicecoach.speech.vosk_results import (
    PhraseMatch,
    WordTime,
    match_phrases,
    parse_partial,
    parse_partial_words,
    parse_result,
)

# Shaped like Vosk 0.3.45 output: its JSON writer puts spaces around colons and prints floats
# with six decimals.
FINAL_JSON = """{
  "result" : [{
      "conf" : 1.000000,
      "end" : 2.340000,
      "start" : 1.980000,
      "word" : "stop"
    }, {
      "conf" : 0.512000,
      "end" : 2.970000,
      "start" : 2.400000,
      "word" : "[unk]"
    }, {
      "conf" : 0.934512,
      "end" : 3.510000,
      "start" : 3.090000,
      "word" : "pause"
    }],
  "text" : "stop [unk] pause"
}"""
PARTIAL_JSON = """{
  "partial" : "hold on"
}"""
PARTIAL_WORDS_JSON = """{
  "partial" : "stop",
  "partial_result" : [{
      "conf" : 1.000000,
      "end" : 0.930000,
      "start" : 0.570000,
      "word" : "stop"
    }]
}"""
#: What Vosk returns for a result or partial when nothing has been decoded.
EMPTY_JSON = '{"text": ""}'


# --- grammar ------------------------------------------------------------------------------


def test_grammar_without_numbers() -> None:
    grammar = build_grammar(numbers=False)
    assert set(command_phrases()) <= set(grammar)
    assert not set(NUMBER_WORDS) & set(grammar)
    assert grammar[-1] == UNKNOWN_WORD
    assert len(grammar) == len(set(grammar))


def test_grammar_with_numbers() -> None:
    grammar = build_grammar(numbers=True)
    assert set(command_phrases()) <= set(grammar)
    assert set(NUMBER_WORDS) <= set(grammar)
    assert UNKNOWN_WORD in grammar


def test_grammar_is_the_json_list_vosk_expects() -> None:
    decoded = json.loads(json.dumps(build_grammar(True)))
    assert isinstance(decoded, list)
    assert all(isinstance(p, str) and p == p.strip().lower() for p in decoded)


def test_vocabulary_keys_are_commands_or_numbers() -> None:
    assert vocabulary(False)["hold on"] == Command.PAUSE.value
    assert vocabulary(False)["stop session"] == Command.STOP.value
    assert "seven" not in vocabulary(False)
    assert vocabulary(True)["seven"] == "seven"


def test_answers_and_symptoms_are_heard_as_themselves() -> None:
    # They stay in the grammar and are reported: only the runner decides whether they count.
    assert {"yes", "start over", "numb", "tingling"} <= set(build_grammar(False))
    assert phrases_of(match_phrases(["yes"], vocabulary(False))) == ["yes"]
    assert phrases_of(match_phrases(["numb"], vocabulary(False))) == ["numb"]
    assert vocabulary(True)["tingling"] == Command.NUMB.value


# --- result parsing -----------------------------------------------------------------------


def test_parse_result_reads_words_times_and_confidences() -> None:
    assert parse_result(FINAL_JSON) == [
        WordTime("stop", 1.98, 2.34, 1.0),
        WordTime(UNKNOWN_WORD, 2.4, 2.97, 0.512),
        WordTime("pause", 3.09, 3.51, 0.934512),
    ]


@pytest.mark.parametrize(
    ("json_str", "expected"),
    [
        (EMPTY_JSON, []),
        ('{\n  "text" : ""\n}', []),
        ('{"text" : "yes"}', [WordTime("yes", None, None, 1.0)]),
        ("not json", []),
        ("[1, 2]", []),
        (
            '{"result" : [{"word" : "yes"}, {"conf" : 1.0}], "text" : "yes"}',
            [WordTime("yes", None, None, 0.0)],
        ),
    ],
)
def test_parse_result_edge_cases(json_str: str, expected: list[WordTime]) -> None:
    assert parse_result(json_str) == expected


@pytest.mark.parametrize(
    ("json_str", "expected"),
    [(PARTIAL_JSON, "hold on"), ('{\n  "partial" : ""\n}', ""), (EMPTY_JSON, ""), ("{", "")],
)
def test_parse_partial(json_str: str, expected: str) -> None:
    assert parse_partial(json_str) == expected


def test_parse_partial_words() -> None:
    assert parse_partial_words(PARTIAL_WORDS_JSON) == [WordTime("stop", 0.57, 0.93, 1.0)]
    assert parse_partial_words(PARTIAL_JSON) == []


# --- phrase matching and partial confirmation ---------------------------------------------


def phrases_of(matches: list[PhraseMatch]) -> list[str]:
    return [m.phrase for m in matches]


def test_match_prefers_longest_phrase_and_unk_breaks_phrases() -> None:
    words = "stop session it [unk] hurts it hurts go on".split()
    assert phrases_of(match_phrases(words, vocabulary(False))) == [
        "stop session",
        "it hurts",
        "go on",
    ]


def test_match_counts_occurrences_per_command() -> None:
    matches = match_phrases("stop pause stop session".split(), vocabulary(False))
    assert [m.identity for m in matches] == [("stop", 0), ("pause", 0), ("stop", 1)]
    assert (matches[2].first, matches[2].last) == (2, 3)


def test_numbers_match_only_when_expected() -> None:
    assert match_phrases(["seven"], vocabulary(False)) == []
    assert phrases_of(match_phrases(["seven"], vocabulary(True))) == ["seven"]


def observe(tracker: UtteranceTracker, text: str, times: int) -> list[list[str]]:
    matches = match_phrases(text.split(), vocabulary(False))
    return [[m.phrase for m, _ in tracker.observe_partial(matches)] for _ in range(times)]


def test_urgent_phrase_confirmed_after_n_stable_partials_and_reported_once() -> None:
    tracker = UtteranceTracker()
    results = observe(tracker, "stop", CONFIRM_FRAMES + 5)
    assert results[: CONFIRM_FRAMES - 1] == [[]] * (CONFIRM_FRAMES - 1)
    assert results[CONFIRM_FRAMES - 1] == ["stop"]
    assert results[CONFIRM_FRAMES:] == [[]] * 5


def test_flickering_partial_is_never_confirmed() -> None:
    tracker = UtteranceTracker(confirm_frames=3)
    assert observe(tracker, "pain", 2) == [[], []]
    assert observe(tracker, "[unk]", 1) == [[]]
    assert observe(tracker, "pain", 2) == [[], []]
    assert observe(tracker, "pain", 1) == [["pain"]]


def test_non_urgent_phrases_wait_for_the_final_result() -> None:
    tracker = UtteranceTracker(confirm_frames=1)
    assert observe(tracker, "resume skip repeat yes say again", 10) == [[]] * 10


def test_final_result_does_not_repeat_partial_hits() -> None:
    tracker = UtteranceTracker(confirm_frames=1)
    assert observe(tracker, "stop", 1) == [["stop"]]
    final = match_phrases("stop session stop pause".split(), vocabulary(False))
    # "stop session" is the same stop the partial reported; the second stop is new.
    assert [m.identity for m in tracker.unreported(final)] == [("stop", 1), ("pause", 0)]
    tracker.clear()
    assert phrases_of(tracker.unreported(final)) == ["stop session", "stop", "pause"]


def test_confirmation_reports_when_the_phrase_first_showed() -> None:
    tracker = UtteranceTracker(confirm_frames=3)
    stop = match_phrases(["stop"], vocabulary(False))
    assert tracker.observe_partial(stop, 1.00) == []
    assert tracker.observe_partial([], 1.02) == []
    assert tracker.observe_partial(stop, 1.04) == []
    assert tracker.observe_partial(stop, 1.06) == []
    assert tracker.observe_partial(stop, 1.08) == [(stop[0], 1.04)]


def test_growing_partial_keeps_its_streak() -> None:
    tracker = UtteranceTracker(confirm_frames=3)
    assert observe(tracker, "hold", 1) == [[]]
    assert observe(tracker, "hold on", 2) == [[], []]
    assert observe(tracker, "hold on [unk]", 1) == [["hold on"]]


# --- recognizer without a model -----------------------------------------------------------


@pytest.mark.parametrize("kind", ["missing", "empty", "file", "no_conf"])
def test_not_a_model_raises_recognizer_error_naming_the_folder(tmp_path: Path, kind: str) -> None:
    folder = tmp_path / f"model-{kind}"
    if kind == "empty":
        folder.mkdir()
    elif kind == "file":
        folder.write_text("zip me")
    elif kind == "no_conf":
        (folder / "am").mkdir(parents=True)
        (folder / "am" / "final.mdl").write_bytes(b"x")
    with pytest.raises(RecognizerError, match=str(folder)):
        VoskRecognizer(folder)


@pytest.fixture
def corrupt_model(tmp_path: Path) -> Path:
    """A folder laid out like a model whose files are garbage."""
    folder = tmp_path / "vosk-model-corrupt"
    for relative in ("am/final.mdl", "conf/model.conf", "conf/mfcc.conf", "graph/HCLr.fst"):
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text("garbage\n")
    return folder


def test_corrupt_model_fails_on_enter_naming_the_folder(corrupt_model: Path) -> None:
    recognizer = VoskRecognizer(corrupt_model)
    with pytest.raises(RecognizerError, match=str(corrupt_model)), recognizer:
        pytest.fail("a corrupt model must not load")


def test_feeding_outside_the_with_block_is_an_error(corrupt_model: Path) -> None:
    recognizer = VoskRecognizer(corrupt_model)
    with pytest.raises(RecognizerError, match="outside"):
        recognizer.feed(silence(0.02))
    recognizer.expect(numbers=True)
    recognizer.reset()


# --- real recognition (needs a model) -----------------------------------------------------

MODEL_ENV = "VOICECOACH_VOSK_MODEL"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    value = os.environ.get(MODEL_ENV)
    if not value:
        pytest.skip(f"set {MODEL_ENV} to a Vosk model folder to run recognition tests")
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.skip("espeak-ng and sox are needed to make test speech")
    return Path(value)


Speak = Callable[[str], Samples]


@pytest.fixture(scope="module")
def speak(tmp_path_factory: pytest.TempPathFactory, model_dir: Path) -> Speak:
    """Render text with espeak-ng, resampled by sox to 16 kHz mono."""
    folder = tmp_path_factory.mktemp("speech")

    def render(text: str) -> Samples:
        raw, resampled = folder / "raw.wav", folder / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(
            ["sox", str(raw), "-r", str(RATE_HZ), "-c", "1", "-b", "16", str(resampled)],
            check=True,
        )
        with wave.open(str(resampled), "rb") as wav:
            return from_int16(wav.readframes(wav.getnframes()))

    return render


def recognize(recognizer: VoskRecognizer, speech: Samples) -> list[tuple[int, Hit]]:
    """Feed 1 s of silence, the speech, and 1.5 s of silence; hits with their frame numbers."""
    audio = np.concatenate([silence(1.0), speech, silence(1.5)]).astype(np.float32)
    hits: list[tuple[int, Hit]] = []
    for index in range(len(audio) // FRAME_SAMPLES):
        frame = audio[index * FRAME_SAMPLES : (index + 1) * FRAME_SAMPLES]
        hits.extend((index, hit) for hit in recognizer.feed(frame))
    return hits


ALL_PHRASES = [(command, phrase) for command, group in PHRASES.items() for phrase in group]


@pytest.mark.vosk
@pytest.mark.parametrize(("command", "phrase"), ALL_PHRASES)
def test_each_command_phrase_is_heard(
    model_dir: Path, speak: Speak, command: Command, phrase: str
) -> None:
    with VoskRecognizer(model_dir) as recognizer:
        hits = recognize(recognizer, speak(phrase))
    heard = [parse(hit.text) for _, hit in hits]
    assert any(p is not None and p.command == command for p in heard), hits


@pytest.mark.vosk
@pytest.mark.parametrize(
    "sentence",
    [
        "the garden looks lovely in the morning light",
        "I think we should have soup for dinner tonight",
    ],
)
def test_ordinary_speech_gives_nothing(model_dir: Path, speak: Speak, sentence: str) -> None:
    with VoskRecognizer(model_dir) as recognizer:
        hits = recognize(recognizer, speak(sentence))
    assert hits == []


@pytest.mark.vosk
def test_partial_hit_arrives_before_the_final_and_only_once(model_dir: Path, speak: Speak) -> None:
    speech = speak("stop")
    with VoskRecognizer(model_dir) as early:
        partial = recognize(early, speech)
    with VoskRecognizer(model_dir, urgent_partials=False) as late:
        final = recognize(late, speech)
    assert [hit.text for _, hit in partial] == ["stop"]
    assert partial[0][1].partial
    assert [(hit.text, hit.partial) for _, hit in final] == [("stop", False)]
    assert partial[0][0] < final[0][0]
    speech_end = 1.0 + len(speech) / RATE_HZ
    for _, hit in partial + final:
        assert hit.end_seconds is not None
        assert 1.0 < hit.end_seconds <= speech_end + 0.3


@pytest.mark.vosk
def test_numbers_only_while_expected(model_dir: Path, speak: Speak) -> None:
    speech = speak("seven")
    first_pass_seconds = (len(speech) // FRAME_SAMPLES * FRAME_SAMPLES) / RATE_HZ + 2.5
    with VoskRecognizer(model_dir) as recognizer:
        assert recognize(recognizer, speech) == []
        recognizer.expect(numbers=True)
        hits = recognize(recognizer, speech)
    assert [hit.text for _, hit in hits] == ["seven"]
    # Times count from the first frame of the stream, across the grammar switch.
    end = hits[0][1].end_seconds
    assert end is not None
    assert end > first_pass_seconds + 1.0
