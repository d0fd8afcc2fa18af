"""``serve`` waiting for "start session": a soft chime says it is ready before it listens."""

from __future__ import annotations

import numpy as np

from voicecoach.app.serve import wait_for_start
from voicecoach.audio.chime import ready_chime
from voicecoach.fakes import RecordingSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, rms_dbfs


class _ShortMicrophone(SilentMicrophone):
    """A silent microphone that ends after ``frames`` reads, noting what the speaker had
    played when the first frame was read."""

    def __init__(self, speaker: RecordingSpeaker, frames: int) -> None:
        self.speaker = speaker
        self.frames_left = frames
        self.played_before_listening: int | None = None

    def read(self) -> Samples | None:  # type: ignore[override]
        if self.played_before_listening is None:
            self.played_before_listening = len(self.speaker.frames)
        if self.frames_left == 0:
            return None
        self.frames_left -= 1
        return super().read()


def test_the_chime_plays_before_listening_starts() -> None:
    speaker = RecordingSpeaker()
    mic = _ShortMicrophone(speaker, frames=100)
    started = wait_for_start(mic, ScriptedRecognizer([(1.0, "start session")]), speaker=speaker)
    assert started
    chime = ready_chime()
    assert mic.played_before_listening == len(chime) // FRAME_SAMPLES
    np.testing.assert_array_equal(speaker.samples(), chime)
    # Nothing else was played while listening.
    assert speaker.frames_played == len(chime) // FRAME_SAMPLES


def test_without_a_speaker_it_listens_silently() -> None:
    mic = SilentMicrophone()
    assert wait_for_start(mic, ScriptedRecognizer([(0.5, "start my session")]))


def test_the_chime_is_short_soft_and_starts_and_ends_quietly() -> None:
    chime = ready_chime()
    seconds = len(chime) / RATE_HZ
    assert 0.2 <= seconds <= 0.5
    assert len(chime) % FRAME_SAMPLES == 0
    peak = float(np.max(np.abs(chime)))
    assert 0.1 <= peak <= 0.25
    assert -30.0 < rms_dbfs(chime) < -12.0
    # Faded in and out: no click at either end (a millisecond is 16 samples).
    assert float(np.max(np.abs(chime[:16]))) < 0.01
    assert float(np.max(np.abs(chime[-16:]))) < 0.01
    # A rising pair of notes: the second half has the higher pitch (more zero crossings).
    half = len(chime) // 2
    crossings = [int(np.sum(np.diff(np.sign(part)) != 0)) for part in (chime[:half], chime[half:])]
    assert crossings[1] > crossings[0]
