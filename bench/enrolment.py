"""Does enrolment help, and does it never make a confusable word fire? Per voice, with numbers.

Each voice stands for one person: it is enrolled with 3 clips of every enrolment word
(``personal.WORDS``), and then 4 other clips of each word in the same voice are heard by the
Whisper recognizer alone and with the person's examples. The same voice also says confusable
words ("number", "pass", "top", "pane", ...) and ordinary sentences, which must not fire more
with enrolment than without. A person never says a word twice the same way, so a voice's clips
of one word differ in punctuation (prosody), speed (a resampling of 0.92-1.08, which moves the
pitch too) and noise; the MBROLA voice varies its rate and pitch instead. Conditions: clean (a
-66 dBFS floor) and pink noise at 10 dB SNR, enrolled and tested in the same room.

Whisper runs once per clip; what the second opinion needs (Whisper's closest phrase, its gap
and per-token score, and the distance to each word's examples) is kept in a JSON file, so the
rule can be chosen again without Whisper: ``--again`` re-reads it.

``python -m bench.enrolment [--voices SET|ID,...] [--jobs 2] [--results F.json]`` (SET: tune, check,
confirm or final)
writes what each clip gave to the results file and prints the table; ``--again`` prints it
from the file, ``--again --sweep`` prints every rule on a grid.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import click
import numpy as np

from bench import corpus, families
from voicecoach.commands import Command, Parsed
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, resample
from voicecoach.speech.personal import (
    WORDS,
    PersonalExamples,
    PersonalTuning,
    longest_utterance,
)
from voicecoach.speech.vad import silero
from voicecoach.speech.whisper_recognizer import WhisperRecognizer
from voicecoach.speech.whisper_verifier import Verdict

#: One "person" per voice, in four sets: the rule was chosen on the first and tightened after
#: each of the next two; the last was never looked at before it was fixed (bench/enrolment.md).
#: Each has Pico, RHVoice and Piper; the first also the held-out MBROLA voice.
VOICE_SETS: dict[str, tuple[str, ...]] = {
    "tune": ("pico:en-US-p0", "rhvoice:slt", "piper:joe-v03", "mb-us2"),
    "check": ("pico:en-GB-p2", "rhvoice:lyubov", "rhvoice:evgeniy-eng", "piper:joe-v07"),
    "confirm": ("pico:en-GB-p0", "rhvoice:alan", "rhvoice:bdl", "piper:joe-v10"),
    "final": ("pico:en-US-p2", "rhvoice:clb", "piper:joe-v01", "piper:joe-v05"),
}
CONDITIONS: tuple[str, ...] = ("clean", "pink10")
ENROL_CLIPS = 3
TEST_CLIPS = 4
#: How each clip of a word differs: its punctuation, and a speed factor (resampling).
_VARIANTS: tuple[tuple[str, float], ...] = (
    ("{w}", 1.0),
    ("{W}!", 0.96),
    ("{w}.", 1.04),
    ("{W}?", 0.93),
    ("{w}!", 1.07),
    ("{W}.", 0.97),
    ("{w}", 1.03),
)
#: The MBROLA voice's (rate in wpm, pitch) for each clip.
_MBROLA_VARIANTS: tuple[tuple[int, int], ...] = (
    (150, 50), (170, 40), (135, 60), (185, 55), (160, 35), (145, 45), (175, 65),
)  # fmt: skip
#: Said with no scores asked: near-homophones and near-rhymes of the command words.
CONFUSABLES: tuple[str, ...] = (
    "number", "pass", "top", "pane", "pays", "plus", "spot", "post", "paint", "plain", "pace",
    "stomp", "pen", "rezone", "possum",
)  # fmt: skip
#: Said while a score is asked: near-rhymes of the numbers.
NUMBER_CONFUSABLES: tuple[str, ...] = (
    "tin", "heaven", "hero", "gate", "wine", "fix", "tree", "fire", "sticks", "none",
)  # fmt: skip
ORDINARY = 8
ROOM_DBFS = -66.0
SNR_DB = 10.0
RESULTS = corpus.CORPUS_DIR / "enrolment.json"


def clip(voice: str, word: str, k: int, condition: str, seed: int = 0) -> Samples:
    """The k-th clip of ``word`` (or any text) in ``voice`` and ``condition``, with quiet."""
    if ":" in voice:
        text, speed = _VARIANTS[k % len(_VARIANTS)]
        speech = families.speech(voice, text.format(w=word, W=word.capitalize()))
        speech = resample(speech, round(RATE_HZ * speed), RATE_HZ)
    else:
        rate, pitch = _MBROLA_VARIANTS[k % len(_MBROLA_VARIANTS)]
        speech = corpus.espeak(word, voice, rate, pitch)
    speech = corpus._scale_to(speech, corpus.SPEECH_DBFS)
    lead = np.zeros(int(0.6 * RATE_HZ), np.float32)
    tail = np.zeros(int(0.8 * RATE_HZ), np.float32)
    out = np.concatenate([lead, speech, tail])
    rng = np.random.default_rng([seed, k, len(word)])
    out = out + rng.standard_normal(len(out)).astype(np.float32) * np.float32(
        10 ** (ROOM_DBFS / 20)
    )
    if condition == "pink10":
        # The corpus's own pink track and levels, as the rest of the bench mixes them.
        track = corpus._noise_track("pink")
        start = int(rng.integers(0, len(track) - len(out)))
        part = track[start : start + len(out)]
        gain = corpus._rms(speech) / max(corpus._rms(part), 1e-9) * 10 ** (-SNR_DB / 20)
        out = out + part * np.float32(gain)
    clipped: Samples = np.clip(out, -1.0, 1.0).astype(np.float32)
    return clipped


def enrol(voice: str, condition: str, clips: int = ENROL_CLIPS) -> dict[str, list[Samples]]:
    """The first ``clips`` clips of every enrolment word, cut as the recognizer cuts them."""
    vad = silero()
    out: dict[str, list[Samples]] = {}
    for word in WORDS:
        for k in range(clips):
            cut = longest_utterance(clip(voice, word, k, condition, seed=1), vad)
            if cut is not None:
                out.setdefault(word, []).append(cut)
    return out


@dataclass
class Heard:
    """One test clip: what it is, what Whisper did, and what the second opinion would see."""

    voice: str
    condition: str
    group: str
    text: str
    #: The command a perfect recognizer reports ("stop", "number 9"), or "" for none.
    expected: str
    #: The person's spread (``PersonalExamples.spread``).
    spread: float = 0.0
    whisper: list[str] = field(default_factory=list)
    #: For each utterance Whisper rejected with a closest phrase: the verdict's numbers and
    #: the distance to each word's examples.
    rejected: list[dict[str, Any]] = field(default_factory=list)


def _label(parsed: Parsed | None) -> str:
    if parsed is None:
        return ""
    return f"number {parsed.value}" if parsed.command == Command.NUMBER else str(parsed.command)


def _tests(voice: str) -> list[tuple[str, str, int, bool, str]]:
    """(group, text, clip index, numbers asked, expected) for every test clip of a voice."""
    out = [
        ("number" if word in WORDS and WORDS[word].command == Command.NUMBER else "command",
         word, k, WORDS[word].command == Command.NUMBER, _label(WORDS[word]))
        for word in WORDS
        for k in range(ENROL_CLIPS, ENROL_CLIPS + TEST_CLIPS)
    ]  # fmt: skip
    out += [("confusable", w, k, False, "") for w in CONFUSABLES for k in (0, 3)]
    out += [("confusable", w, k, True, "") for w in NUMBER_CONFUSABLES for k in (0, 3)]
    out += [("ordinary", s, 0, False, "") for s in corpus.ordinary_sentences()[:ORDINARY]]
    return out


def run_voice(voice: str, condition: str) -> list[Heard]:
    """Enrol ``voice`` and hear all its test clips, recording what each rule needs."""
    personal = PersonalExamples(enrol(voice, condition))
    rows: list[Heard] = []
    with WhisperRecognizer() as recognizer:
        for group, text, k, numbers, expected in _tests(voice):
            samples = clip(voice, text, k, condition, seed=2)
            row = Heard(voice, condition, group, text, expected, personal.spread)
            segments = []
            for segment, verdict in _heard(recognizer, samples, numbers):
                if verdict.parsed is not None:
                    row.whisper.append(_label(verdict.parsed))
                elif verdict.closest is not None and verdict.gap_nats is not None:
                    segments.append((segment, verdict))
            for segment, verdict in segments:
                row.rejected.append(
                    {
                        "closest": _label(verdict.closest),
                        "text": verdict.text,
                        "gap_nats": verdict.gap_nats,
                        "per_token_nats": verdict.per_token_nats,
                        "distances": personal.distances(segment),
                    }
                )
            rows.append(row)
    return rows


def _heard(
    recognizer: WhisperRecognizer, samples: Samples, numbers: bool
) -> list[tuple[Samples, Verdict]]:
    recognizer.reset()
    recognizer.expect(numbers)
    recognizer.verdicts.clear()
    stream = np.concatenate([samples, np.zeros(int(0.5 * RATE_HZ), np.float32)])
    for start in range(0, len(stream) - FRAME_SAMPLES + 1, FRAME_SAMPLES):
        recognizer.feed(stream[start : start + FRAME_SAMPLES])
    return [(segment.samples, verdict) for segment, verdict in recognizer.verdicts]


def _parsed(label: str) -> Parsed | None:
    if not label:
        return None
    if label.startswith("number "):
        return Parsed(Command.NUMBER, int(label.split()[1]))
    return Parsed(Command(label))


def with_examples(row: dict[str, Any], tuning: PersonalTuning) -> list[str]:
    """What the recognizer with the person's examples hears in a recorded row."""
    decider = _Decider(tuning, row["spread"])
    extra = [_label(taken) for r in row["rejected"] if (taken := decider.decide(r)) is not None]
    return [*row["whisper"], *extra]


class _Decider:
    """``PersonalExamples.decide`` on recorded numbers, without loading the embedder."""

    def __init__(self, tuning: PersonalTuning, spread: float) -> None:
        self._examples = PersonalExamples.__new__(PersonalExamples)
        self._examples.tuning = tuning
        self._examples.spread = spread

    def decide(self, rejected: dict[str, Any]) -> Parsed | None:
        verdict = Verdict(
            rejected["text"],
            None,
            0.0,
            "scored",
            rejected["gap_nats"],
            rejected["per_token_nats"],
            _parsed(rejected["closest"]),
        )
        return self._examples.decide(verdict, rejected["distances"])


@dataclass
class Tally:
    """Counts for one voice and condition (or a total)."""

    commands: int = 0
    heard_before: int = 0
    heard_after: int = 0
    wrong_before: int = 0
    wrong_after: int = 0
    negatives: int = 0
    alarms_before: int = 0
    alarms_after: int = 0
    ordinary: int = 0
    ordinary_before: int = 0
    ordinary_after: int = 0

    def add(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)


def tally(rows: Iterable[dict[str, Any]], tuning: PersonalTuning) -> Tally:
    """Recall, wrong commands and false alarms, before and after enrolment."""
    t = Tally()
    for row in rows:
        before, after = row["whisper"], with_examples(row, tuning)
        if row["expected"]:
            t.commands += 1
            t.heard_before += row["expected"] in before
            t.heard_after += row["expected"] in after
            t.wrong_before += any(h != row["expected"] for h in before)
            t.wrong_after += any(h != row["expected"] for h in after)
        elif row["group"] == "confusable":
            t.negatives += 1
            t.alarms_before += bool(before)
            t.alarms_after += bool(after)
        else:
            t.ordinary += 1
            t.ordinary_before += bool(before)
            t.ordinary_after += bool(after)
    return t


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f} %)" if d else "-"


def report(rows: Sequence[dict[str, Any]], tuning: PersonalTuning) -> str:
    """The Markdown table: per voice and condition, and totals per condition."""
    lines = [
        f"Rule: {tuning}",
        "",
        "| voice | room | heard without | heard with | wrong command without / with "
        "| confusables fired without / with | ordinary sentences fired without / with |",
        "|---|---|---|---|---|---|---|",
    ]
    keys = list(dict.fromkeys((r["voice"], r["condition"]) for r in rows))
    totals: dict[str, Tally] = {}
    for voice, condition in keys:
        t = tally([r for r in rows if (r["voice"], r["condition"]) == (voice, condition)], tuning)
        totals.setdefault(condition, Tally()).add(t)
        lines.append(_line(voice, condition, t))
    for condition, t in totals.items():
        lines.append(_line("**all**", condition, t))
    for group, name in (("command", "stop, pause, pain, resume"), ("number", "scores 0-10")):
        for condition in totals:
            part = [r for r in rows if r["condition"] == condition and r["group"] == group]
            lines.append(_line(f"all: {name}", condition, tally(part, tuning)))
    return "\n".join(lines)


def _line(voice: str, condition: str, t: Tally) -> str:
    return (
        f"| {voice} | {condition} | {_pct(t.heard_before, t.commands)} "
        f"| {_pct(t.heard_after, t.commands)} | {t.wrong_before} / {t.wrong_after} "
        f"| {t.alarms_before} / {t.alarms_after} of {t.negatives} "
        f"| {t.ordinary_before} / {t.ordinary_after} of {t.ordinary} |"
    )


def _job(pair: tuple[str, str]) -> list[dict[str, Any]]:
    return [asdict(row) for row in run_voice(*pair)]


def sweep(rows: Sequence[dict[str, Any]]) -> str:
    """Recall gained against alarms added, over a grid of rules (to choose ``PersonalTuning``)."""
    lines = ["margin floor separation max_distance spread_factor: gained, wrong, alarms added"]
    grid = itertools.product(
        (-6.0, -8.0, -10.0, -12.0),
        (-3.5, -4.5, -5.5),
        (0.005, 0.01, 0.02),
        (0.01, 0.015, 0.02, 1.0),
        (1.0, 1.5, 2.0, 3.0, 100.0),
    )
    for margin, floor, separation, max_distance, factor in grid:
        t = tally(rows, PersonalTuning(margin, floor, separation, max_distance, factor))
        alarms = t.alarms_after - t.alarms_before + t.ordinary_after - t.ordinary_before
        lines.append(
            f"{margin:6.1f} {floor:5.1f} {separation:6.3f} {max_distance:5.3f} {factor:5.1f}: "
            f"+{t.heard_after - t.heard_before} heard, "
            f"+{t.wrong_after - t.wrong_before} wrong, +{alarms} alarms"
        )
    return "\n".join(lines)


@click.command()
@click.option(
    "--voices",
    default="tune",
    show_default=True,
    help="A voice set (tune, check, confirm, final) or voice ids, comma-separated.",
)
@click.option("--conditions", default=",".join(CONDITIONS), show_default=True)
@click.option("--jobs", type=int, default=2, show_default=True)
@click.option("--again", is_flag=True, help="Re-read the recorded results; run nothing.")
@click.option("--sweep", "grid", is_flag=True, help="With --again: every rule on a grid.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--results",
    type=click.Path(dir_okay=False, path_type=Path),
    default=RESULTS,
    show_default=True,
    help="JSON file of what each clip gave.",
)
def main(
    voices: str,
    conditions: str,
    jobs: int,
    again: bool,
    grid: bool,
    out: Path | None,
    results: Path,
) -> None:
    """Recall and false alarms per voice, with and without the person's examples."""
    if again:
        rows = json.loads(results.read_text())
        if grid:
            click.echo(sweep(rows))
            return
    else:
        chosen = [v for name in voices.split(",") for v in VOICE_SETS.get(name, (name,))]
        pairs = [(v, c) for v in chosen for c in conditions.split(",")]
        rows = []
        results.parent.mkdir(parents=True, exist_ok=True)
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            for done, pair in zip(pool.map(_job, pairs), pairs, strict=True):
                rows += done
                # Kept after every voice: a long run stopped early still has its numbers.
                results.write_text(json.dumps(rows))
                click.echo(f"done {pair}", err=True)
    text = report(rows, PersonalTuning())
    click.echo(text)
    if out is not None:
        out.write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
