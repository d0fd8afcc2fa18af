"""A live session on real devices: opening them with clear errors, keys, and clean signals."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click

from voicecoach.errors import AudioDeviceError
from voicecoach.events import SessionEnded
from voicecoach.invocation import voicecoach_command
from voicecoach.keys import HELP, KeyReader
from voicecoach.runner import Runner

_LOGGER = logging.getLogger(__name__)


def no_device_hint() -> str:
    """What to do when an audio device cannot be opened."""
    return (
        f"Run `{voicecoach_command('devices')}` to see the audio devices and pick one with "
        "--input-device and --output-device, or try a session without audio with "
        f"`{voicecoach_command('simulate')}`."
    )


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Turn SIGTERM (systemd stop, kill) into KeyboardInterrupt so the session ends cleanly."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def open_devices(input_device: str | None, output_device: str | None) -> tuple[Any, Any]:
    """The microphone and speaker, or an error that names what is missing and what to do."""
    from voicecoach.audio.devices import DeviceMicrophone, DeviceSpeaker, find_device

    try:
        find_device(input_device, "input")
        find_device(output_device, "output")
    except AudioDeviceError as err:
        raise AudioDeviceError(f"{err}\n{no_device_hint()}", event=err.event) from err
    return DeviceMicrophone(input_device), DeviceSpeaker(output_device)


def run_live(
    parts: dict[str, Any], input_device: str | None, output_device: str | None, backend: str
) -> SessionEnded:
    """Pre-render every phrase, open the devices, and run the session with a live view."""
    from voicecoach.liveview import LiveView

    synthesizer = parts["synthesizer"]
    mic, speaker = open_devices(input_device, output_device)
    view = LiveView(parts["session"].plan, backend=backend)
    parts = {**parts, "listeners": [*parts["listeners"], view]}
    runner = Runner(
        mic=mic, speaker=speaker, keys=KeyReader(), level_listener=view.on_level, **parts
    )
    phrases = runner.phrases()
    # Rendering ahead means no cue or count is ever late; the cache makes later starts fast.
    with (
        synthesizer,
        click.progressbar(
            length=len(phrases), label="preparing the coach's voice", file=sys.stderr
        ) as bar,
    ):
        synthesizer.prerender(phrases, progress=lambda done, total: bar.update(1))
    if sys.stdin.isatty():
        click.echo(HELP, err=True)
    with sigterm_as_interrupt(), view:
        return runner.run()
