"""The person's own examples of the words, as a second opinion that can only agree with Whisper.

Enrolment (``voicecoach enrol``) keeps a few utterances of each word in the person's voice.
Each is turned into a sequence of speech embeddings (``embedding.py``: Google's network, trained
on real speech), and an utterance Whisper rejected is compared with them by dynamic time
warping. The examples never name a word by themselves: they may only confirm the phrase Whisper
itself found closest (``Verdict.closest``), when Whisper's own score for it is within a relaxed
band and the person's examples of that word match clearly better than those of every other
word. So a word Whisper does not put near a command cannot fire, however it sounds.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voicecoach.commands import Command, Parsed
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples
from voicecoach.speech.embedding import SpeechEmbedder
from voicecoach.speech.vad import Segmenter, SegmenterSettings, SpeechProbability
from voicecoach.speech.whisper_verifier import Verdict

#: The words enrolment asks for, and what each means to a session.
COMMAND_WORDS: dict[str, Parsed] = {
    "stop": Parsed(Command.STOP),
    "pause": Parsed(Command.PAUSE),
    "pain": Parsed(Command.PAIN),
    "resume": Parsed(Command.RESUME),
}
NUMBER_WORDS: dict[str, Parsed] = {
    word: Parsed(Command.NUMBER, value)
    for value, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    )
}
WORDS: dict[str, Parsed] = {**COMMAND_WORDS, **NUMBER_WORDS}
#: What the examples may confirm. Not "pain": "pane" is the same sound, so examples of it
#: can only take both, and Whisper already takes "pain" on a looser rule chosen for exactly
#: that trade (``VerifierTuning.pain_margin_nats``). Its examples still count against the
#: others: an utterance nearer the person's "pain" than their "pause" is not taken as pause.
CONFIRMED = frozenset(WORDS.values()) - {Parsed(Command.PAIN)}

#: Quiet added around an utterance before embedding it: each embedding reads 0.775 s, so a
#: short word needs room on both sides to appear in several of them.
_PAD_SECONDS = 0.4
_PAD_DBFS = -70.0
#: Quiet streamed after a clip so that an utterance ending at its very end is closed.
_TAIL_SECONDS = 0.6

Features = npt.NDArray[np.float32]


@dataclass(frozen=True)
class PersonalTuning:
    """When the person's examples may confirm the phrase Whisper found closest.

    Chosen on four voices of bench/enrolment.py (clean and pink noise at 10 dB), one step inside
    every direction in which a confusable word began to fire. Four other voices then let "fix"
    through as "six" (the per-token floor went from -4.5 to -4.0), and four more "hero" as
    "zero" and "pane" as "pain" (the spread factor went from 1.0 to 0.75, and "pain" left
    ``CONFIRMED``). On four voices never looked at before, it took 13 more of 480 words and made
    nothing fire that did not before (bench/enrolment.md).
    """

    #: Whisper's relaxed band: the closest phrase's gap to the free transcript, and its mean
    #: log-probability per token (natural logs), must be at least these (Whisper alone: -4 and
    #: -2.5, and -8 and -3.5 for "pain"). A second opinion costs about 15 ms of one x86 core
    #: (45 examples), and only an utterance inside this band pays it.
    margin_nats: float = -10.0
    floor_nats_per_token: float = -4.0
    #: The closest word's examples must match this much better (mean cosine distance along
    #: the alignment) than any other word's.
    separation: float = 0.02
    #: And no worse than this distance at all,
    max_distance: float = 0.015
    #: nor than this many times the person's own spread (``PersonalExamples.spread``): how far
    #: apart their examples of one word are, so the limit follows how steadily they speak.
    #: With a single example of each word there is no spread, and nothing is ever confirmed.
    spread_factor: float = 0.75


def dtw_distances(a: Features, templates: Sequence[Features]) -> npt.NDArray[np.float64]:
    """Mean cosine distance along the best alignment of ``a`` with each template.

    Every sequence holds unit-length embeddings. All templates are aligned at once (padded
    with infinite cost), so the Python loop runs over one grid, not one per template.
    """
    if not templates:
        return np.zeros(0)
    lengths = np.array([len(t) for t in templates])
    width = int(lengths.max())
    stacked = np.zeros((len(templates), width, a.shape[1]), dtype=np.float32)
    for k, template in enumerate(templates):
        stacked[k, : len(template)] = template
    cost = 1.0 - np.einsum("nd,kmd->knm", a, stacked).astype(np.float64)
    beyond = np.arange(width)[None, :] >= lengths[:, None]
    cost = np.where(beyond[:, None, :], np.inf, cost)
    n = len(a)
    total = np.full((len(templates), n + 1, width + 1), np.inf)
    total[:, 0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, width + 1):
            best = np.minimum(
                np.minimum(total[:, i - 1, j], total[:, i, j - 1]), total[:, i - 1, j - 1]
            )
            total[:, i, j] = cost[:, i - 1, j - 1] + best
    return np.asarray(total[np.arange(len(templates)), n, lengths] / (n + lengths))


class PersonalExamples:
    """A person's examples of the enrolment words, and the second opinion they give."""

    def __init__(
        self,
        examples: Mapping[str, Sequence[Samples]],
        tuning: PersonalTuning | None = None,
        embedder: SpeechEmbedder | None = None,
    ) -> None:
        unknown = sorted(set(examples) - set(WORDS))
        if unknown:
            raise ValueError(f"not enrolment words: {', '.join(unknown)}")
        self.tuning = tuning or PersonalTuning()
        self._embedder = embedder or SpeechEmbedder()
        self._templates: dict[str, list[Features]] = {
            word: [self.features(s) for s in clips] for word, clips in examples.items() if clips
        }
        self.spread = self._spread()

    def _spread(self) -> float:
        """The median distance of an example to the nearest other example of its word."""
        nearest = [
            float(dtw_distances(template, [t for j, t in enumerate(templates) if j != i]).min())
            for templates in self._templates.values()
            if len(templates) > 1
            for i, template in enumerate(templates)
        ]
        return float(np.median(nearest)) if nearest else 0.0

    @property
    def words(self) -> list[str]:
        """The words that have at least one example."""
        return list(self._templates)

    def features(self, samples: Samples) -> Features:
        """Unit-length speech embeddings of one utterance, padded with quiet."""
        pad = np.random.default_rng(0).standard_normal(int(_PAD_SECONDS * RATE_HZ))
        pad = (pad * 10 ** (_PAD_DBFS / 20)).astype(np.float32)
        self._embedder.reset()
        found = self._embedder.feed(np.concatenate([pad, samples.astype(np.float32), pad]))
        norms = np.maximum(np.linalg.norm(found, axis=1, keepdims=True), 1e-9)
        unit: Features = (found / norms).astype(np.float32)
        return unit

    def distances(
        self, samples: Samples, leave_out: tuple[str, int] | None = None
    ) -> dict[str, float]:
        """Each word's distance to the utterance: its closest example's (dynamic time warping).

        ``leave_out`` (word, index) skips one stored example, for leave-one-out reports.
        """
        owners = [
            (word, template)
            for word, templates in self._templates.items()
            for i, template in enumerate(templates)
            if leave_out != (word, i)
        ]
        found = dtw_distances(self.features(samples), [t for _, t in owners])
        out: dict[str, float] = {}
        for (word, _), distance in zip(owners, found, strict=True):
            out[word] = min(float(distance), out.get(word, np.inf))
        return out

    def in_band(self, verdict: Verdict) -> bool:
        """Whether Whisper rejected ``verdict`` yet found an enrolment word close enough."""
        t = self.tuning
        return (
            verdict.parsed is None
            and verdict.closest in CONFIRMED
            and verdict.gap_nats is not None
            and verdict.per_token_nats is not None
            and verdict.gap_nats >= t.margin_nats
            and verdict.per_token_nats >= t.floor_nats_per_token
        )

    def decide(self, verdict: Verdict, distances: Mapping[str, float]) -> Parsed | None:
        """The phrase Whisper found closest, when the band and the examples both agree."""
        if not self.in_band(verdict) or verdict.closest is None:
            return None
        by_meaning: dict[Parsed, float] = {}
        for word, distance in distances.items():
            meaning = WORDS[word]
            by_meaning[meaning] = min(distance, by_meaning.get(meaning, np.inf))
        if verdict.closest not in by_meaning:
            return None
        best = by_meaning[verdict.closest]
        runner_up = min(
            (d for meaning, d in by_meaning.items() if meaning != verdict.closest), default=np.inf
        )
        t = self.tuning
        if best > min(t.max_distance, t.spread_factor * self.spread):
            return None
        if runner_up - best < t.separation:
            return None
        return verdict.closest

    def second_opinion(self, samples: Samples, verdict: Verdict) -> Verdict:
        """``verdict``, or a copy taking Whisper's closest phrase when the examples agree."""
        # The band is checked first: it is free, and the embeddings are not.
        if not self.in_band(verdict):
            return verdict
        taken = self.decide(verdict, self.distances(samples))
        if taken is None:
            return verdict
        return dataclasses.replace(verdict, parsed=taken, how="personal")


#: How examples are cut: as the recognizer cuts utterances, except that an example needs
#: 0.12 s of speech. The recognizer takes two 32 ms chunks, so that a clipped "stop" is heard;
#: an example that short is a click, and it would be compared with every utterance after.
EXAMPLE_SEGMENTER = SegmenterSettings(min_speech_seconds=0.12)


def longest_utterance(
    samples: Samples, probability: SpeechProbability, settings: SegmenterSettings | None = None
) -> Samples | None:
    """The longest utterance the segmenter cuts out of a clip, as the recognizer would hear it
    (``EXAMPLE_SEGMENTER`` unless given).

    Examples are stored as this cut, so they match what a session hands the second opinion.
    """
    segmenter = Segmenter(probability, settings or EXAMPLE_SEGMENTER)
    tail = np.zeros(int(_TAIL_SECONDS * RATE_HZ), dtype=np.float32)
    stream = np.concatenate([samples.astype(np.float32), tail])
    found = [
        segment
        for start in range(0, len(stream), FRAME_SAMPLES)
        for segment in segmenter.feed(stream[start : start + FRAME_SAMPLES])
    ]
    return max(found, key=lambda s: len(s.samples)).samples if found else None
