"""CLI command ``show``: today's dose of a program and why, and its plan step by step."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from voicecoach.app.catalogue import DEFAULT_PROGRAM, resolve_program
from voicecoach.app.preparation import DoseChoice, todays_plan
from voicecoach.cli import main
from voicecoach.cli.options import dose_option, read_journal_option
from voicecoach.columns import table
from voicecoach.durations import minutes_seconds
from voicecoach.journal import Journal, default_journal_path
from voicecoach.plan import Plan, Step, build_plan, estimate_speech_seconds, step_seconds
from voicecoach.program import Program
from voicecoach.progression import Dose, personal_program


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@dose_option
@read_journal_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the plan, with today's doses, as JSON."
)
def show(program: str, dose: DoseChoice, journal_path: Path | None, as_json: bool) -> None:
    """Print today's dose of PROGRAM and why, then its plan: every step, durations and reps.

    The dose is the one a session started now would take from the journal (the journal is
    only read); --dose base shows the program as written.
    """
    path = journal_path if journal_path is not None else default_journal_path()
    plan, doses = _todays(resolve_program(program), dose, path)
    if as_json:
        record = plan_record(plan)
        record["dose"] = dose
        record["doses"] = [d.to_json() for d in doses]
        click.echo(json.dumps(record, indent=2))
        return
    click.echo(f"{plan.program.title} ({plan.program.name})")
    click.echo(_doses_text(doses, dose, path))
    click.echo("")
    _print_plan(plan)


def _todays(program: Program, dose: DoseChoice, path: Path) -> tuple[Plan, list[Dose]]:
    """The plan and doses a session started now would take; no journal yet is no history."""
    now = datetime.now().astimezone()
    if dose == "base":
        return build_plan(program), []
    if not path.exists():
        personal, doses = personal_program(program, {}, now)
        return build_plan(personal), doses
    with Journal(path, readonly=True) as journal:
        return todays_plan(program, journal, dose, now)


def _doses_text(doses: list[Dose], dose: DoseChoice, path: Path) -> str:
    if dose == "base":
        return "The program's own dose (--dose base): the journal is not read."
    rows = [(d.exercise_id, _dose_words(d), d.reason) for d in doses]
    return f"Today's dose, from the journal {path}:\n" + table(rows, indent="  ")


def _dose_words(dose: Dose) -> str:
    words = f"{dose.reps} reps"
    if dose.hold_seconds:
        words += f", {dose.hold_seconds:g} s hold"
    return words + (", easy" if dose.easy else "")


def plan_record(plan: Plan) -> dict[str, object]:
    """The plan as a JSON-ready dict: totals, per-exercise reps and every step."""
    steps = []
    at = 0.0
    for step in plan.steps:
        seconds = step_seconds(step, estimate_speech_seconds(step.text))
        steps.append(
            {
                "t": round(at, 1),
                "kind": step.kind,
                "text": step.text,
                "seconds": round(seconds, 2),
                "exercise": step.exercise,
                "set": step.set,
                "side": step.side,
                "rep": step.rep,
            }
        )
        at += seconds
    return {
        "program": plan.program.name,
        "title": plan.program.title,
        "total_seconds": round(plan.total_seconds, 1),
        "total_reps": plan.total_reps,
        "exercises": [
            {
                "exercise": t.exercise,
                "name": t.name,
                "side": t.side,
                "reps": t.reps,
                "hold_seconds": t.hold_seconds,
            }
            for t in plan.totals
        ],
        "steps": steps,
    }


def _print_plan(plan: Plan) -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    at = 0.0
    for step in plan.steps:
        seconds = step_seconds(step, estimate_speech_seconds(step.text))
        rows.append(
            (
                minutes_seconds(at, tenths=True),
                f"{seconds:.1f}s",
                step.kind,
                _where(step),
                step.text or "(quiet)",
            )
        )
        at += seconds
    click.echo(table(rows, right={0, 1}))
    click.echo("")
    click.echo("Reps per exercise and side:")
    names = max(len(total.name) for total in plan.totals) if plan.totals else 0
    for total in plan.totals:
        side = total.side or "-"
        click.echo(
            f"  {total.name:<{names}}  {side:<5}  {total.reps:3d} reps, "
            f"{total.hold_seconds:g} s held"
        )
    click.echo(
        f"Total: {plan.total_reps} reps, about {minutes_seconds(plan.total_seconds)} "
        f"({plan.total_seconds:.0f} s)"
    )


def _where(step: Step) -> str:
    """Exercise, set, rep and side, as far as the step has them (a set-up cue has no rep)."""
    parts = [step.exercise] if step.exercise else []
    if step.set:
        parts.append(f"set {step.set}")
    if step.rep:
        parts.append(f"rep {step.rep}")
    if step.side:
        parts.append(step.side)
    return " ".join(parts)
