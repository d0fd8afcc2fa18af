"""``voicecoach detect``: which commands a recognizer hears in recordings."""

from __future__ import annotations

import json
from pathlib import Path

import click

from voicecoach.cli import main
from voicecoach.cli.options import recognizer_options
from voicecoach.errors import AudioFileError
from voicecoach.speech.backends import Backend, open_recognizer
from voicecoach.speech.detect import Detection, Detector


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@recognizer_options
@click.option(
    "--numbers",
    is_flag=True,
    help="Also listen for pain scores zero to ten, and numb or tingling.",
)
@click.option(
    "--answers",
    is_flag=True,
    help='Also listen for "yes" and "start over", which a session hears only while it asks '
    "whether to carry on where you left off.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per accepted command.")
def detect(
    files: tuple[Path, ...],
    backend: Backend,
    model: Path | None,
    numbers: bool,
    answers: bool,
    as_json: bool,
) -> None:
    """List the commands heard in WAV or FLAC recordings, as fast as the CPU allows.

    This is also the way to test your microphone and your voice: record yourself saying
    "stop", "pause", "it hurts" and a few ordinary sentences (for example with
    `voicecoach record`, or any recorder at 16 kHz or more), then run `voicecoach detect` on the
    file. Each command should show up once, at about the time you said it, and the ordinary
    sentences should show nothing.

    With --json each accepted command is one line {"file", "command", "text", "time"}, where
    time is the position in seconds at which the command was accepted. A file that cannot be
    read is reported on stderr, the other files are still checked, and the exit status is 1.
    """
    recognizer, description = open_recognizer(backend, model, personal=True)
    failed = False
    with recognizer:
        detector = Detector(recognizer, numbers=numbers, answers=answers)
        if not as_json:
            click.echo(f"listening with {description}")
        for path in files:
            try:
                found = detector.detect(path)
            except AudioFileError as err:
                click.echo(f"error: {err}", err=True)
                failed = True
                continue
            for line in _render(path, found, as_json):
                click.echo(line)
    if failed:
        click.get_current_context().exit(1)


def _render(path: Path, detections: list[Detection], as_json: bool) -> list[str]:
    if as_json:
        return [json.dumps(d.as_json()) for d in detections]
    if not detections:
        return [f"{path}: no command heard"]
    lines = [f"{path}:"]
    for d in detections:
        heard = f"{d.command} {d.value}" if d.value is not None else d.command
        lines.append(f"  {d.time_seconds:7.2f} s  {heard:<12} heard {d.text!r}")
    return lines
