"""The spoken enrolment: the coach asks for each word, and keeps what the person says.

It runs on the same ports as a session (``Microphone``, ``Speaker``, ``Synthesizer``), one
20 ms frame at a time: while the coach speaks, the microphone's frames are read and dropped
(they hold the coach's own voice); then the person has ``listen_seconds`` to say the word, and
the longest utterance the segmenter cuts out of that window is the example. A request with no
answer is asked once more. The window has a fixed length, so while every request is answered
the session follows one timeline (``timeline``) that tests can place the person's words on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, split_frames
from voicecoach.ports import Microphone, Speaker, Synthesizer
from voicecoach.speech.personal import COMMAND_WORDS, EXAMPLE_SEGMENTER, NUMBER_WORDS
from voicecoach.speech.vad import Segmenter, SegmenterSettings, SpeechProbability

_LOGGER = logging.getLogger(__name__)

INTRO = (
    "Let's learn how you say the words I listen for. After each one I ask for, say it once, "
    "as you would in a session, then wait for the next."
)
OUTRO = "Thank you. That's all the words."
#: Said when nothing was heard after a request, before it is asked once more.
MISSED = "I did not hear that."
#: How many times each word is asked for: the safety words more, the scores fewer.
COMMAND_REPEATS = 3
NUMBER_REPEATS = 2


@dataclass(frozen=True)
class Prompt:
    """One request: what the coach says, and which word it asks for."""

    word: str
    text: str


def prompts(
    command_repeats: int = COMMAND_REPEATS, number_repeats: int = NUMBER_REPEATS
) -> list[Prompt]:
    """Every request of a full enrolment, in order."""
    out = []
    for word in COMMAND_WORDS:
        out += [
            Prompt(word, f"Say {word}." if n == 0 else "Again.") for n in range(command_repeats)
        ]
    for word in NUMBER_WORDS:
        out += [Prompt(word, f"Say {word}." if n == 0 else "Again.") for n in range(number_repeats)]
    return out


@dataclass(frozen=True)
class Listen:
    """When the person's answer to one prompt is listened for, in seconds from the start."""

    prompt: Prompt
    start_seconds: float
    end_seconds: float


def timeline(
    synthesizer: Synthesizer, requests: Sequence[Prompt], listen_seconds: float
) -> list[Listen]:
    """When each answer is listened for, in a session that speaks with ``synthesizer``."""
    t = _seconds(synthesizer, INTRO)
    out = []
    for prompt in requests:
        t += _seconds(synthesizer, prompt.text)
        out.append(Listen(prompt, t, t + listen_seconds))
        t += listen_seconds
    return out


def _seconds(synthesizer: Synthesizer, text: str) -> float:
    """How long the coach takes to say ``text``, in whole frames as it is played."""
    frames = -(-len(synthesizer.render(text)) // FRAME_SAMPLES)
    return frames * FRAME_SAMPLES / RATE_HZ


class EnrolmentSession:
    """Asks for each word and cuts the person's answer out of the microphone stream."""

    def __init__(
        self,
        mic: Microphone,
        speaker: Speaker,
        synthesizer: Synthesizer,
        vad: SpeechProbability,
        *,
        requests: Sequence[Prompt] | None = None,
        listen_seconds: float = 3.0,
        segmenter: SegmenterSettings | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self._mic = mic
        self._speaker = speaker
        self._synthesizer = synthesizer
        self._vad = vad
        self.requests = list(requests if requests is not None else prompts())
        self.listen_seconds = listen_seconds
        self._settings = segmenter or EXAMPLE_SEGMENTER
        self._progress = progress or (lambda _text: None)

    def timeline(self) -> list[Listen]:
        """When each answer is listened for, as ``run`` will follow it."""
        return timeline(self._synthesizer, self.requests, self.listen_seconds)

    def run(self) -> dict[str, list[Samples]]:
        """Ask for every word; returns each word's examples (words never heard are absent)."""
        again = [f"{MISSED} Say {p.word}." for p in self.requests]
        self._synthesizer.prerender([INTRO, OUTRO, *(p.text for p in self.requests), *again])
        examples: dict[str, list[Samples]] = {}
        self.say(INTRO)
        for prompt in self.requests:
            self.say(prompt.text)
            heard = self._listen()
            if heard is None:
                # Once more, in words that say what to do: the person may not have been ready.
                self.say(f"{MISSED} Say {prompt.word}.")
                heard = self._listen()
            if heard is None:
                self._progress(f"{prompt.word}: nothing heard")
                continue
            examples.setdefault(prompt.word, []).append(heard)
            self._progress(f"{prompt.word}: {len(heard) / RATE_HZ:.1f} s kept")
        self.say(OUTRO)
        return examples

    def say(self, text: str) -> None:
        """Speak ``text``, reading and dropping the microphone meanwhile (it hears the coach)."""
        for frame in split_frames(self._synthesizer.render(text)):
            self._speaker.play(frame)
            self._read()

    def _listen(self) -> Samples | None:
        segmenter = Segmenter(self._vad, self._settings)
        quiet = np.zeros(FRAME_SAMPLES, np.float32)
        found: list[Samples] = []
        for _ in range(round(self.listen_seconds * RATE_HZ / FRAME_SAMPLES)):
            self._speaker.play(quiet)
            found += [s.samples for s in segmenter.feed(self._read())]
        # Whatever is still going on when the window closes is closed with quiet.
        for _ in range(round(segmenter.settings.end_quiet_seconds * 2 * RATE_HZ / FRAME_SAMPLES)):
            found += [s.samples for s in segmenter.feed(quiet)]
        return max(found, key=len) if found else None

    def _read(self) -> Samples:
        frame = self._mic.read()
        return np.zeros(FRAME_SAMPLES, np.float32) if frame is None else frame
