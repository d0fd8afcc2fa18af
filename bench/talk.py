"""Television-like talk in the room: ordinary sentences, voice after voice, with short gaps.

The safety bench plays it through a whole session to count the questions the coach asks
when nobody speaks to it (``CheckZone``): a room with a television must not turn every
sentence into "did you say stop?".
"""

from __future__ import annotations

import random

import numpy as np

from bench import corpus, families
from voicecoach.audio.room import UserSpeech
from voicecoach.frames import RATE_HZ, Samples, rms_dbfs

#: Gaps between sentences, in seconds: the pace of a conversation on television.
GAP_SECONDS = (0.3, 1.2)


def voiced_dbfs(speech: Samples) -> float:
    """The level of the voiced part of ``speech``: samples above 1 % of its peak (so the same
    part at any gain)."""
    loud = np.abs(speech)
    return rms_dbfs(speech[loud > 0.01 * float(loud.max(initial=0.0))])


def talk_voices() -> list[str]:
    """Voices of the families that render here, so that the talk has several speakers."""
    return [v for f, ids in families.FAMILIES.items() if families.available(f) is None for v in ids]


def talk_pairs(count: int = 240, seed: int = 0) -> list[tuple[str, str]]:
    """The (voice, sentence) pairs the talk is made of, in order: render them ahead with
    ``families.render_all``, so that a session does not wait on a synthesizer."""
    rng = random.Random(seed)
    voices = talk_voices()
    sentences = corpus.ordinary_sentences()
    return [(rng.choice(voices), rng.choice(sentences)) for _ in range(count)]


def talk_track(seconds: float, level_dbfs: float, seed: int = 0) -> list[UserSpeech]:
    """``seconds`` of ordinary sentences at ``level_dbfs`` (RMS of the voiced samples)."""
    rng = random.Random(seed)
    track: list[UserSpeech] = []
    at = rng.uniform(*GAP_SECONDS)
    for voice, text in talk_pairs(seed=seed):
        if at >= seconds:
            break
        speech = families.render(voice, text)
        gain = 10 ** ((level_dbfs - voiced_dbfs(speech)) / 20)
        track.append(UserSpeech(at, (speech * np.float32(gain)).astype(np.float32), "talk"))
        at += len(speech) / RATE_HZ + rng.uniform(*GAP_SECONDS)
    return track
