"""What the session machine asks the runner to do: speak, stop speaking, listen for answers."""

from __future__ import annotations

from dataclasses import dataclass

from voicecoach.events import Event


@dataclass(frozen=True)
class Say:
    """Action: start speaking ``text``, replacing anything still being said."""

    text: str


@dataclass(frozen=True)
class StopSpeaking:
    """Action: cut the current utterance off now."""


@dataclass(frozen=True)
class Expect:
    """Action: tell the recognizer what to listen for besides the commands: pain-scale numbers
    and the symptoms "numb" and "tingling" while a score is asked, the answers "yes" and "start
    over" while the offer to carry on is."""

    numbers: bool = False
    answers: bool = False


Action = Say | StopSpeaking | Expect
#: Everything the machine returns: actions for the runner, events for the listeners.
Output = Action | Event
