"""Recognized text to commands: phrasings, priority, numbers and non-commands."""

from __future__ import annotations

import pytest

from voicecoach.commands import (
    NUMBER_WORDS,
    Command,
    Parsed,
    command_phrases,
    expected,
    grammar_words,
    parse,
    parse_utterance,
)
from voicecoach.fakes import ScriptedRecognizer
from voicecoach.frames import FRAME_SECONDS, silence
from voicecoach.ports import Hit


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pause", Parsed(Command.PAUSE)),
        ("Wait!", Parsed(Command.PAUSE)),
        ("hold on a second", Parsed(Command.PAUSE)),
        ("resume", Parsed(Command.RESUME)),
        ("okay, continue", Parsed(Command.RESUME)),
        ("go on", Parsed(Command.RESUME)),
        ("stop", Parsed(Command.STOP)),
        ("okay stop", Parsed(Command.STOP)),
        ("skip", Parsed(Command.SKIP)),
        ("next exercise please", Parsed(Command.SKIP)),
        ("repeat", Parsed(Command.REPEAT)),
        ("say again", Parsed(Command.REPEAT)),
        ("pain", Parsed(Command.PAIN)),
        ("ouch, pain", Parsed(Command.PAIN)),
        ("it hurts", Parsed(Command.PAIN)),
        ("my leg is numb", Parsed(Command.NUMB)),
        ("tingling", Parsed(Command.NUMB)),
        ("seven", Parsed(Command.NUMBER, 7)),
        ("about a 4", Parsed(Command.NUMBER, 4)),
        ("zero", Parsed(Command.NUMBER, 0)),
        ("ten", Parsed(Command.NUMBER, 10)),
        ("yes", Parsed(Command.YES)),
        ("start over", Parsed(Command.START_OVER)),
        # The safest command wins when several are said together.
        ("stop, pain", Parsed(Command.PAIN)),
        ("wait stop", Parsed(Command.STOP)),
        ("pain is about a six", Parsed(Command.PAIN)),
    ],
)
def test_parse(text: str, expected: Parsed) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "top",
        "spot",
        "post",
        "plain",
        "pace",
        "paint",
        "stomp",
        "pen",
        "pass",
        "eleven",
        "waiting",
        "stopped",
        "painful",
        "the weather is nice",
        "twenty",
    ],
)
def test_non_commands(text: str) -> None:
    assert parse(text) is None


def test_grammar_has_every_command_word_and_number() -> None:
    words = grammar_words()
    for phrase in command_phrases():
        assert set(phrase.split()) <= set(words)
    assert set(NUMBER_WORDS) <= set(words)
    assert len(words) == len(set(words))


@pytest.mark.parametrize(
    ("parsed", "numbers", "answers", "acted_on"),
    [
        (Parsed(Command.STOP), False, False, True),
        (Parsed(Command.PAIN), True, True, True),
        (Parsed(Command.YES), False, False, False),
        (Parsed(Command.START_OVER), True, False, False),
        (Parsed(Command.YES), False, True, True),
        (Parsed(Command.NUMBER, 7), False, True, False),
        (Parsed(Command.NUMBER, 7), True, False, True),
        # "numb" and "tingling" answer the pain question: heard outside it, they mean nothing.
        (Parsed(Command.NUMB), False, False, False),
        (Parsed(Command.NUMB), False, True, False),
        (Parsed(Command.NUMB), True, False, True),
    ],
)
def test_numbers_and_answers_count_only_while_asked(
    parsed: Parsed, numbers: bool, answers: bool, acted_on: bool
) -> None:
    assert expected(parsed, numbers=numbers, answers=answers) == acted_on


@pytest.mark.parametrize(
    ("text", "numbers", "answers", "parsed"),
    [
        ("pain, my leg is numb", True, False, Parsed(Command.NUMB)),
        ("pain, my leg is numb", False, False, Parsed(Command.PAIN)),
        ("it is numb", False, True, None),
        ("tingling, about a seven", True, False, Parsed(Command.NUMB)),
        ("about a seven", False, False, None),
        ("yes stop", False, False, Parsed(Command.STOP)),
        ("yes", True, False, None),
        ("yes", False, True, Parsed(Command.YES)),
    ],
)
def test_parse_finds_only_what_is_listened_for(
    text: str, numbers: bool, answers: bool, parsed: Parsed | None
) -> None:
    assert parse(text, numbers=numbers, answers=answers) == parsed


@pytest.mark.parametrize(
    ("numbers", "heard"),
    [(False, ["stop", "banana"]), (True, ["numb", "seven", "stop", "banana"])],
)
def test_numbers_and_symptoms_are_heard_only_when_asked(numbers: bool, heard: list[str]) -> None:
    # The recognizer reports every word; the session drops the ones it does not listen for.
    script = [(0.02, "numb"), (0.04, "seven"), (0.06, "stop"), (0.08, "banana")]
    recognizer = ScriptedRecognizer(script)
    hits = [hit for _ in range(5) for hit in recognizer.feed(silence(FRAME_SECONDS))]
    assert [h.text for h in hits if not h.ignored(numbers=numbers, answers=False)] == heard


@pytest.mark.parametrize(
    ("text", "numbers", "taken"),
    [
        ("pain, it is numb", False, Command.PAIN),
        ("pain, it is numb", True, Command.NUMB),
        ("yes stop", False, Command.STOP),
        ("seven", False, None),
        ("banana", False, None),
    ],
)
def test_a_hit_is_taken_for_the_safest_command_the_session_listens_for(
    text: str, numbers: bool, taken: Command | None
) -> None:
    parsed = Hit.of(text, 1.0, None).command(numbers=numbers, answers=False)
    assert (None if parsed is None else parsed.command) == taken
    assert parse(text, numbers=numbers, answers=False) == parsed


@pytest.mark.parametrize(
    ("unsure_of", "about"), [("stop", Command.STOP), ("it hurts", Command.PAIN), ("", None)]
)
def test_an_unsure_hit_is_never_a_command_only_a_check(
    unsure_of: str, about: Command | None
) -> None:
    hit = Hit.of("stop it", 0.5, 1.0, unsure_of=unsure_of)
    assert hit.command(numbers=True, answers=True) is None
    assert not hit.ignored(numbers=False, answers=False)
    assert hit.check() == Parsed(Command.CHECK, about=about)


@pytest.mark.parametrize(
    ("transcript", "expected"),
    [
        ("Stop.", Parsed(Command.STOP)),
        ("Okay, pause.", Parsed(Command.PAUSE)),
        ("pause pause pause", Parsed(Command.PAUSE)),
        ("About 1. About 1.", Parsed(Command.NUMBER, 1)),
        # Whisper's loop, cut off at its token limit.
        ("Let's do the next exercise. Let's do the next", Parsed(Command.SKIP)),
        ("start over, start over, start", Parsed(Command.START_OVER)),
        ("I feel pain", Parsed(Command.PAIN)),
        # How Whisper writes some commands the grammar leaves out.
        ("Ow!", Parsed(Command.PAIN)),
        ("It hurt a lot.", Parsed(Command.PAIN)),
        ("Oachs, that hurts.", Parsed(Command.PAIN)),
        ("Num", Parsed(Command.NUMB)),
        # A negation turns the rest of its clause round; punctuation ends its reach.
        ("You can't wait.", None),
        ("I can't go on", None),
        ("Don't stop.", None),
        ("I do not want to stop", None),
        ("No, stop!", Parsed(Command.STOP)),
        ("I can't, stop", Parsed(Command.STOP)),
        ("Ouch, I can’t go on.", Parsed(Command.PAIN)),
        # Words are counted before a negation is taken out.
        ("We can't go on like this, stop it.", None),
        ("Stop. I don't want to keep going with this today.", None),
        # Ordinary talk, however it ends.
        ("and you'll stop her technique", None),
        ("The number is on the page. The number is on the", None),
    ],
)
def test_whole_utterances_from_a_general_recognizer(
    transcript: str, expected: Parsed | None
) -> None:
    assert parse_utterance(transcript) == expected
