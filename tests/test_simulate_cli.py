"""``voicecoach simulate`` through click's CliRunner: every script ends by itself, and says why."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from voicecoach.app.eventlog import Transcript
from voicecoach.cli import main
from voicecoach.events import Heard, SayStarted, SessionEnded
from voicecoach.journal import Journal
from voicecoach.spoken import (
    CHECK_REMINDER,
    MILD_REMINDER,
    PAUSE_REMINDER,
    PAUSE_TIMEOUT_TEXT,
    end_pain_text,
)

#: How the transcript marks a word given with --heard.
SCRIPTED = "(scripted: straight to the recognizer)"
#: A simulated session takes about a second here; a busy machine gets plenty more.
ENDS_WITHIN_SECONDS = 120.0


def _simulate(journal_path: Path, *args: str) -> tuple[int, str]:
    """Exit code and output of ``simulate``; fails, not hangs, if it does not end by itself."""
    results: list[Result] = []
    run = threading.Thread(
        target=lambda: results.append(
            CliRunner().invoke(main, ["simulate", "--journal", str(journal_path), *args])
        ),
        daemon=True,
    )
    run.start()
    run.join(timeout=ENDS_WITHIN_SECONDS)
    if not results:
        pytest.fail(f"simulate {' '.join(args)} did not end within {ENDS_WITHIN_SECONDS} s")
    return results[0].exit_code, results[0].output


def _said_at(output: str, text: str) -> list[float]:
    """The session seconds of every transcript line where the coach says ``text``."""
    return [
        float(m) for m in re.findall(rf"^ *([0-9.]+)s  coach: {re.escape(text)}$", output, re.M)
    ]


@pytest.mark.parametrize(
    ("heard", "reminder"),
    [
        (["--heard", "40:pause"], PAUSE_REMINDER),
        (["--heard", "30:pain", "--heard", "40:two"], MILD_REMINDER),
    ],
)
def test_a_session_left_waiting_ends_interrupted_and_says_why(
    journal_path: Path, heard: list[str], reminder: str
) -> None:
    code, output = _simulate(journal_path, *heard)
    assert code == 0, output
    reminders = _said_at(output, reminder)
    # A minute of quiet after each line, for ten minutes from the pause at 40 s.
    assert len(reminders) == 8
    assert all(b - a > 60.0 for a, b in zip([40.0, *reminders], reminders, strict=False))
    [goodbye] = _said_at(output, PAUSE_TIMEOUT_TEXT)
    assert "  640.0s  [paused_too_long]\n" in output
    assert goodbye == pytest.approx(640.0, abs=0.05)
    assert re.search(
        r"^ *6[45][0-9]\.[0-9]s  \[end: interrupted after 6[45][0-9] s\]$", output, re.M
    )
    with Journal(journal_path, readonly=True) as journal:
        [session] = journal.sessions()
    assert session.end_reason == "interrupted"


def test_the_pause_limits_are_options(journal_path: Path) -> None:
    code, output = _simulate(
        journal_path,
        "--heard",
        "40:pause",
        "--pause-reminder-seconds",
        "20",
        "--pause-timeout-seconds",
        "120",
    )
    assert code == 0, output
    assert len(_said_at(output, PAUSE_REMINDER)) == 4
    assert _said_at(output, PAUSE_TIMEOUT_TEXT) == [pytest.approx(160.0, abs=0.05)]
    assert "[end: interrupted after" in output


@pytest.mark.parametrize(
    ("option", "value"), [("--pause-timeout-seconds", "0"), ("--pause-reminder-seconds", "5")]
)
def test_pause_limits_out_of_range_are_refused(journal_path: Path, option: str, value: str) -> None:
    code, output = _simulate(journal_path, option, value)
    assert code == 2
    assert f"Invalid value for '{option}'" in output


def test_numb_outside_the_pain_question_does_not_end_the_session(journal_path: Path) -> None:
    code, output = _simulate(journal_path, "--heard", "40:numb", "--heard", "60:it is tingling")
    assert code == 0, output
    assert end_pain_text("numbness or tingling", "999") not in output
    assert "heard: 'numb'" not in output
    assert "[pain" not in output
    assert re.search(r"\[end: completed after [0-9]+ s\]$", output.strip())


@pytest.mark.parametrize(
    ("heard", "ends", "asked"),
    [
        (["--heard", "40:?", "--heard", "44:stop"], "stopped", "Is something wrong?"),
        # After the pain check, "zero" rests until "continue", which nobody says here.
        (["--heard", "40:pain?", "--heard", "44:pain"], "interrupted", "Did you say pain?"),
        (["--heard", "40:stop?", "--heard", "44:carry on"], "completed", "Did you say stop?"),
    ],
)
def test_a_check_asks_then_does_what_the_answer_says(
    journal_path: Path, heard: list[str], ends: str | None, asked: str
) -> None:
    code, output = _simulate(journal_path, *heard, "--heard", "70:zero")
    assert code == 0, output
    assert re.search(rf"^ *40.0s  coach: {re.escape(asked)} Say ", output, re.M), output
    assert ("[pain: 0]" in output) == (ends == "interrupted")
    assert f"[end: {ends} after" in output


def test_an_unanswered_check_stays_paused_until_the_pause_ends(journal_path: Path) -> None:
    code, output = _simulate(journal_path, "--heard", "40:stop?")
    assert code == 0, output
    # The exercise never carries on by itself after a check: it reminds, then ends.
    assert len(_said_at(output, CHECK_REMINDER)) == 8
    assert "[paused_too_long]" in output
    assert "[end: interrupted after" in output


def test_the_transcript_shows_each_scripted_word_at_its_time(journal_path: Path) -> None:
    code, output = _simulate(
        journal_path, "--heard", "40:pause", "--heard", "43:resume", "--heard", "5000:stop"
    )
    assert code == 0, output
    lines = output.splitlines()
    said = lines.index(f"   40.0s  person says 'pause' {SCRIPTED}")
    assert lines[said + 1].startswith("   40.0s  heard: 'pause' -> pause")
    assert f"   43.0s  person says 'resume' {SCRIPTED}" in lines
    assert lines[-2].split()[1:3] == ["[end:", "completed"]
    assert lines[-1] == f" 5000.0s  person says 'stop' {SCRIPTED} (after the end)"


def test_a_word_nobody_heard_still_shows_in_the_transcript() -> None:
    person = [(12.0, "person says 'stop'"), (5.0, "person plays cough.wav")]
    transcript = Transcript(echo=False, person=person)
    for event in (
        SayStarted(0.0, "Lift your hips."),
        SayStarted(10.0, "one"),
        Heard(12.6, "stop", "stop"),
        SessionEnded(13.0, "stopped", 13.0),
    ):
        transcript.on_event(event)
    assert [line.split("s  ", 1)[1] for line in transcript.lines] == [
        "coach: Lift your hips.",
        "person plays cough.wav",
        "coach: one",
        "person says 'stop'",
        "heard: 'stop' -> stop",
        "[end: stopped after 13 s]",
    ]
