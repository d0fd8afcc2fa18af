"""CLI command ``voicecoach report``: adherence, time, reps per side and pain, as text, CSV, PNG."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path

import click

from voicecoach.cli import main
from voicecoach.cli.options import read_journal_option
from voicecoach.history import SessionRecord
from voicecoach.journal import default_journal_path, read_history
from voicecoach.report import build_report, format_report, write_csv
from voicecoach.report.table import left_out_note


def _parse_since(ctx: click.Context, param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is not a date written YYYY-MM-DD, like 2025-03-01"
        ) from None


@main.command("report")
@read_journal_option
@click.option(
    "--since",
    metavar="YYYY-MM-DD",
    callback=_parse_since,
    help="Only sessions started on or after this day.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE.png",
    help="Also draw pain over time and minutes per session (one bar each) into this PNG "
    "(needs matplotlib, which scripts/setup installs).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Also export every session and event to this CSV file: one row per event "
    "(start, rep, pain, command, rating, end), each with its session's columns.",
)
@click.option(
    "--simulated",
    is_flag=True,
    help="Report on the sessions `voicecoach simulate` recorded, instead of the real ones.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON, not tables.")
def report_command(
    journal_path: Path | None,
    since: date | None,
    plot_path: Path | None,
    csv_path: Path | None,
    simulated: bool,
    as_json: bool,
) -> None:
    """Report on past sessions: sessions per week, streaks, time, reps and holds per side,
    pain over time, and sides cut short more often.

    A streak counts consecutive days (or weeks, Monday to Sunday) with a session in which at
    least one rep was done. A rep is cut short when its hold was shorter than planned, or when
    it was planned but left out while the session went on (skipped or eased). Sessions run by
    `voicecoach simulate` are never counted with real ones: the report says how many it left
    out, and --simulated reports on them alone. The journal is only read, never created.
    """
    if plot_path is not None:
        # Say that the extra is missing before doing any other work.
        from voicecoach.report.plot import require_matplotlib

        require_matplotlib()
    path = journal_path if journal_path is not None else default_journal_path()
    start = datetime.combine(since, time()).astimezone() if since is not None else None
    finished = [r for r in read_history(path, since=start) if r.end_reason is not None]
    records = [r for r in finished if r.simulated == simulated]
    if not records:
        _nothing(path, since, as_json, simulated, left_out=len(finished))
        return
    report = build_report(finished, date.today(), simulated=simulated)
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        click.echo(format_report(report))
    _write_files(records, csv_path, plot_path, as_json)


def _nothing(
    path: Path, since: date | None, as_json: bool, simulated: bool, *, left_out: int
) -> None:
    where = f"since {since:%Y-%m-%d} " if since is not None else ""
    kind = "simulated sessions" if simulated else "sessions"
    message = (
        f"No {kind} {where}in the journal {path} yet: a report starts after your first session."
    )
    if left_out:
        message += "\n" + left_out_note(left_out, simulated=not simulated)
    if as_json:
        # Scripts get valid JSON on stdout; people still see why it is empty.
        click.echo(json.dumps({"sessions": 0, "simulated": simulated, "left_out": left_out}))
        click.echo(message, err=True)
    else:
        click.echo(message)


def _write_files(
    records: list[SessionRecord], csv_path: Path | None, plot_path: Path | None, as_json: bool
) -> None:
    if csv_path is not None:
        rows = write_csv(records, csv_path)
        click.echo(f"Wrote {rows} rows to {csv_path}.", err=as_json)
    if plot_path is not None:
        from voicecoach.report.plot import plot_sessions

        plot_sessions(records, plot_path)
        click.echo(f"Drew the plot in {plot_path}.", err=as_json)
