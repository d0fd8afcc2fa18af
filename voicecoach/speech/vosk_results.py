"""Reading Vosk's JSON results: words with times and confidences, and the phrases they hold."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class WordTime:
    """A recognized word with its times in recognizer seconds and its 0..1 confidence."""

    word: str
    start_seconds: float | None
    end_seconds: float | None
    confidence: float


def parse_result(json_str: str) -> list[WordTime]:
    """Words of a ``Result()``/``FinalResult()`` JSON string (with ``SetWords(True)``)."""
    data = _load(json_str)
    words = data.get("result")
    if isinstance(words, list):
        return [word for item in words if (word := _word_time(item)) is not None]
    # Without word details Vosk still reports the text; the grammar already vetted each word.
    text = data.get("text")
    return [WordTime(w, None, None, 1.0) for w in text.split()] if isinstance(text, str) else []


def parse_partial(json_str: str) -> str:
    """The text of a ``PartialResult()`` JSON string ("" when there is none)."""
    text = _load(json_str).get("partial")
    return text if isinstance(text, str) else ""


def parse_partial_words(json_str: str) -> list[WordTime]:
    """Words of a ``PartialResult()`` JSON string made with ``SetPartialWords(True)``."""
    words = _load(json_str).get("partial_result")
    if not isinstance(words, list):
        return []
    return [word for item in words if (word := _word_time(item)) is not None]


def _load(json_str: str) -> dict[str, object]:
    try:
        data = json.loads(json_str)
    except (TypeError, ValueError):
        _LOGGER.warning("ignoring malformed Vosk result: %r", json_str[:200])
        return {}
    return data if isinstance(data, dict) else {}


def _word_time(item: object) -> WordTime | None:
    if not isinstance(item, dict) or not isinstance(item.get("word"), str):
        return None
    return WordTime(
        word=item["word"],
        start_seconds=_number(item.get("start")),
        end_seconds=_number(item.get("end")),
        confidence=_number(item.get("conf")) or 0.0,
    )


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


@dataclass(frozen=True)
class PhraseMatch:
    """A vocabulary phrase found at words ``first..last`` (inclusive).

    ``occurrence`` counts earlier matches with the same ``key`` in the same word list, so the
    same command said twice in one utterance is two distinct matches.
    """

    phrase: str
    key: str
    occurrence: int
    first: int
    last: int

    @property
    def identity(self) -> tuple[str, int]:
        """What stays the same for this match across partial and final results."""
        return (self.key, self.occurrence)


def match_phrases(words: Sequence[str], phrases: Mapping[str, str]) -> list[PhraseMatch]:
    """Vocabulary phrases in ``words``, left to right, longest first, never overlapping."""
    by_length = sorted(((tuple(p.split()), p) for p in phrases), key=lambda t: -len(t[0]))
    matches: list[PhraseMatch] = []
    seen: dict[str, int] = {}
    i = 0
    while i < len(words):
        found = next((t for t in by_length if tuple(words[i : i + len(t[0])]) == t[0]), None)
        if found is None:
            i += 1
            continue
        tokens, phrase = found
        key = phrases[phrase]
        matches.append(PhraseMatch(phrase, key, seen.get(key, 0), i, i + len(tokens) - 1))
        seen[key] = seen.get(key, 0) + 1
        i += len(tokens)
    return matches
