"""What the recognizer that learned from people costs on one core: the always-on path and each
verification, with an estimate for a Raspberry Pi 4.

python -m bench.whisper_cost [--repeats 5]

- Always on: the segmenter (level gate, background estimate, Silero VAD) over 60 s of a quiet
  room and over 60 s of recorded reading (Debian's pocketsphinx-testdata, looped), as CPU
  seconds per second of audio.
- Each verification: Whisper tiny.en hearing utterances of 0.5 to 4 s, median and worst CPU
  seconds, with numbers asked (the largest closed set) and without.
- The cleaned second hearing in a noisy room: RNNoise over the utterance and the second of room
  before it, CPU seconds (Whisper then hears it once more: one more verification).
- Peak RSS of the process after all of it.

The Pi 4 estimate multiplies by ``PI4_FACTOR``: a Cortex-A72 core at 1.5 GHz runs int8 GEMM and
Silero's small network about 4 times slower than one core of this x86 machine (published
CTranslate2 and whisper.cpp figures put tiny.en at 3 to 5 times; 4 is used, and it is an
estimate, not a measurement on a Pi).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np

from bench import system
from voicecoach.audio.files import read_audio
from voicecoach.frames import RATE_HZ, Samples, split_frames

if TYPE_CHECKING:
    from voicecoach.speech.denoise import Denoiser
    from voicecoach.speech.whisper_verifier import WhisperVerifier

PI4_FACTOR = 4.0
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
UTTERANCE_SECONDS = (0.5, 1.0, 2.0, 4.0)


def _quiet_room(seconds: float) -> Samples:
    noise = np.random.default_rng(0).standard_normal(int(seconds * RATE_HZ))
    return (noise * 10 ** (-66 / 20)).astype(np.float32)


def _reading(seconds: float) -> Samples | None:
    files = sorted(LIBRIVOX.glob("*.wav"))
    if not files:
        return None
    audio = np.concatenate([read_audio(f).samples for f in files])
    return np.resize(audio, int(seconds * RATE_HZ)).astype(np.float32)


def segmenter_rtf(samples: Samples) -> float:
    """CPU seconds per audio second of the always-on path over ``samples``."""
    from voicecoach.speech.vad import Segmenter, silero

    segmenter = Segmenter(silero())
    started = time.process_time()
    for frame in split_frames(samples):
        segmenter.feed(frame)
    return (time.process_time() - started) / (len(samples) / RATE_HZ)


def verification_seconds(
    verifier: WhisperVerifier, repeats: int, numbers: bool
) -> dict[float, list[float]]:
    """CPU seconds of each verification, by utterance length."""
    reading = _reading(10.0)
    source = reading if reading is not None else _quiet_room(10.0)
    out: dict[float, list[float]] = {}
    for seconds in UTTERANCE_SECONDS:
        times = []
        for k in range(repeats):
            start = int(k * 0.37 * RATE_HZ)
            clip = source[start : start + int(seconds * RATE_HZ)]
            began = time.process_time()
            verifier.hear(clip, numbers=numbers, answers=False)
            times.append(time.process_time() - began)
        out[seconds] = times
    return out


def cleaning_seconds(denoiser: Denoiser, repeats: int) -> dict[float, list[float]]:
    """CPU seconds RNNoise takes over each utterance length and the room kept before it."""
    from voicecoach.speech.vad import SegmenterSettings

    room = _quiet_room(SegmenterSettings().room_seconds)
    out: dict[float, list[float]] = {}
    for seconds in UTTERANCE_SECONDS:
        clip = np.concatenate([room, _quiet_room(seconds) * np.float32(100)])
        times = []
        for _ in range(repeats):
            began = time.process_time()
            denoiser(clip)
            times.append(time.process_time() - began)
        out[seconds] = times
    return out


def _print_times(title: str, by_length: dict[float, list[float]]) -> None:
    click.echo(f"{title} (CPU s: median / worst; Pi 4 estimate median):")
    for seconds, times in by_length.items():
        median = statistics.median(times)
        click.echo(
            f"  {seconds:.1f} s utterance: {median:.3f} / {max(times):.3f}"
            f" ({median * PI4_FACTOR:.2f})"
        )


@click.command()
@click.option("--repeats", default=5, show_default=True, help="Verifications per length.")
def main(repeats: int) -> None:
    """Print the always-on cost, the cost of each verification, and the peak memory."""
    quiet = segmenter_rtf(_quiet_room(60.0))
    reading = _reading(60.0)
    talk = segmenter_rtf(reading) if reading is not None else None
    click.echo("always-on path (level gate, background, Silero VAD), CPU s per audio s:")
    click.echo(f"  quiet room {quiet:.4f} (Pi 4 estimate {quiet * PI4_FACTOR:.3f})")
    if talk is not None:
        click.echo(f"  continuous reading {talk:.4f} (Pi 4 estimate {talk * PI4_FACTOR:.3f})")
    from voicecoach.speech.whisper_verifier import WhisperVerifier

    verifier = WhisperVerifier()
    for numbers in (False, True):
        label = "with pain scores asked" if numbers else "commands only"
        _print_times(f"one verification, {label}", verification_seconds(verifier, repeats, numbers))
    from voicecoach.speech.denoise import Denoiser, denoiser_missing

    missing = denoiser_missing()
    if missing is None:
        title = "RNNoise cleaning an utterance and the room before it, in a noisy room"
        _print_times(title, cleaning_seconds(Denoiser(), repeats))
    else:
        click.echo(f"RNNoise not measured: {missing}")
    peak_mb = system.peak_rss_mb()
    click.echo(f"peak RSS {peak_mb:.0f} MB")


if __name__ == "__main__":
    main()
