"""Real audio end to end: ``voicecoach run`` on the PulseAudio ``pulse`` device, in real time.

The coach plays into a null sink and listens to the sink's monitor, so it hears itself exactly
as a microphone near the speaker would; the person's words are played into the same sink with
``paplay`` at chosen moments, and the sink is recorded with ``parecord`` to time the counts.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pulse import PulseSink
from pulse import pulse_sink as pulse_sink

from voicecoach.audio.espeak import Voice, synthesize
from voicecoach.audio.files import read_audio, write_wav
from voicecoach.frames import RATE_HZ
from voicecoach.journal import Journal

pytestmark = [pytest.mark.audio, pytest.mark.slow]

PROGRAM = Path(__file__).parent / "data" / "short.toml"
#: A whole session of PROGRAM takes about two minutes (the unanswered rating is asked twice),
#: after its phrases are rendered into an empty cache; a busy machine adds minutes.
WHOLE_SESSION_SECONDS = 300.0
#: How long a session may take to reach its first exercise cue: the intro (about 25 s), after
#: rendering every phrase into an empty cache and loading the recognizer on a busy machine.
STARTUP_SECONDS = 120.0
#: States in which a word has halted the exercise and the hold is frozen.
HALTS = frozenset({"paused", "checking"})
#: The voice each word is said in. These tests prove the device path (real streams, the echo
#: through the sink, the session's reaction), not recognition accuracy, which bench/ measures:
#: so each word is said in a voice Whisper tiny.en (the default recognizer) hears when the word
#: is said alone. Screened on 4 MBROLA voices x 3 rates: "pause" was heard in mb-en1 at 130
#: and 150 wpm only ("Cuz", "Puzz", "Pass" in the others); "stop", "nine", "resume", "start
#: session" and "I feel pain" in mb-us2 at all. A bare "pain" (mb-en1, heard alone at every
#: rate) went unheard in 3 tries over the coach in 3 of 6 runs: Silero gave it a speech
#: probability of 0.29-0.44 there, under the 0.5 that starts an utterance. The README tells
#: people to say "I feel pain"; so does this test.
WORD_VOICES = {
    "stop": Voice("mb-us2", 150, 50),
    "pause": Voice("mb-en1", 150, 50),
    "resume": Voice("mb-us2", 150, 50),
    "I feel pain": Voice("mb-us2", 150, 50),
    "nine": Voice("mb-us2", 150, 50),
    "start session": Voice("mb-us2", 150, 50),
}
#: Times a word is said when the session does not act on it, and how long each try waits.
TRIES = 3
WORD_ACTED_ON_SECONDS = 3.0
Record = dict[str, Any]


class LiveRun:
    """One ``voicecoach run`` in a subprocess, with its event log read as it grows."""

    def __init__(self, tmp_path: Path, sink: PulseSink, *extra: str, command: str = "run") -> None:
        self.sink = sink
        self.tmp_path = tmp_path
        #: Its stderr, at debug level: every utterance Whisper heard and why anything was
        #: discounted, so that a failure says what the recognizer made of the words.
        self.stderr_path = tmp_path / "stderr.txt"
        self.log_path = tmp_path / "events.jsonl"
        self.journal_path = tmp_path / "journal.sqlite3"
        target = [str(PROGRAM)] if command == "run" else ["--program", str(PROGRAM), "--once"]
        args = [
            sys.executable,
            "-m",
            "voicecoach",
            "-vv",
            command,
            *target,
            "--input-device",
            sink.device,
            "--output-device",
            sink.device,
            "--journal",
            str(self.journal_path),
            "--log",
            str(self.log_path),
            "--no-resume",
            "--dose",
            "base",
            # espeak-ng's voice renders a session's phrases in a few seconds; the natural
            # voice takes a minute or more from a cold cache on a busy machine, which these
            # device tests would spend waiting (tests/test_natural_voice.py covers that voice).
            "--voice",
            "espeak",
            *extra,
        ]
        with self.stderr_path.open("w") as stderr:
            self.process = subprocess.Popen(
                args,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
                env={**os.environ, "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")},
                # Started as a shell starts a background job, with SIGINT ignored: Ctrl-C
                # (the tests' SIGINT) must still end the session cleanly.
                preexec_fn=_ignore_sigint,
            )

    def records(self) -> list[Record]:
        """Every event logged so far."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text().splitlines()
        return [json.loads(line) for line in lines if line.endswith("}")]

    def wait_for(self, match: Callable[[Record], bool], timeout_seconds: float = 60.0) -> Record:
        """The first logged event that matches, waiting for it to happen."""
        found = self.first(match, timeout_seconds)
        if found is None:
            raise AssertionError(f"no matching event; stderr: {self.stderr()}")
        return found

    def first(
        self, match: Callable[[Record], bool], timeout_seconds: float, skip: int = 0
    ) -> Record | None:
        """The first logged event after the first ``skip`` that matches within
        ``timeout_seconds``, else None."""
        deadline = time.monotonic() + timeout_seconds
        while True:
            ended = self.process.poll() is not None
            found = next((r for r in self.records()[skip:] if match(r)), None)
            if found is not None or ended or time.monotonic() >= deadline:
                return found
            time.sleep(0.05)

    def say_until(self, text: str, match: Callable[[Record], bool]) -> tuple[Record, int]:
        """Say ``text`` until the session does what ``match`` looks for, as a person the coach
        talks on over says it again: up to ``TRIES`` times. The event, and the tries it took."""
        for tries in range(1, TRIES + 1):
            before = len(self.records())
            self.say(text)
            found = self.first(match, WORD_ACTED_ON_SECONDS, skip=before)
            if found is not None:
                print(f"{text!r} acted on at try {tries} of {TRIES}")  # shown with pytest -rP
                return found, tries
        raise AssertionError(f"{text!r} said {TRIES} times, never acted on:\n{self.hearing()}")

    def wait_for_output(self, text: str, timeout_seconds: float = 30.0) -> None:
        """Wait until the process has printed ``text`` on stderr."""
        deadline = time.monotonic() + timeout_seconds
        while text not in self.stderr() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert text in self.stderr(), self.stderr()

    def say(self, text: str) -> None:
        """The person says ``text``: real speech played into the room."""
        path = self.tmp_path / f"{text.replace(' ', '_')}.wav"
        if not path.exists():
            write_wav(path, synthesize(text, WORD_VOICES[text]))
        subprocess.run(["paplay", f"--device={self.sink.sink}", str(path)], check=True, timeout=30)

    def finish(self, timeout_seconds: float = WHOLE_SESSION_SECONDS) -> tuple[int, str, str]:
        """Wait for the process to end; its exit code, stdout and stderr."""
        out, _ = self.process.communicate(timeout=timeout_seconds)
        return self.process.returncode, out, self.stderr()

    def stderr(self) -> str:
        """What the process has written on stderr so far."""
        return self.stderr_path.read_text(errors="replace")

    def hearing(self) -> str:
        """The stderr lines about what was heard, discounted or ignored, and the echo."""
        said = ("utterance", "discounted", "ignored", "heard", "echo")
        lines = self.stderr().splitlines()
        return "\n".join(line for line in lines if any(word in line for word in said))

    def kill(self) -> None:
        """End the process if it still runs, and close its pipe either way: a pipe left open
        by a failed test was reported (as an unclosed file) in whichever test ran next."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=30)
        elif self.process.stdout is not None:
            self.process.stdout.close()


def _ignore_sigint() -> None:
    """In the child before it runs voicecoach: SIGINT ignored, as in a script's background job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.fixture
def live(tmp_path: Path, pulse_sink: PulseSink) -> Iterator[Callable[..., LiveRun]]:
    """Start ``voicecoach run`` on the null sink; killed at the end if still running."""
    if shutil.which("paplay") is None:
        pytest.skip("needs paplay: apt-get install pulseaudio-utils")
    runs: list[LiveRun] = []

    def start(*extra: str, command: str = "run") -> LiveRun:
        run = LiveRun(tmp_path, pulse_sink, *extra, command=command)
        runs.append(run)
        return run

    yield start
    for run in runs:
        run.kill()


def _end(records: list[Record]) -> Record:
    return next(r for r in records if r["type"] == "end")


def _stop_heard(record: Record) -> bool:
    return record["type"] == "heard" and record["command"] == "stop"


def _heard(records: list[Record]) -> list[Record]:
    return [r for r in records if r["type"] == "heard"]


def test_stop_while_the_coach_speaks(live: Callable[..., LiveRun]) -> None:
    """The first "stop" is said over the coach's cue. Over the coach a word is missed now and
    then (bench/safety.md has the rates; 2 of 15 runs here), so it is said again if need be."""
    run = live()
    cue = run.wait_for(
        lambda r: r["type"] == "say" and r["text"].startswith("Knee hug"), STARTUP_SECONDS
    )
    time.sleep(0.6)
    _, tries = run.say_until("stop", _stop_heard)
    code, _, err = run.finish()
    records = run.records()
    end = _end(records)
    assert end["reason"] == "stopped", err
    stop = next(r for r in _heard(records) if r["command"] == "stop")
    if tries == 1:
        # The coach was cut off mid-sentence by the person's word.
        assert any(r["type"] == "say_end" and r["interrupted"] for r in records)
    assert stop["t"] > cue["t"]
    # Session time starts with the first frame, so the word's end in the microphone signal and
    # its acceptance are on one clock: this is the real delay on the device, input buffering
    # included (0.16-0.53 s measured on this loop; it read 1.5 s while the clock started early).
    delay_seconds = stop["t"] - stop["audio_end"]
    print(f"stop accepted {delay_seconds:.2f} s after the word ended")  # shown with pytest -rP
    assert 0.0 <= delay_seconds <= 1.0, stop
    with Journal(run.journal_path, readonly=True) as journal:
        (session,) = journal.sessions()
    assert session.end_reason == "stopped"
    assert code == 0


def test_pause_then_resume_restarts_the_hold(live: Callable[..., LiveRun]) -> None:
    run = live()
    run.wait_for(lambda r: r["type"] == "say" and r["text"] == "two")
    # Paused, or asked what was said ("puzzle" once came out): both freeze the hold, and
    # "resume" answers both. Said again if need be: Silero now and then starts no utterance
    # on one short word among the counts (in 2 runs both tries in the hold went unheard and
    # the third, over the next cue, was taken; in 9 earlier runs the first was).
    halt, _ = run.say_until("pause", lambda r: r["type"] == "state" and r["state"] in HALTS)
    run.wait_for(lambda r: r["type"] == "say_end" and r["t"] > halt["t"], 10)
    time.sleep(4.0)
    run.say("resume")
    resumed = run.wait_for(lambda r: r["type"] == "command" and r["command"] == "resume", 10)
    counts = run.wait_for(
        lambda r: r["type"] == "say" and r["t"] > resumed["t"] and r["text"] == "one", 30
    )
    assert counts["t"] > resumed["t"]
    # Ended as a person at the keyboard would: this test is about pause and resume.
    run.process.send_signal(signal.SIGINT)
    code, _, _ = run.finish(timeout_seconds=30.0)
    assert _end(run.records())["reason"] == "interrupted"
    assert code == 130


def test_pain_then_a_number_picks_the_band(live: Callable[..., LiveRun]) -> None:
    run = live()
    run.wait_for(lambda r: r["type"] == "say" and r["text"].startswith("Draw your right"))
    halt, _ = run.say_until(
        "I feel pain", lambda r: r["type"] == "state" and r["state"] in HALTS | {"pain_check"}
    )
    if halt["state"] != "pain_check":
        # Asked "Is something wrong?": the person answers, as anyone would, with the word again,
        # after a moment (words begun in the coach's echo tail may be its own "pain").
        run.wait_for(lambda r: r["type"] == "say_end" and r["t"] > halt["t"], 20)
        time.sleep(1.0)
        run.say_until("I feel pain", lambda r: r["type"] == "state" and r["state"] == "pain_check")
    question = run.wait_for(lambda r: r["type"] == "state" and r["state"] == "pain_check", 10)
    run.wait_for(lambda r: r["type"] == "say_end" and r["t"] > question["t"], 20)
    run.say("nine")
    run.finish()
    records = run.records()
    pain = next(r for r in records if r["type"] == "pain")
    assert pain["score"] == 9
    assert _end(records)["reason"] == "pain"


def test_a_whole_session_never_triggers_itself_and_counts_on_time(
    live: Callable[..., LiveRun], tmp_path: Path, pulse_sink: PulseSink
) -> None:
    recording = tmp_path / "sink.wav"
    recorder = subprocess.Popen(
        [
            "parecord",
            f"--device={pulse_sink.source}",
            "--rate=16000",
            "--channels=1",
            "--format=s16le",
            "--file-format=wav",
            str(recording),
        ],
    )
    try:
        run = live()
        code, _, err = run.finish()
    finally:
        recorder.terminate()
        recorder.wait(timeout=10)
    records = run.records()
    assert _end(records)["reason"] == "completed", err
    assert _heard(records) == []
    assert code == 0
    _assert_counts_on_time(records, read_audio(recording).samples)


def _assert_counts_on_time(records: list[Record], audio: np.ndarray) -> None:
    """Each count of the first hold is heard within 100 ms of its place in the schedule."""
    says = [r for r in records if r["type"] == "say"]
    first = next(i for i, r in enumerate(says) if r["text"] == "one")
    counts = says[first : first + 5]
    assert [r["text"] for r in counts] == ["one", "two", "three", "four", "five"]
    scheduled = [counts[0]["t"] + k * 1.0 for k in range(5)]
    assert [c["t"] for c in counts] == pytest.approx(scheduled, abs=0.03)
    onsets = np.array(_onsets(audio))
    # The recording started before the session clock; find the one shift that fits best,
    # so that what is checked is each count against the schedule, not the start-up time.
    shifts = np.arange(0.0, 30.0, 0.005)
    misfit = [
        np.abs(onsets[None, :] - (np.array(scheduled)[:, None] + s)).min(axis=1).sum()
        for s in shifts
    ]
    shift = float(shifts[int(np.argmin(misfit))])
    errors = [float(np.abs(onsets - (at + shift)).min()) for at in scheduled]
    assert max(errors) <= 0.1, errors


def _onsets(audio: np.ndarray, window_seconds: float = 0.01) -> list[float]:
    """Times where sound starts after at least 150 ms of quiet."""
    window = int(window_seconds * RATE_HZ)
    frames = len(audio) // window
    levels = np.sqrt(np.mean(audio[: frames * window].reshape(frames, window) ** 2, axis=1))
    loud = levels > 10 ** (-45 / 20)
    quiet_run = 0
    onsets: list[float] = []
    for i, is_loud in enumerate(loud):
        if is_loud and quiet_run * window_seconds >= 0.15:
            onsets.append(i * window_seconds)
        quiet_run = 0 if is_loud else quiet_run + 1
    return onsets


def test_serve_once_starts_on_the_phrase_and_runs_a_session(live: Callable[..., LiveRun]) -> None:
    run = live(command="serve")
    run.wait_for_output("waiting for")
    time.sleep(1.0)
    # Said again if need be: once the stream opened as the phrase played, and only
    # "session." was heard.
    run.say_until("start session", lambda r: r["type"] == "start")
    run.wait_for(lambda r: r["type"] == "say" and r["text"].startswith("Knee hug"), 60)
    # Ended at its first exercise, as a person at the keyboard would: a whole session on the
    # device is the test above.
    run.process.send_signal(signal.SIGINT)
    code, _, err = run.finish(timeout_seconds=30.0)
    records = run.records()
    assert records[0]["type"] == "start", err
    assert _end(records)["reason"] == "interrupted"
    assert code == 130
