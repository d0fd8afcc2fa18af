"""The simulated room: a microphone that hears the person, the coach's echo and noise.

The microphone signal is the sum of three parts: the person's scripted speech, the coach's own
output through an echo path (gain, delay and a short synthetic reverb), and optional noise. The
room's speaker and microphone share one timeline, so what the coach plays in frame ``n`` is
heard ``delay`` later, exactly as a real speaker-to-microphone path would do it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, rms_dbfs
from voicecoach.ports import Unmanaged

#: The level assumed for speech when there is no scripted speech to measure, in dBFS.
NOMINAL_SPEECH_DBFS = -26.0


def speech_level_dbfs(clips: Sequence[Samples]) -> float:
    """The level of speech as a room measures it (the RMS of its voiced samples), in dBFS."""
    voiced = [c[np.abs(c) > 1e-3] for c in clips]
    voiced = [v for v in voiced if len(v)]
    return rms_dbfs(np.concatenate(voiced)) if voiced else NOMINAL_SPEECH_DBFS


@dataclass(frozen=True)
class RoomSettings:
    """The acoustics of the simulated room."""

    #: Level of the coach's voice at the microphone relative to what is played, in dB.
    echo_gain_db: float = -6.0
    #: Speaker-to-microphone delay of the direct path, in seconds (at least one frame).
    echo_delay_seconds: float = 0.03
    #: The whole echo path arrives this much later from the given second on, as when a sound
    #: server's latency moves mid-session: (at_seconds, extra_delay_seconds), none by default.
    echo_delay_move: tuple[float, float] | None = None
    #: Length of the reverb tail after the direct path, in seconds (0 for none).
    reverb_seconds: float = 0.12
    #: Noise level below the person's speech level, in dB; None for a silent room.
    noise_snr_db: float | None = None
    #: The speech level the noise is set against, in dBFS; None takes the level of the
    #: room's own speech (a room where nobody speaks then needs it to match one that does).
    speech_dbfs: float | None = None
    #: Seed for the reverb and noise, so a simulation is the same on every run.
    seed: int = 0


@dataclass(frozen=True)
class UserSpeech:
    """Something the person says: samples placed at ``start_seconds`` on the room's timeline."""

    start_seconds: float
    samples: Samples
    label: str = ""

    @property
    def end_seconds(self) -> float:
        """When the speech ends, in seconds."""
        return self.start_seconds + len(self.samples) / RATE_HZ


class Room:
    """One room, with a microphone and a speaker that share its timeline."""

    def __init__(self, settings: RoomSettings, speech: Sequence[UserSpeech] = ()) -> None:
        self.settings = settings
        self.speech = sorted(speech, key=lambda s: s.start_seconds)
        rng = np.random.default_rng(settings.seed)
        self._taps, self._gains = _echo_path(settings, rng)
        # From this microphone frame on, the echo arrives this many samples later.
        moved_at_seconds, moved_by_seconds = settings.echo_delay_move or (0.0, 0.0)
        self._moved_at_frame = int(moved_at_seconds * RATE_HZ / FRAME_SAMPLES)
        self._moved_by = int(round(moved_by_seconds * RATE_HZ))
        longest = int(self._taps.max()) + self._moved_by
        self._pending = np.zeros(FRAME_SAMPLES + longest + 1, dtype=np.float32)
        self._frames_read = 0
        speech_dbfs = settings.speech_dbfs
        self._noise = _noise_loop(
            settings, self._speech_dbfs() if speech_dbfs is None else speech_dbfs, rng
        )
        self.recording: list[Samples] | None = None

    def record(self) -> None:
        """Keep every microphone frame, for ``--record``."""
        self.recording = []

    def microphone(self, until_seconds: float | None = None) -> RoomMicrophone:
        """The microphone of this room; with ``until_seconds`` its input ends then."""
        return RoomMicrophone(self, until_seconds)

    def speaker(self) -> RoomSpeaker:
        """The speaker of this room."""
        return RoomSpeaker(self)

    def _speech_dbfs(self) -> float:
        return speech_level_dbfs([s.samples for s in self.speech])

    def read_frame(self) -> Samples:
        """The next microphone frame: speech, plus echo already scheduled, plus noise."""
        start = self._frames_read * FRAME_SAMPLES
        frame = self._pending[:FRAME_SAMPLES].copy()
        self._pending[:-FRAME_SAMPLES] = self._pending[FRAME_SAMPLES:]
        self._pending[-FRAME_SAMPLES:] = 0.0
        for segment in self.speech:
            self._mix_speech(frame, segment, start)
        if self._noise is not None:
            offset = start % len(self._noise)
            frame += np.take(self._noise, range(offset, offset + FRAME_SAMPLES), mode="wrap")
        self._frames_read += 1
        if self.recording is not None:
            self.recording.append(frame)
        return frame

    def play_frame(self, frame: Samples) -> None:
        """Send a frame out of the speaker: it arrives at the microphone along the echo path."""
        if not frame.any():
            return
        # The mic has already read this frame's slot, so a tap of delay d lands d - FRAME
        # samples into the pending buffer; the delay is at least a frame by construction.
        moved = self._moved_by if self._frames_read >= self._moved_at_frame else 0
        for tap, gain in zip(self._taps, self._gains, strict=True):
            at = tap + moved - FRAME_SAMPLES
            self._pending[at : at + FRAME_SAMPLES] += gain * frame

    @staticmethod
    def _mix_speech(frame: Samples, segment: UserSpeech, start: int) -> None:
        first = int(round(segment.start_seconds * RATE_HZ))
        lo, hi = max(start, first), min(start + FRAME_SAMPLES, first + len(segment.samples))
        if lo < hi:
            frame[lo - start : hi - start] += segment.samples[lo - first : hi - first]

    def recorded(self) -> Samples:
        """Everything the microphone heard so far (empty unless ``record()`` was called)."""
        if not self.recording:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(self.recording)


def _echo_path(settings: RoomSettings, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Delays (samples) and gains of the direct path and a sparse, decaying set of reflections."""
    direct = max(FRAME_SAMPLES, int(round(settings.echo_delay_seconds * RATE_HZ)))
    gain = 10.0 ** (settings.echo_gain_db / 20.0)
    taps = [direct]
    gains = [gain]
    reflections = 24 if settings.reverb_seconds > 0 else 0
    tail = int(settings.reverb_seconds * RATE_HZ)
    for offset in sorted(rng.integers(40, max(41, tail), size=reflections)):
        # Energy falls by 60 dB over the tail; reflections start about 8 dB under the direct path.
        decay = 10.0 ** (-3.0 * offset / max(tail, 1))
        taps.append(direct + int(offset))
        gains.append(gain * 0.4 * decay * float(rng.choice([-1.0, 1.0])))
    return np.array(taps, dtype=np.int64), np.array(gains, dtype=np.float32)


def _noise_loop(
    settings: RoomSettings, speech_dbfs: float, rng: np.random.Generator
) -> Samples | None:
    """Thirty seconds of pink noise at the level the SNR asks for, played in a loop."""
    if settings.noise_snr_db is None:
        return None
    n = 30 * RATE_HZ
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / RATE_HZ)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0.0
    pink = np.fft.irfft(spectrum, n)
    target_rms = 10.0 ** ((speech_dbfs - settings.noise_snr_db) / 20.0)
    scaled: Samples = (pink * target_rms / np.sqrt(np.mean(pink**2))).astype(np.float32)
    return scaled


class _RoomPort(Unmanaged):
    def __init__(self, room: Room) -> None:
        self.room = room


class RoomMicrophone(_RoomPort):
    """The room's microphone; it runs out only at ``until_seconds``, if given."""

    def __init__(self, room: Room, until_seconds: float | None = None) -> None:
        super().__init__(room)
        self._frames_left = (
            None if until_seconds is None else int(until_seconds * RATE_HZ) // FRAME_SAMPLES
        )

    def read(self) -> Samples | None:
        """The next frame the microphone hears, or None once the input has ended."""
        if self._frames_left is not None:
            if self._frames_left <= 0:
                return None
            self._frames_left -= 1
        return self.room.read_frame()


class RoomSpeaker(_RoomPort):
    """The room's speaker."""

    def play(self, frame: Samples) -> None:
        """Play one frame into the room."""
        self.room.play_frame(frame)
