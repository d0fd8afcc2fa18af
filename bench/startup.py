"""Time from ``voicecoach run`` to the coach's first word, on a PulseAudio null sink."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import nullsink

#: Give up on a start after this long, in seconds.
TIMEOUT_SECONDS = 180.0
#: How often the event log is checked for the first ``say``, in seconds.
POLL_SECONDS = 0.01


@contextmanager
def null_sink_env() -> Iterator[dict[str, str]]:
    """A PulseAudio null sink; yields the environment that routes a client to it."""
    with nullsink.null_sink(nullsink.unique_name("voicecoach_bench")) as sink:
        yield {**os.environ, "PULSE_SINK": sink.sink, "PULSE_SOURCE": sink.source}


def _first_say(log: Path) -> bool:
    if not log.exists():
        return False
    for line in log.read_text(encoding="utf-8").splitlines():
        try:
            if json.loads(line).get("type") == "say":
                return True
        except json.JSONDecodeError:
            continue  # the line is still being written
    return False


def time_to_first_word(env: dict[str, str], cache_dir: Path, backend: str) -> float:
    """Seconds from starting ``voicecoach run`` until its first ``say`` event is logged."""
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-run-") as tmp:
        log = Path(tmp) / "events.jsonl"
        cmd = [
            sys.executable,
            "-m",
            "voicecoach",
            "run",
            "--input-device",
            "pulse",
            "--output-device",
            "pulse",
            "--no-journal",
            "--backend",
            backend,
            "--log",
            str(log),
        ]
        run_env = {**env, "VOICECOACH_CACHE_DIR": str(cache_dir), "XDG_DATA_HOME": tmp}
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd,
            env=run_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while not _first_say(log):
                if proc.poll() is not None:
                    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                    raise RuntimeError(f"voicecoach run exited early: {err.strip()[-300:]}")
                if time.perf_counter() - started > TIMEOUT_SECONDS:
                    raise RuntimeError(f"no spoken word within {TIMEOUT_SECONDS:.0f} s")
                time.sleep(POLL_SECONDS)
            return time.perf_counter() - started
        finally:
            _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        # SIGTERM ends a live session cleanly, as Ctrl-C does.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def measure(backend: str) -> dict[str, Any]:
    """Cold (empty TTS cache) then warm (the cache the cold start filled) start times."""
    try:
        with null_sink_env() as env, tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as cache:
            cold = time_to_first_word(env, Path(cache), backend)
            warm = [time_to_first_word(env, Path(cache), backend) for _ in range(3)]
    except (RuntimeError, OSError, subprocess.SubprocessError) as err:
        return {"measured": False, "reason": str(err)}
    # The median of three warm starts: one start can catch the other jobs on this machine.
    return {
        "measured": True,
        "cold_seconds": cold,
        "warm_seconds": sorted(warm)[1],
        "warm_runs": warm,
    }
