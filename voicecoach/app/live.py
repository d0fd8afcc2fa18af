"""A live session on real devices: opening them with clear errors, keys, and clean signals."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING

import click

from voicecoach.app.invocation import voicecoach_command
from voicecoach.app.keys import HELP, KeyReader
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.clock import MonotonicClock
from voicecoach.errors import AudioDeviceError
from voicecoach.events import Listener, SessionEnded
from voicecoach.ports import Microphone, Recognizer, Speaker, Synthesizer
from voicecoach.session import Session

if TYPE_CHECKING:
    from voicecoach.app.liveview import LiveView

_LOGGER = logging.getLogger(__name__)


def no_device_hint() -> str:
    """What to do when an audio device cannot be opened."""
    return (
        f"Run `{voicecoach_command('devices')}` to see the audio devices and pick one with "
        "--input-device and --output-device, or try a session without audio with "
        f"`{voicecoach_command('simulate')}`."
    )


@contextmanager
def stop_signals_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (systemd stop, kill) and SIGINT into KeyboardInterrupt so the session ends
    cleanly, also when started from a script that ignores SIGINT (a shell starts background
    jobs that way, and Python then leaves Ctrl-C and `kill -INT` ignored)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous_term = signal.signal(signal.SIGTERM, handler)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)


def open_devices(input_device: str | None, output_device: str | None) -> tuple[Microphone, Speaker]:
    """The microphone and speaker, or an error that names what is missing and what to do."""
    from voicecoach.audio.devices import DeviceMicrophone, DeviceSpeaker, find_device

    try:
        find_device(input_device, "input")
        find_device(output_device, "output")
    except AudioDeviceError as err:
        raise AudioDeviceError(f"{err}\n{no_device_hint()}", event=err.event) from err
    return DeviceMicrophone(input_device), DeviceSpeaker(output_device)


def build_runner(
    *,
    session: Session,
    synthesizer: Synthesizer,
    recognizer: Recognizer,
    listeners: Sequence[Listener],
    mic: Microphone,
    speaker: Speaker,
    view: LiveView,
    guard: SelfHearingGuard,
) -> Runner:
    """The runner of a live session: real time, echo cancelling, keys and the live view."""
    return Runner(
        session=session,
        clock=MonotonicClock(),
        mic=mic,
        speaker=speaker,
        synthesizer=synthesizer,
        recognizer=recognizer,
        listeners=[*listeners, view],
        echo=EchoCanceller(),
        guard=guard,
        keys=KeyReader(),
        level_listener=view.on_level,
    )


def run_live(
    *,
    session: Session,
    synthesizer: Synthesizer,
    recognizer: Recognizer,
    listeners: Sequence[Listener],
    input_device: str | None,
    output_device: str | None,
    backend: str,
    guard: SelfHearingGuard,
) -> SessionEnded:
    """Open the devices, render every phrase ahead, and run the session with a live view.

    ``guard`` knows what the coach said and when; the recognizer may share it (``CoachVoice``).
    """
    from voicecoach.app.liveview import LiveView

    mic, speaker = open_devices(input_device, output_device)
    view = LiveView(session.plan, backend=backend)
    runner = build_runner(
        session=session,
        synthesizer=synthesizer,
        recognizer=recognizer,
        listeners=listeners,
        mic=mic,
        speaker=speaker,
        view=view,
        guard=guard,
    )
    # The cache makes later starts fast; the bar shows the first one is not stuck.
    with (
        synthesizer,
        click.progressbar(
            length=len(runner.phrases()), label="preparing the coach's voice", file=sys.stderr
        ) as bar,
    ):
        runner.prerender(progress=lambda done, total: bar.update(1))
    if sys.stdin.isatty():
        click.echo(HELP, err=True)
    with stop_signals_as_interrupt(), view:
        return runner.run()
