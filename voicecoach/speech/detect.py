"""Run a recognizer over recordings as fast as the CPU allows and list the commands it accepts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voicecoach.audio.files import read_audio
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, silence
from voicecoach.ports import Recognizer

#: Silence fed after each file so that an endpoint-driven recognizer finishes its last words.
TRAILING_SILENCE_SECONDS = 1.0


@dataclass(frozen=True)
class Detection:
    """A command accepted in a file; ``time_seconds`` is when it came out, from the file start."""

    file: str
    command: str
    text: str
    time_seconds: float
    #: When the words ended in the file, if the recognizer knows.
    end_seconds: float | None
    confidence: float
    #: The pain score, for ``command == "number"``.
    value: int | None = None

    def as_json(self) -> dict[str, str | float]:
        """The ``--json`` line: file, command, text and time."""
        return {
            "file": self.file,
            "command": self.command,
            "text": self.text,
            "time": round(self.time_seconds, 2),
        }


class Detector:
    """Feeds whole files through one open recognizer, keeping track of stream time."""

    def __init__(
        self, recognizer: Recognizer, *, numbers: bool = False, answers: bool = False
    ) -> None:
        self.recognizer = recognizer
        self.numbers = numbers
        self.answers = answers
        self._frames_fed = 0

    def detect(self, path: Path) -> list[Detection]:
        """Commands accepted in one file; raises AudioFileError when it cannot be read."""
        samples = read_audio(path).samples
        return list(self.detect_samples(samples, str(path)))

    def detect_samples(self, samples: Samples, label: str) -> Iterator[Detection]:
        """Commands accepted in 16 kHz mono samples, followed by a little silence."""
        self.recognizer.reset()
        self.recognizer.expect(self.numbers, self.answers)
        start_seconds = self._frames_fed * FRAME_SAMPLES / RATE_HZ
        stream = np.concatenate([samples, silence(TRAILING_SILENCE_SECONDS)])
        padded = np.concatenate(
            [stream, np.zeros(-len(stream) % FRAME_SAMPLES, dtype=np.float32)]
        ).astype(np.float32)
        for index in range(0, len(padded), FRAME_SAMPLES):
            hits = self.recognizer.feed(padded[index : index + FRAME_SAMPLES])
            self._frames_fed += 1
            at_seconds = (index + FRAME_SAMPLES) / RATE_HZ
            for hit in hits:
                parsed = hit.command(numbers=self.numbers, answers=self.answers)
                if parsed is None:
                    continue
                end = None if hit.end_seconds is None else hit.end_seconds - start_seconds
                yield Detection(
                    label,
                    parsed.command.value,
                    hit.text,
                    at_seconds,
                    end,
                    hit.confidence,
                    parsed.value,
                )
