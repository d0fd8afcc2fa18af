"""Which corpus clips the bench runs, in which conditions, for a quick or a full run."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bench import corpus, evaluate
from bench.channel import PHONE_CONDITION
from bench.evaluate import ECHO_CONDITION, BenchClip

NOISY = tuple(n.label for n in corpus.NOISES)
ALL_CONDITIONS = ("clean", *NOISY, PHONE_CONDITION, ECHO_CONDITION)


@dataclass(frozen=True)
class Size:
    """How much of the corpus a run takes."""

    #: Voices per split (None: every voice of the split).
    voices_per_split: int | None
    conditions: tuple[str, ...]
    #: Keep every n-th (utterance, voice) pair of a group; ordinary speech has its own steps.
    steps: dict[str, int]
    #: Every n-th ordinary (sentence, voice) pair in clean, and in the other conditions.
    ordinary_clean_step: int
    ordinary_noisy_step: int
    #: Voices of each other engine's family (``bench/families.py``); 0 leaves them out.
    family_voices: int = 4


QUICK = Size(1, ("clean", "pink5"), {"command": 2, "number": 4, "confusable": 3}, 8, 16, 1)
FULL = Size(None, ALL_CONDITIONS, {"command": 2, "number": 4, "confusable": 3}, 1, 8, 2)
#: Two voices, clean only: for the CI check.
TINY = Size(1, ("clean",), {"command": 8, "number": 11, "confusable": 7}, 24, 10**9, 0)


def available_families() -> list[str]:
    """The voice families of other engines that can render here."""
    from bench import families

    return [f for f in corpus.FAMILY_SPLITS if families.available(f) is None]


def voices(size: Size, split: str) -> list[str]:
    """The voices of a split, MBROLA ones first (they sound most like people)."""
    found = corpus.voices(split)
    found.sort(key=lambda v: not v.startswith("mb-"))
    if split in corpus.FAMILY_SPLITS:
        # Spread over the family: its pseudo-speakers are listed in order of their settings.
        step = max(1, len(found) // size.family_voices)
        return found[::step][: size.family_voices]
    return found if size.voices_per_split is None else found[: size.voices_per_split]


def _pick(text: str, voice: str, choices: int) -> int:
    # A stable spread over rates and pitches, the same on every machine.
    return int(hashlib.sha256(f"{text}|{voice}".encode()).hexdigest()[:8], 16) % choices


def _clip(utterance: corpus.Utterance, voice: str, condition: str) -> BenchClip:
    combos = [(r, p) for r in corpus.RATES_WPM for p in corpus.PITCHES]
    rate, pitch = combos[_pick(utterance.text, voice, len(combos))]
    # Clean, the telephone line and the coach's echo all start from the clean rendering.
    noise = next((n for n in corpus.NOISES if n.label == condition), corpus.FLOOR)
    return BenchClip(corpus.Clip(utterance, voice, rate, pitch, noise), condition)


def _conditions(size: Size, utterance: corpus.Utterance, index: int) -> tuple[str, ...]:
    if evaluate.is_start(utterance):
        # The start phrase is listened for only while the box is idle and the coach silent.
        return tuple(c for c in size.conditions if c != ECHO_CONDITION)
    if utterance.group != "ordinary":
        return size.conditions
    if index % size.ordinary_noisy_step == 0:
        return size.conditions
    return ("clean",) if index % size.ordinary_clean_step == 0 else ()


def select(size: Size) -> list[BenchClip]:
    """Every bench clip of a run: one rate and pitch per utterance and voice, in each condition."""
    out = []
    for split in ("tune", "heldout", *(available_families() if size.family_voices else [])):
        chosen = voices(size, split)
        for group in ("command", "number", "confusable", "ordinary"):
            step = size.steps.get(group, 1)
            pairs = [(u, v) for u in corpus.utterances([group]) for v in chosen]
            for index, (utterance, voice) in enumerate(pairs):
                if group != "ordinary" and index % step:
                    continue
                out += [_clip(utterance, voice, c) for c in _conditions(size, utterance, index)]
    return out
