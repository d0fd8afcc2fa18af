"""Peak memory of a live session: ``voicecoach run`` on a PulseAudio null sink, in real time.

python -m bench.live_memory [--seconds 90] [--voice espeak --voice piper]

Each voice runs twice on one phrase cache: cold (every phrase rendered first) and warm (the
cache the cold run filled, as every later session runs). Each run listens for ``--seconds``
with nobody talking, so Whisper hears what the echo canceller leaves of the coach, and is then
ended as Ctrl-C would end it. The figures are the session process's own peak RSS (VmHWM), and
the largest of it and the processes it started (``wait4``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from bench import system
from bench.startup import null_sink_env

PROGRAM = "gentle-start"


def _own_peak_mb(pid: int) -> float:
    """The process's own peak RSS so far (VmHWM), without its children's."""
    try:
        return system.peak_rss_mb(pid)
    except OSError as err:
        raise click.ClickException(str(err)) from err


def peak_rss_mb(
    env: dict[str, str], voice: str, cache_dir: Path, seconds: float
) -> tuple[float, float]:
    """Peak RSS in MB of one ``voicecoach run`` ended after ``seconds``: the session process's
    own, and the largest of it and the processes it started (the natural voice renders a cold
    cache in a child process)."""
    with tempfile.TemporaryDirectory(prefix="voicecoach-bench-mem-") as tmp:
        cmd = [
            sys.executable, "-m", "voicecoach", "run", PROGRAM,
            "--input-device", "pulse", "--output-device", "pulse",
            "--no-journal", "--no-resume", "--dose", "base", "--voice", voice,
        ]  # fmt: skip
        run_env = {**env, "VOICECOACH_CACHE_DIR": str(cache_dir), "XDG_DATA_HOME": tmp}
        proc = subprocess.Popen(
            cmd, env=run_env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(seconds)
        own = _own_peak_mb(proc.pid)
        proc.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(proc.pid, 0)
        proc.returncode = 0  # reaped here; stops Popen from waiting on it again
        # wait4 gives the larger of the process's own peak and its waited-for children's.
        return own, usage.ru_maxrss / 1024.0


@click.command()
@click.option("--seconds", default=90.0, show_default=True, help="How long each run listens.")
@click.option(
    "--voice", "voices", multiple=True, default=("espeak", "piper"), show_default=True,
    help="TTS voices to measure (repeatable).",
)  # fmt: skip
def main(seconds: float, voices: tuple[str, ...]) -> None:
    """Print each voice's cold and warm peak RSS of a live session."""
    with null_sink_env() as env:
        for voice in voices:
            with tempfile.TemporaryDirectory(prefix="voicecoach-tts-") as cache:
                cold, cold_tree = peak_rss_mb(env, voice, Path(cache), seconds)
                warm, warm_tree = peak_rss_mb(env, voice, Path(cache), seconds)
            click.echo(
                f"{voice}: session peak RSS {cold:.0f} MB cold cache, {warm:.0f} MB warm; "
                f"with its child processes {cold_tree:.0f} / {warm_tree:.0f} MB"
            )


if __name__ == "__main__":
    main()
