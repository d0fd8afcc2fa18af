"""The Vosk recognizer: a grammar of the command phrases, urgent commands from stable partials.

Vosk decodes against a JSON grammar built from ``voicecoach.commands`` plus ``[unk]``, so
speech outside the vocabulary becomes ``[unk]`` rather than the nearest command. Urgent
commands (stop, pause, pain, numb) are reported from partial results once they have stayed in
the partial hypothesis for ``CONFIRM_FRAMES`` frames; everything else waits for the endpoint
and the per-word confidences of the final result.
"""

from __future__ import annotations

import importlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Protocol, Self

from voicecoach.commands import NUMBER_WORDS, PHRASES, URGENT, command_phrases
from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples, to_int16_bytes
from voicecoach.ports import Hit
from voicecoach.speech.models import looks_like_model
from voicecoach.speech.vosk_results import (
    PhraseMatch,
    match_phrases,
    parse_partial,
    parse_partial_words,
    parse_result,
)

_LOGGER = logging.getLogger(__name__)

#: Vosk's garbage word: out-of-grammar speech decodes to it instead of to a command.
UNKNOWN_WORD = "[unk]"

#: Consecutive frames (20 ms each) an urgent phrase must stay in the partial result.
#: Vosk's network scores audio in ~0.2 s chunks, so its partial hypothesis changes about five
#: times a second, and the first partial after a word is the one most often replaced (an
#: out-of-grammar word shows as a command, then turns into [unk]). 13 frames = 0.26 s spans at
#: least one more chunk of evidence, yet still beats the endpoint, which needs >= 0.5 s of
#: trailing silence (and never comes while the person keeps talking).
CONFIRM_FRAMES = 13

#: Final-result words below this minimum-Bayes-risk posterior are dropped. Clear in-grammar
#: words score above 0.9; a word that competes about evenly with [unk] or another phrase
#: scores near 0.5.
MIN_CONFIDENCE = 0.7

#: Confidence given to hits from partial results, which carry no posterior of their own: just
#: above MIN_CONFIDENCE (it survived confirmation) and below a clean final word.
PARTIAL_CONFIDENCE = 0.75


def build_grammar(numbers: bool) -> list[str]:
    """The JSON grammar phrases: every command phrase, the numbers when asked, and ``[unk]``."""
    phrases = list(dict.fromkeys(command_phrases()))
    if numbers:
        phrases.extend(word for word in NUMBER_WORDS if word not in phrases)
    phrases.append(UNKNOWN_WORD)
    return phrases


def vocabulary(numbers: bool) -> dict[str, str]:
    """Phrase of the grammar -> identity key (the command name, or the number word itself).

    Every command phrase is reported, the answers and symptoms too: which of them the session
    acts on is the runner's decision (``ports.Hit.command``), not the recognizer's.
    """
    phrases = {phrase: command.value for command, group in PHRASES.items() for phrase in group}
    if numbers:
        phrases.update({word: word for word in NUMBER_WORDS})
    return phrases


#: Identity keys of the urgent commands, acted on from partial results.
URGENT_KEYS: frozenset[str] = frozenset(command.value for command in URGENT)


class UtteranceTracker:
    """Confirms urgent phrases across partial results and remembers what was reported."""

    def __init__(self, confirm_frames: int = CONFIRM_FRAMES) -> None:
        self.confirm_frames = confirm_frames
        # identity -> (partials in a row that held it, stream seconds when it first showed)
        self._streaks: dict[tuple[str, int], tuple[int, float]] = {}
        self._reported: set[tuple[str, int]] = set()

    def observe_partial(
        self, matches: Sequence[PhraseMatch], now_seconds: float = 0.0
    ) -> list[tuple[PhraseMatch, float]]:
        """Count one more partial; urgent matches it confirms, with when each first showed."""
        urgent = [m for m in matches if m.key in URGENT_KEYS]
        # A phrase missing from even one partial starts its count again.
        self._streaks = {m.identity: self._extend(m.identity, now_seconds) for m in urgent}
        confirmed = [
            (m, self._streaks[m.identity][1])
            for m in urgent
            if self._streaks[m.identity][0] >= self.confirm_frames
            and m.identity not in self._reported
        ]
        self._reported.update(m.identity for m, _ in confirmed)
        return confirmed

    def unreported(self, matches: Sequence[PhraseMatch]) -> list[PhraseMatch]:
        """The final result's matches minus those already reported from partials."""
        return [m for m in matches if m.identity not in self._reported]

    def clear(self) -> None:
        """Start a new utterance."""
        self._streaks.clear()
        self._reported.clear()

    def _extend(self, identity: tuple[str, int], now_seconds: float) -> tuple[int, float]:
        count, first_seen = self._streaks.get(identity, (0, now_seconds))
        return count + 1, first_seen


class _Kaldi(Protocol):
    """The part of ``vosk.KaldiRecognizer`` this recognizer uses."""

    def AcceptWaveform(self, data: bytes) -> int: ...
    def Result(self) -> str: ...
    def PartialResult(self) -> str: ...
    def Reset(self) -> None: ...
    def SetWords(self, words: bool) -> None: ...
    def SetPartialWords(self, words: bool) -> None: ...


class _Model(Protocol):
    def vosk_model_find_word(self, word: str) -> int: ...


@dataclass
class _Decoder:
    """One Vosk recognizer and how many samples it has been fed (its clock, in samples)."""

    kaldi: _Kaldi
    fed_samples: int = 0


class VoskRecognizer:
    """Hears the command vocabulary with Vosk; the model loads in ``__enter__``.

    Two Vosk recognizers share the model: one with the commands, one with commands and numbers;
    ``expect`` switches between them. Vosk's ``SetGrammar`` could swap grammars in one
    recognizer, but in vosk 0.3.45 calling it while a decoder is running aborts the whole
    process (an uncaught KaldiFatalError), and even after ``Reset()`` it rebuilds the feature
    pipeline, dropping the speaker adaptation just as the person answers the pain question.
    Two recognizers keep their adaptation, switch instantly, and cost a few megabytes.
    """

    name = "vosk"

    def __init__(
        self,
        model_dir: Path,
        *,
        sample_rate_hz: int = RATE_HZ,
        min_confidence: float = MIN_CONFIDENCE,
        confirm_frames: int = CONFIRM_FRAMES,
        urgent_partials: bool = True,
    ) -> None:
        self.model_dir = Path(model_dir).expanduser()
        self.sample_rate_hz = sample_rate_hz
        self.min_confidence = min_confidence
        self.urgent_partials = urgent_partials
        if not looks_like_model(self.model_dir):
            what = "does not exist" if not self.model_dir.exists() else "is not a Vosk model"
            raise RecognizerError(
                f"Vosk model folder {self.model_dir} {what} (it needs am/final.mdl and conf/); "
                "run `voicecoach model download` or see models/README.md",
                event=self.model_dir,
            )
        self._vosk = _import_vosk()
        self._tracker = UtteranceTracker(confirm_frames)
        self._numbers = False
        self._model: _Model | None = None
        self._decoders: dict[bool, _Decoder] = {}
        self._stream_samples = 0
        self._forget_before_seconds = 0.0

    def __enter__(self) -> Self:
        self._vosk.SetLogLevel(-1)
        try:
            self._model = self._vosk.Model(str(self.model_dir))
            self._decoders = {numbers: self._new_decoder(numbers) for numbers in (False, True)}
        except Exception as err:
            self._model = None
            raise RecognizerError(
                f"cannot load the Vosk model in {self.model_dir} ({err}); it may be incomplete "
                "or corrupt: download it again with `voicecoach model download`",
                event=self.model_dir,
            ) from err
        self._warn_missing_words()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Vosk frees its native objects when the last reference goes.
        self._decoders = {}
        self._model = None

    def feed(self, frame: Samples) -> list[Hit]:
        """Consume one frame; hits for urgent phrases confirmed now, or for a finished utterance."""
        decoder = self._active()
        decoder.fed_samples += len(frame)
        self._stream_samples += len(frame)
        try:
            endpoint = decoder.kaldi.AcceptWaveform(to_int16_bytes(frame))
        except Exception as err:
            raise RecognizerError(f"Vosk could not process audio: {err}", event=err) from err
        if endpoint:
            return self._final_hits(decoder)
        return self._partial_hits(decoder) if self.urgent_partials else []

    def reset(self) -> None:
        """Forget the current utterance; words that ended before now are never reported."""
        if self._decoders:
            self._active().kaldi.Reset()
        self._tracker.clear()
        self._forget_before_seconds = self._now_seconds()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Listen for commands, plus the pain-scale numbers when asked for."""
        # The answers and symptoms stay in the grammar, so that a "yes" is heard as itself and
        # not forced onto another phrase; outside the question the runner does not act on it.
        if numbers == self._numbers:
            return
        self.reset()
        self._numbers = numbers

    # --- internals --------------------------------------------------------------------------

    def _new_decoder(self, numbers: bool) -> _Decoder:
        grammar = json.dumps(build_grammar(numbers), ensure_ascii=False)
        kaldi: _Kaldi = self._vosk.KaldiRecognizer(self._model, float(self.sample_rate_hz), grammar)
        kaldi.SetWords(True)
        kaldi.SetPartialWords(False)
        return _Decoder(kaldi)

    def _warn_missing_words(self) -> None:
        # Vosk silently drops grammar words its model lacks; say so once, at start-up.
        words = {w for phrase in build_grammar(True) for w in phrase.split()}
        model = self._model
        assert model is not None
        missing = sorted(w for w in words if model.vosk_model_find_word(w) < 0)
        if UNKNOWN_WORD in missing:
            _LOGGER.warning(
                "the Vosk model has no %s word: speech outside the commands may be heard as one",
                UNKNOWN_WORD,
            )
        if missing:
            _LOGGER.warning("the Vosk model lacks these command words: %s", ", ".join(missing))

    def _active(self) -> _Decoder:
        if not self._decoders:
            raise RecognizerError("the Vosk recognizer is used outside its `with` block")
        return self._decoders[self._numbers]

    def _now_seconds(self) -> float:
        return self._stream_samples / self.sample_rate_hz

    def _stream_seconds(self, decoder: _Decoder, vosk_seconds: float | None) -> float | None:
        # Vosk times count from the first sample this recognizer was fed; the idle grammar's
        # recognizer missed the frames fed to the other one, hence the per-recognizer origin.
        if vosk_seconds is None:
            return None
        origin = (self._stream_samples - decoder.fed_samples) / self.sample_rate_hz
        return round(min(max(origin + vosk_seconds, 0.0), self._now_seconds()), 3)

    def _forgotten(self, end_seconds: float | None) -> bool:
        return end_seconds is not None and end_seconds <= self._forget_before_seconds

    def _final_hits(self, decoder: _Decoder) -> list[Hit]:
        words = parse_result(decoder.kaldi.Result())
        matches = self._tracker.unreported(match_phrases([w.word for w in words], self._vocab()))
        self._tracker.clear()
        accepted: list[tuple[PhraseMatch, float, float | None]] = []
        for match in matches:
            confidence = min(w.confidence for w in words[match.first : match.last + 1])
            end = self._stream_seconds(decoder, words[match.last].end_seconds)
            if confidence >= self.min_confidence and not self._forgotten(end):
                accepted.append((match, confidence, end))
        if not accepted:
            return []
        # One hit per utterance, so the runner can let the safest command it listens for win.
        return [
            Hit.of(
                " ".join(match.phrase for match, _, _ in accepted),
                min(confidence for _, confidence, _ in accepted),
                accepted[-1][2],
            )
        ]

    def _partial_hits(self, decoder: _Decoder) -> list[Hit]:
        words = parse_partial(decoder.kaldi.PartialResult()).split()
        matches = match_phrases(words, self._vocab())
        hits: list[Hit] = []
        for match, first_seen in self._tracker.observe_partial(matches, self._now_seconds()):
            word_end = self._stream_seconds(decoder, self._partial_end(decoder, match))
            end = word_end if word_end is not None else first_seen
            if not self._forgotten(end):
                hits.append(Hit.of(match.phrase, PARTIAL_CONFIDENCE, end, partial=True))
        return hits

    def _partial_end(self, decoder: _Decoder, match: PhraseMatch) -> float | None:
        # Word times in partials cost a lattice alignment, so ask only once a phrase is
        # confirmed. The lattice lags the partial text, often by a second or more; until it
        # catches up, the caller falls back to when the phrase first showed in the partial
        # text, which is near the end of a short word.
        decoder.kaldi.SetPartialWords(True)
        try:
            words = parse_partial_words(decoder.kaldi.PartialResult())
        finally:
            decoder.kaldi.SetPartialWords(False)
        for found in match_phrases([w.word for w in words], self._vocab()):
            if found.identity == match.identity:
                return words[found.last].end_seconds
        return None

    def _vocab(self) -> dict[str, str]:
        return _VOCABULARIES[self._numbers]


_VOCABULARIES: dict[bool, dict[str, str]] = {n: vocabulary(n) for n in (False, True)}


def _import_vosk() -> ModuleType:
    try:
        return importlib.import_module("vosk")
    except (ImportError, OSError) as err:
        raise RecognizerError(
            f"the vosk package cannot be loaded ({err}); install it with `pip install vosk`",
            event=err,
        ) from err
