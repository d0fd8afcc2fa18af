"""Acoustic echo cancellation with the exact signal we play as the reference.

A partitioned-block frequency-domain NLMS filter (one partition per 20 ms frame) learns the
speaker-to-microphone path and subtracts the coach's voice from the microphone signal, so the
recognizer hears the person, not the coach, and "stop" still works while the coach talks.
It learns only from what stands above the room's steady noise, which it measures while the
coach is quiet. A bulk delay in front of the filter covers long device latencies (PulseAudio,
USB) without making the adaptive filter itself long; it is measured from the signals
themselves (`voicecoach.audio.delay`) unless a fixed one is given.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from voicecoach.audio.delay import DelayEstimator
from voicecoach.audio.noise_floor import NoiseFloor, NoiseSettings
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples

_LOGGER = logging.getLogger(__name__)
_N = FRAME_SAMPLES
_EPS = 1e-10
#: Share of the room's estimated noise taken out of the residual when the echo loss is judged.
_NOISE_TRUSTED = 0.8


@dataclass(frozen=True)
class EchoSettings:
    """Tuning of the echo canceller."""

    #: Length of the echo path the adaptive filter models, after the bulk delay, in seconds.
    filter_seconds: float = 0.2
    #: Fixed delay of the reference before the filter, in seconds (device latency); None
    #: measures it from the coach's speech and follows it when it moves.
    bulk_delay_seconds: float | None = None
    #: How much of a measured delay the filter itself covers, in seconds: the bulk delay is
    #: the measured one less this, so jitter and early reflections stay inside the filter.
    delay_margin_seconds: float = 0.02
    #: NLMS step size (0-1): larger learns faster but is noisier.
    step: float = 0.5
    #: Reference power below which the filter does not adapt (the coach is silent), in dBFS.
    adapt_floor_dbfs: float = -60.0
    #: Echo loss the filter must reach before it counts as converged, in dB.
    converged_db: float = 12.0
    #: Seconds of coach speech the loss is measured over (summed), to count as converged.
    converged_seconds: float = 1.0
    #: Passes over the delay estimator's last second of audio when a delay is measured, so
    #: the filter starts from what it would have learnt instead of from nothing (0: none).
    relearn_passes: int = 2
    #: Once converged, a frame whose residual (less the room's noise) comes within this many
    #: dB of the echo the filter predicts holds the person's voice too (double talk): the
    #: filter does not learn from it, or it would learn their voice as echo (the echo loss fell
    #: from 30 dB to 4 dB under a spoken "pain", and was 8 dB for a second after, so the
    #: coach's next words came through).
    double_talk_db: float = -10.0
    #: The predicted echo is averaged over this long (seconds) for that comparison: frame by
    #: frame, the quiet edges of the coach's syllables froze the filter in 69 % of the coach's
    #: frames after it settled at 17-21 dB, and it took 10 s instead of 6 to reach 30 dB.
    double_talk_echo_seconds: float = 0.2
    #: Frames stay frozen this long after the last double talk: a word's quiet tail counts.
    double_talk_hold_seconds: float = 0.2
    #: Frozen longer than this while the coach talks, the room has changed rather than someone
    #: talking over the coach: the filter learns again.
    double_talk_max_seconds: float = 2.0
    #: The predicted echo is averaged over this long (seconds) to judge whether a sound heard
    #: over the coach held more than its echo (``EchoCanceller.voice_above_echo``): long
    #: enough to span the pauses between the coach's words.
    above_echo_seconds: float = 0.5
    #: How the room's steady noise is followed (``noise_floor.py``).
    noise: NoiseSettings = field(default_factory=NoiseSettings)
    #: Level of the comfort noise added to the output, in dBFS (None for none).
    comfort_noise_dbfs: float | None = -55.0


class EchoCanceller:
    """Removes the echo of the reference from the microphone, frame by frame."""

    def __init__(self, settings: EchoSettings | None = None) -> None:
        self.settings = settings or EchoSettings()
        self.partitions = max(1, int(np.ceil(self.settings.filter_seconds * RATE_HZ / _N)))
        bins = _N + 1
        self._weights = np.zeros((self.partitions, bins), dtype=np.complex128)
        self._spectra = np.zeros((self.partitions, bins), dtype=np.complex128)
        self._last_ref = np.zeros(_N)
        self._power = np.full(bins, 1e-6)
        fixed = self.settings.bulk_delay_seconds
        self._estimator = DelayEstimator() if fixed is None else None
        self._delay_line = np.zeros(int(round((fixed or 0.0) * RATE_HZ)) + _N)
        self._floor = float(10.0 ** (self.settings.adapt_floor_dbfs / 20.0)) ** 2
        # Microphone and residual energy of recent frames with the coach talking, for the
        # convergence judgement: summed over a window, because single frames at word edges
        # (reverb tails, onsets) swing widely even when the filter is good.
        self._judged: deque[tuple[float, float]] = deque(
            maxlen=max(1, int(self.settings.converged_seconds * RATE_HZ / _N))
        )
        self._rng = np.random.default_rng(0)
        noise_dbfs = self.settings.comfort_noise_dbfs
        self._noise_rms = 0.0 if noise_dbfs is None else 10.0 ** (noise_dbfs / 20.0)
        #: True once the filter has cancelled the echo well for a while. It stays True (the
        #: person talking over the coach would make the measured loss look worse) until the
        #: device delay moves and the filter has to learn the room again.
        self.converged = False
        self._hold_frames = 0
        self._frozen_frames = 0
        #: Whether the last frame held the coach's voice (the delayed reference) ...
        self.talking = False
        #: ... and, once converged, whether its residual held more than the coach's echo.
        self.voice_above_echo = False
        #: The predicted echo's energy per frame over the last ``above_echo_seconds``.
        self._recent_echo_energy = 0.0
        #: The predicted echo's recent energy per frame (``double_talk_echo_seconds``).
        self._echo_energy = 0.0
        #: The room's noise in the residual, the residual's recent power on the same bins,
        #: and how many frames the coach's reference has been silent.
        self._noise = NoiseFloor(self.settings.noise)
        self._error_power = np.zeros(bins)
        self._silent_frames = 0

    @property
    def delay_in_doubt(self) -> bool:
        """True while the delay estimator's last look disagreed with the delay in use: the
        device's latency may have moved, and the coach's echo may be coming through."""
        return self._estimator is not None and self._estimator.in_doubt

    @property
    def bulk_delay_seconds(self) -> float:
        """The delay in front of the adaptive filter now, in seconds."""
        return (len(self._delay_line) - _N) / RATE_HZ

    def process(self, mic: Samples, reference: Samples) -> Samples:
        """The microphone frame with the echo of ``reference`` (the frame just played) removed."""
        reference = reference.astype(np.float64)
        if self._estimator is not None:
            found = self._estimator.feed(mic, reference)
            if found is not None:
                self._realign(found, self._estimator)
        ref = self._delayed(reference)
        talking = self.talking = self._talking(ref)
        error = self._step(mic, ref, talking)
        if talking:
            self._judge(mic, error)
        if self._noise_rms:
            # Recognizers normalise level away, so a residual far below any voice can still
            # spell a word; a quiet noise floor (as every real microphone has) masks it.
            error = error + self._rng.normal(0.0, self._noise_rms, _N)
        return error.astype(np.float32)

    def _talking(self, ref: np.ndarray) -> bool:
        """True when the delayed reference frame holds the coach's voice, not silence."""
        return float(np.mean(ref**2)) > self._floor

    def _step(self, mic: Samples, ref: np.ndarray, talking: bool) -> np.ndarray:
        """Cancel one frame against the delayed reference ``ref``; learn while ``talking``."""
        block = np.concatenate([self._last_ref, ref])
        self._last_ref = ref
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = np.fft.rfft(block)
        estimate = np.fft.irfft((self._weights * self._spectra).sum(axis=0))[_N:]
        error = mic.astype(np.float64) - estimate
        error_spectrum = np.fft.rfft(np.concatenate([np.zeros(_N), error]))
        self._silent_frames = 0 if talking else self._silent_frames + 1
        if self._silent_frames > self.partitions:
            self._noise.follow(np.abs(error_spectrum) ** 2)
        # Each frame's energies, once: both judgements below read them.
        error_energy, echo_energy = float(np.sum(error**2)), float(np.sum(estimate**2))
        if talking and not self._double_talk(error_energy, echo_energy):
            self._adapt(error_spectrum)
        self.voice_above_echo = self._above_echo(error_energy, echo_energy)
        return error

    def _double_talk(self, error_energy: float, echo_energy: float) -> bool:
        """True while the person talks over the coach (``EchoSettings.double_talk_db``)."""
        s = self.settings
        rate = min(1.0, _N / RATE_HZ / s.double_talk_echo_seconds)
        self._echo_energy += rate * (echo_energy - self._echo_energy)
        if not self.converged:
            return False
        # The room's steady noise is in every residual: only what stands above it is talk.
        above_noise = error_energy - self._noise.energy()
        if above_noise > 10.0 ** (s.double_talk_db / 10.0) * self._echo_energy:
            self._hold_frames = round(s.double_talk_hold_seconds * RATE_HZ / _N)
        elif self._hold_frames > 0:
            self._hold_frames -= 1
        else:
            self._frozen_frames = 0
            return False
        self._frozen_frames += 1
        return self._frozen_frames <= s.double_talk_max_seconds * RATE_HZ / _N

    def _above_echo(self, error_energy: float, echo_energy: float) -> bool:
        """Whether the residual holds a voice besides the coach's echo: above the echo the
        filter predicted lately (``double_talk_db``), in the coach's pauses too, and above the
        room's noise. It judges no learning, only what a sound heard over the coach was."""
        s = self.settings
        rate = min(1.0, _N / RATE_HZ / s.above_echo_seconds)
        self._recent_echo_energy += rate * (echo_energy - self._recent_echo_energy)
        if not self.converged:
            return False
        noise_energy = self._noise.energy()
        above_noise = error_energy - noise_energy
        echo_share = 10.0 ** (s.double_talk_db / 10.0) * self._recent_echo_energy
        return bool(above_noise > max(echo_share, noise_energy))

    def _judge(self, mic: Samples, error: np.ndarray) -> None:
        if self.converged:
            return
        mic_energy = float(np.sum(mic.astype(np.float64) ** 2))
        if mic_energy <= self._floor * _N:
            return
        self._judged.append((mic_energy, float(np.sum(error**2))))
        if len(self._judged) < (self._judged.maxlen or 1):
            return
        # The room's steady noise is in both and no filter can take it out: the loss is
        # judged on what stands above it (in 10 dB of pink noise the echo was 15-20 dB down,
        # yet the microphone was never 12 dB louder than the residual).
        # Only 80 % of the estimate is taken out, so that an estimate a little high cannot
        # make a residual as loud as the noise look like no echo at all.
        known = self._noise.known
        noise = self._noise.energy() * _NOISE_TRUSTED * len(self._judged) if known else 0.0
        before = sum(m for m, _ in self._judged) - noise
        after = sum(e for _, e in self._judged) - noise + _EPS
        if before <= 0.0 or after <= 0.0:
            return  # nothing stands above the noise estimate to judge the loss by
        loss_db = 10.0 * np.log10(before / after)
        if loss_db >= self.settings.converged_db:
            self.converged = True
            _LOGGER.info("echo canceller settled: %.0f dB of echo loss", loss_db)

    def _realign(self, delay_samples: int, estimator: DelayEstimator) -> None:
        """Move the bulk delay to a newly measured device delay and learn the room again."""
        bulk = max(0, delay_samples - int(self.settings.delay_margin_seconds * RATE_HZ))
        # The microphone frames the estimator kept, before the current one (``process`` takes
        # that next), and everything played up to the same point.
        heard = estimator.heard()[:-1] if self.settings.relearn_passes else []
        played = estimator.played(bulk + 3 * _N + len(heard) * _N)[:-_N]
        self._weights[:] = 0.0
        self._judged.clear()
        self.converged = False
        for _ in range(max(1, self.settings.relearn_passes)):
            # The line holds the ``bulk + N`` samples played before the first kept frame; the
            # filter's previous block is the frame before the line's first.
            self._last_ref = played[:_N].copy()
            self._delay_line = played[_N : bulk + 2 * _N].copy()
            self._spectra[:] = 0.0
            for k, mic in enumerate(heard):
                start = bulk + 2 * _N + k * _N
                ref = self._delayed(played[start : start + _N])
                self._step(mic, ref, self._talking(ref))
        _LOGGER.info("echo delay measured: %.0f ms", delay_samples / RATE_HZ * 1000.0)

    def _delayed(self, reference: np.ndarray) -> np.ndarray:
        """The reference frame from ``bulk delay`` ago (the line holds ``delay + N`` samples)."""
        self._delay_line[:-_N] = self._delay_line[_N:]
        self._delay_line[-_N:] = reference
        return self._delay_line[:_N].copy()

    def _adapt(self, error_spectrum: np.ndarray) -> None:
        # Normalising by the reference power over the whole filter span (every partition)
        # keeps the update stable at large steps, so the filter converges in seconds.
        span_power = (np.abs(self._spectra) ** 2).sum(axis=0)
        self._power = 0.5 * self._power + 0.5 * span_power
        gradient = np.conj(self._spectra) * error_spectrum / (self._power + _EPS)
        # Learn from each bin only as much of the residual as stands above the room's noise:
        # at a full step, steady noise 10 dB under the echo kept the filter's weights jittering
        # and left the echo only 10 dB down, as loud as the noise itself. The share is squared
        # so that the step shrinks faster than the echo left (14 dB down unsquared, 18 squared).
        self._error_power = 0.8 * self._error_power + 0.2 * np.abs(error_spectrum) ** 2
        gradient *= self._noise.share_above(self._error_power) ** 2
        # The gradient constraint keeps each partition a causal 20 ms filter (no circular wrap).
        taps = np.fft.irfft(gradient, axis=1)
        taps[:, _N:] = 0.0
        self._weights += self.settings.step * np.fft.rfft(taps, axis=1)


def echo_return_loss_db(mic: Samples, cleaned: Samples) -> float:
    """How much quieter the cleaned signal is than the microphone, in dB (ERLE)."""
    before = float(np.mean(mic.astype(np.float64) ** 2)) + _EPS
    after = float(np.mean(cleaned.astype(np.float64) ** 2)) + _EPS
    return float(10.0 * np.log10(before / after))
