"""When an utterance the recognizer did not take is still worth a question: the check zone.

The defaults were chosen by measurement (training/tune_check.py on the tuning voices, and the
whole-session safety bench, bench/safety.md); ``run``, ``serve`` and ``simulate`` can change the
two that matter most to a person (``--check-margin-nats``, ``--check-lone/--no-check-lone``).
"""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.errors import UsageError


@dataclass(frozen=True)
class CheckZone:
    """When an utterance Whisper did not take is still worth a question (``Hit.unsure_of``).

    A missed "stop" or "pain" costs far more than a question, so the coach asks about a safety
    word that came close, and about a lone short sound from a person who was quiet before;
    talk in the room, longer or continuous, is left alone. training/tune_check.py chose the
    margins on the tuning voices.
    """

    #: A safety phrase within this gap of the free transcript (natural log) ...
    margin_nats: float = 10.0
    #: ... at least this likely per token ...
    floor_nats_per_token: float = -4.0
    #: ... in a transcript of at most this many words is asked about by name. On the tuning
    #: voices this asked about 31 % of the safety words Whisper missed, 12 % of confusable
    #: words said alone, 1 % of hold counts and 0.4 % of ordinary sentences.
    max_words: int = 3
    #: A lone word or two that is not understood is asked about ("is something wrong?") when
    #: it has at most this many words (a cry, a name, a misheard "pain") ...
    lone_max_words: int = 2
    #: ... lasts at most this long ...
    lone_max_seconds: float = 1.5
    #: ... and nothing was said for this long before it, nor for this long after it: not the
    #: start or a piece of a conversation. The wait after delays only these questions. Speech
    #: while the coach talks does not break the quiet after: in a counted hold it is mostly
    #: what the echo canceller left of the count, and a person who goes on over the coach is
    #: worth the question anyway.
    lone_quiet_before_seconds: float = 3.0
    lone_quiet_after_seconds: float = 0.8
    #: False: never ask about a lone sound, only about a safety word that came close.
    lone: bool = True

    def __post_init__(self) -> None:
        if not 0.0 <= self.margin_nats <= 50.0:
            raise UsageError(f"check margin: need 0 to 50 nats, got {self.margin_nats}")
