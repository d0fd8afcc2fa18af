"""Rendering the natural voice's phrases in a child process, into the shared phrase cache.

Piper's inference holds a few hundred megabytes while it renders, and glibc keeps much of it
after the model is let go: a live session that rendered its phrases cold peaked at 635 MB, and
the listener that runs for the rest of the session needs only a third of that. A child process
(``python -m voicecoach.speech.render_apart``, the job as JSON on its standard input) renders
the missing phrases into the disk cache, writes one JSON line per phrase done, and gives every
byte back when it ends; the session then reads the phrases from the cache as on a warm start.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from voicecoach.errors import SpeechError

if TYPE_CHECKING:
    from voicecoach.speech.piper_voice import VoiceFiles

#: Seconds the child has to end after the parent stops waiting for it.
_END_SECONDS = 5.0


@dataclass(frozen=True)
class RenderJob:
    """What the child needs to render exactly as the parent would: voice, rate, volume, cache."""

    files: VoiceFiles
    rate_wpm: int
    volume: float
    cache_dir: Path
    phrases: tuple[str, ...]

    def to_json(self) -> str:
        """The job as one JSON document (paths as strings)."""
        return json.dumps(asdict(self), default=str)


def render_apart(job: RenderJob) -> Iterator[str]:
    """Render ``job.phrases`` into the cache in a child process, yielding each one as it is
    done; a SpeechError says why the child stopped. Interrupted, the child is ended."""
    try:
        child = subprocess.Popen(
            [sys.executable, "-m", __name__],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8",
        )  # fmt: skip
    except OSError as err:
        raise SpeechError(f"cannot start a process to render the natural voice: {err}") from err
    assert child.stdin is not None
    assert child.stdout is not None
    try:
        child.stdin.write(job.to_json())
        child.stdin.close()
        yield from _follow(child.stdout)
        if child.wait() != 0:
            raise SpeechError(f"rendering the natural voice stopped (exit code {child.returncode})")
    except BrokenPipeError as err:
        raise SpeechError(f"rendering the natural voice stopped before it began: {err}") from err
    finally:
        if child.poll() is None:
            child.terminate()
            try:
                child.wait(_END_SECONDS)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        child.stdout.close()


def _follow(lines: IO[str]) -> Iterator[str]:
    """The phrases the child reports, until its output ends; its error as a SpeechError."""
    for line in lines:
        try:
            message = json.loads(line)
        except ValueError:
            continue  # not the child's report: something it loaded printed to stdout
        if not isinstance(message, dict):
            continue
        if "error" in message:
            raise SpeechError(str(message["error"]))
        if "done" in message:
            yield str(message["done"])


def _job(raw: dict[str, Any]) -> RenderJob:
    """A job read back from JSON."""
    from voicecoach.speech.piper_voice import VoiceFiles

    files = raw["files"]
    return RenderJob(
        VoiceFiles(files["id"], Path(files["model_path"]), Path(files["config_path"]),
                   files["version"]),
        int(raw["rate_wpm"]), float(raw["volume"]), Path(raw["cache_dir"]),
        tuple(raw["phrases"]),
    )  # fmt: skip


def main() -> int:
    """The child: read the job, render each phrase into the cache, report each one done."""
    from voicecoach.speech.piper_voice import PiperSynthesizer

    try:
        job = _job(json.loads(sys.stdin.read()))
        with PiperSynthesizer(job.files, job.rate_wpm, job.volume, job.cache_dir) as synth:
            for phrase in job.phrases:
                synth.render(phrase)
                print(json.dumps({"done": phrase}), flush=True)
    except KeyboardInterrupt:
        return 130  # the parent was interrupted too, and ends the wait itself
    except Exception as err:  # noqa: BLE001 - a process boundary: every failure is reported
        print(json.dumps({"error": str(err)}), flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
