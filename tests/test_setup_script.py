"""scripts/setup says what it is doing while pip installs, in a checkout where nothing is real:
dpkg-query reports every package installed and the venv's python only records how pip ran."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _executable(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A checkout with the real scripts/setup, a fake venv python and a fake dpkg-query."""
    root = tmp_path / "repo"
    (root / "scripts").mkdir(parents=True)
    shutil.copy(REPO / "scripts" / "setup", root / "scripts" / "setup")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    (root / ".venv" / "bin").mkdir(parents=True)
    _executable(
        root / ".venv" / "bin" / "python",
        f'#!/usr/bin/env bash\necho "$*" >> "{tmp_path}/pip-calls"\necho "pip output"\n',
    )
    (tmp_path / "bin").mkdir()
    _executable(tmp_path / "bin" / "dpkg-query", "#!/bin/sh\nprintf 'install ok installed'\n")
    return root


def _env(checkout: Path, **extra: str) -> dict[str, str]:
    path = f"{checkout.parent / 'bin'}:{os.environ['PATH']}"
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    return {**env, "PATH": path, **extra}


def _pip_calls(checkout: Path) -> list[str]:
    return (checkout.parent / "pip-calls").read_text(encoding="utf-8").splitlines()


def test_without_a_terminal_each_step_is_named_and_timed(checkout: Path) -> None:
    done = subprocess.run(
        [str(checkout / "scripts" / "setup")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(checkout, CI="true"),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "voicecoach setup: installing the package into .venv, in three steps"
    assert lines[1] == "voicecoach setup: step 1 of 3: upgrading pip ..."
    assert lines[2].startswith("voicecoach setup: step 1 of 3: upgrading pip: done in ")
    assert lines[3].startswith("voicecoach setup: step 2 of 3: installing voicecoach[report] ")
    assert lines[4].endswith(" s")
    assert lines[5].startswith("voicecoach setup: step 3 of 3: installing pyrnnoise==")
    assert "pip output" not in done.stderr + done.stdout
    assert all(" -q " in call for call in _pip_calls(checkout))
    assert _pip_calls(checkout)[1].endswith("-e .[report]")
    # RNNoise's wheel comes without its own dependencies (PyAV, matplotlib): only its library
    # is loaded.
    assert _pip_calls(checkout)[2].endswith("--no-deps pyrnnoise==0.4.5")
    # The next run has nothing to do, and says nothing.
    again = subprocess.run(
        [str(checkout / "scripts" / "setup")],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(checkout, CI="true"),
        check=False,
    )
    assert (again.returncode, again.stderr) == (0, "")


def test_at_a_terminal_pip_shows_its_own_progress(checkout: Path) -> None:
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [str(checkout / "scripts" / "setup")],
            stdout=subprocess.PIPE,
            stderr=follower,
            timeout=60,
            env=_env(checkout),
            check=False,
        )
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    text = shown.decode().replace("\r\n", "\n")
    assert "step 1 of 3: upgrading pip (pip's progress below)\npip output\n" in text
    assert not any(" -q " in call for call in _pip_calls(checkout))
