"""The ready chime: a short, soft rising tone that says "I am listening" across a room."""

from __future__ import annotations

import numpy as np

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples

#: Two notes a fifth apart, rising (hertz, seconds): heard as "ready", not as an alarm.
NOTES = ((660.0, 0.12), (990.0, 0.18))
#: Peak level: about -14 dBFS, well below the coach's voice.
PEAK = 0.2
#: Raised-cosine fade at both ends of each note, so the chime never clicks.
FADE_SECONDS = 0.015


def ready_chime() -> Samples:
    """The chime as 16 kHz mono samples, padded with silence to whole 20 ms frames."""
    notes = [_note(hz, seconds) for hz, seconds in NOTES]
    samples = np.concatenate(notes)
    padded = -len(samples) % FRAME_SAMPLES
    return np.concatenate([samples, np.zeros(padded, np.float32)]).astype(np.float32)


def _note(hz: float, seconds: float) -> Samples:
    count = int(RATE_HZ * seconds)
    t = np.arange(count) / RATE_HZ
    tone = np.sin(2 * np.pi * hz * t) * PEAK
    fade = int(RATE_HZ * FADE_SECONDS)
    ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade))
    envelope = np.ones(count)
    envelope[:fade] = ramp
    envelope[-fade:] = ramp[::-1]
    return (tone * envelope).astype(np.float32)
