"""Rendering the natural voice's phrases in a child process, into the shared phrase cache.

Piper's inference holds a few hundred megabytes while it renders, and glibc keeps much of it
after the model is let go: a live session that rendered its phrases cold peaked at 635 MB, and
the listener that runs for the rest of the session needs only a third of that. A child process
renders the missing phrases into the disk cache and gives every byte back when it ends; the
session then reads the phrases from the cache as on any warm start.
"""

from __future__ import annotations

import logging
import multiprocessing
import queue
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from voicecoach.errors import SpeechError

if TYPE_CHECKING:
    from voicecoach.speech.piper_voice import VoiceFiles

_LOGGER = logging.getLogger(__name__)
#: How often the parent looks whether the child is still alive while it waits, in seconds.
_POLL_SECONDS = 0.5
#: What the child sends after its last phrase, or before its error message.
_DONE, _FAILED = "\x00done", "\x00failed"


@dataclass(frozen=True)
class RenderJob:
    """What the child needs to render exactly as the parent would: voice, rate, volume, cache."""

    files: VoiceFiles
    rate_wpm: int
    volume: float
    cache_dir: Path
    phrases: tuple[str, ...]


def render_apart(job: RenderJob) -> Iterator[str]:
    """Render ``job.phrases`` into the cache in a child process, yielding each one as it is
    done; a SpeechError names what went wrong in the child. Interrupted, the child is ended."""
    context = multiprocessing.get_context("spawn")
    done: multiprocessing.Queue[str] = context.Queue()
    child = context.Process(target=_render, args=(job, done), name="voicecoach-render")
    child.start()
    try:
        yield from _follow(child, done)
    finally:
        if child.is_alive():
            child.terminate()
        child.join()


def _follow(
    child: multiprocessing.process.BaseProcess, done: multiprocessing.Queue[str]
) -> Iterator[str]:
    """The phrases the child reports, until it says it is done or fails."""
    while True:
        try:
            message = done.get(timeout=_POLL_SECONDS)
        except queue.Empty:
            if not child.is_alive():
                raise SpeechError(
                    f"rendering the natural voice stopped (exit code {child.exitcode})"
                ) from None
            continue
        if message == _DONE:
            return
        if message.startswith(_FAILED):
            raise SpeechError(message.removeprefix(_FAILED))
        yield message


def _render(job: RenderJob, done: multiprocessing.Queue[str]) -> None:
    """The child's work: each phrase through a synthesizer of its own, into the cache."""
    from voicecoach.speech.piper_voice import PiperSynthesizer

    try:
        with PiperSynthesizer(job.files, job.rate_wpm, job.volume, job.cache_dir) as synth:
            for phrase in job.phrases:
                synth.render(phrase)
                done.put(phrase)
    except (SpeechError, OSError, ValueError) as err:
        done.put(f"{_FAILED}{err}")
    except KeyboardInterrupt:
        return  # the parent was interrupted too, and ends the wait itself
    else:
        done.put(_DONE)
