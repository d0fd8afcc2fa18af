"""Scoring benchmark rows: recall, confusions, false alarms, latency and cost, per split."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from voicecoach.frames import RATE_HZ, Samples

#: Window over which the speech envelope is measured when finding where a word ends, in seconds.
ENVELOPE_SECONDS = 0.01
#: A window counts as speech when within this many dB of the loudest window of the clip.
SPEECH_BELOW_PEAK_DB = 35.0
#: Groups whose clips must produce no command at all.
NEGATIVE_GROUPS = ("confusable", "count", "ordinary")


@dataclass(frozen=True)
class Detected:
    """A command the backend accepted: label, and when it was accepted (clip seconds)."""

    label: str
    accepted_seconds: float


@dataclass
class Row:
    """One clip run through one backend in one condition."""

    split: str
    group: str
    text: str
    voice: str
    condition: str
    #: The expected label (``pause``, ``number:3``), or None for clips that must stay silent.
    expected: str | None
    audio_seconds: float
    cpu_seconds: float
    #: End of the spoken command in the clip, seconds; None when latency is not measured on it.
    word_end_seconds: float | None
    detected: list[Detected] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A plain dict for results.json."""
        out = dict(self.__dict__)
        out["detected"] = [[d.label, round(d.accepted_seconds, 3)] for d in self.detected]
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Row:
        """The inverse of ``as_json``."""
        fields = {k: v for k, v in data.items() if k != "detected"}
        return cls(**fields, detected=[Detected(lab, t) for lab, t in data["detected"]])


def label_of(command: str, value: int | None) -> str:
    """``pause`` for a command, ``number:3`` for a pain score."""
    return command if value is None else f"{command}:{value}"


def command_of(label: str) -> str:
    """The command part of a label (``number:3`` -> ``number``)."""
    return label.split(":", 1)[0]


def word_end_seconds(samples: Samples) -> float | None:
    """Where speech ends in a clean clip: the end of the last loud-enough envelope window."""
    window = max(1, int(ENVELOPE_SECONDS * RATE_HZ))
    usable = len(samples) - len(samples) % window
    if usable == 0:
        return None
    blocks = samples[:usable].astype(np.float64).reshape(-1, window)
    power = np.mean(blocks**2, axis=1)
    peak = float(power.max())
    if peak <= 0.0:
        return None
    loud = np.flatnonzero(power >= peak * 10 ** (-SPEECH_BELOW_PEAK_DB / 10))
    return float((loud[-1] + 1) * window / RATE_HZ)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile (the smallest value with ``pct`` % at or below it)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


def latency_summary(values: Sequence[float]) -> dict[str, float | int | None]:
    """Median, p95 and max of latencies, in milliseconds, and how many there were."""
    ms = [v * 1000.0 for v in values]
    return {
        "n": len(ms),
        "median_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "max_ms": max(ms) if ms else None,
    }


def first_correct(row: Row) -> Detected | None:
    """The first detection that is the expected command."""
    return next((d for d in row.detected if d.label == row.expected), None)


def wrong(row: Row) -> list[str]:
    """Detected labels that are not the expected one."""
    return [d.label for d in row.detected if d.label != row.expected]


def recall_per_command(rows: Iterable[Row]) -> dict[str, dict[str, int]]:
    """Per expected command: clips, and clips where it was heard."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for row in rows:
        if row.expected is None:
            continue
        tally = out[command_of(row.expected)]
        tally["clips"] += 1
        tally["heard"] += first_correct(row) is not None
    return {k: dict(v) for k, v in sorted(out.items())}


def confusions(rows: Iterable[Row]) -> dict[str, int]:
    """Counts of ``said -> reported`` for command clips that produced a different command."""
    out: Counter[str] = Counter()
    for row in rows:
        if row.expected is None:
            continue
        said = command_of(row.expected)
        for label in wrong(row):
            reported = command_of(label)
            out[f"{said} -> {reported if reported != said else label}"] += 1
    return dict(out.most_common())


def pain_as_other(rows: Iterable[Row]) -> int:
    """Pain clips that produced any other command: the count that must be zero."""
    return sum(len(wrong(r)) for r in rows if r.expected is not None and r.expected == "pain")


def false_alarms(rows: Iterable[Row], group: str) -> dict[str, float | int]:
    """Clips of a negative group, clips with any command, commands, audio hours, rate per hour."""
    chosen = [r for r in rows if r.group == group]
    hours = sum(r.audio_seconds for r in chosen) / 3600.0
    alarms = sum(len(r.detected) for r in chosen)
    clips_alarmed = sum(bool(r.detected) for r in chosen)
    return {
        "clips": len(chosen),
        "clips_with_alarm": clips_alarmed,
        "percent_clips": 100.0 * clips_alarmed / len(chosen) if chosen else 0.0,
        "alarms": alarms,
        "hours": hours,
        "per_hour": alarms / hours if hours else 0.0,
    }


def latencies(rows: Iterable[Row]) -> list[float]:
    """Seconds from the end of the command word to acceptance, for correctly heard clips."""
    out = []
    for row in rows:
        hit = first_correct(row)
        if hit is not None and row.word_end_seconds is not None:
            out.append(hit.accepted_seconds - row.word_end_seconds)
    return out


def real_time_factor(rows: Iterable[Row]) -> float | None:
    """CPU seconds per audio second over the rows."""
    chosen = list(rows)
    audio = sum(r.audio_seconds for r in chosen)
    return sum(r.cpu_seconds for r in chosen) / audio if audio else None


def summarize(rows: Sequence[Row]) -> dict[str, Any]:
    """Every accuracy metric of a set of rows (one backend, split and condition)."""
    return {
        "recall": recall_per_command(rows),
        "confusions": confusions(rows),
        "pain_as_other": pain_as_other(rows),
        "false_alarms": {g: false_alarms(rows, g) for g in NEGATIVE_GROUPS},
        "latency": latency_summary(latencies(rows)),
        "rtf": real_time_factor(rows),
    }


def overall_recall(recall: dict[str, dict[str, int]]) -> float | None:
    """Heard over clips, across every command."""
    clips = sum(v["clips"] for v in recall.values())
    return sum(v["heard"] for v in recall.values()) / clips if clips else None


def worst_recall(recall: dict[str, dict[str, int]]) -> tuple[str, float] | None:
    """The command with the lowest recall, and that recall."""
    ratios = [(k, v["heard"] / v["clips"]) for k, v in recall.items() if v["clips"]]
    return min(ratios, key=lambda kv: kv[1]) if ratios else None
