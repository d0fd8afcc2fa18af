"""The ``net`` backend: a command network over speech embeddings.

Every 80 ms the speech embedder (``embedding.py``) adds one embedding; the command network
(``command_net.py``) reads the last ``window_embeddings`` of them and gives each class a
probability; ``Decider`` turns those rows into hits. bench/README.md has the measurements
behind the acceptance rule.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import numpy as np

from voicecoach.commands import Command, expected, parse
from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.ports import Hit
from voicecoach.speech.command_net import NONE, CommandNet, phrase_of
from voicecoach.speech.embedding import Embeddings, SpeechEmbedder, embedding_end_seconds

#: Rows (80 ms each) after a hit in which nothing more is accepted: a word stays in the window
#: for the 0.8 s the network was taught to name it after it ends.
QUIET_ROWS_AFTER_HIT = 10
#: Level of the noise the stream starts from: a quiet room through a microphone, in dBFS.
QUIET_ROOM_DBFS = -66.0


@dataclass(frozen=True)
class NetTuning:
    """Settings of the network recognizer; the acceptance rule comes with the network."""

    #: Mean probability every command must reach; None takes the network's own thresholds.
    threshold: float | None = None
    #: Consecutive embeddings (80 ms each) the mean is taken over; None takes the network's.
    hold_embeddings: int | None = None
    #: After a hit, every command must fall below this before another hit.
    release_probability: float = 0.5
    #: Seconds from the end of a spoken word to its acceptance: the bench's median latency
    #: (302-322 ms on held-out voices), so that a hit's ``end_seconds`` estimates the word's end.
    word_end_lag_seconds: float = 0.3


def room_noise(seconds: float) -> Samples:
    """``seconds`` of a quiet room's noise at ``QUIET_ROOM_DBFS``, the same every time."""
    noise = np.random.default_rng(0).standard_normal(int(seconds * RATE_HZ))
    return (noise * 10 ** (QUIET_ROOM_DBFS / 20)).astype(np.float32)


def quiet_room(embedder: SpeechEmbedder, count: int) -> Embeddings:
    """``count`` embeddings of what a quiet room sounds like, to start a stream from.

    The network learned from windows full of real audio, as a running stream gives; a window
    that is still empty at the start would be unlike anything it saw. The embedder is reset.
    """
    embeddings = embedder.feed(room_noise(embedding_end_seconds(count)))
    embedder.reset()
    return embeddings[-count:]


class Decider:
    """The acceptance rule, one probability row at a time (shared with the training bench).

    A class is accepted when it leads the allowed classes and its mean probability over the
    last ``hold`` rows reaches its threshold (one for all, or one per class): one dip in an
    otherwise clear word does not lose it. Another command is never accepted while "pain" is
    still a real possibility (mean probability ``pain_guard`` or more): "pain" must never come
    out as something else. After a hit the decider is latched until every allowed command's
    probability is below ``release``, so a word still inside the network's window is not
    reported twice.
    """

    def __init__(
        self,
        classes: tuple[str, ...],
        threshold: float | Sequence[float],
        hold: int,
        release: float,
        pain_guard: float = 0.05,
    ):
        self.classes = classes
        self.pain_guard = pain_guard
        self._pain = classes.index(Command.PAIN.value)
        #: What each class means to a session (None for "none"), for ``commands.expected``.
        self._meanings = [None if n == NONE else parse(phrase_of(n)) for n in classes]
        #: The mean probability each class must reach, in the order of ``classes``.
        self.thresholds = (
            [float(threshold)] * len(classes)
            if isinstance(threshold, (int, float))
            else [float(t) for t in threshold]
        )
        self.hold = max(1, hold)
        self.release = release
        self.latched = False
        self._recent: deque[np.ndarray] = deque(maxlen=self.hold)
        self._rows_since_hit = QUIET_ROWS_AFTER_HIT

    def push(self, probs: np.ndarray, allowed: list[int]) -> tuple[str, float] | None:
        """Take one row of probabilities; return (class, mean probability) on acceptance."""
        self._recent.append(probs)
        self._rows_since_hit += 1
        best = max(allowed, key=lambda i: float(probs[i]))
        if self.latched:
            self.latched = float(probs[best]) >= self.release
            return None
        if len(self._recent) < self.hold:
            return None
        mean = float(np.mean([row[best] for row in self._recent]))
        if mean < self.thresholds[best]:
            return None
        if best != self._pain and self._pain in allowed:
            if float(np.mean([row[self._pain] for row in self._recent])) >= self.pain_guard:
                return None
        if self._rows_since_hit < QUIET_ROWS_AFTER_HIT:
            # A word stays in the network's window for a while after it ends: a class held to
            # a lower threshold can rise again on it, or on its last sound ("resume" ending
            # like "pause").
            return None
        self.latched = True
        self._rows_since_hit = 0
        return self.classes[best], mean

    def allowed(self, numbers: bool, answers: bool = False, wake: bool = False) -> list[int]:
        """Indexes of the classes that may be reported: only the start phrase while waiting to
        be woken; otherwise every command but it, numbers only while a score is asked, and
        the answers only while the session's question is."""
        if wake:
            return [self.classes.index(Command.START.value)]
        return [
            i
            for i, meaning in enumerate(self._meanings)
            if meaning is not None
            and meaning.command != Command.START
            and expected(meaning, numbers=numbers, answers=answers)
        ]


class NetRecognizer:
    """Names commands with the command network over a stream of speech embeddings.

    With ``wake`` it listens for the start phrase alone (``voicecoach serve`` while idle);
    otherwise for everything but it. Each listens only for what its user acts on, so that
    "stop session" can never be taken for "start session" in a session, or the reverse.
    """

    name = "net"

    def __init__(
        self, tuning: NetTuning | None = None, net: CommandNet | None = None, *, wake: bool = False
    ) -> None:
        self._tuning = tuning or NetTuning()
        self._wake = wake
        self._given_net = net
        self._net: CommandNet | None = None
        self._embedder: SpeechEmbedder | None = None
        self._decider: Decider | None = None
        self._numbers = False
        self._answers = False
        self._history: deque[np.ndarray] = deque()
        self._quiet: list[np.ndarray] = []
        self._embeddings_seen = 0

    def __enter__(self) -> Self:
        net = self._given_net or CommandNet.load()
        self._embedder = SpeechEmbedder()
        self._net = net
        self._decider = Decider(
            net.classes,
            self._tuning.threshold or net.thresholds(),
            self._tuning.hold_embeddings or net.hold_embeddings,
            self._tuning.release_probability,
        )
        self._quiet = list(quiet_room(self._embedder, net.window_embeddings))
        self._history = deque(self._quiet, maxlen=net.window_embeddings)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._embedder = None
        self._net = None
        self._decider = None

    # --- the Recognizer port ----------------------------------------------------------------

    def feed(self, frame: Samples) -> list[Hit]:
        """Consume one frame; return a command when the network has just named one."""
        if self._embedder is None or self._net is None or self._decider is None:
            raise RecognizerError("the network recognizer is not open; use it in a `with` block")
        hits: list[Hit] = []
        for embedding in self._embedder.feed(frame):
            self._history.append(embedding)
            index = self._embeddings_seen
            self._embeddings_seen += 1
            window = np.concatenate(list(self._history))[None, :]
            probs = self._net.probabilities(window)[0]
            allowed = self._decider.allowed(self._numbers, self._answers, self._wake)
            accepted = self._decider.push(probs, allowed)
            if accepted is not None:
                name, probability = accepted
                end = max(0.0, embedding_end_seconds(index) - self._tuning.word_end_lag_seconds)
                hits.append(Hit.of(phrase_of(name), probability, end))
        return hits

    def reset(self) -> None:
        """Forget the current utterance: the window starts again from a quiet room, and the
        last command is not reported again while what is left of it is still heard."""
        self._history.extend(self._quiet)
        if self._decider is not None:
            self._decider.latched = True

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Name commands, plus the pain-scale numbers and the answers when asked for."""
        self._numbers = numbers
        self._answers = answers
