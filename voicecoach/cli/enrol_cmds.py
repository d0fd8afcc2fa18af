"""``voicecoach enrol``: teach the recognizer the person's voice, report on it, or forget it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from voicecoach.cli import main
from voicecoach.cli.options import audio_options, voice_options
from voicecoach.errors import UsageError

if TYPE_CHECKING:
    from voicecoach.enrol.report import WordReport


@main.command("enrol")
@click.option(
    "--from",
    "from_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Take recordings from this folder instead of the microphone: WORD_N.wav files, "
    "such as stop_1.wav or nine_2.wav.",
)
@click.option("--forget", is_flag=True, help="Delete your stored voice examples.")
@click.option(
    "--report",
    is_flag=True,
    help="Show how often each word is heard, with and without your examples.",
)
@voice_options
@audio_options
def enrol_command(from_dir: Path | None, forget: bool, report: bool, **opts: Any) -> None:
    """Teach the recognizer how you say the words it listens for.

    The coach asks for stop, pause, pain and resume three times each and for each pain
    score, zero to ten, twice; say each once after it asks, from where you exercise. Your
    examples are kept in the user data folder (or $VOICECOACH_ENROLMENT), readable by you
    alone, and sessions use them from then on. They only ever help the recognizer take a
    word it already found close; they never make it hear a word it did not.
    """
    from voicecoach.enrol import store

    if forget and (from_dir is not None or report):
        raise UsageError("--forget deletes your examples; use it on its own")
    folder = store.default_folder()
    if forget:
        deleted = store.forget(folder)
        click.echo(
            f"deleted {deleted} voice examples from {folder}"
            if deleted
            else "there were no voice examples to delete"
        )
        return
    if from_dir is not None:
        _import(from_dir, folder)
    elif not report:
        _spoken(
            folder, opts["input_device"], opts["output_device"], opts["voice"], opts["rate"],
            opts["volume"],
        )  # fmt: skip
        return
    if report:
        click.echo(_format(_reports(folder)))
    else:
        click.echo("see how well each word is heard with: voicecoach enrol --report")


def _import(from_dir: Path, folder: Path) -> None:
    from voicecoach.enrol import store
    from voicecoach.speech.vad import silero

    examples = store.import_folder(from_dir, silero())
    written = store.save(examples, folder)
    words = ", ".join(f"{word} ({len(clips)})" for word, clips in examples.items())
    click.echo(f"stored {len(written)} examples in {folder}: {words}")


def _spoken(
    folder: Path,
    input_device: str | None,
    output_device: str | None,
    voice: str | None,
    rate_wpm: int,
    volume: float,
) -> None:
    from voicecoach.app.live import open_devices
    from voicecoach.enrol import store
    from voicecoach.enrol.report import spoken_summary
    from voicecoach.enrol.session import EnrolmentSession
    from voicecoach.speech.tts import Pyttsx3Synthesizer
    from voicecoach.speech.vad import silero

    mic, speaker = open_devices(input_device, output_device)
    synthesizer = Pyttsx3Synthesizer(voice=voice, rate_wpm=rate_wpm, volume=volume)
    with synthesizer, mic, speaker:
        session = EnrolmentSession(
            mic, speaker, synthesizer, silero(), progress=lambda text: click.echo(text, err=True)
        )
        examples = session.run()
        if not examples:
            raise UsageError("no word was heard; check the microphone with `voicecoach doctor`")
        written = store.save(examples, folder)
        click.echo(f"stored {len(written)} examples in {folder}")
        session.say("One moment while I check how well I hear each word.")
        reports = _reports(folder)
        click.echo(_format(reports))
        session.say(spoken_summary(reports))


def _reports(folder: Path) -> list[WordReport]:
    from voicecoach.enrol import store
    from voicecoach.enrol.report import leave_one_out
    from voicecoach.speech.personal import PersonalExamples
    from voicecoach.speech.whisper_verifier import WhisperVerifier

    examples = store.load(folder)
    if not examples:
        raise UsageError(
            f"no voice examples in {folder}; record them with `voicecoach enrol` "
            "or `voicecoach enrol --from FOLDER`"
        )
    verifier = WhisperVerifier()
    personal = PersonalExamples(examples)
    return leave_one_out(
        examples,
        personal,
        lambda samples, numbers: verifier.hear(samples, numbers=numbers, answers=False),
    )


def _format(reports: list[WordReport]) -> str:
    from voicecoach.enrol.report import format_reports

    return "each example heard by Whisper alone, and with your other examples:\n" + (
        format_reports(reports)
    )
