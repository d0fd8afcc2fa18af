"""Choosing the check zone (``CheckZone``) on the tuning voices alone.

python -m training.tune_check [--every 3] [--jobs 2]

A safety word that Whisper did not take makes the coach stop and ask ("did you say stop?")
when its closed-set score came close enough. Each tuning-voice clip (clean, pink and babble
noise at 10 dB) goes through the shipped recognizer with no check zone, keeping every
utterance's verdict; the grid then replays the zone for each margin, floor and word limit:

- asked: clips of stop, pause or pain that Whisper missed, and the zone would ask about
- false questions: clips of confusable words, hold counts and ordinary sentences it would ask
  about (a question there costs a few seconds; too many make the coach a nuisance)

The shipped default is the row that asks about the most missed safety words while asking about
at most 12 % of the confusable words said alone ("top", "pane": a question there costs a few
seconds, a missed "stop" far more), 3 % of the coach's hold counts and 1 % of the ordinary
sentences. Held-out voices and the other voice families never take part (bench/safety.py and
bench/ report them).

Measured (every 3rd clip, 945 clips): Whisper missed 55 of 285 safety-word clips; the chosen
zone (10 nats, -4 nats per token, up to 3 words) asks about 17 of them (30.9 %), and about
12.0 % of confusable clips, 1.0 % of counts and 0.4 % of ordinary sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import click

from bench import corpus
from training.hearing import hear_clip
from voicecoach.commands import SAFETY, Command, normalize

MARGINS_NATS = (4.0, 6.0, 8.0, 10.0, 12.0, 15.0)
FLOORS_NATS = (-3.0, -4.0, -5.0, -6.0)
MAX_WORDS = (1, 2, 3)
CONDITIONS = ("clean", "pink10", "babble10")
NEGATIVE_GROUPS = ("confusable", "count", "ordinary")
#: The most questions the chosen zone may ask, as a share of each negative group's clips.
MAX_QUESTIONS = {"confusable": 0.12, "count": 0.03, "ordinary": 0.01}


@dataclass(frozen=True)
class Heard:
    """One clip: its group, the safety word it says (if any), what Whisper took, and for each
    untaken utterance (words in its transcript, nearest safety gap, its mean per token)."""

    group: str
    safety: Command | None
    taken: bool
    near: tuple[tuple[int, float, float], ...]


def _hear(clips: Sequence[corpus.Clip]) -> list[Heard]:
    from voicecoach.speech.whisper_recognizer import WhisperRecognizer

    out = []
    with WhisperRecognizer() as recognizer:
        for clip in clips:
            u = clip.utterance
            hits = hear_clip(recognizer, clip)
            near = tuple(
                (len(normalize(v.text).split()), v.nearest_safety[1], v.nearest_safety[2])
                for _, v in recognizer.verdicts
                if v.parsed is None and v.nearest_safety is not None
            )
            wanted = u.expected.command if u.expected is not None else None
            safety = wanted if wanted in SAFETY and u.group == "command" else None
            out.append(Heard(u.group, safety, bool(hits), near))
    return out


def asks(heard: Heard, margin_nats: float, floor_nats: float, max_words: int) -> bool:
    """Whether the zone asks about a clip that Whisper did not take."""
    return not heard.taken and any(
        words <= max_words and gap >= -margin_nats and per_token >= floor_nats
        for words, gap, per_token in heard.near
    )


def grid_rows(rows: list[Heard]) -> list[dict[str, float]]:
    """For each zone: missed safety words asked about, and questions per negative group."""
    missed = [r for r in rows if r.safety is not None and not r.taken]
    out = []
    for margin in MARGINS_NATS:
        for floor in FLOORS_NATS:
            for words in MAX_WORDS:
                row = {
                    "margin": margin,
                    "floor": floor,
                    "words": float(words),
                    "asked": sum(asks(r, margin, floor, words) for r in missed)
                    / max(1, len(missed)),
                }
                for group in NEGATIVE_GROUPS:
                    members = [r for r in rows if r.group == group]
                    row[group] = sum(asks(r, margin, floor, words) for r in members) / max(
                        1, len(members)
                    )
                out.append(row)
    return out


def choose(table: list[dict[str, float]]) -> dict[str, float]:
    """The zone that asks about the most missed safety words within ``MAX_QUESTIONS``."""
    fit = [t for t in table if all(t[g] <= share for g, share in MAX_QUESTIONS.items())]
    return max(fit or table[:1], key=lambda t: (t["asked"], -t["margin"]))


@click.command()
@click.option("--every", default=3, show_default=True, help="Use every Nth tuning clip.")
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
def main(every: int, jobs: int) -> None:
    """Replay the check zone over a grid on the tuning voices and print the best."""
    groups = ("command", *NEGATIVE_GROUPS)
    clips = [
        c
        for c in corpus.clips("tune")
        if c.condition in CONDITIONS and c.utterance.group in groups
        and (c.utterance.group != "command" or (
            c.utterance.expected is not None and c.utterance.expected.command in SAFETY))
    ][::every]  # fmt: skip
    click.echo(f"{len(clips)} tuning clips ...", err=True)
    corpus.render_all(clips)
    with ProcessPoolExecutor(jobs) as pool:
        rows = [h for part in pool.map(_hear, [clips[k::jobs] for k in range(jobs)]) for h in part]
    safety = [r for r in rows if r.safety is not None]
    missed = sum(not r.taken for r in safety)
    click.echo(f"safety-word clips {len(safety)}, Whisper missed {missed}")
    click.echo("margin  floor  words  asked-of-missed  confusable  counts  ordinary")
    for t in grid_rows(rows):
        click.echo(
            f"{t['margin']:6.1f} {t['floor']:6.1f} {t['words']:6.0f} {t['asked']:16.1%} "
            f"{t['confusable']:11.1%} {t['count']:7.1%} {t['ordinary']:9.1%}"
        )
    best = choose(grid_rows(rows))
    click.echo(
        f"chosen: margin_nats={best['margin']}, floor_nats_per_token={best['floor']}, "
        f"max_words={best['words']:.0f}"
    )


if __name__ == "__main__":
    main()
