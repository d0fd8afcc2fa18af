"""Assembling an audio simulation: the room, the person's scripted speech, and merged ears."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from voicecoach.audio.espeak import Voice, synthesize
from voicecoach.audio.files import read_audio
from voicecoach.audio.room import Room, RoomSettings, UserSpeech
from voicecoach.frames import Samples
from voicecoach.ports import Hit, Recognizer


@dataclass(frozen=True)
class Script:
    """What the person does in a simulated room: words said (``--say``) and recordings played."""

    says: Sequence[tuple[float, str]] = ()
    plays: Sequence[tuple[float, Path]] = ()
    voice: Voice = field(default_factory=Voice)

    def speech(self) -> list[UserSpeech]:
        """Every utterance as audio placed on the room's timeline."""
        said = [UserSpeech(at, synthesize(text, self.voice), text) for at, text in self.says]
        played = [UserSpeech(at, read_audio(path).samples, str(path)) for at, path in self.plays]
        return said + played


def make_room(script: Script, settings: RoomSettings, *, record: bool = False) -> Room:
    """A room where the person follows ``script``."""
    room = Room(settings, script.speech())
    if record:
        room.record()
    return room


class MergedRecognizer:
    """Several recognizers listening to the same frames, e.g. the real one plus ``--heard``."""

    def __init__(self, recognizers: Sequence[Recognizer]) -> None:
        self.recognizers = list(recognizers)
        self.name = "+".join(r.name for r in self.recognizers)
        self._stack = ExitStack()

    def __enter__(self) -> Self:
        with ExitStack() as stack:
            for recognizer in self.recognizers:
                stack.enter_context(recognizer)
            self._stack = stack.pop_all()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stack.close()

    def feed(self, frame: Samples) -> list[Hit]:
        """Hits from every recognizer, in order."""
        return [hit for r in self.recognizers for hit in r.feed(frame)]

    def reset(self) -> None:
        """Reset every recognizer."""
        for recognizer in self.recognizers:
            recognizer.reset()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Pass the vocabulary switch to every recognizer."""
        for recognizer in self.recognizers:
            recognizer.expect(numbers, answers)
