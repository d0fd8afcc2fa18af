"""A real PulseAudio null sink for device tests; import the fixture with ``as`` to use it.

``from pulse import pulse_sink as pulse_sink`` in a test module makes the session fixture
available. It starts a PulseAudio daemon only when none runs for this user, loads a null sink,
makes it (and its monitor) the default and the target of the ALSA ``pulse`` device, and on
teardown unloads it and stops only a daemon it started itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The PortAudio (ALSA plugin) device that routes to PulseAudio's default sink and source.
PULSE_DEVICE = "pulse"


def _pactl(*args: str, check: bool = True) -> str:
    done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise RuntimeError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


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
        _pactl("suspend-sink", self.sink, "1")
        try:
            yield
        finally:
            _pactl("suspend-sink", self.sink, "0")


def _daemon_running() -> bool:
    return subprocess.run(["pulseaudio", "--check"], check=False, timeout=10).returncode == 0


def _start_daemon() -> None:
    subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1"],
        capture_output=True,
        check=False,
        timeout=20,
    )
    deadline = time.monotonic() + 10.0
    while time.monotonic() < deadline:
        if (
            _daemon_running()
            and subprocess.run(
                ["pactl", "info"], capture_output=True, check=False, timeout=10
            ).returncode
            == 0
        ):
            return
        time.sleep(0.1)
    pytest.skip("PulseAudio did not start (pulseaudio -D --exit-idle-time=-1)")


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
    for line in _pactl("info").splitlines():
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
    previous = (_pactl("get-default-sink", check=False), _pactl("get-default-source", check=False))
    _pactl("set-default-sink", sink)
    _pactl("set-default-source", source)
    try:
        yield
    finally:
        # The old defaults may be gone by now; PulseAudio then picks its own.
        if previous[0]:
            _pactl("set-default-sink", previous[0], check=False)
        if previous[1]:
            _pactl("set-default-source", previous[1], check=False)


@contextmanager
def _keep_running(sink: str) -> Iterator[None]:
    # A null sink left to itself runs on a 2 s timer, and new streams on it stall for up to
    # 2 s at their start (measured); a low-latency stream of silence keeps it ticking at 10 ms.
    keeper = subprocess.Popen(
        ["pacat", "--playback", f"--device={sink}", "--latency-msec=10", "--raw", "/dev/zero"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield
    finally:
        keeper.terminate()
        keeper.wait(timeout=10)


@pytest.fixture(scope="session")
def pulse_sink() -> Iterator[PulseSink]:
    """A PulseAudio null sink as default sink, its monitor as default source."""
    missing = [tool for tool in ("pulseaudio", "pactl", "pacat") if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"needs PulseAudio ({', '.join(missing)} not found): "
            "apt-get install pulseaudio pulseaudio-utils"
        )
    started = not _daemon_running()
    if started:
        _start_daemon()
    name = f"voicecoach_test_{os.getpid()}"
    module = _pactl(
        "load-module",
        "module-null-sink",
        f"sink_name={name}",
        f"sink_properties=device.description={name}",
    )
    sink = PulseSink(sink=name, source=f"{name}.monitor", module=module)
    try:
        # The environment routes this process's ALSA "pulse" streams to our sink even if
        # another program changes the server's defaults meanwhile.
        with (
            _environment(**_client_environment(sink)),
            _defaults(sink.sink, sink.source),
            _keep_running(sink.sink),
        ):
            _refresh_portaudio()
            yield sink
    finally:
        _pactl("unload-module", module, check=False)
        if started:
            subprocess.run(["pulseaudio", "--kill"], check=False, timeout=20)
