"""The recognizer that learned from people: Silero VAD finds utterances, Whisper names them.

Silero VAD (``vad.py``) listens to every frame and cuts out each utterance; Whisper tiny.en
(``whisper_verifier.py``) decides what each one says, among the words the session listens for.
Both were trained on real human speech, so neither learned the synthetic voices the project
can make: bench/README.md measures them per voice family and on real recordings.

Whisper takes about 0.2 s of one x86 core per utterance (about a second on a Raspberry Pi 4).
A live session must not stop feeding the speaker for that long, so with ``background`` the
utterances are heard on a thread of their own and each hit is handed out on the first frame
after it is ready. Simulations and benches hear them inline, so that their results do not
depend on how busy the machine was.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Self

from voicecoach.audio.frames import Samples
from voicecoach.errors import RecognizerError
from voicecoach.ports import Hit
from voicecoach.speech.command_net import class_of, phrase_of
from voicecoach.speech.vad import Segment, Segmenter, SegmenterSettings, SpeechProbability, silero
from voicecoach.speech.whisper_verifier import Verdict, WhisperVerifier

if TYPE_CHECKING:
    from voicecoach.speech.personal import PersonalExamples

_LOGGER = logging.getLogger(__name__)
#: Verdicts kept for ``verdicts`` (``detect -v`` and the bench read them).
_KEPT_VERDICTS = 50


@dataclass(frozen=True)
class _Job:
    """One utterance to hear, with what the session listened for when it ended."""

    generation: int
    segment: Segment
    numbers: bool
    answers: bool


class _HearingThread:
    """Runs the verifier on a daemon thread; jobs go in, (job, verdict) pairs come out."""

    def __init__(self, verifier: WhisperVerifier, wake: bool) -> None:
        self._verifier = verifier
        self._wake = wake
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._done: queue.Queue[tuple[_Job, Verdict | BaseException]] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="whisper", daemon=True)
        self._thread.start()

    def submit(self, job: _Job) -> None:
        """Hear ``job`` as soon as the thread is free."""
        self._jobs.put(job)

    def finished(self) -> list[tuple[_Job, Verdict]]:
        """Every job heard since the last call; re-raises a failure of the thread."""
        out: list[tuple[_Job, Verdict]] = []
        while True:
            try:
                job, result = self._done.get_nowait()
            except queue.Empty:
                return out
            if isinstance(result, BaseException):
                raise RecognizerError(f"Whisper failed on an utterance: {result}") from result
            out.append((job, result))

    def close(self) -> None:
        """Finish the job in hand, drop the rest, and end the thread."""
        while True:
            try:
                self._jobs.get_nowait()
            except queue.Empty:
                break
        self._jobs.put(None)
        self._thread.join(timeout=5.0)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                verdict: Verdict | BaseException = self._verifier.hear(
                    job.segment.samples, numbers=job.numbers, answers=job.answers, wake=self._wake
                )
            except Exception as err:  # handed to the audio loop, which reports it
                verdict = err
            self._done.put((job, verdict))


class WhisperRecognizer:
    """Names each utterance the voice-activity detector cuts out, with Whisper tiny.en.

    With ``wake`` it listens for the start phrase alone (``voicecoach serve`` while idle); with
    ``background`` Whisper runs on a thread of its own (live sessions). With ``personal`` (the
    person's enrolment examples) an utterance Whisper rejected is taken when the examples agree
    with the phrase Whisper found closest (``personal.py``).
    """

    name = "whisper"

    def __init__(
        self,
        *,
        wake: bool = False,
        background: bool = False,
        verifier: WhisperVerifier | None = None,
        vad: SpeechProbability | None = None,
        segmenter: SegmenterSettings | None = None,
        personal: PersonalExamples | None = None,
    ) -> None:
        self._wake = wake
        self._background = background
        self._given_verifier = verifier
        self._given_vad = vad
        self._settings = segmenter
        self._personal = personal
        self._verifier: WhisperVerifier | None = None
        self._segmenter: Segmenter | None = None
        self._thread: _HearingThread | None = None
        self._numbers = False
        self._answers = False
        #: Bumped by ``reset``: an utterance that ended before it is no longer acted on.
        self._generation = 0
        #: Every utterance heard and what Whisper made of it, newest last (for ``detect -v``).
        self.verdicts: list[tuple[Segment, Verdict]] = []

    def __enter__(self) -> Self:
        self._verifier = self._given_verifier or WhisperVerifier()
        self._segmenter = Segmenter(self._given_vad or silero(), self._settings)
        if self._background:
            self._thread = _HearingThread(self._verifier, self._wake)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread is not None:
            self._thread.close()
        self._thread = None
        self._verifier = None
        self._segmenter = None

    def feed(self, frame: Samples) -> list[Hit]:
        """Consume one frame; return the commands utterances that ended were."""
        if self._segmenter is None or self._verifier is None:
            raise RecognizerError("the Whisper recognizer is not open; use it in a `with` block")
        heard: list[tuple[_Job, Verdict]] = []
        for segment in self._segmenter.feed(frame):
            job = _Job(self._generation, segment, self._numbers, self._answers)
            if self._thread is not None:
                self._thread.submit(job)
            else:
                heard.append((job, self._hear(job)))
        if self._thread is not None:
            heard += self._thread.finished()
        return [hit for job, verdict in heard if (hit := self._hit(job, verdict)) is not None]

    def _hear(self, job: _Job) -> Verdict:
        assert self._verifier is not None
        return self._verifier.hear(
            job.segment.samples, numbers=job.numbers, answers=job.answers, wake=self._wake
        )

    def _hit(self, job: _Job, verdict: Verdict) -> Hit | None:
        segment = job.segment
        if verdict.parsed is None and self._personal is not None:
            verdict = self._personal.second_opinion(segment.samples, verdict)
        self.verdicts.append((segment, verdict))
        del self.verdicts[:-_KEPT_VERDICTS]
        _LOGGER.debug(
            "utterance %.2f-%.2f s: %r -> %s (%s)", segment.start_seconds, segment.end_seconds,
            verdict.text, verdict.parsed, verdict.how,
        )  # fmt: skip
        if verdict.parsed is None or job.generation != self._generation:
            return None
        return Hit(phrase_of(class_of(verdict.parsed)), verdict.confidence, segment.end_seconds)

    def reset(self) -> None:
        """Forget the utterance in progress and any still being heard."""
        self._generation += 1
        if self._segmenter is not None:
            self._segmenter.reset()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Name commands, plus the pain-scale numbers and the answers when asked for."""
        self._numbers = numbers
        self._answers = answers
