"""CLI command ``voicecoach journal``: list past sessions from the journal."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from voicecoach.cli import main
from voicecoach.cli.options import read_journal_option
from voicecoach.cli.text import SIMULATED_MARK
from voicecoach.columns import table
from voicecoach.durations import minutes_seconds
from voicecoach.history import SessionSummary
from voicecoach.journal import Journal, default_journal_path

_COLUMNS = ("date", "program", "ended", "duration", "reps", "pain")
# Reps and duration read best right-aligned, like numbers in a spreadsheet.
_RIGHT_ALIGNED = {"duration", "reps"}


@main.command("journal")
@read_journal_option
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    metavar="N",
    help="Show at most N sessions, newest first; 0 shows all.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print a JSON list of sessions (id, program, started_at, end_reason, duration_s, "
    "reps_done, exercises, pain, simulated) instead of a table.",
)
def journal_command(journal_path: Path | None, limit: int, as_json: bool) -> None:
    """List past sessions, newest first.

    Each line shows when a session started, its program, how it ended (completed, stopped,
    pain, interrupted, error), its duration (m:ss), the reps done and the pain scores
    reported (? for a report without a number). Sessions run by `voicecoach simulate` are
    marked "simulated". The journal is only read, never created.
    """
    path = journal_path if journal_path is not None else default_journal_path()
    if not path.exists():
        _no_sessions(f"No sessions yet: there is no journal at {path}.", as_json)
        return
    with Journal(path, readonly=True) as journal:
        summaries = journal.sessions(limit=limit or None)
    if as_json:
        click.echo(json.dumps([s.to_json() for s in summaries], indent=2))
    elif not summaries:
        click.echo(f"No sessions yet in {path}.")
    else:
        click.echo(_table(summaries))


def _no_sessions(message: str, as_json: bool) -> None:
    if as_json:
        # Scripts get valid JSON on stdout; people still see why it is empty.
        click.echo("[]")
        click.echo(message, err=True)
    else:
        click.echo(message)


def _table(summaries: list[SessionSummary]) -> str:
    # The column appears only when there is something to mark, so a person's own list stays lean.
    columns = _COLUMNS + (("",) if any(s.simulated for s in summaries) else ())
    rows = [columns] + [_row(s)[: len(columns)] for s in summaries]
    return table(rows, right={i for i, name in enumerate(columns) if name in _RIGHT_ALIGNED})


def _row(summary: SessionSummary) -> tuple[str, ...]:
    return (
        _local_time(summary.started_at),
        summary.program,
        summary.end_reason or "running",
        minutes_seconds(summary.duration_s),
        str(summary.reps_done),
        _pain_scores(summary),
        SIMULATED_MARK if summary.simulated else "",
    )


def _local_time(started_at: str) -> str:
    try:
        start = datetime.fromisoformat(started_at)
    except ValueError:
        return started_at
    if start.tzinfo is not None:
        start = start.astimezone()
    return start.strftime("%Y-%m-%d %H:%M")


def _pain_scores(summary: SessionSummary) -> str:
    if not summary.pain:
        return "-"
    return " ".join("?" if p["score"] is None else str(p["score"]) for p in summary.pain)
