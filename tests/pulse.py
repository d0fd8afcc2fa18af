"""A real PulseAudio null sink for device tests; import the fixture with ``as`` to use it.

``from pulse import pulse_sink as pulse_sink`` in a test module makes the session fixture
available. It starts a PulseAudio daemon only when none runs for this user, loads a null sink,
makes it (and its monitor) the default and the target of the ALSA ``pulse`` device, and on
teardown unloads it and stops only a daemon it started itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.nullsink import NullSinkError, null_sink, pactl, unique_name

#: The PortAudio (ALSA plugin) device that routes to PulseAudio's default sink and source.
PULSE_DEVICE = "pulse"


@dataclass(frozen=True)
class PulseSink:
    """A null sink loaded for the test session; its monitor source hears what it plays."""

    sink: str
    source: str
    module: str
    device: str = PULSE_DEVICE

    @contextmanager
    def suspended(self) -> Iterator[None]:
        """Suspend the sink, as if the device were unplugged; streams on it stop moving."""
        pactl("suspend-sink", self.sink, "1")
        try:
            yield
        finally:
            pactl("suspend-sink", self.sink, "0")


def _refresh_portaudio() -> None:
    # PortAudio lists devices once, when sounddevice is imported; the ALSA "pulse" device is
    # only listed if the server could be reached then, so list again now that it can.
    sounddevice = sys.modules.get("sounddevice")
    if sounddevice is not None and hasattr(sounddevice, "_terminate"):
        sounddevice._terminate()
        sounddevice._initialize()


def _client_environment(sink: PulseSink) -> dict[str, str]:
    """Variables that lead PulseAudio clients in this process to this server and sink.

    Tests move XDG_CONFIG_HOME and XDG_RUNTIME_DIR to private folders, where libpulse would
    no longer find the server's socket or cookie, so both are named outright.
    """
    values = {"PULSE_SINK": sink.sink, "PULSE_SOURCE": sink.source}
    for line in pactl("info").splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "Server String" and value.strip().startswith("/"):
            values["PULSE_SERVER"] = f"unix:{value.strip()}"
    config = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    for cookie in (config / "pulse" / "cookie", Path.home() / ".pulse-cookie"):
        if "PULSE_COOKIE" not in os.environ and cookie.is_file():
            values["PULSE_COOKIE"] = str(cookie)
            break
    return values


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextmanager
def _defaults(sink: str, source: str) -> Iterator[None]:
    previous = (pactl("get-default-sink", check=False), pactl("get-default-source", check=False))
    pactl("set-default-sink", sink)
    pactl("set-default-source", source)
    try:
        yield
    finally:
        # The old defaults may be gone by now; PulseAudio then picks its own.
        if previous[0]:
            pactl("set-default-sink", previous[0], check=False)
        if previous[1]:
            pactl("set-default-source", previous[1], check=False)


@pytest.fixture(scope="session")
def pulse_sink() -> Iterator[PulseSink]:
    """A PulseAudio null sink as default sink, its monitor as default source."""
    try:
        with null_sink(unique_name("voicecoach_test")) as loaded:
            sink = PulseSink(sink=loaded.sink, source=loaded.source, module=loaded.module)
            # The environment routes this process's ALSA "pulse" streams to our sink even if
            # another program changes the server's defaults meanwhile.
            with _environment(**_client_environment(sink)), _defaults(sink.sink, sink.source):
                _refresh_portaudio()
                yield sink
    except NullSinkError as err:
        pytest.skip(str(err))
