"""Self-triggering: a whole session with nobody talking, the coach heard back through the room."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from bench import system
from bench.evaluate import COACH_CACHE
from voicecoach.app.recorder import EventRecorder
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.room import Room, RoomMicrophone, RoomSettings, RoomSpeaker
from voicecoach.clock import VirtualClock
from voicecoach.events import Heard, SayEnded, SayStarted
from voicecoach.frames import Samples

if TYPE_CHECKING:
    from voicecoach.speech.backends import Backend


class RoomCost:
    """CPU seconds spent simulating the room: a device's microphone and speaker are hardware,
    so the always-on path's real-time factor leaves them out."""

    def __init__(self) -> None:
        self.cpu_seconds = 0.0

    def add_since(self, started: float) -> None:
        """Count the CPU time from ``started`` (``time.process_time()``) to now."""
        self.cpu_seconds += time.process_time() - started


class _TimedMicrophone(RoomMicrophone):
    def __init__(self, room: Room, until_seconds: float, cost: RoomCost) -> None:
        super().__init__(room, until_seconds)
        self._cost = cost

    def read(self) -> Samples | None:
        started = time.process_time()
        try:
            return super().read()
        finally:
            self._cost.add_since(started)


class _TimedSpeaker(RoomSpeaker):
    def __init__(self, room: Room, cost: RoomCost) -> None:
        super().__init__(room)
        self._cost = cost

    def play(self, frame: Samples) -> None:
        started = time.process_time()
        try:
            super().play(frame)
        finally:
            self._cost.add_since(started)


def timed_ports(room: Room, until_seconds: float) -> tuple[RoomMicrophone, RoomSpeaker, RoomCost]:
    """The room's microphone and speaker, counting the CPU time they take in ``RoomCost``."""
    cost = RoomCost()
    return _TimedMicrophone(room, until_seconds, cost), _TimedSpeaker(room, cost), cost


def coach_seconds(recorder: EventRecorder) -> float:
    """Seconds the coach spent talking: each say to its end or cut-off."""
    total, started = 0.0, None
    for event in recorder.events:
        if isinstance(event, SayStarted):
            started = event.t if started is None else started
        elif isinstance(event, SayEnded) and started is not None:
            total += event.t - started
            started = None
    return total


def run_session(
    backend: str, program: str, echo_gain_db: float, max_seconds: float
) -> dict[str, Any]:
    """One session as ``simulate --audio`` builds it, with no user speech; what it heard."""
    from voicecoach.app.catalogue import resolve_program
    from voicecoach.app.preparation import prepare
    from voicecoach.speech.backends import open_recognizer
    from voicecoach.speech.checkzone import CheckZone
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    prepared = prepare(resolve_program(program), None, dose="base")
    room = Room(RoomSettings(echo_gain_db=echo_gain_db))
    guard = SelfHearingGuard()
    recognizer, _ = open_recognizer(cast("Backend", backend), None, check=CheckZone(), coach=guard)
    recorder = EventRecorder()
    mic, speaker, room_cost = timed_ports(room, max_seconds)
    runner = Runner(
        session=prepared.session,
        clock=VirtualClock(),
        mic=mic,
        speaker=speaker,
        synthesizer=Pyttsx3Synthesizer(cache_dir=Path(COACH_CACHE)),
        recognizer=recognizer,
        listeners=[recorder],
        echo=EchoCanceller(),
        guard=guard,
    )
    started = time.process_time()
    end = runner.run()
    cpu = time.process_time() - started
    heard = [e for e in recorder.events if isinstance(e, Heard) and e.command is not None]
    return {
        "program": program,
        "echo_gain_db": echo_gain_db,
        "end_reason": end.reason,
        "session_seconds": end.duration,
        "coach_seconds": coach_seconds(recorder),
        "self_triggers": [
            {"t": round(e.t, 2), "text": e.text, "command": e.command} for e in heard
        ],
        "discounted_by_guard": guard.discounted,
        "cpu_seconds": cpu,
        "room_cpu_seconds": room_cost.cpu_seconds,
        "peak_rss_mb": system.peak_rss_mb(),
    }
