"""The hands-free start: idle on the microphone until someone says "start session"."""

from __future__ import annotations

import logging
from collections.abc import Callable

from voicecoach.audio.chime import ready_chime
from voicecoach.commands import Command
from voicecoach.frames import split_frames
from voicecoach.ports import Microphone, Recognizer, Speaker

_LOGGER = logging.getLogger(__name__)


def wait_for_start(
    mic: Microphone,
    recognizer: Recognizer,
    *,
    speaker: Speaker | None = None,
    heard: Callable[[str], None] | None = None,
) -> bool:
    """Listen until the start phrase is heard (True) or the input ends (False).

    Only the start phrase counts: any other command heard while idle is ignored, so a stray
    "stop" in the room does nothing. ``heard`` is told the text of every ignored hit. With a
    ``speaker``, a soft chime plays once the recognizer is ready and before the microphone
    opens, so a person across the room knows they can speak (and the chime is not heard).
    """
    with recognizer:
        if speaker is not None:
            with speaker:
                for frame in split_frames(ready_chime()):
                    speaker.play(frame)
        return _listen(mic, recognizer, heard)


def _listen(mic: Microphone, recognizer: Recognizer, heard: Callable[[str], None] | None) -> bool:
    with mic:
        while True:
            frame = mic.read()
            if frame is None:
                return False
            for hit in recognizer.feed(frame):
                parsed = hit.command(numbers=False, answers=False)
                if parsed is not None and parsed.command is Command.START:
                    _LOGGER.info("start phrase heard: %r", hit.text)
                    return True
                if heard is not None:
                    heard(hit.text)
