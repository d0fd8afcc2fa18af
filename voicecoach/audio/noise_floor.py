"""The room's steady noise as the echo canceller sees it, per frequency bin.

A fan or a boiler is in every microphone frame. The echo canceller cannot take it out, so it
must neither learn from it nor count it as echo left over. It is measured in the frames the
coach's echo has died out of; someone talking between cues is left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ

_N = FRAME_SAMPLES
#: Frames of the room before the estimate is trusted (1 s).
_KNOWN_FRAMES = 50


@dataclass(frozen=True)
class NoiseSettings:
    """How the room's noise is followed."""

    #: How fast the estimate follows a frame (share of the gap per 20 ms frame).
    rate: float = 0.02
    #: A frame this many dB above the estimate is someone talking, not the room's noise,
    #: unless it lasts longer than ``change_seconds`` (then the room has got louder).
    speech_db: float = 6.0
    change_seconds: float = 2.0


class NoiseFloor:
    """The room's noise power per bin of the canceller's zero-padded 2N-point transform."""

    def __init__(self, settings: NoiseSettings | None = None) -> None:
        self.settings = settings or NoiseSettings()
        #: None until the first frame without the coach's echo.
        self.power: np.ndarray | None = None
        self._loud_frames = 0
        self._frames = 0

    @property
    def known(self) -> bool:
        """True once a second of the room has been heard."""
        return self._frames >= _KNOWN_FRAMES

    def follow(self, power: np.ndarray) -> None:
        """Take one frame's power spectrum, heard with no echo of the coach in it."""
        if self.power is None:
            self.power = power.copy()
            return
        s = self.settings
        if float(np.sum(power)) > 10.0 ** (s.speech_db / 10.0) * float(np.sum(self.power)):
            self._loud_frames += 1
            if self._loud_frames <= s.change_seconds * RATE_HZ / _N:
                return
        else:
            self._loud_frames = 0
        self.power += s.rate * (power - self.power)
        self._frames += 1

    def energy(self) -> float:
        """The noise in one frame of samples (sum of squares; 0 before any frame)."""
        # Parseval for the one-sided 2N-point transform of a frame padded with N zeros.
        return 0.0 if self.power is None else float(np.sum(self.power)) / _N

    def share_above(self, power: np.ndarray) -> np.ndarray:
        """Per bin, the share of ``power`` that stands above the noise (0-1; 1 before any)."""
        if self.power is None:
            return np.ones_like(power)
        return np.clip(1.0 - self.power / (power + 1e-10), 0.0, 1.0)
