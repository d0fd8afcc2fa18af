"""Every command's options: one name means one type and one range, wherever it appears."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import click

from voicecoach.cli import main


def _commands(group: click.Group, path: str = "voicecoach") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{path} {name}")


def _kind(option: click.Option) -> dict[str, Any]:
    """What an option accepts: its type with its range or choices, and how many values."""
    return {
        "type": option.type.to_info_dict(),
        "path_type": getattr(option.type, "type", None),
        "multiple": option.multiple,
        "is_flag": option.is_flag,
        "nargs": option.nargs,
        "envvar": option.envvar,
    }


def _options_by_name() -> dict[str, dict[str, list[str]]]:
    """Each option name, each way it is defined, and the commands that define it that way."""
    found: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option):
                for name in param.opts + param.secondary_opts:
                    found[name][repr(_kind(param))].append(path)
    return found


def test_an_option_is_the_same_in_every_command() -> None:
    found = _options_by_name()
    # The walk sees the commands that share options, so the test checks something.
    assert len(found["--rate"]) == 1
    assert {"voicecoach say", "voicecoach run"} <= set(next(iter(found["--rate"].values())))
    assert len(next(iter(found["--journal"].values()))) >= 6
    differing = {name: dict(kinds) for name, kinds in found.items() if len(kinds) > 1}
    assert differing == {}


def test_the_rate_is_the_same_range_for_say_and_for_sessions() -> None:
    rates = {}
    for path, command in _commands(main):
        for param in command.params:
            if isinstance(param, click.Option) and "--rate" in param.opts:
                assert isinstance(param.type, click.IntRange)
                rates[path] = (param.type.min, param.type.max)
    assert set(rates) == {
        "voicecoach say",
        "voicecoach enrol",
        "voicecoach run",
        "voicecoach serve",
        "voicecoach simulate",
        "voicecoach warm",
    }
    assert set(rates.values()) == {(80, 450)}


def test_the_check_zone_is_a_setting_of_every_command_that_runs_sessions() -> None:
    from voicecoach.cli.options import RunOptions
    from voicecoach.speech.checkzone import CheckZone

    for name in ("simulate", "run", "serve"):
        command = main.commands[name]
        default = command.make_context(name, [])
        assert RunOptions.from_params(default.params).check == CheckZone()
        told = command.make_context(name, ["--check-margin-nats", "4", "--no-check-lone"])
        assert RunOptions.from_params(told.params).check == CheckZone(margin_nats=4.0, lone=False)


def test_a_check_margin_out_of_range_is_refused_by_name() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["simulate", "--check-margin-nats", "80"])
    assert result.exit_code == 2
    assert "--check-margin-nats" in result.output
