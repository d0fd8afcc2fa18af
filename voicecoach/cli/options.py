"""Options shared by the commands that run sessions, and the listeners they ask for."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import click

from voicecoach.eventlog import JsonLinesLog, Transcript
from voicecoach.events import Listener
from voicecoach.journal import ENV_VAR, Journal
from voicecoach.settings import DEFAULT_EMERGENCY_NUMBER
from voicecoach.speech.backends import BACKENDS

F = TypeVar("F", bound=Callable[..., Any])


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


def _stack(func: F, *decorators: Callable[[F], F]) -> F:
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


#: The type every ``--journal`` option has: one SQLite file.
JOURNAL_PATH = click.Path(dir_okay=False, path_type=Path)


def read_journal_option(func: F) -> F:
    """``--journal`` for the commands that only read the journal."""
    return click.option(
        "--journal",
        "journal_path",
        type=JOURNAL_PATH,
        envvar=ENV_VAR,
        show_envvar=True,
        help="Journal file to read. [default: journal.sqlite3 in voicecoach's data folder, "
        "e.g. ~/.local/share/voicecoach on Linux]",
    )(func)


#: ``--dose``: today's personal dose from the journal, or the program as written.
dose_option = click.option(
    "--dose",
    type=click.Choice(["personal", "base"]),
    default="personal",
    show_default=True,
    help="personal: today's dose from the journal; base: the program as written.",
)


def journal_options(func: F) -> F:
    """``--journal`` and ``--no-journal``."""
    return _stack(
        func,
        click.option(
            "--journal",
            "journal_path",
            envvar=ENV_VAR,
            show_envvar=True,
            type=JOURNAL_PATH,
            help="Journal file (SQLite). Default: in the user data folder.",
        ),
        click.option("--no-journal", is_flag=True, help="Do not record this session."),
    )


def simulated_journal_options(func: F) -> F:
    """``--journal`` and ``--no-journal`` for ``simulate``, which records only when asked."""
    return _stack(
        func,
        click.option(
            "--journal",
            "journal_path",
            envvar=ENV_VAR,
            show_envvar=True,
            type=JOURNAL_PATH,
            help="Record the session, marked as simulated, in this journal file (SQLite). "
            "Default: not recorded.",
        ),
        click.option(
            "--no-journal", is_flag=True, help="Do not record, even with VOICECOACH_JOURNAL set."
        ),
    )


def pain_options(func: F) -> F:
    """The pain-score bands, and the emergency number said when a session ends for pain."""
    return _stack(
        func,
        click.option(
            "--pain-continue-max",
            type=click.IntRange(0, 9),
            default=3,
            show_default=True,
            help="Highest pain score that offers to go on with the next exercise.",
        ),
        click.option(
            "--pain-gentle-max",
            type=click.IntRange(1, 10),
            default=5,
            show_default=True,
            help="Highest score that carries on more gently; above it the session ends.",
        ),
        click.option(
            "--emergency-number",
            envvar="VOICECOACH_EMERGENCY_NUMBER",
            show_envvar=True,
            default=DEFAULT_EMERGENCY_NUMBER,
            show_default=True,
            help="The number the coach says to call for an ambulance, such as 999, 911 or 112.",
        ),
    )


def recognizer_options(func: F) -> F:
    """``--backend`` and ``--model``."""
    return _stack(
        func,
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default="auto",
            show_default=True,
            help="Recognizer: auto is whisper (Silero VAD and Whisper tiny.en, trained on "
            "real speech); vosk needs a model (`voicecoach model download`); net is the "
            "command network, sphinx is pocketsphinx.",
        ),
        click.option(
            "--model",
            type=click.Path(path_type=Path),
            envvar="VOICECOACH_VOSK_MODEL",
            help="Vosk model folder (see `voicecoach model`).",
        ),
    )


def voice_options(func: F) -> F:
    """The coach's voice: ``--voice``, ``--rate`` and ``--volume``."""
    return _stack(
        func,
        click.option("--voice", default=None, help="TTS voice (see `voicecoach voices`)."),
        click.option(
            "--rate",
            type=click.IntRange(80, 400),
            default=160,
            show_default=True,
            help="Speaking rate in words per minute.",
        ),
        click.option(
            "--volume",
            type=click.FloatRange(0.0, 1.0),
            default=1.0,
            show_default=True,
            help="Loudness of the coach, 0 to 1.",
        ),
    )


#: ``--input-device``: the microphone (the system's default input without it).
input_device_option = click.option(
    "--input-device",
    metavar="DEV",
    help="Microphone: a number or part of a name (see `voicecoach devices`).",
)
#: ``--output-device``: the speaker (the system's default output without it).
output_device_option = click.option(
    "--output-device",
    metavar="DEV",
    help="Speaker: a number or part of a name (see `voicecoach devices`).",
)


def audio_options(func: F) -> F:
    """``--input-device`` and ``--output-device``."""
    return _stack(func, input_device_option, output_device_option)


def session_options(func: F) -> F:
    """``--dose``, ``--resume/--no-resume`` and how long a pause may last."""
    return _stack(
        func,
        dose_option,
        click.option(
            "--resume/--no-resume",
            default=None,
            help="Continue an unfinished session from under 2 hours ago, or start "
            "afresh, without asking. Default: the coach asks.",
        ),
        click.option(
            "--pause-reminder-seconds",
            type=click.IntRange(10, 600),
            default=60,
            show_default=True,
            help="Seconds of quiet while paused before the coach reminds how to go on.",
        ),
        click.option(
            "--pause-timeout-seconds",
            type=click.IntRange(60, 7200),
            default=600,
            show_default=True,
            help="Seconds a session may stay paused before it ends, as interrupted.",
        ),
    )


def live_options(func: F) -> F:
    """Everything a live session takes, shared by ``run`` and ``serve``."""
    return _stack(
        func,
        recognizer_options,
        voice_options,
        audio_options,
        session_options,
        journal_options,
        pain_options,
    )


def journal_of(listeners: list[Listener]) -> Journal | None:
    """The journal among ``listeners``, if the command records the session."""
    return next((item for item in listeners if isinstance(item, Journal)), None)


def open_listeners(
    stack: ExitStack, opts: dict[str, Any], *, transcript: bool, simulated: bool = False
) -> list[Listener]:
    """The journal, event log and transcript a command asked for, entered on ``stack``.

    A real session is recorded in the default journal unless told otherwise; a simulated one
    only in a journal named for it, so a rehearsal never lands among a person's sessions.
    """
    from voicecoach.journal import default_journal_path

    listeners: list[Listener] = []
    path = opts.get("journal_path")
    if path is None and not simulated:
        path = default_journal_path()
    if path is not None and not opts.get("no_journal"):
        listeners.append(stack.enter_context(Journal(path, simulated=simulated)))
    if opts.get("log_path") is not None:
        log = JsonLinesLog(opts["log_path"], append=bool(opts.get("append_log")))
        listeners.append(stack.enter_context(log))
    if transcript:
        listeners.append(Transcript())
    return listeners
