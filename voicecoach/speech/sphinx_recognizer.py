"""The ``sphinx`` backend: pocketsphinx keyword spotting, confirmed by a small grammar.

Every command phrase is spotted as frames arrive (keyword search against a phone loop, one
threshold per phrase). A candidate is then confirmed by decoding the last second or so of audio
with a grammar in which the commands compete with known sound-alike words and a garbage path;
only when the grammar's word at the spotted time is the same command is a ``Hit`` returned.
bench/README.md has the measurements behind this design and the thresholds.
"""

from __future__ import annotations

import importlib
import logging
import math
import tempfile
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Self

import numpy as np

from voicecoach.commands import parse
from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples, rms_dbfs, to_int16_bytes
from voicecoach.ports import Hit
from voicecoach.speech.sphinx_decoder import (
    FIX,
    Decoder,
    build_decoder,
    grammar_name,
    is_vocabulary,
    kws_name,
    strip_variant,
)

_LOGGER = logging.getLogger(__name__)


#: pocketsphinx analyses audio in 10 ms frames.
_PS_FRAMES_PER_SECOND = 100
#: Keyword-search scores are kept in log base 1.0001, shifted right by 10 bits, offset by 1500.
_LOG_BASE = 1.0001
_SCORE_SHIFT = 1024
_KWS_MAX = 1500
#: Spotting thresholds per phrase, log10 of the likelihood ratio against a free phone loop;
#: measured by training/tune_sphinx.py (the highest score any non-command clip reached, plus a
#: margin).
THRESHOLDS: dict[str, float] = {
    "pause": 4.2,
    "wait": 7.8,
    "hold on": 15.5,
    "resume": -12.1,
    "continue": -10.3,
    "go on": 1.8,
    "stop": 5.1,
    "stop session": -25.0,
    "skip": 13.8,
    "next exercise": -25.0,
    "repeat": -0.2,
    "say again": 4.2,
    "pain": 0.9,
    "ouch": -1.1,
    "it hurts": -3.1,
    "numb": 6.6,
    "tingling": -13.3,
    "yes": 12.9,
    "start over": -25.0,
    "zero": -11.2,
    "one": -4.6,
    "two": 7.6,
    "three": -3.5,
    "four": -7.9,
    "five": -7.9,
    "six": -7.1,
    "seven": -24.1,
    "eight": 2.9,
    "nine": -5.8,
    "ten": 1.7,
}


@dataclass(frozen=True)
class SphinxTuning:
    """The measured settings; thresholds are log10 of the spotting likelihood ratio per phrase."""

    thresholds: Mapping[str, float] = field(default_factory=lambda: dict(THRESHOLDS))
    #: Threshold for a phrase without its own entry.
    default_threshold: float = -20.0
    #: Re-decode candidates with the grammar before accepting them.
    confirm: bool = True
    #: Audio kept before a candidate's first frame for the confirming decode, in seconds.
    confirm_lead_seconds: float = 0.4
    #: Relative weight of the garbage path against a command in the confirming grammar.
    garbage_weight: float = 1.0
    #: Frames (10 ms) the spotter waits after a word for a better-scoring end.
    delay_frames: int = 10
    #: Candidates quieter than this (RMS over the spotted words, dBFS) are the noise floor.
    min_level_dbfs: float = -45.0


@dataclass(frozen=True)
class Candidate:
    """A spotted phrase before acceptance: what the tuning bench records."""

    phrase: str
    margin: float
    start_seconds: float
    end_seconds: float
    confirmed_text: str
    accepted: bool


def margin_log10(prob: float) -> float:
    """The log10 likelihood ratio a keyword-search segment's ``prob`` stands for."""
    if prob <= 0.0:
        return -math.inf
    units = math.log(prob) / math.log(_LOG_BASE) + _KWS_MAX
    return units * _SCORE_SHIFT * math.log10(_LOG_BASE)


class SphinxRecognizer:
    """Spots the command vocabulary with pocketsphinx and the English model inside its wheel."""

    name = "sphinx"

    def __init__(
        self,
        tuning: SphinxTuning | None = None,
        *,
        audit: Callable[[Candidate], None] | None = None,
    ) -> None:
        self._tuning = tuning or SphinxTuning()
        self._audit = audit
        self._numbers = False
        self._decoder: Decoder | None = None
        self._cmn_prior = ""
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        # Enough recent audio for the confirming decode of the longest phrase.
        self._recent: deque[bytes] = deque(maxlen=150)
        self._samples_fed = 0
        self._utt_start_samples = 0

    # --- lifecycle --------------------------------------------------------------------------

    def __enter__(self) -> Self:
        ps = _import_pocketsphinx()
        self._tmp = tempfile.TemporaryDirectory(prefix="voicecoach-sphinx-")
        try:
            self._decoder = build_decoder(ps, Path(self._tmp.name), self._tuning)
        except (RuntimeError, ValueError, OSError) as err:
            self._tmp.cleanup()
            raise RecognizerError(f"pocketsphinx could not load its model ({err}); {FIX}") from err
        # Cepstral mean normalisation stays pinned to the model's prior (a speech average): live
        # adaptation drifts towards the noise floor within a minute of quiet and then costs
        # real words most of their score, so a word would be heard differently early and late.
        decoder = self._require()
        self._cmn_prior = str(decoder.config["cmninit"])
        decoder.activate_search(kws_name(self._numbers))
        decoder.start_utt()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._decoder is not None:
            self._decoder.end_utt()
            self._decoder = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # --- the Recognizer port ----------------------------------------------------------------

    def feed(self, frame: Samples) -> list[Hit]:
        """Consume one frame; return the commands confirmed on it."""
        decoder = self._require()
        data = to_int16_bytes(frame)
        self._recent.append(data)
        self._samples_fed += len(frame)
        decoder.set_cmn(self._cmn_prior)
        decoder.process_raw(data)
        if decoder.hyp() is None:
            return []
        spotted = [
            (s.word.strip(), self._seconds(s.start_frame), self._seconds(s.end_frame + 1), s.prob)
            for s in decoder.seg() or []
        ]
        self._restart()
        hits: list[Hit] = []
        for phrase, start_s, end_s, prob in spotted:
            hit = self._judge(phrase, start_s, end_s, margin_log10(prob))
            if hit is not None and all(h.parsed != hit.parsed for h in hits):
                hits.append(hit)
        return hits

    def reset(self) -> None:
        """Forget the current utterance and the audio kept for confirmation."""
        self._recent.clear()
        self._restart()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Spot commands, plus the pain-scale numbers when asked for (the answers always: the
        runner decides whether they count)."""
        if numbers == self._numbers:
            return
        self._numbers = numbers
        if self._decoder is not None:
            self._decoder.end_utt()
            self._decoder.activate_search(kws_name(numbers))
            self._start_utt()

    # --- internals --------------------------------------------------------------------------

    def _require(self) -> Decoder:
        if self._decoder is None:
            raise RecognizerError("the sphinx recognizer is not open; use it in a `with` block")
        return self._decoder

    def _start_utt(self) -> None:
        self._require().start_utt()
        self._utt_start_samples = self._samples_fed

    def _restart(self) -> None:
        decoder = self._require()
        decoder.end_utt()
        self._start_utt()

    def _seconds(self, ps_frame: int) -> float:
        return self._utt_start_samples / RATE_HZ + ps_frame / _PS_FRAMES_PER_SECOND

    def _judge(self, phrase: str, start_s: float, end_s: float, margin: float) -> Hit | None:
        if self._level_dbfs(start_s, end_s) < self._tuning.min_level_dbfs:
            _LOGGER.debug("ignored %r: too quiet to be a person speaking", phrase)
            return None
        confirmed = self._confirm(start_s, end_s) if self._tuning.confirm else phrase
        expected = parse(phrase)
        accepted = expected is not None and parse(confirmed) == expected
        if self._audit is not None:
            self._audit(Candidate(phrase, margin, start_s, end_s, confirmed, accepted))
        if not accepted:
            _LOGGER.debug("rejected %r (margin %.1f, grammar heard %r)", phrase, margin, confirmed)
            return None
        threshold = self._tuning.thresholds.get(phrase, self._tuning.default_threshold)
        # Map "just over the threshold" to 0.5 and a clear margin (+20 decades) to about 1.
        confidence = min(1.0, max(0.0, 0.5 + (margin - threshold) / 40.0))
        return Hit.of(phrase, confidence, end_s)

    def _window(self, start_seconds: float, end_seconds: float) -> bytes:
        """The kept audio between two stream times (clipped to what is kept)."""
        frames = list(self._recent)
        if not frames:
            return b""
        samples_per_chunk = max(1, len(frames[-1]) // 2)
        now = self._samples_fed / RATE_HZ
        first = len(frames) - math.ceil((now - start_seconds) * RATE_HZ / samples_per_chunk)
        last = len(frames) - math.floor((now - end_seconds) * RATE_HZ / samples_per_chunk)
        return b"".join(frames[max(0, first) : max(max(0, first) + 1, last)])

    def _level_dbfs(self, start_seconds: float, end_seconds: float) -> float:
        window = self._window(start_seconds, end_seconds)
        if not window:
            return -math.inf
        return rms_dbfs(np.frombuffer(window, dtype="<i2").astype(np.float32) / 32768.0)

    def _confirm(self, start_seconds: float, end_seconds: float) -> str:
        """What the grammar hears where the spotter heard a phrase (recent audio, re-decoded)."""
        decoder = self._require()
        now = self._samples_fed / RATE_HZ
        want = now - start_seconds + self._tuning.confirm_lead_seconds
        frames = list(self._recent)
        samples_per_chunk = max(1, len(frames[-1]) // 2) if frames else 1
        keep = max(1, min(len(frames), math.ceil(want * RATE_HZ / samples_per_chunk)))
        window = b"".join(frames[-keep:])
        window_start = now - len(window) / 2 / RATE_HZ
        decoder.end_utt()
        decoder.activate_search(grammar_name(self._numbers))
        decoder.start_utt()
        decoder.set_cmn(self._cmn_prior)
        decoder.process_raw(window)
        decoder.end_utt()
        words = [
            (
                strip_variant(s.word).replace("_", " "),
                window_start + s.start_frame / _PS_FRAMES_PER_SECOND,
                window_start + (s.end_frame + 1) / _PS_FRAMES_PER_SECOND,
            )
            for s in (decoder.seg() or [])
            if is_vocabulary(s.word)
        ]
        decoder.activate_search(kws_name(self._numbers))
        self._start_utt()
        return _heard_over(words, start_seconds, end_seconds)


def _heard_over(words: list[tuple[str, float, float]], start_s: float, end_s: float) -> str:
    """The grammar's word that overlaps the spotted span most ("" if none does).

    The window also holds what came before and after the phrase (the coach's residual echo,
    "okay" in "okay stop"); only the word the grammar put where the spotter heard the phrase
    may confirm or veto it.
    """
    best, best_overlap = "", 0.0
    for word, word_start, word_end in words:
        overlap = min(end_s, word_end) - max(start_s, word_start)
        if overlap > best_overlap:
            best, best_overlap = word, overlap
    return best


def _import_pocketsphinx() -> ModuleType:
    try:
        return importlib.import_module("pocketsphinx")
    except ImportError as err:
        raise RecognizerError(
            f"pocketsphinx is not installed or cannot load ({err}); {FIX}"
        ) from err
