"""A PulseAudio null sink: a real speaker-to-microphone loop on a machine with no sound card.

What the sink plays comes back on its ``.monitor`` source, so the tests and the bench can run
real sounddevice streams end to end. A daemon is started only when none runs for this user,
and only a daemon started here is stopped again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Tools the loop needs, all from Debian's pulseaudio and pulseaudio-utils.
TOOLS = ("pulseaudio", "pactl", "pacat")
#: How long a newly started daemon gets to answer, in seconds.
START_TIMEOUT_SECONDS = 10.0


class NullSinkError(RuntimeError):
    """PulseAudio is missing or would not start or load the sink."""


@dataclass(frozen=True)
class NullSink:
    """A loaded null sink; its monitor source hears what it plays."""

    sink: str
    source: str
    module: str


def pactl(*args: str, check: bool = True) -> str:
    """Run ``pactl``; its output, or NullSinkError when ``check`` and it fails."""
    done = subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=10, check=False)
    if check and done.returncode != 0:
        raise NullSinkError(f"pactl {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout.strip()


def _daemon_running() -> bool:
    return subprocess.run(["pulseaudio", "--check"], check=False, timeout=10).returncode == 0


def _start_daemon() -> None:
    subprocess.run(
        ["pulseaudio", "-D", "--exit-idle-time=-1"], capture_output=True, check=False, timeout=20
    )
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if _daemon_running() and pactl("info", check=False):
            return
        time.sleep(0.1)
    raise NullSinkError("PulseAudio did not start (pulseaudio -D --exit-idle-time=-1)")


@contextmanager
def null_sink(name: str) -> Iterator[NullSink]:
    """A null sink called ``name``, kept ticking, removed again afterwards."""
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        raise NullSinkError(
            f"needs PulseAudio ({', '.join(missing)} not found): "
            "apt-get install pulseaudio pulseaudio-utils"
        )
    started = not _daemon_running()
    if started:
        _start_daemon()
    try:
        module = pactl(
            "load-module",
            "module-null-sink",
            f"sink_name={name}",
            f"sink_properties=device.description={name}",
        )
        try:
            with _keep_running(name):
                yield NullSink(sink=name, source=f"{name}.monitor", module=module)
        finally:
            pactl("unload-module", module, check=False)
    finally:
        if started:
            subprocess.run(["pulseaudio", "--kill"], check=False, timeout=20)


def unique_name(prefix: str) -> str:
    """A sink name no other process of this user is using."""
    return f"{prefix}_{os.getpid()}"


@contextmanager
def _keep_running(sink: str) -> Iterator[None]:
    # A null sink left to itself runs on a 2 s timer, and new streams on it stall for up to
    # 2 s at their start (measured); a low-latency stream of silence keeps it ticking at 10 ms,
    # as a real device would.
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
