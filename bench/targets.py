"""The targets, checked against a backend's measured results.

Where the acceptance criteria for hearing people set a limit (recall clean and at 10 dB,
confusable words, "pain" as another command, recorded people, real-time factor, peak RSS,
first word), the target is that limit. The others (worst command, 5 dB, ordinary speech per
hour, latency) are the bench's first and stricter goals, kept to show the way still to go.
Recall through the telephone band has the clean limit: the real person's recordings that the
acceptance checks use came through a phone line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.channel import PHONE_CONDITION
from bench.metrics import overall_recall, worst_recall


@dataclass(frozen=True)
class Target:
    """One target: how to read the measured value, the limit, and which way is good."""

    metric: str
    limit: float
    unit: str
    #: True when the measured value must be at most ``limit``; False for at least.
    at_most: bool
    measure: Callable[[dict[str, Any], str], float | None]
    #: Whether the value differs per voice split (accuracy) or is one figure (cost).
    per_split: bool = True


def _split(result: dict[str, Any], split: str) -> dict[str, Any]:
    summary: dict[str, Any] = result["splits"].get(split, {}).get("all", {})
    return summary


def _clean_worst(result: dict[str, Any], split: str) -> float | None:
    clean = result["splits"].get(split, {}).get("clean")
    worst = worst_recall(clean["recall"]) if clean else None
    return None if worst is None else 100.0 * worst[1]


def _recall_in(*conditions: str) -> Callable[[dict[str, Any], str], float | None]:
    def measure(result: dict[str, Any], split: str) -> float | None:
        recall: dict[str, dict[str, int]] = {}
        for condition in conditions:
            part = result["splits"].get(split, {}).get(condition, {}).get("recall", {})
            for command, tally in part.items():
                mine = recall.setdefault(command, {"clips": 0, "heard": 0})
                mine["clips"] += tally["clips"]
                mine["heard"] += tally["heard"]
        value = overall_recall(recall)
        return None if value is None else 100.0 * value

    return measure


def _fa(group: str, key: str) -> Callable[[dict[str, Any], str], float | None]:
    def measure(result: dict[str, Any], split: str) -> float | None:
        fa = _split(result, split).get("false_alarms", {}).get(group)
        return None if not fa or not fa["clips"] else float(fa[key])

    return measure


def _confusable_percent(result: dict[str, Any], split: str) -> float | None:
    fas = _split(result, split).get("false_alarms", {})
    parts = [fas[g] for g in ("confusable", "count") if g in fas]
    clips = sum(p["clips"] for p in parts)
    return 100.0 * sum(p["clips_with_alarm"] for p in parts) / clips if clips else None


def _pain(result: dict[str, Any], split: str) -> float | None:
    summary = _split(result, split)
    return None if not summary else float(summary["pain_as_other"])


def _latency(key: str) -> Callable[[dict[str, Any], str], float | None]:
    def measure(result: dict[str, Any], split: str) -> float | None:
        value = _split(result, split).get("latency", {}).get(key)
        return None if value is None else float(value)

    return measure


def _self_triggers(result: dict[str, Any], split: str) -> float | None:
    runs = [r for r in result.get("self_trigger", []) if r["echo_gain_db"] == -6.0]
    hours = sum(r["coach_seconds"] for r in runs) / 3600.0
    return sum(len(r["self_triggers"]) for r in runs) / hours if hours else None


def _human(key: str) -> Callable[[dict[str, Any], str], float | None]:
    def measure(result: dict[str, Any], split: str) -> float | None:
        human = result.get("human")
        if not human or not human["summary"]["recordings"]:
            return None  # nothing was heard, so nothing is met
        return float(human["summary"][key])

    return measure


def _cost(key: str) -> Callable[[dict[str, Any], str], float | None]:
    def measure(result: dict[str, Any], split: str) -> float | None:
        value = result.get("cost", {}).get(key)
        return None if value is None else float(value)

    return measure


TARGETS: tuple[Target, ...] = (
    Target("recall, clean, worst command", 98.0, "%", False, _clean_worst),
    Target("recall, clean", 80.0, "%", False, _recall_in("clean")),
    Target("recall, telephone band", 80.0, "%", False, _recall_in(PHONE_CONDITION)),
    Target(
        "recall, 10 dB SNR (pink and babble)", 70.0, "%", False, _recall_in("pink10", "babble10")
    ),
    Target("recall, 5 dB SNR (pink and babble)", 90.0, "%", False, _recall_in("pink5", "babble5")),
    Target("false alarms on ordinary speech", 0.5, "/h", True, _fa("ordinary", "per_hour")),
    Target(
        "false alarms on confusable words and counts", 5.0, "% clips", True, _confusable_percent
    ),
    Target("pain confused with another command", 0.0, "", True, _pain),
    Target("false commands, recorded people", 0.0, "", True, _human("false_commands"), False),
    Target("wrong pain scores, recorded people", 0.0, "", True, _human("wrong_scores"), False),
    Target("latency median", 250.0, "ms", True, _latency("median_ms")),
    Target("latency p95", 400.0, "ms", True, _latency("p95_ms")),
    Target("self-triggers, coach echo at -6 dB", 0.0, "/h", True, _self_triggers, False),
    Target(
        "real-time factor while listening (whole session path)",
        0.05,
        "",
        True,
        _cost("rtf_session"),
        False,
    ),
    Target("peak RSS during a session", 250.0, "MB", True, _cost("session_peak_rss_mb"), False),
    Target("start to first spoken word, warm", 1.5, "s", True, _cost("start_warm_seconds"), False),
)


def check(result: dict[str, Any], split: str, target: Target) -> dict[str, Any]:
    """Measured value, whether it meets the target, and by how much it misses."""
    value = target.measure(result, split)
    if value is None:
        return {"metric": target.metric, "split": split, "value": None, "met": None, "gap": None}
    met = value <= target.limit if target.at_most else value >= target.limit
    gap = value - target.limit if target.at_most else target.limit - value
    return {
        "metric": target.metric,
        "split": split,
        "target": f"{'<=' if target.at_most else '>='} {target.limit:g} {target.unit}".strip(),
        "value": value,
        "unit": target.unit,
        "met": met,
        "gap": 0.0 if met else gap,
    }


def check_all(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target; accuracy targets once per split (held out first), cost ones once."""
    out = []
    for target in TARGETS:
        measured = [s for s in result["splits"] if s not in ("heldout", "tune")]
        splits = ("heldout", *measured, "tune") if target.per_split else ("all",)
        out += [check(result, split, target) for split in splits]
    return out
