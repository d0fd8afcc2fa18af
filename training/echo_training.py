"""Training clips said over the coach: through the simulated room and the product's canceller.

The network otherwise learns from clips in a quiet or noisy room, yet in a session the person
speaks while the coach talks, and what reaches the recognizer is the canceller's output: the
person plus what is left of the coach. Here clean training clips are said over the coach with
the bench's own echo stream (``bench.evaluate.EchoStream``) and the cleaned audio is embedded.

The coach reads the cues of every program except the default one: the bench's echo condition
and its self-trigger measurement play the default program, so those stay unseen. Used by
``python -m training.train_commands --over-coach``; the shipped network was trained without it
(bench/README.md, "Learning from clips said over the coach").
"""

from __future__ import annotations

import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import click
import numpy as np

from bench import corpus
from bench.evaluate import ECHO_LEAD_SECONDS, BenchClip, Counting, EchoStream, coach_utterances
from voicecoach.commands import Command
from voicecoach.frames import FRAME_SECONDS, Samples
from voicecoach.ports import Hit, Unmanaged
from voicecoach.speech.embedding import SpeechEmbedder

#: Echo levels the clips are said over, by turns from batch to batch: the room's default and a
#: speaker as loud at the microphone as it is played.
ECHO_GAINS_DB = (-6.0, 0.0)
#: Echo levels at which commands are learned. Over a coach as loud as the person, many words
#: are lost under what the canceller leaves, and learning them as commands anyway made the
#: network fire on less: its recall fell on clean and on echo clips alike (bench/README.md).
COMMAND_GAINS_DB = (-6.0,)
#: The built-in programs whose cues the coach says in training: all but the default one.
COACH_PROGRAMS = ("spine-stabilise", "strength", "three-for-chronic-pain")
#: Cleaned audio kept before each clip, so the network's whole window holds real audio.
CONTEXT_SECONDS = 2.5
#: Clips in one echo stream (one canceller, as in a session); also the unit of caching.
BATCH_CLIPS = 40


class _Tap(Unmanaged):
    """A stand-in recognizer that keeps every cleaned frame the echo stream feeds it."""

    name = "tap"

    def __init__(self) -> None:
        self.frames: list[Samples] = []

    def feed(self, frame: Samples) -> list[Hit]:
        """Keep the frame; hear nothing."""
        self.frames.append(frame.copy())
        return []

    def reset(self) -> None:
        """Nothing to forget."""

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """What is listened for makes no difference to a tap."""


def chosen(clips: list[corpus.Clip]) -> list[corpus.Clip]:
    """Half of the clean clips, picked by hash; the start phrase is never said over the coach."""
    return [
        c
        for c in clips
        if c.condition == "clean"
        and not (c.utterance.expected is not None and c.utterance.expected.command == Command.START)
        and int(corpus._hash("echo", c.speech_key)[:4], 16) % 2 == 0  # noqa: SLF001
    ]


def _cache_path(clips: list[corpus.Clip], gain_db: float, version: int) -> Path:
    key = corpus._hash(version, gain_db, COACH_PROGRAMS, *(c.speech_key for c in clips))  # noqa: SLF001
    return corpus.CORPUS_DIR / "embeddings" / f"echo-{key}.npz"


def _embed_batch(job: tuple[list[corpus.Clip], float, int]) -> int:
    clips, gain_db, version = job
    path = _cache_path(clips, gain_db, version)
    if path.exists():
        return len(clips)
    tap = _Tap()
    stream = EchoStream(Counting(tap), coach_utterances(COACH_PROGRAMS), gain_db)
    embedder = SpeechEmbedder()
    context = int(CONTEXT_SECONDS / FRAME_SECONDS)
    arrays: dict[str, Any] = {}
    for k, clip in enumerate(clips):
        before = len(tap.frames)
        stream.run(BenchClip(clip, f"echo{gain_db:g}"))
        first = max(0, before - context)
        embedder.reset()
        arrays[f"e{k}"] = embedder.feed(np.concatenate(tap.frames[first:])).astype(np.float16)
        arrays[f"lead{k}"] = np.array((before - first) * FRAME_SECONDS + ECHO_LEAD_SECONDS)
        tap.frames = tap.frames[-context:]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
    return len(clips)


def batches(clips: list[corpus.Clip]) -> list[tuple[list[corpus.Clip], float]]:
    """The chosen clips in streams of ``BATCH_CLIPS``, each at its echo level."""
    picked = chosen(clips)
    groups = [picked[k : k + BATCH_CLIPS] for k in range(0, len(picked), BATCH_CLIPS)]
    return [(g, ECHO_GAINS_DB[k % len(ECHO_GAINS_DB)]) for k, g in enumerate(groups)]


def embed_all(clips: list[corpus.Clip], version: int, jobs: int) -> None:
    """Compute (or find cached) the embeddings of the chosen clips said over the coach."""
    coach_utterances(COACH_PROGRAMS)  # render the coach once, before the workers read it
    todo = [(g, gain, version) for g, gain in batches(clips)]
    todo = [job for job in todo if not _cache_path(*job).exists()]
    with (
        # Spawned, not forked: this process has started the speech engine, whose state and
        # locks a forked child would inherit mid-use and hang on.
        ProcessPoolExecutor(max(1, jobs), mp_context=multiprocessing.get_context("spawn")) as pool,
        click.progressbar(
            length=sum(len(j[0]) for j in todo), label="over the coach", file=sys.stderr
        ) as bar,
    ):
        for done in pool.map(_embed_batch, todo):
            bar.update(done)


def load(clips: list[corpus.Clip], version: int) -> list[tuple[corpus.Clip, np.ndarray, float]]:
    """(clip, embeddings, seconds from the slice's start to the clip's start) for each one
    that is learned from: every clip said over the coach at ``COMMAND_GAINS_DB``, and at a
    louder echo only the clips that hold no command."""
    out = []
    for group, gain in batches(clips):
        with np.load(_cache_path(group, gain, version)) as data:
            out += [
                (clip, data[f"e{k}"].astype(np.float32), float(data[f"lead{k}"]))
                for k, clip in enumerate(group)
                if gain in COMMAND_GAINS_DB or clip.utterance.expected is None
            ]
    return out
