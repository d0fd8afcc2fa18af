"""CLI commands that run or describe sessions: ``simulate`` and ``show``."""

from __future__ import annotations

import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import click

from voicecoach.cli import main
from voicecoach.clock import VirtualClock
from voicecoach.eventlog import JsonLinesLog, Transcript
from voicecoach.events import Listener
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.plan import Plan, build_plan, estimate_speech_seconds, step_seconds
from voicecoach.program import DEFAULT_PROGRAM, resolve_program
from voicecoach.runner import Runner
from voicecoach.settings import PainBands, SessionSettings


def parse_timed(value: str, option: str) -> tuple[float, str]:
    """Split ``T:TEXT`` into seconds and text, with an error naming the option."""
    at, sep, text = value.partition(":")
    try:
        seconds = float(at)
    except ValueError:
        seconds = -1.0
    if not sep or not text.strip() or seconds < 0:
        raise click.BadParameter(
            f"{value!r} is not T:TEXT with T in seconds, e.g. 40:pause", param_hint=option
        )
    return seconds, text.strip()


def journal_option(func: Any) -> Any:
    """The ``--journal`` and ``--no-journal`` options shared by commands that record sessions."""
    func = click.option(
        "--no-journal", is_flag=True, help="Do not record this session in the journal."
    )(func)
    return click.option(
        "--journal",
        "journal_path",
        type=click.Path(dir_okay=False, path_type=Path),
        envvar="VOICECOACH_JOURNAL",
        show_envvar=True,
        help="Journal file (SQLite). Default: the user data folder.",
    )(func)


def pain_options(func: Any) -> Any:
    """Options that set the pain-score bands."""
    func = click.option(
        "--pain-gentle-max",
        type=click.IntRange(1, 10),
        default=5,
        show_default=True,
        help="Highest score that continues more gently; anything above ends the session.",
    )(func)
    return click.option(
        "--pain-continue-max",
        type=click.IntRange(0, 9),
        default=3,
        show_default=True,
        help="Highest pain score that offers to continue with the next exercise.",
    )(func)


def open_listeners(
    stack: ExitStack,
    *,
    journal_path: Path | None,
    no_journal: bool,
    log_path: Path | None,
    transcript: bool,
) -> list[Listener]:
    """The journal, event log and transcript listeners a command asked for, entered on ``stack``."""
    from voicecoach.journal import Journal, default_journal_path

    listeners: list[Listener] = []
    if not no_journal:
        listeners.append(stack.enter_context(Journal(journal_path or default_journal_path())))
    if log_path is not None:
        listeners.append(stack.enter_context(JsonLinesLog(log_path)))
    if transcript:
        listeners.append(Transcript())
    return listeners


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@click.option(
    "--heard",
    "heard",
    multiple=True,
    metavar="T:TEXT",
    help="At T seconds the recognizer hears TEXT (repeatable), e.g. --heard 40:pause.",
)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the event log as JSON Lines to this file instead of a transcript.",
)
@journal_option
@pain_options
@click.pass_context
def simulate(
    ctx: click.Context,
    program: str,
    heard: tuple[str, ...],
    log_path: Path | None,
    journal_path: Path | None,
    no_journal: bool,
    pain_continue_max: int,
    pain_gentle_max: int,
) -> None:
    """Run a whole session in virtual time, with scripted words heard.

    PROGRAM is a built-in or user program name, or a path to a TOML file
    (default: gentle-start). Nothing is played or recorded; the session runs
    as fast as the machine allows and is written to the journal.
    """
    script = [parse_timed(h, "--heard") for h in heard]
    settings = SessionSettings(pain=PainBands(pain_continue_max, pain_gentle_max))
    plan = build_plan(resolve_program(program))
    with ExitStack() as stack:
        listeners = open_listeners(
            stack,
            journal_path=journal_path,
            no_journal=no_journal,
            log_path=log_path,
            transcript=log_path is None,
        )
        runner = Runner(
            plan=plan,
            clock=VirtualClock(),
            mic=SilentMicrophone(),
            speaker=NullSpeaker(),
            synthesizer=EstimatedSynthesizer(),
            recognizer=ScriptedRecognizer(script),
            listeners=listeners,
            settings=settings,
        )
        wall_start = time.perf_counter()
        end = runner.run()
        wall_seconds = time.perf_counter() - wall_start
    if log_path is not None:
        click.echo(
            f"{end.reason} after {end.duration:.1f} s; "
            f"{runner.session.reps_done} reps; log written to {log_path}"
        )
    if ctx.find_root().params.get("verbose"):
        click.echo(
            f"simulated {end.duration:.0f} s in {wall_seconds:.2f} s "
            f"({end.duration / max(wall_seconds, 1e-6):.0f}x real time)",
            err=True,
        )


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
