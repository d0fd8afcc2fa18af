"""Hints that suggest a command name it in a form that runs where the person is."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from voicecoach.app.invocation import CHECKOUT, command_prefix, voicecoach_command

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("on_path", "checkout", "cwd", "expected"),
    [
        # voicecoach is on the PATH, and it is this one (an activated venv, a pip install).
        ("/venv/bin/voicecoach", "/repo", "/home", "voicecoach"),
        # After the README's setup: scripts/run, from the checkout or anywhere else.
        (None, "/repo", "/repo", "scripts/run"),
        (None, "/repo", "/home", "/repo/scripts/run"),
        # Another voicecoach on the PATH would run other code.
        ("/usr/bin/voicecoach", "/repo", "/repo", "scripts/run"),
        # Installed without a checkout and not on the PATH: this environment's script.
        (None, None, "/home", "/venv/bin/voicecoach"),
    ],
)
def test_the_prefix_is_one_that_runs_here(
    on_path: str | None, checkout: str | None, cwd: str, expected: str
) -> None:
    prefix = command_prefix(
        on_path=Path(on_path) if on_path else None,
        script=Path("/venv/bin/voicecoach"),
        checkout=Path(checkout) if checkout else None,
        cwd=Path(cwd),
    )
    assert prefix == expected


def _fake_checkout(tmp_path: Path) -> Path:
    """scripts/run in a checkout whose setup does nothing and whose voicecoach prints its args."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "run", tmp_path / "scripts" / "run")
    setup = tmp_path / "scripts" / "setup"
    setup.write_text("#!/usr/bin/env bash\necho setup >&2\n")
    (tmp_path / ".venv" / "bin").mkdir(parents=True)
    fake = tmp_path / ".venv" / "bin" / "voicecoach"
    fake.write_text('#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n')
    for script in (setup, fake):
        script.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "passed"),
    [
        ([], ["run"]),
        (["devices"], ["devices"]),
        (["simulate", "--heard", "40:pause now", "gentle-start"], None),
    ],
)
def test_scripts_run_passes_any_command_through(
    tmp_path: Path, args: list[str], passed: list[str] | None
) -> None:
    checkout = _fake_checkout(tmp_path)
    done = subprocess.run(
        [str(checkout / "scripts" / "run"), *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == "setup\n"
    assert done.stdout.splitlines() == (args if passed is None else passed)


def test_a_hint_names_the_command_after_its_prefix() -> None:
    hint = voicecoach_command("devices")
    assert hint.endswith(" devices")
    assert hint.split()[0] in ("voicecoach", "scripts/run") or Path(hint.split()[0]).is_absolute()


def test_the_checkout_is_the_folder_with_scripts_run() -> None:
    # The tests run from the checkout, so the hints must find its scripts/run.
    assert (CHECKOUT / "scripts" / "run").is_file()
    assert (CHECKOUT / "voicecoach" / "app" / "invocation.py").is_file()
