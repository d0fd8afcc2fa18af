"""What the echo canceller judged each recent microphone frame, to tell a person who spoke
over the coach from what the canceller left of the coach."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from voicecoach.frames import FRAME_SECONDS

#: Share of a stretch's frames the coach must have talked in for the stretch to be the coach's.
COACH_SHARE = 0.5


@dataclass(frozen=True)
class OverCoach:
    """How much of a stretch of microphone frames the coach talked in, and the person too."""

    frames: int
    #: Frames in which the coach's voice was in the reference the canceller removed ...
    coach_frames: int
    #: ... and those whose residual held more than its echo (``voice_above_echo``).
    above_echo_frames: int

    @property
    def only_coach(self) -> bool:
        """True when the coach talked through the stretch (``COACH_SHARE``) and the canceller
        never found more in it than the coach's echo, nor in a pause between its words."""
        over_coach = self.coach_frames >= COACH_SHARE * self.frames > 0
        return over_coach and not self.above_echo_frames


class CancellerFrames:
    """The canceller's judgement of each of the last ``keep_seconds`` of microphone frames."""

    def __init__(self, keep_seconds: float = 12.0) -> None:
        self._frames: deque[tuple[float, bool, bool]] = deque(
            maxlen=round(keep_seconds / FRAME_SECONDS)
        )
        self._count = 0

    def note(self, talking: bool, above_echo: bool) -> None:
        """The next frame: the coach talking in it, and more than its echo in the residual.
        Frames are timed by their count, as the recognizer times its utterances: a live
        clock's time when a frame is read runs ahead of the audio by the device's buffering."""
        self._count += 1
        self._frames.append((self._count * FRAME_SECONDS, talking, above_echo))

    @property
    def stream_seconds(self) -> float:
        """The end of the last frame noted, in stream seconds."""
        return self._count * FRAME_SECONDS

    def between(self, start_seconds: float, end_seconds: float) -> OverCoach:
        """The frames that ended from ``start_seconds`` to ``end_seconds``."""
        inside = [(c, d) for t, c, d in self._frames if start_seconds <= t <= end_seconds]
        return OverCoach(
            len(inside), sum(1 for c, _ in inside if c), sum(1 for _, d in inside if d)
        )
