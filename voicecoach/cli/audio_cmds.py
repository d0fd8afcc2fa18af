"""CLI commands for sound: ``voices``, ``say``, ``warm``, ``record`` and ``devices``.

The speech engine and PortAudio are imported inside the commands, so ``--help`` stays fast and
a missing native library is reported as an error message, not an ImportError.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from voicecoach.app.invocation import voicecoach_command
from voicecoach.cli import main
from voicecoach.cli.options import (
    input_device_option,
    output_device_option,
    rate_option,
    seconds_option,
    volume_option,
)
from voicecoach.columns import table
from voicecoach.errors import AudioDeviceError, UsageError

_SETUP_HELP = (
    "no audio devices found. Connect a USB microphone and speaker and check that the system "
    "sees them (arecord -l, aplay -l); on a desktop, check that PulseAudio or PipeWire runs "
    "(pactl info); on a Raspberry Pi without a desktop, ALSA alone is enough."
)


def _khz(rates_hz: Sequence[int]) -> str:
    return " ".join(f"{rate / 1000:g}k" for rate in rates_hz) or "-"


@main.command("voices")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--language",
    "-l",
    metavar="CODE",
    help="Only voices whose language starts with CODE, e.g. en or en-us.",
)
@click.option("--all", "include_all", is_flag=True, help="Also every other language's voice.")
def voices_command(as_json: bool, language: str | None, include_all: bool) -> None:
    """List the coach's voices (use an ID with --voice): the natural voice, then English."""
    from voicecoach.speech.tts import espeak_variants
    from voicecoach.speech.voices import all_voices

    voices = all_voices(include_all=include_all or language is not None)
    if language:
        prefix = language.casefold()
        voices = [v for v in voices if any(x.casefold().startswith(prefix) for x in v.languages)]
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(v) for v in voices], indent=2))
        return
    rows = [(v.id, ", ".join(v.languages), v.name) for v in voices]
    click.echo(table([("ID", "LANGUAGES", "NAME"), *rows]))
    variants = espeak_variants()
    if variants:
        # Variants multiply every espeak-ng voice; naming a few is enough to find them.
        click.echo(
            f"\nAn espeak-ng voice takes a variant after +, e.g. en-us+f3 "
            f"({len(variants)} variants: {', '.join(variants[:8])}, ...)."
        )
    if not include_all and language is None:
        click.echo("Voices of other languages: voicecoach voices --all")


@main.command("say")
@click.argument("text")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write a 16 kHz mono WAV file instead of playing.",
)
@click.option(
    "--voice",
    help="Voice ID, name or language code (see: voicecoach voices); the natural voice if "
    "installed, else espeak-ng.",
)
@rate_option("rate_wpm")
@click.option(
    "--volume",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="Loudness from 0 (silent) to 1 (full).",
)
@output_device_option
def say_command(
    text: str,
    out: Path | None,
    voice: str | None,
    rate_wpm: int,
    volume: float,
    output_device: str | None,
) -> None:
    """Speak TEXT as the coach would: play it, or write it to a WAV file with --out."""
    from voicecoach.speech.voices import open_synthesizer

    if out is not None and output_device is not None:
        raise UsageError("use either --out or --output-device, not both")
    choice = open_synthesizer(voice, rate_wpm, volume)
    if choice.notice:
        click.echo(f"note: {choice.notice}", err=True)
    with choice.synthesizer as synthesizer:
        samples = synthesizer.render(text)
        described = synthesizer.description
    seconds = len(samples) / 16_000
    if out is not None:
        from voicecoach.audio.files import write_wav

        write_wav(out, samples)
        click.echo(f"wrote {out} ({seconds:.2f} s, 16 kHz mono, {described})")
        return
    from voicecoach.audio.devices import DeviceSpeaker
    from voicecoach.frames import split_frames

    with DeviceSpeaker(output_device) as speaker:
        for frame in split_frames(samples):
            speaker.play(frame)
        label = speaker.label
    click.echo(f"played {seconds:.2f} s on {label} ({described})")


@main.command("warm")
@click.option("--voice", help="The voice the sessions use (see: voicecoach voices).")
@rate_option("rate_wpm")
@volume_option
def warm_command(voice: str | None, rate_wpm: int, volume: float) -> None:
    """Render every program's phrases into the cache, so that sessions start at once."""
    from voicecoach.app.warmup import all_phrases
    from voicecoach.speech.voices import open_synthesizer

    phrases = all_phrases()
    choice = open_synthesizer(voice, rate_wpm, volume)
    if choice.notice:
        click.echo(f"note: {choice.notice}", err=True)
    with choice.synthesizer as synthesizer:
        label = f"preparing {synthesizer.description}"
        with click.progressbar(length=len(phrases), label=label, file=sys.stderr) as bar:
            synthesizer.prerender(phrases, progress=lambda done, total: bar.update(1))
        counts = (synthesizer.renders, synthesizer.disk_hits)
    click.echo(
        f"{len(phrases)} phrases ready in {synthesizer.cache_dir}: "
        f"{counts[0]} rendered, {counts[1]} already there"
    )


@main.command("record")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@seconds_option(default=10.0, help="How long to record.")
@input_device_option
def record_command(out: Path, seconds: float, input_device: str | None) -> None:
    """Record the microphone to OUT, a 16 kHz mono WAV file, to check with `voicecoach detect`.

    Lie where you exercise and say the commands as you would in a session ("stop", "pause",
    "it hurts"), with a few ordinary sentences between them. Ctrl-C stops early and keeps what
    was recorded.
    """
    import numpy as np

    from voicecoach.app.device_checks import level_check, peak_dbfs
    from voicecoach.audio.devices import DeviceMicrophone
    from voicecoach.audio.files import write_wav
    from voicecoach.frames import FRAME_SECONDS, RATE_HZ, Samples, rms_dbfs

    frames: list[Samples] = []
    lost: AudioDeviceError | None = None
    with DeviceMicrophone(input_device) as mic:
        label = mic.label
        count = max(1, round(seconds / FRAME_SECONDS))
        bar = click.progressbar(length=count, label=f"recording from {label}", file=sys.stderr)
        try:
            with bar:
                for _ in range(count):
                    frames.append(mic.read())
                    bar.update(1)
        except KeyboardInterrupt:
            click.echo("stopped early", err=True)
        except AudioDeviceError as err:
            # Keep what was recorded before the device went away.
            lost = err
    if not frames:
        raise lost or AudioDeviceError(f"nothing was recorded from {label}", event=label)
    samples = np.concatenate(frames)
    write_wav(out, samples)
    recorded_seconds = len(samples) / RATE_HZ
    level = level_check(peak_dbfs(samples), rms_dbfs(samples), recorded_seconds, label)
    click.echo(f"wrote {out} ({recorded_seconds:.2f} s, 16 kHz mono)")
    if level.status != "ok":
        click.echo(f"warning: {level.detail}; {level.fix}", err=True)
    if lost is not None:
        raise AudioDeviceError(f"{lost}; the {recorded_seconds:.1f} s before it are in {out}")
    click.echo(f"check it with: {voicecoach_command(f'detect {out}')}")


@main.command("devices")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def devices_command(as_json: bool) -> None:
    """List audio devices and the sample rates each accepts (8 to 48 kHz probed).

    Pass a device's number or part of its name to --output-device (and to the session's
    microphone option). Devices that lack 16 kHz are fine: the program resamples.
    """
    from voicecoach.audio.devices import list_devices

    devices = list_devices()
    if not devices:
        raise AudioDeviceError(_SETUP_HELP)
    if as_json:
        click.echo(json.dumps([dataclasses.asdict(d) for d in devices], indent=2))
        return
    rows = [
        (
            str(d.index),
            d.name
            + (" (default in)" if d.default_input else "")
            + (" (default out)" if d.default_output else ""),
            d.host_api,
            f"{d.input_channels}/{d.output_channels}",
            f"{d.default_rate_hz}",
            _khz(d.input_rates_hz),
            _khz(d.output_rates_hz),
        )
        for d in devices
    ]
    headers = ("#", "NAME", "API", "IN/OUT", "DEFAULT HZ", "INPUT RATES", "OUTPUT RATES")
    click.echo(table([headers, *rows]))
