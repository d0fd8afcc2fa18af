"""The room's steady noise as the echo canceller follows it."""

from __future__ import annotations

import numpy as np
import pytest

from voicecoach.audio.noise_floor import NoiseFloor
from voicecoach.frames import FRAME_SAMPLES

_BINS = FRAME_SAMPLES + 1


def _frames(rng: np.random.Generator, rms: float, count: int) -> list[np.ndarray]:
    """Power spectra of white-noise frames of this RMS, padded as the canceller pads them."""
    out = []
    for _ in range(count):
        frame = rng.normal(0.0, rms, FRAME_SAMPLES)
        out.append(np.abs(np.fft.rfft(np.concatenate([np.zeros(FRAME_SAMPLES), frame]))) ** 2)
    return out


def test_the_estimate_is_the_rooms_noise_energy_per_frame() -> None:
    floor = NoiseFloor()
    rng = np.random.default_rng(0)
    for power in _frames(rng, 0.01, 300):
        floor.follow(power)
    assert floor.known
    assert floor.energy() == pytest.approx(FRAME_SAMPLES * 0.01**2, rel=0.1)


def test_someone_talking_between_cues_is_not_the_rooms_noise() -> None:
    floor = NoiseFloor()
    rng = np.random.default_rng(1)
    for power in _frames(rng, 0.01, 100):
        floor.follow(power)
    quiet = floor.energy()
    for power in _frames(rng, 0.1, 50):  # a second of talk, 20 dB louder
        floor.follow(power)
    assert floor.energy() == pytest.approx(quiet, rel=0.01)


def test_a_room_that_stays_louder_is_followed() -> None:
    floor = NoiseFloor()
    rng = np.random.default_rng(2)
    for power in _frames(rng, 0.01, 100):
        floor.follow(power)
    for power in _frames(rng, 0.1, 400):  # a fan switched on, for 8 s
        floor.follow(power)
    assert floor.energy() == pytest.approx(FRAME_SAMPLES * 0.1**2, rel=0.1)


def test_nothing_is_taken_for_noise_before_the_room_is_heard() -> None:
    floor = NoiseFloor()
    assert floor.energy() == 0.0
    assert not floor.known
    assert np.all(floor.share_above(np.ones(_BINS)) == 1.0)
