"""Measure and tune the pocketsphinx recognizer on the synthetic corpus.

    python -m training.tune_sphinx audit            # permissive run on the tuning voices
    python -m training.tune_sphinx tune             # per-phrase thresholds from the audit
    python -m training.tune_sphinx validate         # tuned recognizer on tuning and held-out voices
    python -m training.tune_sphinx report NAME      # print the tables of a saved run

Runs are saved as JSON lines under bench/.corpus/runs/. Each worker process feeds a fixed half of
the clips in order through one recognizer, so a run is the same on every machine.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import corpus
from voicecoach.commands import Command, command_phrases, parse
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ
from voicecoach.speech.sphinx_recognizer import Candidate, SphinxRecognizer, SphinxTuning

RUNS_DIR = corpus.CORPUS_DIR / "runs"
THRESHOLDS_FILE = RUNS_DIR / "thresholds.json"
#: Spotting threshold of the audit run: low enough that every real command becomes a candidate.
AUDIT_THRESHOLD = -16.0
#: Every n-th clip of the tuning split goes into the audit (odd, so noise conditions alternate).
AUDIT_STEP = 3
#: Every n-th clip of each split goes into the validation run.
VALIDATE_STEP = 5
#: Added to the highest score a non-command reached, so the tuned threshold sits clear of it.
SAFETY_DECADES = 1.0
#: Thresholds never go below this floor; under it the spotter fires on silence.
FLOOR = -16.0
JOBS = 2


def run_clips(clips: list[corpus.Clip], tuning: SphinxTuning, name: str) -> Path:
    """Feed every clip through the recognizer; one JSON line per clip."""
    RUNS_DIR.mkdir(parents=True, exist_ok=True)
    corpus.render_all(clips)
    # Split by content hash, not by position: positions alternate clean and noisy renderings.
    halves = [[c for c in clips if int(c.speech_key[:4], 16) % JOBS == i] for i in range(JOBS)]
    out = RUNS_DIR / f"{name}.jsonl"
    with ProcessPoolExecutor(JOBS) as pool, out.open("w", encoding="utf-8") as sink:
        for rows in pool.map(_run_half, halves, [tuning] * JOBS):
            for row in rows:
                sink.write(json.dumps(row) + "\n")
    return out


def _run_half(clips: list[corpus.Clip], tuning: SphinxTuning) -> list[dict[str, Any]]:
    candidates: list[Candidate] = []
    rows = []
    with SphinxRecognizer(tuning, audit=candidates.append) as recognizer:
        for clip in clips:
            candidates.clear()
            rows.append(_run_one(recognizer, clip, candidates))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for row in rows:
        row["peak_rss_mb"] = peak_mb
    return rows


def _run_one(
    recognizer: SphinxRecognizer, clip: corpus.Clip, candidates: list[Candidate]
) -> dict[str, Any]:
    recognizer.reset()
    recognizer.expect(clip.utterance.numbers, clip.utterance.answers)
    audio = clip.audio()
    heard: list[tuple[str, float, float | None]] = []
    offset = None
    started = time.process_time()
    for i in range(0, len(audio) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        for hit in recognizer.feed(audio[i : i + FRAME_SAMPLES]):
            heard.append((hit.text, (i + FRAME_SAMPLES) / RATE_HZ, hit.end_seconds))
        if offset is None:
            # Stream times count from the recognizer's first frame; make them clip-relative.
            offset = (recognizer._samples_fed - FRAME_SAMPLES) / RATE_HZ  # noqa: SLF001
    cpu = time.process_time() - started
    hits = [
        {"text": text, "emitted": emitted, "end": None if end is None else end - (offset or 0.0)}
        for text, emitted, end in heard
    ]
    expected = clip.utterance.expected
    return {
        "text": clip.utterance.text,
        "group": clip.utterance.group,
        "numbers": clip.utterance.numbers,
        "expected": None if expected is None else [expected.command.value, expected.value],
        "voice": clip.voice,
        "split": clip.split,
        "rate": clip.rate_wpm,
        "pitch": clip.pitch,
        "condition": clip.condition,
        "seconds": len(audio) / RATE_HZ,
        "cpu": cpu,
        "hits": hits,
        "candidates": [asdict(c) for c in candidates],
    }


def load(name: str) -> list[dict[str, Any]]:
    """Rows of a saved run."""
    path = RUNS_DIR / f"{name}.jsonl"
    if not path.exists():
        raise SystemExit(f"no saved run {path}; `python -m training.tune_sphinx audit` makes one")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- scoring ----------------------------------------------------------------------------------


def _key(text: str, numbers: bool) -> tuple[str, int | None] | None:
    parsed = parse(text)
    if parsed is None or (parsed.command == Command.NUMBER and not numbers):
        return None
    return parsed.command.value, parsed.value


def outcome(row: dict[str, Any], texts: Iterable[str]) -> tuple[bool, list[str]]:
    """Whether the expected command came out, and the wrong commands that did."""
    expected = tuple(row["expected"]) if row["expected"] else None
    found = False
    wrong = []
    for text in texts:
        key = _key(text, row["numbers"])
        if key is None:
            continue
        if key == expected:
            found = True
        else:
            wrong.append(key[0] if key[1] is None else f"{key[0]}:{key[1]}")
    return found, wrong


def score(rows: list[dict[str, Any]], texts_of: Any = None) -> dict[str, Any]:
    """Recall, false alarms, confusions, latency and cost of a run, per split."""
    texts_of = texts_of or (lambda row: [h["text"] for h in row["hits"]])
    table: dict[str, Counter[str]] = defaultdict(Counter)
    confusions: Counter[tuple[str, str, str]] = Counter()
    latencies = []
    for row in rows:
        found, wrong = outcome(row, texts_of(row))
        tally = table[row["split"]]
        if row["expected"]:
            kind = "clean" if row["condition"] == "clean" else "noisy"
            tally[f"{kind}_clips"] += 1
            tally[f"{kind}_found"] += found
        else:
            tally[f"{row['group']}_clips"] += 1
            tally[f"{row['group']}_seconds"] += round(row["seconds"])
            tally[f"{row['group']}_false"] += bool(wrong)
        for w in wrong:
            expected = row["expected"][0] if row["expected"] else f"({row['group']})"
            confusions[(row["split"], expected, w)] += 1
        latencies += [h["emitted"] - h["end"] for h in row["hits"] if h["end"] is not None]
    cpu = sum(r["cpu"] for r in rows)
    audio = sum(r["seconds"] for r in rows)
    return {
        "table": {k: dict(v) for k, v in table.items()},
        "confusions": confusions,
        "rtf": cpu / audio if audio else 0.0,
        "latency": sorted(latencies),
        "peak_rss_mb": max((r.get("peak_rss_mb", 0.0) for r in rows), default=0.0),
    }


def report(rows: list[dict[str, Any]], texts_of: Any = None) -> str:
    """A Markdown summary of a run."""
    result = score(rows, texts_of)
    lines = ["| split | clean recall | noisy recall | confusable FA | count FA | ordinary FA |"]
    lines.append("|---|---|---|---|---|---|")
    for split, t in sorted(result["table"].items()):
        lines.append(
            f"| {split} | {_ratio(t, 'clean')} | {_ratio(t, 'noisy')} | "
            f"{_ratio(t, 'confusable', 'false')} | {_ratio(t, 'count', 'false')} | "
            f"{_ratio(t, 'ordinary', 'false')} ({t.get('ordinary_seconds', 0) / 3600:.2f} h) |"
        )
    conf = result["confusions"]
    pain_wrong = sum(n for (s, e, w), n in conf.items() if e == "pain" and w != "pain")
    lines.append("")
    lines.append(f"pain reported as another command: {pain_wrong}")
    lines.append("confusions (split, said, reported): " + ", ".join(
        f"{s}/{e}->{w} x{n}" for (s, e, w), n in conf.most_common(20)
    ))  # fmt: skip
    lat = result["latency"]
    if lat:
        lines.append(
            f"latency after word end: median {lat[len(lat) // 2]:.2f} s, "
            f"p90 {lat[int(len(lat) * 0.9)]:.2f} s"
        )
    lines.append(f"RTF {result['rtf']:.4f}, peak RSS {result['peak_rss_mb']:.0f} MB per process")
    return "\n".join(lines)


def conditions_table(rows: list[dict[str, Any]]) -> str:
    """Recall and false alarms per split and noise condition, as Markdown."""
    lines = [
        "| split | condition | command recall | number recall | confusable+count FA | ordinary FA |"
    ]
    lines.append("|---|---|---|---|---|---|")
    cells: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        found, wrong = outcome(row, [h["text"] for h in row["hits"]])
        cell = cells[(row["split"], row["condition"])]
        group = "confusable" if row["group"] == "count" else row["group"]
        cell[f"{group}_clips"] += 1
        cell[f"{group}_hit"] += found if row["expected"] else bool(wrong)
    for (split, cond), c in sorted(cells.items(), key=lambda kv: (kv[0][0] != "tune", kv[0][1])):
        lines.append(
            f"| {split} | {cond} | {_ratio(c, 'command', 'hit')} | {_ratio(c, 'number', 'hit')} | "
            f"{_ratio(c, 'confusable', 'hit')} | {_ratio(c, 'ordinary', 'hit')} |"
        )
    return "\n".join(lines)


def phrases_table(rows: list[dict[str, Any]]) -> str:
    """Recall per command (every phrasing and carrier), per split, clean and noisy."""
    cells: dict[tuple[str, str, bool], Counter[str]] = defaultdict(Counter)
    for row in rows:
        if not row["expected"]:
            continue
        found, _ = outcome(row, [h["text"] for h in row["hits"]])
        cell = cells[(row["expected"][0], row["split"], row["condition"] == "clean")]
        cell["clips"] += 1
        cell["found"] += found
    lines = ["| command | tune clean | tune noisy | held-out clean | held-out noisy |"]
    lines.append("|---|---|---|---|---|")
    for command in sorted({k[0] for k in cells}):
        ratios = [
            _ratio({"x_clips": cells[(command, s, c)]["clips"],
                    "x_found": cells[(command, s, c)]["found"]}, "x")
            for s in ("tune", "heldout")
            for c in (True, False)
        ]  # fmt: skip
        lines.append(f"| {command} | " + " | ".join(ratios) + " |")
    return "\n".join(lines)


def latency_line(rows: list[dict[str, Any]]) -> str:
    """Median and 95th percentile of the time from a word's end to its hit."""
    lat = sorted(h["emitted"] - h["end"] for r in rows for h in r["hits"] if h["end"] is not None)
    if not lat:
        return "no hits"
    return f"latency word end -> hit: median {lat[len(lat) // 2]:.3f} s, p95 " + (
        f"{lat[int(len(lat) * 0.95)]:.3f} s over {len(lat)} hits"
    )


def _ratio(t: dict[str, int], group: str, what: str = "found") -> str:
    n = t.get(f"{group}_clips", 0)
    k = t.get(f"{group}_{what}", 0)
    return f"{k}/{n} ({k / n:.1%})" if n else "-"


# --- tuning -----------------------------------------------------------------------------------


def tune(rows: list[dict[str, Any]], confirm: bool = True) -> dict[str, float]:
    """Per phrase: just above the best score of any (confirmed) candidate that would be wrong."""
    worst: dict[str, float] = {p: FLOOR for p in command_phrases()}
    for row in rows:
        expected = tuple(row["expected"]) if row["expected"] else None
        for cand in row["candidates"]:
            if confirm and not cand["accepted"]:
                continue
            key = _key(cand["phrase"], row["numbers"])
            if key is not None and key != expected:
                phrase = cand["phrase"]
                worst[phrase] = max(worst.get(phrase, FLOOR), cand["margin"] + SAFETY_DECADES)
    return {p: round(v, 1) for p, v in sorted(worst.items())}


def simulate(rows: list[dict[str, Any]], thresholds: dict[str, float], confirm: bool) -> Any:
    """Texts a run would have accepted with other thresholds (approximation from candidates)."""

    def texts(row: dict[str, Any]) -> list[str]:
        return [
            c["phrase"]
            for c in row["candidates"]
            if c["margin"] >= thresholds.get(c["phrase"], FLOOR) and (c["accepted"] or not confirm)
        ]

    return texts


def main(argv: list[str]) -> None:
    """Entry point; see the module docstring."""
    action = argv[0] if argv else "report"
    if action in ("-h", "--help", "help"):
        print(__doc__)
    elif action == "audit":
        audit = SphinxTuning(thresholds={}, default_threshold=AUDIT_THRESHOLD)
        print(run_clips(corpus.clips("tune")[::AUDIT_STEP], audit, "audit"))
    elif action == "tune":
        rows = load("audit")
        for confirm in (False, True):
            thresholds = tune(rows, confirm)
            print(f"\n## simulated on the audit clips, confirm={confirm}\n")
            print(json.dumps(thresholds))
            print(report(rows, simulate(rows, thresholds, confirm)))
        THRESHOLDS_FILE.write_text(json.dumps(thresholds, indent=1), encoding="utf-8")
    elif action == "validate":
        thresholds = json.loads(THRESHOLDS_FILE.read_text(encoding="utf-8"))
        tuning = SphinxTuning(thresholds=thresholds)
        for split in ("tune", "heldout"):
            run_clips(corpus.clips(split)[::VALIDATE_STEP], tuning, f"validate-{split}")
        rows = load("validate-tune") + load("validate-heldout")
        print(report(rows))
        print(conditions_table(rows))
        print(phrases_table(rows))
        print(latency_line(rows))
    else:
        rows = [r for name in argv[1:] or ["audit"] for r in load(name)]
        print(report(rows))
        print(conditions_table(rows))
        print(phrases_table(rows))
        print(latency_line(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
