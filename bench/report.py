"""results.md: the measured tables, per backend, with the held-out voices shown separately."""

from __future__ import annotations

from typing import Any

from bench import human
from bench.metrics import overall_recall

SPLIT_NAMES = {
    "heldout": "held-out voices",
    "tune": "tuning voices",
    "piper": "Piper neural voice family (12 pseudo-speakers, never tuned on)",
    "pico": "SVOX Pico family (8 pseudo-speakers, never tuned on)",
    "rhvoice": "RHVoice family (6 recorded speakers, never tuned on)",
}


def _num(value: float | None, digits: int = 1, unit: str = "") -> str:
    return "-" if value is None else f"{value:.{digits}f}{unit}"


def _ratio(heard: int, clips: int) -> str:
    return f"{heard}/{clips} ({100.0 * heard / clips:.0f}%)" if clips else "-"


def targets_table(checks: list[dict[str, Any]]) -> list[str]:
    """Target, measured value, met or missed and by how much."""
    lines = ["| metric | split | target | measured | result |", "|---|---|---|---|---|"]
    for c in checks:
        if c["value"] is None:
            lines.append(f"| {c['metric']} | {c['split']} | | not measured | - |")
            continue
        verdict = "met" if c["met"] else f"**missed** by {c['gap']:.3g} {c['unit']}".rstrip()
        lines.append(
            f"| {c['metric']} | {c['split']} | {c['target']} | {c['value']:.3g} {c['unit']} "
            f"| {verdict} |"
        )
    return lines


def recall_table(split: dict[str, Any], conditions: list[str]) -> list[str]:
    """Commands down, conditions across: heard/clips."""
    commands = sorted({c for cond in conditions for c in split[cond]["recall"]})
    lines = ["| command | " + " | ".join(conditions) + " |", "|---" * (len(conditions) + 1) + "|"]
    for command in commands:
        cells = []
        for cond in conditions:
            tally = split[cond]["recall"].get(command)
            cells.append(_ratio(tally["heard"], tally["clips"]) if tally else "-")
        lines.append(f"| {command} | " + " | ".join(cells) + " |")
    totals = [overall_recall(split[c]["recall"]) for c in conditions]
    lines.append("| **all** | " + " | ".join(_num(t and 100 * t, 1, "%") for t in totals) + " |")
    return lines


def errors_table(split: dict[str, Any], conditions: list[str]) -> list[str]:
    """False alarms, pain confusions and latency per condition."""
    head = "| condition | ordinary speech: alarms/h (alarms, hours) | confusable words: % clips | "
    head += "hold counts: % clips | pain -> other | latency median / p95 / max (n) |"
    lines = [head, "|---|---|---|---|---|---|"]
    for cond in [*conditions, "all"]:
        s = split[cond]
        fa = s["false_alarms"]
        o = fa["ordinary"]
        lat = s["latency"]
        lines.append(
            f"| {cond} | {o['per_hour']:.2f} ({o['alarms']}, {o['hours']:.2f} h) | "
            f"{_pct(fa['confusable'])} | {_pct(fa['count'])} | {s['pain_as_other']} | "
            f"{_num(lat['median_ms'], 0)} / {_num(lat['p95_ms'], 0)} / {_num(lat['max_ms'], 0)} "
            f"ms ({lat['n']}) |"
        )
    return lines


def _pct(fa: dict[str, Any]) -> str:
    return f"{fa['percent_clips']:.1f}% ({fa['clips_with_alarm']}/{fa['clips']})"


def confusion_lines(split: dict[str, Any]) -> list[str]:
    """Every said -> reported count over all conditions."""
    conf = split["all"]["confusions"]
    if not conf:
        return ["No command clip produced a different command."]
    return ["Said -> reported (all conditions): " + ", ".join(f"{k} x{n}" for k, n in conf.items())]


def cost_lines(result: dict[str, Any]) -> list[str]:
    """RTF, memory, load and start-up times."""
    c = result["cost"]
    start = result.get("startup", {})
    lines = [
        f"- real-time factor on one core, recognizer only (clean clips): "
        f"{_num(c['rtf_listening'], 4)}; with echo cancellation on every frame: "
        f"{_num(c['rtf_with_echo'], 4)}; whole simulated session (canceller, recognizer, "
        f"session): {_num(c.get('rtf_session'), 4)}, with the simulated room "
        f"{_num(c.get('rtf_session_with_room'), 4)}",
        f"- peak RSS: {_num(c['session_peak_rss_mb'], 0)} MB in a whole-session process; "
        f"{_num(c['corpus_peak_rss_mb'], 0)} MB in a corpus worker process",
        f"- model load time: {_num(c['load_seconds'], 3)} s",
    ]
    if start.get("measured"):
        lines.append(
            f"- `voicecoach run` to the first spoken word: cold TTS cache "
            f"{start['cold_seconds']:.2f} s, warm {start['warm_seconds']:.2f} s (median of "
            f"{', '.join(f'{w:.2f}' for w in start['warm_runs'])} s); PulseAudio null sink"
        )
    else:
        lines.append(f"- start to first spoken word: not measured ({start.get('reason', '-')})")
    return lines


def self_trigger_lines(result: dict[str, Any]) -> list[str]:
    """One line per whole-session run with nobody talking."""
    lines = ["| program | echo | session | coach speaking | self-triggers | per hour of coach |"]
    lines.append("|---|---|---|---|---|---|")
    for r in result["self_trigger"]:
        per_hour = len(r["self_triggers"]) / (r["coach_seconds"] / 3600.0)
        heard = ", ".join(f"{h['command']} at {h['t']} s" for h in r["self_triggers"]) or "none"
        lines.append(
            f"| {r['program']} | {r['echo_gain_db']:g} dB | {r['session_seconds'] / 60:.1f} min "
            f"({r['end_reason']}) | {r['coach_seconds'] / 60:.1f} min | {heard} | {per_hour:.2f} |"
        )
    return lines


def backend_section(name: str, result: dict[str, Any]) -> list[str]:
    """Everything measured for one backend."""
    lines = [f"## {name}", "", f"{result['description']}", "", "### Cost", ""]
    lines += cost_lines(result)
    lines += ["", "### Self-triggering (whole session, nobody talking, coach heard back)", ""]
    lines += self_trigger_lines(result)
    if result.get("human"):
        lines += [
            "",
            "### Recorded people (Debian's pocketsphinx-testdata, klettres-data, hedgewars-data)",
            "",
        ]
        lines += human.lines(result["human"]["rows"])
    for split in SPLIT_NAMES:
        data = result["splits"].get(split)
        if not data:
            continue
        conditions = [c for c in data if c != "all"]
        lines += ["", f"### Recall per command, {SPLIT_NAMES[split]}", ""]
        lines += recall_table(data, conditions)
        lines += ["", f"### False alarms, confusions and latency, {SPLIT_NAMES[split]}", ""]
        lines += errors_table(data, conditions)
        lines += ["", *confusion_lines(data)]
    return lines


def markdown(results: dict[str, Any]) -> str:
    """The whole results file."""
    lines = [
        "# Benchmark results",
        "",
        f"Generated by `{results['command']}` on "
        f"{results['date']} ({results['mode']} run, {results['wall_minutes']:.1f} min).",
        "",
        f"Machine: {results['hardware_line']}",
        "",
    ]
    lines += [f"- {note}" for note in results["notes"]]
    lines += ["", "## Corpus", "", results["corpus_line"], ""]
    for name, result in results["backends"].items():
        if not result.get("available"):
            lines += [f"## {name}", "", f"Not measured: {result['reason']}", ""]
            continue
        lines += [f"## Targets: {name}", "", *targets_table(result["targets"]), ""]
    for name, result in results["backends"].items():
        if result.get("available"):
            lines += backend_section(name, result) + [""]
    return "\n".join(lines).rstrip() + "\n"
