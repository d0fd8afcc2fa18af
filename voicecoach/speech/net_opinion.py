"""The command network as a second opinion that can only agree with Whisper.

Whisper tiny.en rejects some commands it nearly heard: its closest phrase comes too far below
its own free transcript ("Puzzle." for a synthetic "pause"). The command network
(``command_net.py``) reads the same utterance through Google's speech embeddings and names
the command it hears. When Whisper's closest phrase is within a looser band and the network
names that very phrase, clearly and above every other command, it is taken. The network never
names a command by itself, so a word Whisper does not put near a command cannot fire. It never
decides a pain-scale number, which Whisper alone decides (a "nine" taken as "five" is the worst
error the coach can make), nor an answer to the coach's question: television talk's "Thank
you." after "Is something wrong?" came out as "yes", which starts the pain check. Nor does it
confirm "stop" (``NEVER_CONFIRMED``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voicecoach.commands import ANSWERS, Command, parse_utterance
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.speech.command_net import NONE, CommandNet, class_of, is_number
from voicecoach.speech.embedding import SpeechEmbedder
from voicecoach.speech.net_recognizer import quiet_room, room_noise
from voicecoach.speech.whisper_verifier import Verdict

#: Quiet before the utterance (after a window of quiet room), so that its first word fills a
#: whole embedding (each reads 0.775 s), and after it: the network learned to name a word in
#: the 0.8 s after it ends.
_LEAD_SECONDS = 0.5
_TAIL_SECONDS = 0.8

Probabilities = npt.NDArray[np.float32]

#: What the network never confirms. "stop" ends the session: on the tuning voices' words one
#: sound away from it ("shop", "stock", "stuff"), every false alarm the network added was a
#: "stop" (7, for 6 stops it gained), and it confirmed "Chop." and "Stock" from unseen voices
#: too. A "stop" Whisper nearly heard is asked about instead (``CheckZone``).
NEVER_CONFIRMED: frozenset[Command] = frozenset({Command.STOP, Command.NUMBER, *ANSWERS})


@dataclass(frozen=True)
class NetOpinionTuning:
    """When the network may confirm the phrase Whisper found closest.

    Chosen on the tuning voices alone (``python -m training.tune_net_opinion``): on 1,120
    command clips, clean and at 10 dB, Whisper alone heard 71.7 % and with this rule 73.6 %,
    with the same 2 wrong commands and the same 22 false alarms on 945 clips with no command
    (438 of them words one sound from a command). Wider bands heard no more; a lower
    probability heard more and raised the false alarms.
    """

    #: Whisper's looser band: the closest phrase's gap to the free transcript, and its mean
    #: log-probability per token (natural logs), must be at least these.
    margin_nats: float = -12.0
    floor_nats_per_token: float = -4.5
    #: The network's probability for that phrase (mean of two consecutive embeddings, at its
    #: best moment) must reach this and lead every other command.
    min_probability: float = 0.98


class NetOpinion:
    """The command network's view of one utterance, as a second opinion on Whisper's."""

    def __init__(
        self,
        net: CommandNet | None = None,
        embedder: SpeechEmbedder | None = None,
        tuning: NetOpinionTuning | None = None,
    ) -> None:
        self.tuning = tuning or NetOpinionTuning()
        self._net = net or CommandNet.load()
        self._embedder = embedder or SpeechEmbedder()
        self._quiet = quiet_room(self._embedder, self._net.window_embeddings)
        noise = room_noise(_LEAD_SECONDS + _TAIL_SECONDS)
        lead_samples = int(_LEAD_SECONDS * RATE_HZ)
        self._lead, self._tail = noise[:lead_samples], noise[lead_samples:]

    def probabilities(self, samples: Samples) -> Probabilities:
        """Each class's best probability over the utterance (mean of two consecutive windows),
        as the network would see it streamed from a quiet room."""
        self._embedder.reset()
        audio = np.concatenate([self._lead, samples.astype(np.float32), self._tail])
        embeddings = np.concatenate([self._quiet, self._embedder.feed(audio)])
        size = self._net.window_embeddings
        windows = np.stack(
            [embeddings[i - size : i].reshape(-1) for i in range(size, len(embeddings) + 1)]
        )
        rows = self._net.probabilities(windows)
        held = (rows[:-1] + rows[1:]) / 2 if len(rows) > 1 else rows
        return np.asarray(held.max(axis=0), dtype=np.float32)

    def in_band(self, verdict: Verdict) -> bool:
        """Whether Whisper rejected ``verdict`` yet found a command close enough to ask; not
        when its own transcript names a command the session is not listening for ("Start
        session." in a session): the network must not turn that into the nearest one it is."""
        t = self.tuning
        return (
            verdict.parsed is None
            and parse_utterance(verdict.text) is None
            and verdict.closest is not None
            and verdict.closest.command not in NEVER_CONFIRMED
            and verdict.gap_nats is not None
            and verdict.per_token_nats is not None
            and verdict.gap_nats >= t.margin_nats
            and verdict.per_token_nats >= t.floor_nats_per_token
        )

    def agrees(self, verdict: Verdict, probabilities: Probabilities) -> bool:
        """Whether the network names Whisper's closest phrase, clearly and above the rest."""
        classes = self._net.classes
        wanted = classes.index(class_of(verdict.closest))
        others = [
            p
            for i, p in enumerate(probabilities)
            if i != wanted and classes[i] != NONE and not is_number(classes[i])
        ]
        best = float(probabilities[wanted])
        return best >= self.tuning.min_probability and best >= max(others, default=0.0)

    def second_opinion(self, samples: Samples, verdict: Verdict) -> Verdict:
        """``verdict``, or a copy taking Whisper's closest phrase when the network agrees."""
        # The band is checked first: it is free, and the embeddings are not.
        if not self.in_band(verdict) or not self.agrees(verdict, self.probabilities(samples)):
            return verdict
        return dataclasses.replace(verdict, parsed=verdict.closest, how="net")
