"""Options shared by the commands that run sessions, and the listeners they ask for."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click

from voicecoach.app.eventlog import JsonLinesLog, Transcript
from voicecoach.app.preparation import DoseChoice, ResumeChoice
from voicecoach.events import Listener
from voicecoach.journal import ENV_VAR, Journal
from voicecoach.settings import DEFAULT_EMERGENCY_NUMBER, PainBands, SessionSettings
from voicecoach.speech.backends import BACKENDS, Backend
from voicecoach.speech.checkzone import CheckZone

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


# Every option that more than one command takes is defined here, once, so that it has the same
# name, type and range everywhere (tests/test_cli_options.py walks every command to check).

#: The type of every ``--journal``: any path, so that the journal itself explains a folder.
JOURNAL_PATH = click.Path(path_type=Path)


def journal_option(help: str) -> Callable[[F], F]:
    """``--journal`` (or ``$VOICECOACH_JOURNAL``), with the help of the command that takes it."""
    return click.option(
        "--journal", "journal_path", type=JOURNAL_PATH, envvar=ENV_VAR, show_envvar=True, help=help
    )


#: ``--journal`` for the commands that only read the journal.
read_journal_option = journal_option(
    "Journal file to read. [default: journal.sqlite3 in voicecoach's data folder, "
    "e.g. ~/.local/share/voicecoach on Linux]"
)


def model_option(dest: str = "model") -> Callable[[F], F]:
    """``--model``: a Vosk model folder."""
    # No envvar here: the model search reads $VOICECOACH_VOSK_MODEL itself, so that a bad value
    # is reported under its own name rather than as --model.
    return click.option(
        "--model",
        dest,
        type=click.Path(path_type=Path),
        metavar="PATH",
        help="Vosk model folder. [default: $VOICECOACH_VOSK_MODEL, ./models/, then the user "
        "data folder; see `voicecoach model list`]",
    )


#: ``--backend``: which recognizer listens.
backend_option = click.option(
    "--backend",
    type=click.Choice(BACKENDS),
    default="auto",
    show_default=True,
    help="Recognizer: auto is whisper (Silero VAD and Whisper tiny.en, trained on "
    "real speech); vosk needs a model (`voicecoach model download`); net is the "
    "command network, sphinx is pocketsphinx.",
)


def rate_option(dest: str = "rate") -> Callable[[F], F]:
    """``--rate``: the coach's speaking rate, in words per minute."""
    return click.option(
        "--rate",
        dest,
        # espeak-ng speaks from 80 to 450 words per minute.
        type=click.IntRange(80, 450),
        default=160,
        show_default=True,
        help="Speaking rate in words per minute.",
    )


#: ``--volume``: the coach's loudness.
volume_option = click.option(
    "--volume",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="Loudness of the coach, from 0 (silent) to 1 (full).",
)


def seconds_option(*, default: float, help: str) -> Callable[[F], F]:
    """``--seconds``: how long a command listens to the microphone."""
    return click.option(
        "--seconds",
        type=click.FloatRange(0.5, 600.0),
        default=default,
        show_default=True,
        help=help,
    )


def log_option(help: str) -> Callable[[F], F]:
    """``--log``: a JSON Lines file of the session's events."""
    return click.option(
        "--log", "log_path", type=click.Path(dir_okay=False, path_type=Path), help=help
    )


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
        journal_option("Journal file (SQLite). Default: in the user data folder."),
        click.option("--no-journal", is_flag=True, help="Do not record this session."),
    )


def simulated_journal_options(func: F) -> F:
    """``--journal`` and ``--no-journal`` for ``simulate``, which records only when asked."""
    return _stack(
        func,
        journal_option(
            "Record the session, marked as simulated, in this journal file (SQLite). "
            "Default: not recorded."
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
    return _stack(func, backend_option, model_option())


def check_options(func: F) -> F:
    """When the coach stops to ask "did you say stop?" (the check zone, ``CheckZone``)."""
    return _stack(
        func,
        click.option(
            "--check-margin-nats",
            type=click.FloatRange(0.0, 50.0),
            default=CheckZone.margin_nats,
            show_default=True,
            help="How near a safety word must come to what Whisper heard for the coach to "
            "stop and ask about it; larger asks more often, 0 almost never.",
        ),
        click.option(
            "--check-lone/--no-check-lone",
            default=True,
            show_default=True,
            help='Stop and ask "is something wrong?" after a short sound the coach did not '
            "understand, said after a quiet spell.",
        ),
    )


def voice_options(func: F) -> F:
    """The coach's voice: ``--voice``, ``--rate`` and ``--volume``."""
    return _stack(
        func,
        click.option("--voice", default=None, help="TTS voice (see `voicecoach voices`)."),
        rate_option(),
        volume_option,
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
        check_options,
        voice_options,
        audio_options,
        session_options,
        journal_options,
        pain_options,
    )


@dataclass(frozen=True)
class RunOptions:
    """What a command that runs sessions was told, read from its options once."""

    dose: DoseChoice
    resume: ResumeChoice
    settings: SessionSettings
    backend: Backend
    model: Path | None
    voice: str | None
    rate_wpm: int
    volume: float
    journal_path: Path | None
    no_journal: bool
    log_path: Path | None
    #: Add to an existing event log rather than start it afresh (each session of ``serve``).
    append_log: bool = False
    input_device: str | None = None
    output_device: str | None = None
    #: When the coach asks rather than acts or ignores (whisper only).
    check: CheckZone = CheckZone()

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> RunOptions:
        """The options among click's parameters of ``simulate``, ``run`` or ``serve``."""
        settings = SessionSettings(
            pain=PainBands(params["pain_continue_max"], params["pain_gentle_max"]),
            emergency_number=params["emergency_number"],
            pause_reminder_seconds=float(params["pause_reminder_seconds"]),
            pause_timeout_seconds=float(params["pause_timeout_seconds"]),
        )
        return cls(
            dose=params["dose"],
            resume=params["resume"],
            settings=settings,
            backend=params["backend"],
            model=params["model"],
            voice=params["voice"],
            rate_wpm=params["rate"],
            volume=params["volume"],
            journal_path=params["journal_path"],
            no_journal=params["no_journal"],
            log_path=params["log_path"],
            input_device=params.get("input_device"),
            output_device=params.get("output_device"),
            check=CheckZone(
                margin_nats=float(params["check_margin_nats"]), lone=params["check_lone"]
            ),
        )


def journal_of(listeners: list[Listener]) -> Journal | None:
    """The journal among ``listeners``, if the command records the session."""
    return next((item for item in listeners if isinstance(item, Journal)), None)


def open_listeners(
    stack: ExitStack, options: RunOptions, *, transcript: bool, simulated: bool = False
) -> list[Listener]:
    """The journal, event log and transcript a command asked for, entered on ``stack``.

    A real session is recorded in the default journal unless told otherwise; a simulated one
    only in a journal named for it, so a rehearsal never lands among a person's sessions.
    """
    from voicecoach.journal import default_journal_path

    listeners: list[Listener] = []
    path = options.journal_path
    if path is None and not simulated:
        path = default_journal_path()
    if path is not None and not options.no_journal:
        listeners.append(stack.enter_context(Journal(path, simulated=simulated)))
    if options.log_path is not None:
        log = JsonLinesLog(options.log_path, append=options.append_log)
        listeners.append(stack.enter_context(log))
    if transcript:
        listeners.append(Transcript())
    return listeners
