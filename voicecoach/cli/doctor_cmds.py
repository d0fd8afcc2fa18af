"""CLI command: ``voicecoach doctor`` checks every part a session needs and prints the fixes.

The checks live in ``voicecoach.app.doctor`` and are imported inside the command, so ``--help``
stays fast and loads no audio or speech library.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from voicecoach.cli import main
from voicecoach.cli.options import (
    audio_options,
    journal_option,
    recognizer_options,
    seconds_option,
)

if TYPE_CHECKING:
    from voicecoach.speech.backends import Backend


@main.command("doctor")
@audio_options
@recognizer_options
@journal_option("Journal file to check (SQLite). Default: in the user data folder.")
@seconds_option(default=3.0, help="Length of the microphone level check, in seconds.")
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON objects.")
def doctor_command(
    input_device: str | None,
    output_device: str | None,
    backend: str,
    model: Path | None,
    journal_path: Path | None,
    seconds: float,
    as_json: bool,
) -> None:
    """Check the speech engine, sound devices, recognizer, journal and microphone level.

    Each problem comes with a fix. The microphone is recorded for --seconds: speak at your
    normal volume from where you exercise. Exits 1 when something would stop a session from
    running; warnings alone exit 0.
    """
    from voicecoach.app.doctor import (
        DoctorOptions,
        can_encode,
        exit_code,
        format_report,
        run_checks,
        to_json,
    )

    options = DoctorOptions(
        input_device=input_device,
        output_device=output_device,
        backend=cast("Backend", backend),  # click.Choice allows only the backend names
        model=model,
        journal_path=journal_path,
        level_seconds=seconds,
    )
    checks = run_checks(options, announce=lambda text: click.echo(f"... {text}", err=True))
    if as_json:
        click.echo(to_json(checks))
    else:
        # A C locale or a pipe with an ASCII encoding gets plain marks instead of a crash.
        unicode = can_encode("✓✗", getattr(sys.stdout, "encoding", None))
        # Wrapped to fit a terminal; one line per check when piped into a log or grep.
        columns = shutil.get_terminal_size().columns if sys.stdout.isatty() else None
        click.echo(format_report(checks, unicode=unicode, columns=columns))
    code = exit_code(checks)
    if code:
        raise SystemExit(code)
