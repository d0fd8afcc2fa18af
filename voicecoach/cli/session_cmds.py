"""CLI commands that run sessions: ``simulate`` in virtual time and ``run`` live."""

from __future__ import annotations

import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.room import RoomSettings
from voicecoach.cli import main
from voicecoach.cli.options import (
    journal_of,
    journal_options,
    live_options,
    open_listeners,
    pain_options,
    parse_timed,
    recognizer_options,
    session_options,
    voice_options,
)
from voicecoach.clock import MonotonicClock, VirtualClock
from voicecoach.events import Listener, SessionEnded
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.ports import Microphone, Recognizer, Speaker, Synthesizer
from voicecoach.preparation import Prepared, prepare
from voicecoach.program import DEFAULT_PROGRAM, resolve_program
from voicecoach.runner import Runner
from voicecoach.selfhearing import SelfHearingGuard
from voicecoach.settings import PainBands, SessionSettings


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@click.option(
    "--heard",
    "heard",
    multiple=True,
    metavar="T:TEXT",
    help="At T seconds the recognizer hears TEXT (repeatable), e.g. --heard 40:pause.",
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
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the event log as JSON Lines to this file instead of a transcript.",
)
@click.option(
    "--started-at",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M"]),
    help="Pretend the session starts at this date (and time), e.g. to build a history "
    "of several weeks for a report.",
)
@recognizer_options
@voice_options
@session_options
@journal_options
@pain_options
@click.pass_context
def simulate(ctx: click.Context, /, program: str, heard: tuple[str, ...], **opts: Any) -> None:
    """Run a whole session in virtual time.

    PROGRAM is a built-in or user program name, or a path to a TOML file
    (default: gentle-start). Without --audio the coach's speech is timed from
    its word count and only --heard words reach the session, so a session takes
    well under a second. With --audio the real voice and real recognizer run
    in a simulated room, still faster than real time.
    """
    script = [parse_timed(h, "--heard") for h in heard]
    says = [parse_timed(s, "--say") for s in opts["says"]]
    plays = [(at, Path(f)) for at, f in (parse_timed(p, "--play") for p in opts["plays"])]
    audio = opts["audio"] or bool(says or plays or opts["record_path"])
    today = (opts["started_at"] or datetime.now()).astimezone()
    with ExitStack() as stack:
        listeners = open_listeners(stack, opts, transcript=opts["log_path"] is None)
        prepared = _prepare(program, listeners, opts, today)
        room = None
        if audio:
            room, (mic, speaker, synthesizer, recognizer) = _audio_parts(opts, script, says, plays)
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
            guard=SelfHearingGuard() if audio else None,
            wall_clock=lambda: today,
        )
        started = time.perf_counter()
        end = runner.run()
        wall_seconds = time.perf_counter() - started
    if room is not None and opts["record_path"] is not None:
        from voicecoach.audio.files import write_wav

        write_wav(opts["record_path"], room.recorded())
    if opts["log_path"] is not None:
        click.echo(
            f"{end.reason} after {end.duration:.1f} s; {runner.session.reps_done} reps; "
            f"log written to {opts['log_path']}"
        )
    if ctx.find_root().params.get("verbose"):
        click.echo(
            f"simulated {end.duration:.0f} s in {wall_seconds:.2f} s "
            f"({end.duration / max(wall_seconds, 1e-6):.1f}x real time)",
            err=True,
        )


def _prepare(
    program: str, listeners: list[Listener], opts: dict[str, Any], today: datetime | None = None
) -> Prepared:
    return prepare(
        resolve_program(program),
        journal_of(listeners),
        dose=opts["dose"],
        resume=opts["resume"],
        settings=_settings(opts),
        today=today,
    )


def _settings(opts: dict[str, Any]) -> SessionSettings:
    return SessionSettings(
        pain=PainBands(opts["pain_continue_max"], opts["pain_gentle_max"]),
        emergency_number=opts["emergency_number"],
        pause_reminder_seconds=float(opts["pause_reminder_seconds"]),
        pause_timeout_seconds=float(opts["pause_timeout_seconds"]),
    )


def _audio_parts(
    opts: dict[str, Any],
    script: list[tuple[float, str]],
    says: list[tuple[float, str]],
    plays: list[tuple[float, Path]],
) -> tuple[Any, tuple[Microphone, Speaker, Synthesizer, Recognizer]]:
    """The room and the real voice and ears, for an audio simulation."""
    from voicecoach.audio.espeak import Voice
    from voicecoach.simulation import MergedRecognizer, Script, make_room

    room_settings = RoomSettings(
        echo_gain_db=opts["echo_gain"],
        echo_delay_seconds=opts["echo_delay"] / 1000.0,
        noise_snr_db=opts["noise_snr"],
    )
    room = make_room(
        Script(says, plays, Voice(opts["user_voice"])),
        room_settings,
        record=opts["record_path"] is not None,
    )
    recognizer = _recognizer_described(opts)[0]
    if script:
        recognizer = MergedRecognizer([recognizer, ScriptedRecognizer(script)])
    return room, (room.microphone(), room.speaker(), _synthesizer(opts), recognizer)


def _recognizer_described(
    opts: dict[str, Any], wake: bool = False, live: bool = False
) -> tuple[Recognizer, str]:
    from voicecoach.speech.backends import open_recognizer

    recognizer, description = open_recognizer(
        opts["backend"], opts["model"], wake=wake, live=live, personal=live
    )
    click.echo(f"listening with {description}", err=True)
    return recognizer, description


def _synthesizer(opts: dict[str, Any]) -> Synthesizer:
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    return Pyttsx3Synthesizer(voice=opts["voice"], rate_wpm=opts["rate"], volume=opts["volume"])


@main.command()
@click.argument("program", default=DEFAULT_PROGRAM)
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the event log as JSON Lines to this file.",
)
@live_options
def run(program: str, **opts: Any) -> None:
    """Run a live session on the microphone and speaker.

    The coach speaks each cue and listens all the time for pause, resume,
    stop and pain. At a keyboard, p pauses or resumes, s stops and x reports
    pain. Ctrl-C ends the session cleanly; it is kept in the journal.
    """
    end = _live_session(program, opts)
    if end.reason == "interrupted":
        raise SystemExit(130)


def _live_session(program: str, opts: dict[str, Any]) -> SessionEnded:
    """One live session of ``program`` on the devices the options name."""
    from voicecoach.live import run_live

    with ExitStack() as stack:
        listeners = open_listeners(stack, opts, transcript=False)
        prepared = _prepare(program, listeners, opts)
        recognizer, description = _recognizer_described(opts, live=True)
        parts = {
            "session": prepared.session,
            "clock": MonotonicClock(),
            "synthesizer": _synthesizer(opts),
            "recognizer": recognizer,
            "listeners": listeners,
            "echo": EchoCanceller(),
            "guard": SelfHearingGuard(),
        }
        return run_live(parts, opts["input_device"], opts["output_device"], description)


@main.command()
@click.option(
    "--program",
    default=DEFAULT_PROGRAM,
    show_default=True,
    help="The program to run when the start phrase is heard.",
)
@click.option("--once", is_flag=True, help="Run a single session, then exit.")
@click.option(
    "--log",
    "log_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also append every session's event log as JSON Lines to this file.",
)
@live_options
def serve(program: str, once: bool, **opts: Any) -> None:
    """Wait, hands-free, for "start session", then run a session; repeat.

    This is what the service on a Raspberry Pi runs at boot. While waiting it
    only listens for "start session" or "start my session"; every other word
    is ignored, and the coach stays silent.
    """
    from voicecoach.live import open_devices, sigterm_as_interrupt
    from voicecoach.serve import wait_for_start

    resolve_program(program)  # a bad program name is reported now, not after the wake word
    while True:
        recognizer, _ = _recognizer_described(opts, wake=True, live=True)
        mic, _speaker = open_devices(opts["input_device"], opts["output_device"])
        click.echo('waiting for "start session"', err=True)
        with sigterm_as_interrupt():
            if not wait_for_start(mic, recognizer):
                return
        click.echo(f"starting {program}", err=True)
        end = _live_session(program, {**opts, "append_log": True})
        if once:
            if end.reason == "interrupted":
                raise SystemExit(130)
            return
