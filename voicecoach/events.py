"""Events the session publishes to its listeners (event log, transcript, journal).

Each event maps one-to-one to a line of the JSON Lines event log; ``t`` is seconds since the
session started, on the session clock (virtual in simulation, monotonic live).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Literal, Protocol

EndReason = Literal["completed", "stopped", "pain", "interrupted", "error"]
Side = Literal["left", "right"]
DeviceName = Literal["microphone", "speaker"]


@dataclass(frozen=True)
class PlannedDose:
    """The dose a session planned for one exercise and side; ``hold_seconds`` is per rep."""

    exercise: str
    exercise_index: int
    side: Side | None
    reps: int
    hold_seconds: float


@dataclass(frozen=True)
class SessionStarted:
    """A session began; ``started_at`` is the wall-clock ISO-8601 time, for the journal.

    ``planned`` is the dose of every exercise and side; ``resumed_from`` is the journal id of
    the unfinished session this one continues, when it was taken up without asking.
    """

    t: float
    program: str
    title: str
    started_at: str
    total_reps: int
    planned: tuple[PlannedDose, ...] = ()
    resumed_from: int | None = None
    type: Literal["start"] = field(default="start", init=False)


@dataclass(frozen=True)
class ResumeAccepted:
    """The person said yes to carrying on an unfinished session (journal id ``resumed_from``)."""

    t: float
    resumed_from: int | None
    type: Literal["resume_accepted"] = field(default="resume_accepted", init=False)


@dataclass(frozen=True)
class StateChanged:
    """The machine entered a new state or a new rep, side or set."""

    t: float
    state: str
    exercise: str | None
    set: int
    side: Side | None
    rep: int
    type: Literal["state"] = field(default="state", init=False)


@dataclass(frozen=True)
class SayStarted:
    """The coach began an utterance."""

    t: float
    text: str
    type: Literal["say"] = field(default="say", init=False)


@dataclass(frozen=True)
class SayEnded:
    """The coach's utterance finished, or was cut off by a command."""

    t: float
    interrupted: bool
    type: Literal["say_end"] = field(default="say_end", init=False)


@dataclass(frozen=True)
class Heard:
    """The recognizer accepted some words; ``command`` is None when they map to no command.

    ``confidence`` is 0..1 and ``audio_end`` is when the words ended in the microphone signal,
    in session seconds, when the backend knows it.
    """

    t: float
    text: str
    command: str | None
    confidence: float | None = None
    audio_end: float | None = None
    type: Literal["heard"] = field(default="heard", init=False)


@dataclass(frozen=True)
class CommandHandled:
    """A command changed the session (pause, resume, skip, repeat, stop, pain), or was ignored."""

    t: float
    command: str
    state: str
    ignored: bool = False
    type: Literal["command"] = field(default="command", init=False)


@dataclass(frozen=True)
class RepDone:
    """One repetition finished, with the seconds actually held (0 for movements without hold)."""

    t: float
    exercise: str
    side: Side | None
    set: int
    rep: int
    hold_seconds: float
    type: Literal["rep"] = field(default="rep", init=False)


@dataclass(frozen=True)
class PainReported:
    """The person rated pain 0-10 (None when no answer came, or for numbness/tingling)."""

    t: float
    exercise: str | None
    side: Side | None
    rep: int
    score: int | None
    symptom: str | None = None
    type: Literal["pain"] = field(default="pain", init=False)


@dataclass(frozen=True)
class DeviceChanged:
    """An audio device was lost mid-session, or came back; ``detail`` says what happened."""

    t: float
    device: DeviceName
    status: Literal["lost", "back"]
    detail: str
    type: Literal["device"] = field(default="device", init=False)


@dataclass(frozen=True)
class BackRating:
    """The end-of-session answer to "on a scale from zero to ten, how is your back now?"."""

    t: float
    score: int
    type: Literal["rating"] = field(default="rating", init=False)


@dataclass(frozen=True)
class SessionEnded:
    """The session is over; ``duration`` is in seconds."""

    t: float
    reason: EndReason
    duration: float
    type: Literal["end"] = field(default="end", init=False)


Event = (
    SessionStarted
    | ResumeAccepted
    | StateChanged
    | SayStarted
    | SayEnded
    | Heard
    | CommandHandled
    | RepDone
    | PainReported
    | BackRating
    | DeviceChanged
    | SessionEnded
)


def to_record(event: Event) -> dict[str, object]:
    """The event as a JSON-ready dict, ``type`` second, every float rounded to milliseconds."""
    record: dict[str, object] = {"t": round(event.t, 3), "type": event.type}
    for key, value in asdict(event).items():
        if key not in ("t", "type"):
            record[key] = round(value, 3) if isinstance(value, float) else value
    return record


class Listener(Protocol):
    """Anything that wants to see the session's events (journal, event log, transcript)."""

    def on_event(self, event: Event) -> None:
        """Receive one event, in order."""
