"""Discounting recognizer hits that are the coach's own words coming back through the room.

Echo cancellation removes most of the coach's voice from the microphone; what survives can
still spell "pain" or "resume", because the coach says those words. We know exactly what was
said and when, so a hit whose words the coach was saying at that moment is the coach's own.
"""

from __future__ import annotations

import logging
from collections import deque

from voicecoach.commands import normalize

_LOGGER = logging.getLogger(__name__)
#: How long the coach's echo outlasts its voice: the room's reverberation and the sound
#: devices' latency, well under half a second on the devices voicecoach runs on.
ECHO_TAIL_SECONDS = 0.5


def word_end_times(text: str, start: float, seconds: float) -> list[tuple[str, float]]:
    """Each word of an utterance with its estimated end time, spread by word length."""
    words = normalize(text).split()
    total = sum(len(w) + 1 for w in words)
    out, done = [], 0
    for word in words:
        done += len(word) + 1
        out.append((word, start + seconds * done / total))
    return out


class SelfHearingGuard:
    """Remembers what the coach said recently and recognizes it when it is heard back."""

    def __init__(self, window_seconds: float = 1.2, keep_seconds: float = 30.0) -> None:
        #: How far a heard word's end may be from when the coach said it and still be an echo.
        self.window_seconds = window_seconds
        self.keep_seconds = keep_seconds
        self._said: deque[tuple[str, float]] = deque()
        self._spans: deque[tuple[float, float]] = deque()
        self.discounted = 0

    def said(self, t: float, text: str, seconds: float) -> None:
        """The coach started saying ``text``, which lasts ``seconds`` if not cut off."""
        self._said.extend(word_end_times(text, t, seconds))
        self._spans.append((t, t + seconds))
        while self._spans and self._spans[0][1] < t - self.keep_seconds:
            self._spans.popleft()
        while self._said and self._said[0][1] < t - self.keep_seconds:
            self._said.popleft()

    def speaking(self, at: float) -> bool:
        """True if the coach was talking (or its echo ringing) within the window of ``at``."""
        return bool(self._spans) and any(
            start - self.window_seconds <= at <= end + self.window_seconds
            for start, end in self._spans
        )

    def talking(self, at: float) -> bool:
        """True if the coach's voice, or the echo just behind it, was in the room at ``at``."""
        return any(start <= at <= end + ECHO_TAIL_SECONDS for start, end in self._spans)

    def quiet_between(self, start: float, end: float) -> bool:
        """True if neither the coach nor its echo tail was in the room from ``start`` to ``end``."""
        return not any(s <= end and start <= e + ECHO_TAIL_SECONDS for s, e in self._spans)

    def cut(self, t: float) -> None:
        """The current utterance was cut off at ``t``: later words were never said."""
        if self._spans:
            start, end = self._spans[-1]
            self._spans[-1] = (start, min(end, t))
        # A word whose estimated end is just after the cut was probably still half-said.
        while self._said and self._said[-1][1] > t + 0.3:
            self._said.pop()

    def is_own_voice(
        self,
        text: str,
        at: float,
        echo_converged: bool,
        started: float | None = None,
        echo_delay_seconds: float = 0.0,
    ) -> bool:
        """The runner's rule: the coach's own words, or anything said over the coach while the
        echo canceller is still learning the room; once it has learnt it, never words heard
        from ``started`` (when known) to ``at`` while neither the coach nor its echo was in
        the room."""
        if (
            echo_converged
            and started is not None
            and self.quiet_between(started - echo_delay_seconds, at - echo_delay_seconds)
        ):
            # A prompt answer to "Say stop, pain, or carry on" ends within a second of the
            # coach's own "pain"; only its start tells the person from the echo. Not before the
            # canceller has settled: until then the echo tail and the device delay it measures
            # are not to be trusted (the safety bench measured the same either way).
            return False
        if not echo_converged and self.speaking(at):
            # Until the canceller has learned the room (a few seconds of speech), what it
            # leaves of the coach can still spell a command; the person can still be heard
            # between cues, and from then on at any time.
            _LOGGER.info("discounted %r at %.2f s: echo canceller still learning", text, at)
            return True
        return self.is_own(text, at)

    def is_own(self, text: str, at: float) -> bool:
        """True if every word of ``text`` was said by the coach within the window of ``at``."""
        words = normalize(text).split()
        if not words:
            return False
        nearby = {w for w, end in self._said if abs(end - at) <= self.window_seconds}
        own = all(_said_in(w, nearby) for w in words)
        if own:
            self.discounted += 1
            _LOGGER.info("discounted %r at %.2f s: the coach was saying it", text, at)
        return own


#: Heard words this long or longer also match the coach's inflections of them.
_STEM_LETTERS = 4


def _said_in(word: str, said: set[str]) -> bool:
    """Whether the coach said ``word``; an inflection that starts with it (its "Stopping here"
    after a "stop" was heard back as "stop"); or a word that ends with it, as the start of a
    word can be lost under the canceller while its end comes through (its "help now" was heard
    back as "Ow"). Short words must match whole at the start ("on" is no echo of "only")."""
    if word in said or any(len(w) > len(word) and w.endswith(word) for w in said):
        return True
    return len(word) >= _STEM_LETTERS and any(w.startswith(word) for w in said)
