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
)


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
    ],
)
def test_numbers_and_answers_count_only_while_asked(
    parsed: Parsed, numbers: bool, answers: bool, acted_on: bool
) -> None:
    assert expected(parsed, numbers=numbers, answers=answers) == acted_on
