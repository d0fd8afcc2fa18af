"""The recognizer notice ("listening with ...") is printed once per command, however many
recognizers the command opens (``serve`` opens one for every wait and every session)."""

from __future__ import annotations

import click
from click.testing import CliRunner

from voicecoach.cli import main
from voicecoach.cli.options import RunOptions
from voicecoach.cli.session_cmds import _recognizer_described

#: What ``serve --backend sphinx`` was told.
SPHINX = RunOptions.from_params(
    main.commands["serve"].make_context("serve", ["--backend", "sphinx"]).params
)


@click.command()
@click.option("--times", type=int, default=2)
def _opens_recognizers(times: int) -> None:
    for _ in range(times):
        recognizer, _ = _recognizer_described(SPHINX, wake=True)
        with recognizer:
            pass


def test_the_notice_comes_once_per_command() -> None:
    runner = CliRunner()
    for _ in range(2):
        result = runner.invoke(_opens_recognizers, ["--times", "3"])
        assert result.exit_code == 0, result.output
        assert result.stderr.count("listening with pocketsphinx") == 1
