"""CLI commands for exercise programs: ``check`` validates files, ``programs`` lists them."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from voicecoach.advice import program_warnings, text_cue_warnings
from voicecoach.app.catalogue import (
    DEFAULT_PROGRAM,
    list_programs,
    load_program_file,
    user_programs_dir,
)
from voicecoach.cli import main
from voicecoach.columns import table
from voicecoach.errors import ProgramError
from voicecoach.program import Program


@main.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
def check(ctx: click.Context, files: tuple[Path, ...]) -> None:
    """Validate program files and report every problem in each.

    Prints "FILE: ok" for a good file, and one "FILE: problem" line (or
    "FILE:LINE:COL: message" for a TOML syntax error) for each problem in a bad one.
    Advice that does not stop a program loading is printed as "FILE: warning: ...",
    before "FILE: ok"; a file with problems still gets the advice on its cues.
    Exits with status 2 if any file has a problem. The format is described in
    docs/programs.md; "voicecoach programs" shows where your own programs live.
    """
    bad = 0
    for path in files:
        try:
            program = load_program_file(path)
        except ProgramError as err:
            bad += 1
            click.echo("\n".join(_problem_line(err.source, p) for p in err.problems))
            for warning in _cue_warnings_of_file(path):
                click.echo(f"{path}: warning: {warning}")
            continue
        for warning in program_warnings(program):
            click.echo(f"{path}: warning: {warning}")
        # Last, so that "ok" is the line a reader's eye lands on, with the advice above it.
        click.echo(f"{path}: ok")
    if bad:
        ctx.exit(ProgramError.exit_code)


@main.command("programs")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of a table.")
def programs(as_json: bool) -> None:
    """List the built-in programs and your own.

    Your own programs live in the folder printed below the table (set
    VOICECOACH_PROGRAMS_DIR to use another); one of yours with the same name as a
    built-in replaces it. A file that does not validate is skipped with a warning.
    """
    found = list_programs()
    if as_json:
        click.echo(json.dumps([_as_json(p) for p in found], indent=2))
        return
    click.echo(_table(found))
    click.echo(f"\ndefault: {DEFAULT_PROGRAM}   your programs: {user_programs_dir()}")


def _cue_warnings_of_file(path: Path) -> list[str]:
    """Command words and long cues in a file that does not load; none if it cannot be read."""
    try:
        return text_cue_warnings(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return []


_POSITION = re.compile(r"\d+:\d+: ")


def _problem_line(source: str, problem: str) -> str:
    # "FILE:LINE:COL: message" is the form editors and terminals turn into a jump link.
    separator = ":" if _POSITION.match(problem) else ": "
    return f"{source}{separator}{problem}"


def _source(program: Program) -> str:
    return "user" if program.origin == "user" else "built-in"


def _as_json(program: Program) -> dict[str, object]:
    return {
        "name": program.name,
        "title": program.title,
        "description": program.description,
        "exercises": [exercise.id for exercise in program.exercises],
        "source": _source(program),
    }


def _table(found: list[Program]) -> str:
    rows = [("NAME", "TITLE", "EXERCISES", "SOURCE")]
    rows += [(p.name, p.title, str(len(p.exercises)), _source(p)) for p in found]
    return table(rows)
