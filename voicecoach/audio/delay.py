"""Finding the speaker-to-microphone delay from the signal we play and the one we hear.

Device latency is not known in advance (a PulseAudio loop here measures 115 ms, USB audio on a
Raspberry Pi can be well over 200 ms) and it moves when a stream restarts. The echo canceller
needs it: an adaptive filter long enough to cover every possible delay converges slowly and
cancels little. Generalised cross-correlation with phase transform (GCC-PHAT) of the recent
microphone signal against the recent reference finds the delay from a second of the coach's
speech.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples

_EPS = 1e-12


@dataclass(frozen=True)
class DelaySettings:
    """Tuning of the delay estimator."""

    #: Longest delay looked for, in seconds.
    max_delay_seconds: float = 0.5
    #: Microphone signal correlated in each estimate, in seconds.
    window_seconds: float = 1.0
    #: Seconds between estimates.
    every_seconds: float = 0.5
    #: How many times less often to estimate once a delay is known; an estimate away from it
    #: brings back the full pace until the move is confirmed or refuted.
    slowdown: int = 2
    #: Estimates in a row that must agree (within ``agree_seconds``) before a delay is reported.
    agreeing: int = 2
    agree_seconds: float = 0.002
    #: How far the correlation peak must stand above the typical correlation (ratio).
    min_peak_ratio: float = 6.0
    #: Share of the window's frames in which the coach must be talking for an estimate.
    min_active_share: float = 0.5
    #: Reference power that counts as the coach talking, in dBFS.
    active_dbfs: float = -50.0


class DelayEstimator:
    """Feeds on (microphone, reference) frame pairs; ``delay_samples`` once it is sure."""

    def __init__(self, settings: DelaySettings | None = None) -> None:
        self.settings = settings or DelaySettings()
        s = self.settings
        self._window_frames = max(1, int(s.window_seconds * RATE_HZ / FRAME_SAMPLES))
        self._max_lag = int(s.max_delay_seconds * RATE_HZ)
        lag_frames = int(np.ceil(self._max_lag / FRAME_SAMPLES))
        self._mic: deque[Samples] = deque(maxlen=self._window_frames)
        self._ref: deque[Samples] = deque(maxlen=self._window_frames + lag_frames)
        self._active: deque[bool] = deque(maxlen=self._window_frames)
        self._every_frames = max(1, int(s.every_seconds * RATE_HZ / FRAME_SAMPLES))
        self._frames = 0
        self._recent: deque[int] = deque(maxlen=s.agreeing)
        self._floor = (10.0 ** (s.active_dbfs / 20.0)) ** 2
        #: The delay last agreed on, in samples (None until one is found).
        self.delay_samples: int | None = None

    def feed(self, mic: Samples, reference: Samples) -> int | None:
        """Take one frame pair; the delay in samples when a new one has just been agreed on."""
        self._mic.append(np.asarray(mic, dtype=np.float64))
        self._ref.append(np.asarray(reference, dtype=np.float64))
        self._active.append(float(np.mean(np.square(reference))) > self._floor)
        self._frames += 1
        # Once a delay is known, looking less often still follows a stream that moved; one
        # estimate away from it is checked at once: until the move is confirmed the canceller
        # works from the old delay, and the coach's echo comes through it (a stream that moved
        # by 28 ms took 2.7-4 s to follow, estimating every 2 s, and its echo was asked about;
        # every second, with the check, 1.2-1.8 s).
        slow = self.delay_samples is not None and not self.in_doubt
        every = self._every_frames * (self.settings.slowdown if slow else 1)
        if self._frames % every or len(self._ref) < (self._ref.maxlen or 0):
            return None
        if sum(self._active) < self.settings.min_active_share * len(self._active):
            return None
        lag = self._estimate()
        if lag is None:
            self._recent.clear()
            return None
        self._recent.append(lag)
        agreed = len(self._recent) == self._recent.maxlen and (
            max(self._recent) - min(self._recent) <= self.settings.agree_seconds * RATE_HZ
        )
        unmoved = self.delay_samples is not None and abs(lag - self.delay_samples) <= 1
        if not agreed or unmoved:
            return None
        self.delay_samples = lag
        return lag

    @property
    def in_doubt(self) -> bool:
        """True while the last estimate is away from the delay agreed on: the stream may have
        moved, and until that is confirmed the canceller works from the old delay."""
        known = self.delay_samples
        return known is not None and bool(self._recent) and abs(self._recent[-1] - known) > 1

    def heard(self) -> list[Samples]:
        """The microphone frames kept for the next estimate, oldest first."""
        return list(self._mic)

    def played(self, samples: int) -> np.ndarray:
        """The last ``samples`` of the reference fed so far (zeros before the first frame)."""
        kept = np.concatenate(list(self._ref)) if self._ref else np.zeros(0)
        if len(kept) >= samples:
            return kept[len(kept) - samples :]
        return np.concatenate([np.zeros(samples - len(kept)), kept])

    def _estimate(self) -> int | None:
        """The lag (samples) of the microphone behind the reference, if the peak is clear."""
        mic = np.concatenate(list(self._mic))
        ref = np.concatenate(list(self._ref))
        n = 1 << int(np.ceil(np.log2(len(mic) + len(ref))))
        cross = np.fft.rfft(mic, n) * np.conj(np.fft.rfft(ref, n))
        # PHAT: whiten, so the voice's strong low harmonics do not smear the peak.
        correlation = np.fft.irfft(cross / (np.abs(cross) + _EPS), n)
        # The mic window ends where the reference ends; a lag d puts the mic's first sample
        # d samples after the reference window's (len(ref) - len(mic)) sample.
        offset = len(ref) - len(mic)
        lags = np.arange(0, min(self._max_lag, offset) + 1)
        values = np.abs(correlation[(lags - offset) % n])
        best = int(np.argmax(values))
        typical = float(np.median(values)) + _EPS
        if values[best] / typical < self.settings.min_peak_ratio:
            return None
        return int(lags[best])
