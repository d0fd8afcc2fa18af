"""scripts/install-pi in --dry-run (it never installs anything here) and the service unit."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
INSTALLER = REPO / "scripts" / "install-pi"
TEMPLATE = REPO / "deploy" / "voicecoach.service"
VOICECOACH = REPO / ".venv" / "bin" / "voicecoach"


def _install_pi(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_CONFIG_HOME", None)
    return subprocess.run(
        [str(INSTALLER), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home folder for the user the installer would install for."""
    folder = tmp_path / "home"
    folder.mkdir()
    return folder


def test_help_lists_the_options(home: Path) -> None:
    done = _install_pi(home, "--help")
    assert done.returncode == 0
    for option in (
        "--with-vosk",
        "--no-warm",
        "--input-device",
        "--output-device",
        "--dry-run",
        "--print-unit",
    ):
        assert option in done.stdout


def test_an_unknown_option_is_a_usage_error(home: Path) -> None:
    done = _install_pi(home, "--bogus")
    assert done.returncode == 2
    assert "unknown option: --bogus" in done.stderr


def test_dry_run_lists_every_step_and_changes_nothing(home: Path) -> None:
    done = _install_pi(home, "--dry-run")
    assert done.returncode == 0, done.stderr
    out = done.stdout
    unit = home / ".config" / "systemd" / "user" / "voicecoach.service"
    steps = [
        "dry run: nothing is changed",
        "apt-get install espeak-ng",
        f"+ {REPO}/scripts/setup",
        f"+ {VOICECOACH} warm",
        f"install the unit {unit} (ExecStart={VOICECOACH} serve)",
        "loginctl enable-linger",
        "+ systemctl --user daemon-reload",
        "+ systemctl --user enable --now voicecoach.service",
    ]
    positions = [out.find(step) for step in steps]
    assert -1 not in positions, (
        f"missing: {[s for s, p in zip(steps, positions, strict=True) if p < 0]}"
    )
    assert positions == sorted(positions), out
    assert "model download" not in out
    assert list(home.iterdir()) == []


def test_dry_run_with_vosk_and_devices_shows_the_download_and_the_options(home: Path) -> None:
    done = _install_pi(
        home, "--dry-run", "--with-vosk", "--input-device", "plughw:1,0", "--output-device", "0"
    )
    assert done.returncode == 0, done.stderr
    assert f"+ {VOICECOACH} model download" in done.stdout
    env_file = home / ".config" / "voicecoach" / "serve.env"
    assert (
        f"{env_file}: VOICECOACH_SERVE_ARGS=--input-device plughw:1,0 --output-device 0"
        in done.stdout
    )
    assert "and PA_ALSA_PLUGHW=1" in done.stdout
    assert list(home.iterdir()) == []


def test_no_warm_leaves_the_voice_to_the_first_session(home: Path) -> None:
    done = _install_pi(home, "--dry-run", "--no-warm")
    assert done.returncode == 0, done.stderr
    assert f"+ {VOICECOACH} warm" not in done.stdout


def test_a_device_name_with_a_space_is_refused_before_anything_runs(home: Path) -> None:
    done = _install_pi(home, "--dry-run", "--input-device", "USB mic")
    assert done.returncode == 1
    assert "has a space" in done.stderr
    assert "scripts/setup" not in done.stdout


def test_a_second_run_finds_the_unit_up_to_date(home: Path) -> None:
    unit_dir = home / ".config" / "systemd" / "user"
    unit_dir.mkdir(parents=True)
    rendered = _install_pi(home, "--print-unit").stdout
    (unit_dir / "voicecoach.service").write_text(rendered)
    done = _install_pi(home, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert f"{unit_dir / 'voicecoach.service'} is up to date" in done.stdout
    assert "install the unit" not in done.stdout
    assert "restart" not in done.stdout


@pytest.mark.skipif(os.geteuid() != 0, reason="only root is refused; others would install")
def test_a_real_run_as_root_is_refused(home: Path) -> None:
    done = _install_pi(home)
    assert done.returncode == 1
    assert "not as root" in done.stderr
    assert list(home.iterdir()) == []


def _unit_lines(home: Path) -> dict[str, str]:
    done = _install_pi(home, "--print-unit")
    assert done.returncode == 0, done.stderr
    assert "@VOICECOACH@" not in done.stdout
    assert "@WORKDIR@" not in done.stdout
    return {
        key: value
        for key, _, value in (
            line.partition("=") for line in done.stdout.splitlines() if "=" in line
        )
        if not key.startswith("#")
    }


def test_the_unit_runs_serve_from_the_venv_and_restarts_on_failure(home: Path) -> None:
    unit = _unit_lines(home)
    assert unit["ExecStart"] == f'"{VOICECOACH}" serve $VOICECOACH_SERVE_ARGS'
    assert unit["WorkingDirectory"] == str(REPO)
    assert unit["Restart"] == "on-failure"
    assert "sound.target" in unit["After"].split()
    assert "pipewire.service" in unit["After"].split()
    assert "pulseaudio.service" in unit["After"].split()
    assert unit["WantedBy"] == "default.target"
    assert unit["EnvironmentFile"] == "-%E/voicecoach/serve.env"


def _verify(unit: Path, runtime_dir: Path) -> subprocess.CompletedProcess[str]:
    # A user manager needs a runtime folder even to verify; an empty private one is enough.
    runtime_dir.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime_dir), "SYSTEMD_LOG_COLOR": "0"}
    return subprocess.run(
        ["systemd-analyze", "verify", "--user", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )


def _complaints(done: subprocess.CompletedProcess[str], unit: Path) -> list[str]:
    lines = (done.stdout + done.stderr).splitlines()
    return [line for line in lines if unit.name in line or str(unit) in line]


def test_systemd_analyze_verifies_the_installed_unit(home: Path, tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (apt-get install systemd)")
    runtime = tmp_path / "runtime"
    # A control unit with a misspelt key: proves that verify runs here and that we see its
    # complaints, so a clean result below means something.
    control = tmp_path / "control" / "voicecoach.service"
    control.parent.mkdir()
    control.write_text("[Service]\nExecStart=/bin/true\nRestrt=on-failure\n")
    probe = _verify(control, runtime)
    if "Failed to initialize manager" in probe.stderr or "Restrt" not in probe.stderr:
        pytest.skip(f"systemd-analyze cannot verify user units here: {probe.stderr.strip()}")
    assert VOICECOACH.exists(), "the unit names the venv's voicecoach; run scripts/setup"
    unit = tmp_path / "voicecoach.service"
    unit.write_text(_install_pi(home, "--print-unit").stdout)
    done = _verify(unit, runtime)
    assert done.returncode == 0, done.stdout + done.stderr
    assert _complaints(done, unit) == []
