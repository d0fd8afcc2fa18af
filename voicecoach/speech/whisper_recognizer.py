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

import dataclasses
import logging
import math
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

import numpy as np

from voicecoach.commands import normalize, number_value
from voicecoach.errors import RecognizerError
from voicecoach.frames import Samples
from voicecoach.ports import CoachVoice, Hit
from voicecoach.speech.checkzone import CheckZone
from voicecoach.speech.command_net import class_of, phrase_of
from voicecoach.speech.vad import Segment, Segmenter, SegmenterSettings, SpeechProbability, silero
from voicecoach.speech.whisper_verifier import Verdict, WhisperVerifier

if TYPE_CHECKING:
    from voicecoach.speech.personal import PersonalExamples

_LOGGER = logging.getLogger(__name__)
#: A noise suppressor (``denoise.Denoiser``): the same stretch of audio, its noise taken out.
Cleaner = Callable[[Samples], Samples]
#: Verdicts kept for ``verdicts`` (``detect -v`` and the bench read them).
_KEPT_VERDICTS = 50
#: An utterance whose loudest chunk stands less than this above the room's background
#: (``Segment.above_background_db``) is heard a second time, cleaned of the room's noise by
#: RNNoise, when the first hearing found no command. Clean tuning-voice clips stand 49-57 dB
#: above their room, and clips in noise at 10 dB 15-25 dB; in a quiet room RNNoise takes as
#: much from a synthetic voice as from the noise, and cost Whisper 17 of 105 commands.
NOISY_WITHIN_DB = 30.0
#: ... unless the room is itself talk (Silero's mean speech probability over it, Segment.
#: room_speech_probability, at least this): RNNoise keeps speech, so cleaning babble only
#: makes other people's words clearer, and Whisper wrote them: "to the next one." became a
#: pain score of 1. Silero gave the tuning clips' rooms 0.01 in pink noise, 0.65-0.99 in babble.
ROOM_TALK_PROBABILITY = 0.5


class SecondOpinion(Protocol):
    """A second opinion on an utterance Whisper rejected (``net_opinion.NetOpinion``)."""

    def second_opinion(self, samples: Samples, verdict: Verdict) -> Verdict:
        """``verdict``, or a copy taking Whisper's closest phrase when the opinion agrees."""


@dataclass(frozen=True)
class _Job:
    """One utterance to hear, with what the session listened for when it ended."""

    generation: int
    segment: Segment
    numbers: bool
    answers: bool


class _HearingThread:
    """Hears utterances on a daemon thread; jobs go in, (job, verdict) pairs come out."""

    def __init__(self, hear: Callable[[_Job], Verdict]) -> None:
        self._hear = hear
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
                verdict: Verdict | BaseException = self._hear(job)
            except Exception as err:  # handed to the audio loop, which reports it
                verdict = err
            self._done.put((job, verdict))


class WhisperRecognizer:
    """Names each utterance the voice-activity detector cuts out, with Whisper tiny.en.

    With ``wake`` it listens for the start phrase alone (``voicecoach serve`` while idle); with
    ``background`` Whisper runs on a thread of its own (live sessions). With ``personal`` (the
    person's enrolment examples) an utterance Whisper rejected is taken when the examples agree
    with the phrase Whisper found closest (``personal.py``); with ``net`` (the command network),
    when the network names that phrase (``net_opinion.py``). With ``denoiser`` (RNNoise,
    ``denoise.py``) an utterance rejected in a noisy room is heard again, cleaned, before the
    second opinions (``NOISY_WITHIN_DB``), and the network reads it cleaned as well as it was
    heard. ``coach`` says when the coach was talking, for the quiet after a lone sound
    (``CheckZone``).
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
        check: CheckZone | None = None,
        personal: PersonalExamples | None = None,
        net: SecondOpinion | None = None,
        coach: CoachVoice | None = None,
        denoiser: Cleaner | None = None,
    ) -> None:
        self._wake = wake
        #: None: never hear an utterance a second time cleaned of the room's noise.
        self._denoiser = denoiser
        self._coach = coach
        #: None: never ask, only act on what Whisper takes.
        self._check = check
        self._background = background
        self._given_verifier = verifier
        self._given_vad = vad
        self._settings = segmenter
        #: Second opinions on an utterance Whisper rejected, the person's own examples first.
        self._opinions: list[SecondOpinion] = [o for o in (personal, net) if o is not None]
        #: Those that also read the cleaned hearing: the network, which learned from clips in
        #: noise; the person's examples were recorded in their room as it was, noise and all.
        self._cleaned_opinions: list[SecondOpinion] = [] if net is None else [net]
        self._verifier: WhisperVerifier | None = None
        self._segmenter: Segmenter | None = None
        self._thread: _HearingThread | None = None
        self._numbers = False
        self._answers = False
        #: A lone utterance not understood, waiting for the quiet after it (``CheckZone``).
        self._lone: Hit | None = None
        #: Where the last utterance heard ended, in stream seconds (for ``CheckZone``).
        self._last_end_seconds = -math.inf
        #: Bumped by ``reset``: an utterance that ended before it is no longer acted on.
        self._generation = 0
        #: Every utterance heard and what Whisper made of it, newest last (for ``detect -v``).
        self.verdicts: list[tuple[Segment, Verdict]] = []
        #: Utterances heard a second time, cleaned of the room's noise (for tests and benches).
        self.cleaned_hearings = 0

    def __enter__(self) -> Self:
        self._verifier = self._given_verifier or WhisperVerifier()
        self._segmenter = Segmenter(self._given_vad or silero(), self._settings)
        if self._background:
            self._thread = _HearingThread(self._hear)
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
        hits = [hit for job, verdict in heard if (hit := self._hit(job, verdict)) is not None]
        return hits + self._lone_after_quiet()

    def _lone_after_quiet(self) -> list[Hit]:
        """The lone utterance held back, once the quiet after it has lasted (else nothing)."""
        lone, segmenter, zone = self._lone, self._segmenter, self._check
        if lone is None or segmenter is None or zone is None:
            return []
        if segmenter.in_speech and self._person_went_on(segmenter.stream_seconds):
            self._lone = None  # more speech followed: the start of a sentence, not a cry
            return []
        if segmenter.stream_seconds - (lone.end_seconds or 0.0) < zone.lone_quiet_after_seconds:
            return []
        self._lone = None
        return [lone]

    def _person_went_on(self, at: float) -> bool:
        """Whether speech at ``at`` after a lone sound may be its speaker going on; not while
        the coach was talking (``CheckZone.lone_quiet_before_seconds``)."""
        return self._coach is None or not self._coach.speaking(at)

    def _hear(self, job: _Job) -> Verdict:
        """Whisper's verdict on one utterance, then on it cleaned in a noisy room, then each
        second opinion on either while none took it."""
        verifier = self._verifier
        if verifier is None:
            raise RecognizerError("the Whisper recognizer was closed while it was hearing")
        samples = job.segment.samples
        verdict = verifier.hear(samples, numbers=job.numbers, answers=job.answers, wake=self._wake)
        if verdict.parsed is not None:
            return verdict
        cleaned = self._cleaned(job.segment)
        again: Verdict | None = None
        if cleaned is not None:
            self.cleaned_hearings += 1
            again = verifier.hear(
                cleaned, numbers=job.numbers, answers=job.answers, wake=self._wake
            )  # fmt: skip
            if again.parsed is not None:
                return dataclasses.replace(again, denoised=True)
        verdict = _asked(self._opinions, samples, verdict)
        if verdict.parsed is None and cleaned is not None and again is not None:
            # In pink noise at 5 dB, the network reading the cleaned audio took 4 more of 105
            # tuning-voice commands, and nothing else (bench/README.md).
            again = _asked(self._cleaned_opinions, cleaned, again)
            if again.parsed is not None:
                return dataclasses.replace(again, denoised=True)
        return verdict

    def _noisy(self, segment: Segment) -> bool:
        """Whether the room around ``segment`` is noisy enough, and not with talk, to hear it
        again cleaned."""
        return (
            segment.above_background_db < NOISY_WITHIN_DB
            and segment.room_speech_probability < ROOM_TALK_PROBABILITY
        )

    def _cleaned(self, segment: Segment) -> Samples | None:
        """The utterance with the room's noise taken out, the suppressor having heard the room
        first; None in a quiet room or a room of talk, or without a suppressor. A suppressor
        that fails is dropped for the rest of the session: hearing goes on without it."""
        if self._denoiser is None or not self._noisy(segment):
            return None
        try:
            cleaned = self._denoiser(np.concatenate([segment.room, segment.samples]))
        except RecognizerError as err:
            _LOGGER.warning("hearing on without noise suppression: %s", err)
            self._denoiser = None
            return None
        return cleaned[len(segment.room) :]

    def _hit(self, job: _Job, verdict: Verdict) -> Hit | None:
        segment = job.segment
        self.verdicts.append((segment, verdict))
        del self.verdicts[:-_KEPT_VERDICTS]
        _LOGGER.debug(
            "utterance %.2f-%.2f s: %r -> %s (%s%s)", segment.start_seconds, segment.end_seconds,
            verdict.text, verdict.parsed, verdict.how, ", cleaned" if verdict.denoised else "",
        )  # fmt: skip
        quiet_before_seconds = segment.start_seconds - self._last_end_seconds
        self._last_end_seconds = segment.end_seconds
        if self._person_went_on(segment.start_seconds):
            self._lone = None  # another utterance followed the one held back
        if job.generation != self._generation:
            return None
        if verdict.parsed is not None:
            phrase = phrase_of(class_of(verdict.parsed))
            return Hit(
                phrase, verdict.confidence, segment.end_seconds,
                parsed=(verdict.parsed,), start_seconds=self._audio_start(segment),
            )  # fmt: skip
        unsure_of = self._unsure_of(job, verdict, quiet_before_seconds)
        if unsure_of is None:
            return None
        hit = Hit.of(
            verdict.text, verdict.confidence, segment.end_seconds,
            unsure_of=unsure_of, start_seconds=self._audio_start(segment),
        )  # fmt: skip
        if unsure_of:
            return hit
        self._lone = hit  # asked about only if the quiet after it lasts
        return None

    def _audio_start(self, segment: Segment) -> float:
        """Where the audio Whisper heard begins: the speech's start less the preroll."""
        preroll_seconds = (self._settings or SegmenterSettings()).preroll_seconds
        return max(0.0, segment.start_seconds - preroll_seconds)

    def _unsure_of(self, job: _Job, verdict: Verdict, quiet_before_seconds: float) -> str | None:
        """The safety phrase an untaken utterance may be, "" for a lone sound not understood,
        or None when it is not worth a question (see ``CheckZone``)."""
        zone, segment = self._check, job.segment
        # Questions are asked during the exercise only, not while answers are awaited.
        if zone is None or self._wake or job.numbers or job.answers:
            return None
        words = normalize(verdict.text).split()
        near = verdict.nearest_safety
        if near is not None and len(words) <= zone.max_words:
            parsed, gap, per_token = near
            if gap >= -zone.margin_nats and per_token >= zone.floor_nats_per_token:
                return phrase_of(class_of(parsed))
        lone = (
            zone.lone
            and len(words) <= zone.lone_max_words
            and not any(number_value(w) is not None for w in words)
            and segment.end_seconds - segment.start_seconds <= zone.lone_max_seconds
            and quiet_before_seconds >= zone.lone_quiet_before_seconds
        )
        return "" if lone else None

    def reset(self) -> None:
        """Forget the utterance in progress and any still being heard."""
        self._generation += 1
        self._lone = None
        if self._segmenter is not None:
            self._segmenter.reset()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Name commands, plus the pain-scale numbers and the answers when asked for."""
        self._numbers = numbers
        self._answers = answers


def _asked(opinions: list[SecondOpinion], samples: Samples, verdict: Verdict) -> Verdict:
    """``verdict``, or the first opinion's in turn that takes a command."""
    for opinion in opinions:
        if verdict.parsed is None:
            verdict = opinion.second_opinion(samples, verdict)
    return verdict
