"""Frozen settings for sessions, with the defaults a user gets without options."""

from __future__ import annotations

from dataclasses import dataclass, field

from voicecoach.errors import UsageError

#: The number the coach tells a person to call for an ambulance (999 UK, 911 US, 112 EU).
DEFAULT_EMERGENCY_NUMBER = "999"


@dataclass(frozen=True)
class PainBands:
    """How a 0-10 pain score is answered: continue, go gentler, or end the session."""

    #: Scores up to this are mild: offer to continue with the next exercise.
    continue_max: int = 3
    #: Scores up to this are moderate: skip the rest of the exercise and go gentler.
    gentle_max: int = 5

    def __post_init__(self) -> None:
        if not 0 <= self.continue_max < self.gentle_max <= 10:
            raise UsageError(
                "pain bands: need 0 <= continue-max < gentle-max <= 10, got "
                f"{self.continue_max} and {self.gentle_max}"
            )

    def band(self, score: int) -> str:
        """``continue``, ``gentle`` or ``end`` for a score."""
        if score <= self.continue_max:
            return "continue"
        return "gentle" if score <= self.gentle_max else "end"


@dataclass(frozen=True)
class SessionSettings:
    """What shapes a session besides its program."""

    pain: PainBands = field(default_factory=PainBands)
    #: How long the coach waits for a pain score before ending the session for safety.
    pain_answer_seconds: float = 20.0
    #: How long the coach waits for a yes/no or an end-of-session rating before asking again
    #: once, and then again before moving on.
    question_answer_seconds: float = 15.0
    #: Ask "how much pain do you have now?" at the end of a completed session.
    ask_rating: bool = True
    #: Said digit by digit when the coach tells a person where to get emergency help.
    emergency_number: str = DEFAULT_EMERGENCY_NUMBER
    #: How long a paused session stays silent (after it last spoke) before it reminds the
    #: person how to go on, so it never waits in silence.
    pause_reminder_seconds: float = 60.0
    #: How long a session may stay paused before it ends (as ``interrupted``) with a goodbye.
    pause_timeout_seconds: float = 600.0

    def __post_init__(self) -> None:
        number = self.emergency_number
        if not (number.isascii() and number.isdigit() and 2 <= len(number) <= 6):
            raise UsageError(f"emergency number: need 2 to 6 digits, like 999, got {number!r}")
        waits = {
            "pain answer": self.pain_answer_seconds,
            "question answer": self.question_answer_seconds,
            "pause reminder": self.pause_reminder_seconds,
            "pause timeout": self.pause_timeout_seconds,
        }
        for name, seconds in waits.items():
            # A wait of zero would have the coach speak on every frame, or never wait at all.
            if not seconds > 0:
                raise UsageError(f"{name}: need a time above 0 seconds, got {seconds}")
