"""CLI commands: ``voicecoach model download | path | list`` for the Vosk speech model."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from voicecoach.app.invocation import voicecoach_command
from voicecoach.cli import main
from voicecoach.cli.options import model_option
from voicecoach.errors import ModelError
from voicecoach.speech.models import (
    CATALOGUE,
    DEFAULT_MODEL,
    ENV_MODEL_URL,
    ModelLocation,
    download_model,
    find_model,
    looks_like_model,
    model_candidates,
    no_model_message,
    user_models_dir,
)

_MB = 1_000_000


@main.group("model")
def model() -> None:
    """Find, list and download the offline speech model that hears your commands.

    Models are looked for in this order: the --model option, $VOICECOACH_VOSK_MODEL, ./models/
    in the current folder, then the user data folder (see `voicecoach model list`).
    """


@model.command("download")
@click.argument("name", required=False, default=DEFAULT_MODEL, metavar="[NAME]")
@click.option(
    "--dir",
    "dest_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to install into (default: the user data models folder).",
)
@click.option(
    "--url",
    help=(
        "Download from here instead: a .zip URL, a mirror folder holding NAME.zip, or a "
        f"file:// URL of a zip you copied. Default: ${ENV_MODEL_URL}, then the catalogue."
    ),
)
@click.option(
    "--sha256",
    metavar="HEX",
    help="Expected SHA-256 of the zip; needed only for models not in the catalogue.",
)
def download_cmd(name: str, dest_dir: Path | None, url: str | None, sha256: str | None) -> None:
    """Download model NAME (default: vosk-model-small-en-us-0.15), check it, and unpack it.

    The zip's SHA-256 must match the pinned checksum, and the archive is checked entry by
    entry before anything is unpacked. If the download is interrupted, run the command again
    to resume it.
    """
    folder = dest_dir or user_models_dir()
    if looks_like_model(folder / name):
        click.echo(f"{name} is already installed: {folder / name}")
        return
    entry = CATALOGUE.get(name)
    with click.progressbar(
        length=entry.size_bytes if entry else 0,
        label=f"downloading {name}",
        # The bar goes to stderr so that stdout carries only the result.
        file=sys.stderr,
    ) as bar:

        def report(done_bytes: int, total_bytes: int) -> None:
            if total_bytes and bar.length != total_bytes:
                bar.length = total_bytes
            bar.update(done_bytes - bar.pos)

        installed = download_model(name, folder, url=url, sha256=sha256, progress=report)
    click.echo(f"installed {name} in {installed}")


@model.command("path")
@model_option("explicit")
def path_cmd(explicit: Path | None) -> None:
    """Print the model folder a session would use; exit 1 when there is none."""
    found = find_model(explicit)
    if found is None:
        raise ModelError(no_model_message())
    click.echo(str(found))


@model.command("list")
def list_cmd() -> None:
    """Show every place a model is looked for, what is there, and the models on offer."""
    try:
        chosen = find_model()
    except ModelError:
        chosen = None
    click.echo("Looked for, in order:")
    for number, location in enumerate(model_candidates(), start=1):
        click.echo(f"  {number}. {_describe(location)}")
        for found in location.models:
            marker = "*" if found == chosen else " "
            click.echo(f"     {marker} {found}")
    click.echo(f"In use: {chosen}" if chosen else f"In use: none\n{no_model_message()}")
    click.echo(f"\nAvailable to download ({voicecoach_command('model download NAME')}):")
    for entry in CATALOGUE.values():
        default = " (default)" if entry.name == DEFAULT_MODEL else ""
        click.echo(f"  {entry.name}{default}  {entry.size_bytes / _MB:.0f} MB zip")
        click.echo(f"      {entry.summary}")
        click.echo(f"      sha256 {entry.sha256}")


def _describe(location: ModelLocation) -> str:
    if location.path is None:
        return f"{location.source}: not given"
    count = len(location.models)
    found = f"{count} model{'s' if count != 1 else ''}" if count else location.problem
    return f"{location.source}: {location.path} ({found})"
