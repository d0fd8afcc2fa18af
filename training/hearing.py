"""Hearing one corpus clip as the bench does: after its room, listening for what it expects."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import corpus
from voicecoach.frames import split_frames
from voicecoach.ports import Hit

if TYPE_CHECKING:
    from voicecoach.speech.whisper_recognizer import WhisperRecognizer


def hear_clip(recognizer: WhisperRecognizer, clip: corpus.Clip) -> list[Hit]:
    """Feed ``clip`` (after ``corpus.ROOM_SECONDS`` of its room) to a fresh utterance; the hits.

    ``recognizer.verdicts`` then holds what Whisper made of each utterance in the clip alone.
    """
    u = clip.utterance
    recognizer.reset()
    recognizer.expect(u.numbers, u.answers)
    recognizer.verdicts.clear()
    return [
        hit
        for frame in split_frames(clip.audio(room_seconds=corpus.ROOM_SECONDS))
        for hit in recognizer.feed(frame)
    ]
