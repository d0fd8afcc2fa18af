"""The ``voicecoach`` command line: parses options, builds adapters, and reports errors.

Each command group lives in its own small module; this module only assembles them and turns
``VoiceCoachError`` into a message and an exit code, so users never see a traceback.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from voicecoach import __version__
from voicecoach.errors import VoiceCoachError


class _Group(click.Group):
    """A click group that reports our own errors cleanly."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except VoiceCoachError as err:
            click.echo(f"error: {err}", err=True)
            ctx.exit(err.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="voicecoach")
@click.option("-v", "--verbose", count=True, help="More detail: -v for info, -vv for debug.")
def main(verbose: int) -> None:
    """Voice-guided, hands-free exercise sessions for lower back pain, fully offline."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


def _register() -> None:
    # Imported here so each module can `from voicecoach.cli import main` and add its commands.
    from voicecoach.cli import (  # noqa: F401
        audio_cmds,
        detect_cmds,
        doctor_cmds,
        enrol_cmds,
        journal_cmds,
        model_cmds,
        program_cmds,
        report_cmds,
        session_cmds,
        show_cmds,
    )


_register()
