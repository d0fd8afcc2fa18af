"""CLI command ``show``: the expanded plan of a program, step by step."""

from __future__ import annotations

import json
from typing import Any

import click

from voicecoach.cli import main
from voicecoach.plan import Plan, build_plan, estimate_speech_seconds, step_seconds
from voicecoach.program import DEFAULT_PROGRAM, resolve_program


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@click.option("--json", "as_json", is_flag=True, help="Print the plan as JSON.")
def show(program: str, as_json: bool) -> None:
    """Print the expanded plan of PROGRAM: every step, durations and total reps."""
    plan = build_plan(resolve_program(program))
    if as_json:
        click.echo(json.dumps(plan_record(plan), indent=2))
    else:
        _print_plan(plan)


def plan_record(plan: Plan) -> dict[str, Any]:
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
    record = plan_record(plan)
    click.echo(f"{plan.program.title} ({plan.program.name})")
    for step in record["steps"]:
        where = ""
        if step["exercise"]:
            side = f" {step['side']}" if step["side"] else ""
            where = f"{step['exercise']} set {step['set']} rep {step['rep']}{side}"
        text = step["text"] or "(quiet)"
        click.echo(
            f"{_mmss(step['t'])}  {step['seconds']:5.1f}s  {step['kind']:<8} {where:<34} {text}"
        )
    click.echo("")
    click.echo("Reps per exercise and side:")
    for total in plan.totals:
        side = total.side or "-"
        click.echo(
            f"  {total.name:<32} {side:<6} {total.reps:3d} reps, {total.hold_seconds:g} s held"
        )
    click.echo(
        f"Total: {plan.total_reps} reps, about {_mmss(plan.total_seconds)} "
        f"({plan.total_seconds:.0f} s)"
    )


def _mmss(seconds: float) -> str:
    minutes, rest = divmod(int(round(seconds)), 60)
    return f"{minutes:2d}:{rest:02d}"
