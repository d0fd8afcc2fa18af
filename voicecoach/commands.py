"""Spoken words to commands: the small, distinct vocabulary the recognizers listen for."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Command(StrEnum):
    """What the person can ask of the coach."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    SKIP = "skip"
    REPEAT = "repeat"
    PAIN = "pain"
    NUMB = "numb"
    NUMBER = "number"
    YES = "yes"
    START_OVER = "start_over"
    START = "start"
    #: Not a word anyone says: the recognizer's "maybe a safety word" (see ``Parsed.about``).
    CHECK = "check"


#: Phrasings for each command. Kept few and acoustically far apart: the recognizer grammar is
#: built from exactly these words, and every extra word is another way to false-trigger.
PHRASES: dict[Command, tuple[str, ...]] = {
    Command.PAUSE: ("pause", "wait", "hold on"),
    Command.RESUME: ("resume", "continue", "go on", "carry on"),
    Command.STOP: ("stop", "stop session"),
    Command.SKIP: ("skip", "next exercise"),
    Command.REPEAT: ("repeat", "say again"),
    Command.PAIN: ("pain", "ouch", "it hurts"),
    Command.NUMB: ("numb", "tingling"),
    Command.YES: ("yes",),
    Command.START_OVER: ("start over",),
    # Several words, so that ordinary talk in the room does not start a session.
    Command.START: ("start session", "start my session"),
}

#: Pain-scale answers, zero to ten.
NUMBER_WORDS: tuple[str, ...] = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
)

#: When one utterance holds several commands the safest wins: pain, then stop, then pause.
PRIORITY: tuple[Command, ...] = (
    Command.NUMB,
    Command.PAIN,
    Command.STOP,
    Command.PAUSE,
    Command.RESUME,
    Command.SKIP,
    Command.REPEAT,
    Command.START_OVER,
    Command.START,
    Command.YES,
)

#: Commands that must act on the earliest evidence (a partial result or keyword hit).
URGENT: frozenset[Command] = frozenset({Command.STOP, Command.PAUSE, Command.PAIN, Command.NUMB})

#: The words whose evidence, when it is real but not sure, makes the coach stop and ask
#: (``Command.CHECK``) rather than carry on over a person who may be asking it to stop.
SAFETY: tuple[Command, ...] = (Command.PAIN, Command.STOP, Command.PAUSE)

#: Commands that set a person moving again. They are never taken from words that ended while
#: the coach was talking: what the echo canceller leaves of the coach's own "say carry on" was
#: heard as "carry on", and a session must not carry on without the person's clear word.
MOVE_ON: frozenset[Command] = frozenset({Command.RESUME, Command.SKIP})

#: Answers to the one yes-or-no question a session asks (carry on where you left off?). They are
#: listened for only while it is asked: outside it they mean nothing, and the command network
#: heard a bare "pain" as "yes" and the coach's own voice as "yes" or "start over".
ANSWERS: frozenset[Command] = frozenset({Command.YES, Command.START_OVER})

#: Symptoms named in answer to "how bad is the pain?" (or "how is your back now?"). They are
#: listened for with the numbers, only while a score is asked: in 28 minutes of a person's
#: ordinary speech a recognizer heard "numb" (in "number") 26 times, and each would have ended
#: the session with the urgent warning.
SYMPTOMS: frozenset[Command] = frozenset({Command.NUMB})

_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Parsed:
    """A command found in recognized text; ``value`` is the pain score for NUMBER, ``about``
    the safety word a CHECK may be (None when the person's words were not understood)."""

    command: Command
    value: int | None = None
    about: Command | None = None


def normalize(text: str) -> str:
    """Lower-case words separated by single spaces, punctuation dropped ("can’t" is "can't")."""
    return " ".join(_WORD.findall(text.lower().replace("’", "'")))


def parse(text: str, *, numbers: bool = True, answers: bool = True) -> Parsed | None:
    """Map recognized text to the highest-priority command it contains, or a number, or None;
    only to what a session listening for ``numbers`` and ``answers`` acts on (see ``expected``).
    """
    return choose(parse_all(text), numbers=numbers, answers=answers)


def parse_all(text: str) -> tuple[Parsed, ...]:
    """Every command ``text`` contains, safest first (``PRIORITY``), then its first number."""
    padded = f" {normalize(text)} "
    found = [
        Parsed(command)
        for command in PRIORITY
        if any(f" {phrase} " in padded for phrase in PHRASES[command])
    ]
    scores = (score for word in padded.split() if (score := number_value(word)) is not None)
    first = next(scores, None)
    return (*found, *(() if first is None else (Parsed(Command.NUMBER, first),)))


def choose(found: Iterable[Parsed], *, numbers: bool, answers: bool) -> Parsed | None:
    """The first of ``found`` that a session listening for numbers and answers acts on: the
    one place the session's expectation (``expected``) is applied to what was heard."""
    return next((p for p in found if expected(p, numbers=numbers, answers=answers)), None)


#: The most words an utterance may have to be taken as a command: "okay stop", "I feel pain",
#: "can we pause please" and "it's about a six" are commands; a sentence that merely contains
#: "stop" is ordinary talk.
MAX_COMMAND_WORDS = 5
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
#: A negation and the rest of its clause: "I can't go on" is not "go on", "you can't wait" not
#: "wait", "don't stop" not "stop"; "No, stop!" is still "stop".
_NEGATED = re.compile(r"\b(?:not|never|cannot|[a-z]+n['’]t)\s+[^,;:.!?]*")
#: How a general recognizer writes some spoken commands that the grammar leaves out: the
#: grammar's words are few, so that a constrained recognizer has fewer ways to be wrong, but a
#: transcript that says "ow" or "it hurt" was heard as a whole.
WRITTEN: dict[Command, tuple[str, ...]] = {
    Command.PAIN: ("ow", "it hurt", "that hurts"),
    Command.NUMB: ("num",),
}


def parse_utterance(text: str) -> Parsed | None:
    """The command a whole short utterance gives, or None for anything longer or else.

    Unlike ``parse``, which reads a constrained recognizer's output, this reads free text from
    a general recognizer, which writes out whole sentences. A sentence, word or run of words it
    repeated in a loop ("About 1. About 1.", "pause pause pause", "start over, start over,
    start") counts once.
    """
    if len(_said_once(text)) > MAX_COMMAND_WORDS:
        return None
    # Counted before a negation is taken out: "we can't go on like this, stop it" is talk.
    words = _said_once(_NEGATED.sub("", text.lower()))
    if not words:
        return None
    # A command opens or closes what a person says ("stop please", "I feel pain"); one in the
    # middle is a piece of a sentence ("and you'll stop her technique").
    written = [phrase for phrases in WRITTEN.values() for phrase in phrases]
    longest = max(len(phrase.split()) for phrase in (*command_phrases(), *written))
    spans = range(1, min(longest, len(words)) + 1)
    edges = {" ".join(words[:n]) for n in spans} | {" ".join(words[-n:]) for n in spans}
    found = [parsed for edge in edges if (parsed := _whole_phrase(edge)) is not None]
    if len({p.value for p in found if p.command == Command.NUMBER}) > 1:
        # Two different scores in one answer: which one was meant is a guess, so ask again.
        found = [p for p in found if p.command != Command.NUMBER]
    ranked = [*PRIORITY, Command.NUMBER]
    return min(found, key=lambda p: ranked.index(p.command), default=None)


def _said_once(text: str) -> list[str]:
    """The words of ``text``, each repeated sentence, word or loop of words once."""
    sentences = [normalize(s) for s in _SENTENCE.findall(text)]
    joined = " ".join(dict.fromkeys(s for s in sentences if s)).split()
    return _unlooped([w for i, w in enumerate(joined) if i == 0 or w != joined[i - 1]])


def _unlooped(words: list[str]) -> list[str]:
    """``words`` once, when they are a shorter run said over and over and cut off anywhere:
    Whisper's loop stops at its token limit ("let's do the next exercise let's do the next").
    At least two words must come round again: one word said twice is not yet a loop."""
    for period in range(1, len(words) - 1):
        if all(word == words[i % period] for i, word in enumerate(words)):
            return words[:period]
    return words


def _whole_phrase(text: str) -> Parsed | None:
    """The command or score that ``text`` is exactly, or None."""
    for command, phrases in PHRASES.items():
        if text in phrases or text in WRITTEN.get(command, ()):
            return Parsed(command)
    value = number_value(text)
    return None if value is None else Parsed(Command.NUMBER, value)


def expected(parsed: Parsed, *, numbers: bool, answers: bool) -> bool:
    """Whether a session listening for numbers and answers (or not) acts on ``parsed``: the
    symptoms (``SYMPTOMS``) count with the numbers, as answers to the pain question."""
    if parsed.command == Command.NUMBER or parsed.command in SYMPTOMS:
        return numbers
    return answers or parsed.command not in ANSWERS


def number_value(word: str) -> int | None:
    """The pain score a single word names (``"seven"`` or ``"7"``), or None."""
    if word in NUMBER_WORDS:
        return NUMBER_WORDS.index(word)
    if word.isdigit() and int(word) <= 10:
        return int(word)
    return None


def command_phrases() -> list[str]:
    """Every command phrase, for building recognizer grammars."""
    return [phrase for phrases in PHRASES.values() for phrase in phrases]


def grammar_words() -> list[str]:
    """Every distinct word a recognizer needs in its vocabulary: command words and numbers."""
    words = {w for phrase in command_phrases() for w in phrase.split()}
    words.update(NUMBER_WORDS)
    return sorted(words)
