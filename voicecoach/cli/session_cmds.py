"""CLI commands that run sessions: ``simulate`` in virtual time and ``run`` live."""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from voicecoach.app.catalogue import DEFAULT_PROGRAM, resolve_program
from voicecoach.app.eventlog import Transcript
from voicecoach.app.preparation import Prepared, prepare
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.room import RoomSettings
from voicecoach.cli import main
from voicecoach.cli.options import (
    RunOptions,
    check_options,
    journal_of,
    live_options,
    log_option,
    open_listeners,
    pain_options,
    parse_timed,
    recognizer_options,
    session_options,
    simulated_journal_options,
    voice_options,
)
from voicecoach.clock import VirtualClock
from voicecoach.events import Listener, SessionEnded
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.ports import CoachVoice, Microphone, Recognizer, Speaker, Synthesizer

if TYPE_CHECKING:
    from voicecoach.audio.room import Room


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@click.option(
    "--heard",
    "heard",
    multiple=True,
    metavar="T:TEXT",
    help=(
        "At T seconds the recognizer hears TEXT (repeatable), e.g. --heard 40:pause; "
        "'40:stop?' is a half-heard stop and '40:?' speech not understood, which the coach "
        "asks about."
    ),
)
@click.option(
    "--audio",
    is_flag=True,
    help="Simulate with real audio: real TTS, a simulated room and the real "
    "recognizer. Implied by --say, --play and --record.",
)
@click.option(
    "--say",
    "says",
    multiple=True,
    metavar="T:TEXT",
    help="At T seconds the person says TEXT, synthesised with --user-voice.",
)
@click.option(
    "--play",
    "plays",
    multiple=True,
    metavar="T:FILE",
    help="At T seconds a recording (WAV or FLAC) is played into the room.",
)
@click.option(
    "--user-voice",
    default="en-us+f3",
    show_default=True,
    help="espeak-ng voice for --say; pick one unlike the coach's.",
)
@click.option(
    "--echo-gain",
    type=float,
    default=-6.0,
    show_default=True,
    metavar="DB",
    help="Level of the coach's voice at the microphone, in dB.",
)
@click.option(
    "--echo-delay",
    type=click.FloatRange(20, 500),
    default=30.0,
    show_default=True,
    metavar="MS",
    help="Speaker-to-microphone delay, in milliseconds.",
)
@click.option(
    "--noise-snr",
    type=float,
    default=None,
    metavar="DB",
    help="Add pink noise this many dB below the person's speech.",
)
@click.option(
    "--record",
    "record_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write what the simulated microphone heard to this WAV file.",
)
@log_option("Write the event log as JSON Lines to this file instead of a transcript.")
@click.option(
    "--started-at",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="Pretend the session starts at this date (and time), e.g. to build a history "
    "of several weeks for a report.",
)
@recognizer_options
@check_options
@voice_options
@session_options
@simulated_journal_options
@pain_options
@click.pass_context
def simulate(
    ctx: click.Context,
    /,
    program: str,
    heard: tuple[str, ...],
    audio: bool,
    says: tuple[str, ...],
    plays: tuple[str, ...],
    user_voice: str,
    echo_gain: float,
    echo_delay: float,
    noise_snr: float | None,
    record_path: Path | None,
    started_at: datetime | None,
    **params: Any,
) -> None:
    """Run a whole session in virtual time.

    PROGRAM is a built-in or user program name, or a path to a TOML file
    (default: gentle-start). Without --audio the coach's speech is timed from
    its word count and only --heard words reach the session, so a session takes
    well under a second. With --audio the real voice and real recognizer run
    in a simulated room, still faster than real time.

    Nothing is recorded unless --journal (or VOICECOACH_JOURNAL) names a journal;
    there the session is marked simulated, so it never sets the dose of a real
    session nor counts in a report's totals.
    """
    options = RunOptions.from_params(params)
    script = [parse_timed(h, "--heard") for h in heard]
    spoken = [parse_timed(s, "--say") for s in says]
    played = [(at, Path(f)) for at, f in (parse_timed(p, "--play") for p in plays)]
    audio = audio or bool(spoken or played or record_path)
    today = (started_at or datetime.now()).astimezone()
    with ExitStack() as stack:
        listeners = open_listeners(stack, options, transcript=False, simulated=True)
        if options.log_path is None:
            listeners.append(Transcript(person=_person_lines(script, spoken, played)))
        prepared = _prepare(program, listeners, options, today)
        room, guard = None, None
        if audio:
            guard = SelfHearingGuard()
            settings = RoomSettings(
                echo_gain_db=echo_gain,
                echo_delay_seconds=echo_delay / 1000.0,
                noise_snr_db=noise_snr,
            )
            record = record_path is not None
            room, (mic, speaker, synthesizer, recognizer) = _audio_parts(
                options, script, spoken, played, user_voice, settings, record, guard
            )
        else:
            mic, speaker = SilentMicrophone(), NullSpeaker()
            synthesizer, recognizer = EstimatedSynthesizer(), ScriptedRecognizer(script)
        runner = Runner(
            session=prepared.session,
            clock=VirtualClock(),
            mic=mic,
            speaker=speaker,
            synthesizer=synthesizer,
            recognizer=recognizer,
            listeners=listeners,
            echo=EchoCanceller() if audio else None,
            guard=guard,
            wall_clock=lambda: today,
        )
        started = time.perf_counter()
        end = runner.run()
        wall_seconds = time.perf_counter() - started
    if room is not None and record_path is not None:
        from voicecoach.audio.files import write_wav

        write_wav(record_path, room.recorded())
    if options.log_path is not None:
        click.echo(
            f"{end.reason} after {end.duration:.1f} s; {runner.session.reps_done} reps; "
            f"log written to {options.log_path}"
        )
    if ctx.find_root().params.get("verbose"):
        click.echo(
            f"simulated {end.duration:.0f} s in {wall_seconds:.2f} s "
            f"({end.duration / max(wall_seconds, 1e-6):.1f}x real time)",
            err=True,
        )


def _person_lines(
    heard: list[tuple[float, str]],
    says: list[tuple[float, str]],
    plays: list[tuple[float, Path]],
) -> list[tuple[float, str]]:
    """What the simulated person does, for the transcript, at the times the script gives."""
    lines = [(at, f"person says {text!r}") for at, text in says]
    lines += [(at, f"person plays {path}") for at, path in plays]
    lines += [
        (at, f"person says {text!r} (scripted: straight to the recognizer)") for at, text in heard
    ]
    return lines


def _audio_parts(
    options: RunOptions,
    script: list[tuple[float, str]],
    says: list[tuple[float, str]],
    plays: list[tuple[float, Path]],
    user_voice: str,
    room_settings: RoomSettings,
    record: bool,
    coach: CoachVoice,
) -> tuple[Room, tuple[Microphone, Speaker, Synthesizer, Recognizer]]:
    """The room and the real voice and ears, for an audio simulation."""
    from voicecoach.app.simulation import MergedRecognizer, Script, make_room
    from voicecoach.audio.espeak import Voice

    room = make_room(Script(says, plays, Voice(user_voice)), room_settings, record=record)
    recognizer = _recognizer_described(options, coach=coach)[0]
    if script:
        recognizer = MergedRecognizer([recognizer, ScriptedRecognizer(script)])
    return room, (room.microphone(), room.speaker(), _synthesizer(options), recognizer)


def _prepare(
    program: str, listeners: list[Listener], options: RunOptions, today: datetime | None = None
) -> Prepared:
    return prepare(
        resolve_program(program),
        journal_of(listeners),
        dose=options.dose,
        resume=options.resume,
        settings=options.settings,
        today=today,
    )


def _recognizer_described(
    options: RunOptions,
    *,
    wake: bool = False,
    live: bool = False,
    coach: CoachVoice | None = None,
) -> tuple[Recognizer, str]:
    from voicecoach.speech.backends import open_recognizer

    recognizer, description = open_recognizer(
        options.backend,
        options.model,
        wake=wake,
        live=live,
        check=options.check,
        personal=live,
        coach=coach,
    )
    _notice_once(f"listening with {description}")
    return recognizer, description


def _notice_once(message: str) -> None:
    """Print ``message`` to stderr unless this command has printed it already (``serve`` opens
    a recognizer for every wait and every session)."""
    said: set[str] = (
        click.get_current_context().find_root().meta.setdefault("voicecoach.notices", set())
    )
    if message not in said:
        said.add(message)
        click.echo(message, err=True)


def _synthesizer(options: RunOptions) -> Synthesizer:
    from voicecoach.speech.voices import open_synthesizer

    choice = open_synthesizer(options.voice, options.rate_wpm, options.volume)
    if choice.notice:
        _notice_once(f"note: {choice.notice}")
    return choice.synthesizer


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@log_option("Also write the event log as JSON Lines to this file.")
@live_options
def run(program: str, **params: Any) -> None:
    """Run a live session on the microphone and speaker.

    The coach speaks each cue and listens all the time for pause, resume,
    stop and pain. At a keyboard, p pauses or resumes, s stops and x reports
    pain. Ctrl-C ends the session cleanly; it is kept in the journal.
    """
    end = _live_session(program, RunOptions.from_params(params))
    if end.reason == "interrupted":
        raise SystemExit(130)


def _live_session(program: str, options: RunOptions) -> SessionEnded:
    """One live session of ``program`` on the devices the options name."""
    from voicecoach.app.live import run_live

    with ExitStack() as stack:
        listeners = open_listeners(stack, options, transcript=False)
        prepared = _prepare(program, listeners, options)
        guard = SelfHearingGuard()
        recognizer, description = _recognizer_described(options, live=True, coach=guard)
        return run_live(
            session=prepared.session,
            synthesizer=_synthesizer(options),
            recognizer=recognizer,
            guard=guard,
            listeners=listeners,
            input_device=options.input_device,
            output_device=options.output_device,
            backend=description,
        )


def _woken(options: RunOptions) -> bool:
    """Wait for the start phrase; False when the input ended first. The waiting recognizer is
    gone once this returns, so its models do not stay in memory through the session."""
    from voicecoach.app.live import open_devices, stop_signals_as_interrupt
    from voicecoach.app.serve import wait_for_start

    recognizer, _ = _recognizer_described(options, wake=True, live=True)
    mic, speaker = open_devices(options.input_device, options.output_device)
    click.echo('waiting for "start session"', err=True)
    with stop_signals_as_interrupt():
        return wait_for_start(mic, recognizer, speaker=speaker)


@main.command()
@click.option(
    "--program",
    default=DEFAULT_PROGRAM,
    show_default=True,
    help="The program to run when the start phrase is heard.",
)
@click.option("--once", is_flag=True, help="Run a single session, then exit.")
@log_option("Also append every session's event log as JSON Lines to this file.")
@live_options
def serve(program: str, once: bool, **params: Any) -> None:
    """Wait, hands-free, for "start session", then run a session; repeat.

    This is what the service on a Raspberry Pi runs at boot. Each time it starts
    waiting it plays a short soft chime, so you know it is ready; then it only
    listens for "start session" or "start my session". Every other word is
    ignored, and the coach stays silent.
    """
    options = replace(RunOptions.from_params(params), append_log=True)
    resolve_program(program)  # a bad program name is reported now, not after the wake word
    while True:
        if not _woken(options):
            return
        click.echo(f"starting {program}", err=True)
        end = _live_session(program, options)
        if once:
            if end.reason == "interrupted":
                raise SystemExit(130)
            return
