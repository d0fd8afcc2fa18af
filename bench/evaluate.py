"""Running one backend over benchmark clips, in a worker process, one row per clip."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench import corpus, system
from bench.channel import PHONE_CONDITION, telephone
from bench.metrics import Detected, Row, label_of, word_end_seconds
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.audio.echo import EchoCanceller
from voicecoach.audio.room import Room, RoomSettings, UserSpeech
from voicecoach.commands import (
    NUMBER_WORDS,
    Command,
    command_phrases,
    normalize,
)
from voicecoach.frames import FRAME_SAMPLES, FRAME_SECONDS, RATE_HZ, Samples
from voicecoach.ports import Hit, Recognizer, Unmanaged
from voicecoach.speech.detect import TRAILING_SILENCE_SECONDS, Detector

#: The condition in which the coach talks over the person, heard through the room at this level.
ECHO_CONDITION = "echo-6"
ECHO_GAIN_DB = -6.0
#: Where the person's clip starts in its slice of the coach's speech, in seconds.
ECHO_LEAD_SECONDS = 0.6
#: Coach speech played before the first clip of a batch, so the canceller has learned the room
#: as it has a few cues into a session.
ECHO_WARMUP_SECONDS = 4.0
#: Pause between coach utterances in the overlap condition, in seconds: the coach talks most of
#: the time, the hardest case for barge-in.
COACH_GAP_SECONDS = 0.4
#: Where the coach's phrases are cached for the bench, apart from the user's own cache.
COACH_CACHE = corpus.CORPUS_DIR / "coach-tts"


@dataclass(frozen=True)
class BenchClip:
    """A corpus clip in one bench condition (a corpus noise label, or the coach-echo overlap)."""

    clip: corpus.Clip
    condition: str

    def audio(self, room_seconds: float = 0.0) -> Samples:
        """The clip's audio in this condition (``corpus.Clip.audio``), through the telephone
        line for ``PHONE_CONDITION``; the coach's echo is added apart (``EchoStream``)."""
        audio = self.clip.audio(room_seconds=room_seconds)
        return telephone(audio) if self.condition == PHONE_CONDITION else audio


@dataclass
class ChunkResult:
    """Rows of one batch, with what the worker process measured about itself."""

    rows: list[Row]
    peak_rss_mb: float
    load_seconds: float | None


def expected_label(utterance: corpus.Utterance) -> str | None:
    """The label a perfect recognizer reports for an utterance."""
    if utterance.expected is None:
        return None
    return label_of(utterance.expected.command.value, utterance.expected.value)


def ends_with_command(text: str) -> bool:
    """True when the last words of ``text`` are a command phrase or number (latency is measured)."""
    words = f" {normalize(text)}"
    return any(words.endswith(f" {p}") for p in (*command_phrases(), *NUMBER_WORDS))


# --- the worker's recognizer ------------------------------------------------------------------


class Counting(Unmanaged):
    """A recognizer that counts the frames it was fed, so hit times can be mapped to a stream;
    whoever opened the wrapped recognizer closes it."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.frames_fed = 0
        #: Wall seconds the last ``feed`` took: a live loop hands its hits out that much later.
        self.last_feed_seconds = 0.0

    def feed(self, frame: Samples) -> list[Hit]:
        """Feed the wrapped recognizer."""
        self.frames_fed += 1
        started = time.perf_counter()
        hits = self.inner.feed(frame)
        self.last_feed_seconds = time.perf_counter() - started
        return hits

    def reset(self) -> None:
        """Reset the wrapped recognizer."""
        self.inner.reset()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Switch numbers and answers on the wrapped recognizer."""
        self.inner.expect(numbers, answers)


_OPEN: dict[tuple[str, bool], Counting] = {}


def is_start(utterance: corpus.Utterance) -> bool:
    """Whether the utterance is the start phrase, which only an idle ``serve`` listens for."""
    return utterance.expected is not None and utterance.expected.command == Command.START


def _recognizer(backend: str, wake: bool = False) -> tuple[Counting, float | None]:
    """The backend opened once per worker process (and per mode), and its load time (first call
    only). ``wake`` is the recognizer ``voicecoach serve`` waits with."""
    if (backend, wake) in _OPEN:
        return _OPEN[backend, wake], None
    from voicecoach.speech.backends import open_recognizer

    recognizer, _ = open_recognizer(backend, None, wake=wake)  # type: ignore[arg-type]
    started = time.perf_counter()
    recognizer.__enter__()
    _OPEN[backend, wake] = Counting(recognizer)
    return _OPEN[backend, wake], time.perf_counter() - started


def _listener(backend: str) -> Counting:
    """The recognizer that hears the start phrase: ``serve``'s waiting one for the network and
    Whisper, the same one for the other backends, which have no waiting mode (a second Vosk
    model would only cost memory)."""
    return _recognizer(backend, wake=backend in ("net", "whisper"))[0]


def run_chunk(backend: str, items: list[BenchClip]) -> ChunkResult:
    """Every clip of a batch through the backend; echo clips share one room stream; the start
    phrase is heard by the recognizer ``serve`` waits with."""
    recognizer, load_seconds = _recognizer(backend)
    rows = [
        _run_plain(_listener(backend) if is_start(item.clip.utterance) else recognizer, item)
        for item in items
        if item.condition != ECHO_CONDITION
    ]
    echo_items = [item for item in items if item.condition == ECHO_CONDITION]
    if echo_items:
        stream = EchoStream(recognizer, coach_utterances())
        rows += [stream.run(item) for item in echo_items]
    return ChunkResult(rows, system.peak_rss_mb(), load_seconds)


def _row(item: BenchClip, audio_seconds: float, cpu: float, word_end: float | None) -> Row:
    u = item.clip.utterance
    return Row(
        split=item.clip.split,
        group=u.group,
        text=u.text,
        voice=item.clip.voice,
        condition=item.condition,
        expected=expected_label(u),
        audio_seconds=audio_seconds,
        cpu_seconds=cpu,
        word_end_seconds=word_end,
    )


def _clean_audio(clip: corpus.Clip) -> Samples:
    if clip.noise == corpus.FLOOR:
        return clip.audio()
    return corpus.Clip(clip.utterance, clip.voice, clip.rate_wpm, clip.pitch, corpus.FLOOR).audio()


def _word_end(clip: corpus.Clip) -> float | None:
    if clip.utterance.expected is None or not ends_with_command(clip.utterance.text):
        return None
    return word_end_seconds(_clean_audio(clip))


def detect(
    recognizer: Counting, audio: Samples, numbers: bool, answers: bool = False
) -> tuple[list[Detected], float, float]:
    """Commands accepted in a clip as ``voicecoach detect`` finds them, CPU and audio seconds.

    A command counts as accepted when its frame has arrived and the recognizer has finished
    with that frame, so the time spent deciding is part of the measured latency.
    """
    detector = Detector(recognizer, numbers=numbers, answers=answers)
    started = time.process_time()
    found = [
        Detected(label_of(d.command, d.value), d.time_seconds + recognizer.last_feed_seconds)
        for d in detector.detect_samples(audio, "clip")
    ]
    cpu = time.process_time() - started
    seconds = len(audio) / RATE_HZ + TRAILING_SILENCE_SECONDS
    return found, cpu, seconds


def close_recognizers() -> None:
    """Close the recognizers this process opened (for in-process runs)."""
    while _OPEN:
        _OPEN.popitem()[1].inner.__exit__(None, None, None)


def _run_plain(recognizer: Any, item: BenchClip) -> Row:
    """One clip after ``corpus.ROOM_SECONDS`` of its room; times count from the clip's start.

    A command accepted while only the room was heard is a false alarm: it is kept, marked
    "(room)" so that it never counts as the clip's command. The room's seconds are left out of
    the audio hours, so false alarms per hour are counted over the clips as before.
    """
    utterance = item.clip.utterance
    audio = item.audio(room_seconds=corpus.ROOM_SECONDS)
    detected, cpu, seconds = detect(recognizer, audio, utterance.numbers, utterance.answers)
    row = _row(item, seconds - corpus.ROOM_SECONDS, cpu, _word_end(item.clip))
    row.detected = [_from_clip_start(d) for d in detected]
    return row


def _from_clip_start(detected: Detected) -> Detected:
    at = detected.accepted_seconds - corpus.ROOM_SECONDS
    return Detected(detected.label if at >= 0 else f"{detected.label} (room)", at)


# --- the coach talking over the person --------------------------------------------------------


def coach_utterances(programs: tuple[str, ...] = ()) -> list[tuple[str, Samples]]:
    """The cues of ``programs`` (the default program if none) in the coach's real voice,
    rendered once, then cached."""
    from voicecoach.app.catalogue import DEFAULT_PROGRAM, resolve_program
    from voicecoach.app.preparation import prepare
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    plans = [
        prepare(resolve_program(p), None, dose="base").plan for p in programs or (DEFAULT_PROGRAM,)
    ]
    texts = list(dict.fromkeys(s.text for plan in plans for s in plan.steps if s.text))
    with Pyttsx3Synthesizer(cache_dir=Path(COACH_CACHE)) as synth:
        return [(text, synth.render(text)) for text in texts]


class EchoStream:
    """One room where the coach never stops talking and clips are said over it, one by one."""

    def __init__(
        self,
        recognizer: Counting,
        coach: list[tuple[str, Samples]],
        echo_gain_db: float = ECHO_GAIN_DB,
    ) -> None:
        self.recognizer = recognizer
        self.coach = coach
        self.settings = RoomSettings(echo_gain_db=echo_gain_db)
        self.echo = EchoCanceller()
        self.guard = SelfHearingGuard()
        self._frames = 0
        self._next = 0
        self._playing: Samples = np.zeros(0, dtype=np.float32)
        self._gap_frames = 0
        self._last: Samples = np.zeros(FRAME_SAMPLES, dtype=np.float32)
        self._frames_in_room(Room(self.settings), int(ECHO_WARMUP_SECONDS / FRAME_SECONDS), None)

    def run(self, item: BenchClip) -> Row:
        """One clip said over the coach; times in the row are from the start of its slice."""
        audio = item.clip.audio()
        room = Room(self.settings, [UserSpeech(ECHO_LEAD_SECONDS, audio)])
        total = ECHO_LEAD_SECONDS + len(audio) / RATE_HZ + TRAILING_SILENCE_SECONDS
        frames = int(np.ceil(total / FRAME_SECONDS))
        self.recognizer.reset()
        utterance = item.clip.utterance
        self.recognizer.expect(utterance.numbers, utterance.answers)
        start = self._frames * FRAME_SECONDS
        found, cpu = self._frames_in_room(room, frames, utterance)
        end = _word_end(item.clip)
        row = _row(
            item, frames * FRAME_SECONDS, cpu, None if end is None else end + ECHO_LEAD_SECONDS
        )
        row.detected = [Detected(label, t - start) for label, t in found]
        return row

    def _frames_in_room(
        self, room: Room, frames: int, utterance: corpus.Utterance | None
    ) -> tuple[list[tuple[str, float]], float]:
        """Run the room for ``frames``; the commands accepted while ``utterance`` is said
        (none are scored without one: the warm-up)."""
        found: list[tuple[str, float]] = []
        cpu = 0.0
        for _ in range(frames):
            mic = room.read_frame()
            self._frames += 1
            t = self._frames * FRAME_SECONDS
            started = time.process_time()
            cleaned = self.echo.process(mic, self._last)
            hits = self.recognizer.feed(cleaned)
            cpu += time.process_time() - started
            if utterance is not None:
                done = t + self.recognizer.last_feed_seconds
                found += [(label, done) for label in self._accepted(hits, t, utterance)]
            self._last = self._coach_frame(t)
            room.play_frame(self._last)
        return found, cpu

    def _accepted(self, hits: list[Hit], t: float, utterance: corpus.Utterance) -> list[str]:
        out = []
        for hit in hits:
            # Hit times count from the recognizer's first frame, which this stream may not own.
            offset = t - self.recognizer.frames_fed * FRAME_SECONDS
            at = t if hit.end_seconds is None else hit.end_seconds + offset
            numbers, answers = utterance.numbers, utterance.answers
            if hit.ignored(numbers=numbers, answers=answers):
                continue
            parsed = hit.command(numbers=numbers, answers=answers)
            if self.guard.is_own_voice(hit.text, at, self.echo.converged) or parsed is None:
                continue
            out.append(label_of(parsed.command.value, parsed.value))
        return out

    def _coach_frame(self, t: float) -> Samples:
        if not len(self._playing):
            if self._gap_frames > 0:
                self._gap_frames -= 1
                return np.zeros(FRAME_SAMPLES, dtype=np.float32)
            text, samples = self.coach[self._next % len(self.coach)]
            self._next += 1
            self.guard.said(t, text, len(samples) / RATE_HZ)
            self._playing = samples
            self._gap_frames = int(COACH_GAP_SECONDS / FRAME_SECONDS)
        frame = self._playing[:FRAME_SAMPLES]
        self._playing = self._playing[FRAME_SAMPLES:]
        if len(frame) < FRAME_SAMPLES:
            frame = np.pad(frame, (0, FRAME_SAMPLES - len(frame)))
        return frame.astype(np.float32)
