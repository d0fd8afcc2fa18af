"""In-package adapters for simulation and tests, passed in through constructors like real ones."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import Self, TypeVar

import numpy as np

from voicecoach.errors import AudioDeviceError, RecognizerError
from voicecoach.frames import FRAME_SAMPLES, FRAME_SECONDS, Samples, silence
from voicecoach.plan import estimate_speech_seconds
from voicecoach.ports import Hit, ProgressFn, Unmanaged

#: Whatever verdict a recognizer hands a second opinion (``whisper_verifier.Verdict``).
AnyVerdict = TypeVar("AnyVerdict")


class SilentMicrophone(Unmanaged):
    """A microphone in a silent room that never ends."""

    _FRAME = np.zeros(FRAME_SAMPLES, dtype=np.float32)

    def read(self) -> Samples:
        """One frame of silence."""
        return self._FRAME


class NullSpeaker(Unmanaged):
    """A speaker that discards what it is given, counting frames for tests."""

    def __init__(self) -> None:
        self.frames_played = 0

    def play(self, frame: Samples) -> None:
        """Count the frame and drop it."""
        self.frames_played += 1


class RecordingSpeaker(NullSpeaker):
    """A speaker that keeps every frame it is given, to check what was played and when."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[Samples] = []

    def play(self, frame: Samples) -> None:
        """Keep the frame."""
        super().play(frame)
        self.frames.append(np.array(frame, dtype=np.float32))

    def samples(self) -> Samples:
        """Everything played, in order."""
        if not self.frames:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.frames)


class EstimatedSynthesizer(Unmanaged):
    """Silent 'speech' as long as the text would take to say, from its word count."""

    def __init__(self, rate_wpm: float = 160.0) -> None:
        self.rate_wpm = rate_wpm

    def render(self, text: str) -> Samples:
        """Silence of the estimated speaking time."""
        return silence(estimate_speech_seconds(text, self.rate_wpm))

    def prerender(self, texts: Iterable[str], progress: ProgressFn | None = None) -> None:
        """Nothing to prepare: estimates are instant."""


class ScriptedRecognizer(Unmanaged):
    """Hears given text at given stream times: the ``--heard T:TEXT`` of simulation.

    Text ending in "?" is unsure (``Hit.unsure_of``): "stop?" may have been "stop", and "?"
    alone was the person's voice, not understood.

    Like every recognizer it reports what it heard; whether the session listens for the
    numbers, symptoms and answers in it is the runner's decision (``Hit.command``).
    """

    name = "scripted"

    def __init__(
        self,
        script: Sequence[tuple[float, str]],
        decide_seconds: float = 0.0,
        late_seconds: float = 0.0,
        utterance_seconds: float | None = None,
    ) -> None:
        self._script = sorted(script)
        #: How long each utterance lasted before its time, when its start should be known
        #: (``Hit.start_seconds``), as Whisper's are; None leaves the start unknown.
        self.utterance_seconds = utterance_seconds
        #: Wall time a frame that releases hits takes, like a recognizer confirming a candidate.
        self.decide_seconds = decide_seconds
        #: Stream time between an utterance's end and its hit, like Whisper on its own thread.
        self.late_seconds = late_seconds
        self._next = 0
        self._frames = 0
        #: Every (numbers, answers) the recognizer was asked for, in order.
        self.expectations: list[tuple[bool, bool]] = []

    def feed(self, frame: Samples) -> list[Hit]:
        """Release every scripted utterance whose time has come."""
        self._frames += 1
        now = self._frames * FRAME_SECONDS
        hits: list[Hit] = []
        due = now - self.late_seconds + 1e-9
        while self._next < len(self._script) and self._script[self._next][0] <= due:
            at, text = self._script[self._next]
            start = None if self.utterance_seconds is None else at - self.utterance_seconds
            if text.endswith("?"):
                # "stop?": a half-heard safety word; a bare "?": speech not understood.
                unsure_of = text[:-1].strip()
                hits.append(Hit.of(text, 0.5, at, unsure_of=unsure_of, start_seconds=start))
            else:
                hits.append(Hit.of(text, 1.0, at, start_seconds=start))
            self._next += 1
        if hits and self.decide_seconds > 0.0:
            time.sleep(self.decide_seconds)
        return hits

    def reset(self) -> None:
        """Scripted text has no utterance state to forget."""

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Listen for numbers (with the symptoms) and answers, or not; recorded for tests."""
        self.expectations.append((numbers, answers))


class FlakyMicrophone(SilentMicrophone):
    """A silent microphone that is unplugged after ``fail_after_frames`` reads.

    Reopening it fails ``failed_reopens`` times, then works: a USB microphone that is pulled
    out and plugged back in.
    """

    def __init__(self, fail_after_frames: int, failed_reopens: int = 0) -> None:
        self.fail_after_frames = fail_after_frames
        self.failed_reopens = failed_reopens
        self.opens = 0
        self._reads = 0
        self._failed = False

    def __enter__(self) -> Self:
        self.opens += 1
        if self._failed and self.opens <= self.failed_reopens + 1:
            raise AudioDeviceError("input device 'test mic' is not connected")
        return self

    def read(self) -> Samples:
        """Silence, until the device disappears."""
        self._reads += 1
        if self._reads == self.fail_after_frames:
            self._failed = True
            raise AudioDeviceError("input device 'test mic' disappeared mid-stream")
        return self._FRAME


class FlakySpeaker(NullSpeaker):
    """A speaker that disappears after ``fail_after_frames`` frames and never comes back."""

    def __init__(self, fail_after_frames: int) -> None:
        super().__init__()
        self.fail_after_frames = fail_after_frames
        self.opens = 0

    def __enter__(self) -> Self:
        self.opens += 1
        if self.opens > 1:
            raise AudioDeviceError("output device 'test speaker' is not connected")
        return self

    def play(self, frame: Samples) -> None:
        """Count the frame, until the device disappears."""
        if self.frames_played >= self.fail_after_frames:
            raise AudioDeviceError("output device 'test speaker' disappeared mid-stream")
        self.frames_played += 1


class FailingDenoiser:
    """A noise suppressor whose native library fails on every call, as a damaged one would."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, samples: Samples) -> Samples:
        """Count the call and fail."""
        self.calls += 1
        raise RecognizerError("RNNoise failed on an utterance")


class RecordingOpinion:
    """A second opinion that never takes a command, and keeps every utterance it was asked on."""

    def __init__(self) -> None:
        self.read: list[Samples] = []

    def second_opinion(self, samples: Samples, verdict: AnyVerdict) -> AnyVerdict:
        """Keep ``samples``; leave ``verdict`` as it is."""
        self.read.append(np.array(samples, dtype=np.float32))
        return verdict
