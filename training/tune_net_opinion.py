"""Choosing when the command network may confirm Whisper (``NetOpinionTuning``), on tuning voices.

python -m training.tune_net_opinion [--jobs 2]

Every third clean tuning-voice clip and every second one in pink or babble noise at 10 dB goes
through the shipped Silero and Whisper recognizer. For each utterance Whisper did not take, the
script keeps its verdict and the command network's probabilities (``NetOpinion``). The grid
then replays the second opinion for each band and probability: recall, wrong commands, and
false alarms on confusable words, hold counts and ordinary sentences. The shipped defaults are
the row with the most recall whose false alarms and wrong commands are no more than Whisper's
alone; among equals, the highest probability and the narrowest band. The network learned from
these voices, so they flatter it: held-out voices and the other voice families, which never
take part here, measure it (bench/README.md).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import click

from bench import corpus
from training.hearing import hear_clip
from voicecoach.commands import Parsed
from voicecoach.speech.net_opinion import NetOpinion, NetOpinionTuning, Probabilities
from voicecoach.speech.whisper_verifier import Verdict

MARGINS_NATS = (-4.0, -6.0, -8.0, -10.0, -12.0, -15.0, -20.0)
FLOORS_NATS = (-3.0, -3.5, -4.0, -4.5, -5.0, -6.0, -8.0)
PROBABILITIES = (0.8, 0.9, 0.95, 0.98, 0.99)
#: Every n-th tuning clip, clean and at 10 dB.
CLEAN_EVERY, NOISY_EVERY = 3, 2
NOISY = ("pink10", "babble10")


@dataclass(frozen=True)
class Heard:
    """One clip: what it should give, and each utterance's verdict with the network's view."""

    group: str
    wanted: Parsed | None
    #: (Whisper's verdict, the network's probabilities when Whisper took nothing)
    verdicts: tuple[tuple[Verdict, Probabilities | None], ...]


def tuning_clips() -> list[corpus.Clip]:
    """The clips the rule is chosen on: tuning voices only, never the start phrase."""
    tune = [
        c
        for c in corpus.clips("tune")
        if c.utterance.expected is None or c.utterance.expected.command.value != "start"
    ]
    clean = [c for c in tune if c.condition == "clean"][::CLEAN_EVERY]
    return clean + [c for c in tune if c.condition in NOISY][::NOISY_EVERY]


def _hear(clips: Sequence[corpus.Clip]) -> list[Heard]:
    from voicecoach.speech.whisper_recognizer import WhisperRecognizer

    opinion = NetOpinion()
    out = []
    with WhisperRecognizer() as recognizer:
        for clip in clips:
            u = clip.utterance
            hear_clip(recognizer, clip)
            verdicts = tuple(
                (v, opinion.probabilities(s.samples) if v.parsed is None else None)
                for s, v in recognizer.verdicts
            )
            out.append(Heard(u.group, u.expected, verdicts))
    return out


def decide(heard: Heard, opinion: NetOpinion | None) -> Parsed | None:
    """What the clip gives: Whisper's first command, else the first the network confirms."""
    for verdict, _ in heard.verdicts:
        if verdict.parsed is not None:
            return verdict.parsed
    for verdict, probabilities in heard.verdicts:
        if (
            opinion is not None
            and probabilities is not None
            and opinion.in_band(verdict)
            and opinion.agrees(verdict, probabilities)
        ):
            return verdict.closest
    return None


def tally(rows: list[Heard], opinion: NetOpinion | None) -> dict[str, float]:
    """Commands heard right and wrong, and false alarms per group of clips with none."""
    out = {"right": 0.0, "wrong": 0.0, "confusable": 0.0, "count": 0.0, "ordinary": 0.0}
    for row in rows:
        got = decide(row, opinion)
        if row.wanted is not None and row.group != "ordinary":
            out["right"] += got == row.wanted
            out["wrong"] += got not in (None, row.wanted)
        elif got is not None:
            out[row.group] += 1
    out["alarms"] = out["confusable"] + out["count"] + out["ordinary"]
    return out


def grid(rows: list[Heard]) -> list[tuple[NetOpinionTuning, dict[str, float]]]:
    """Every rule of the grid with its tally."""
    opinion = NetOpinion()
    out = []
    for margin, floor, probability in itertools.product(MARGINS_NATS, FLOORS_NATS, PROBABILITIES):
        opinion.tuning = NetOpinionTuning(margin, floor, probability)
        out.append((opinion.tuning, tally(rows, opinion)))
    return out


def choose(
    table: list[tuple[NetOpinionTuning, dict[str, float]]], alone: dict[str, float]
) -> NetOpinionTuning | None:
    """Most recall with no more false alarms or wrong commands than Whisper alone (None when
    every rule adds some: the network should then not be asked)."""
    fit = [
        (t, n) for t, n in table if n["alarms"] <= alone["alarms"] and n["wrong"] <= alone["wrong"]
    ]

    def preference(row: tuple[NetOpinionTuning, dict[str, float]]) -> tuple[float, ...]:
        t, n = row
        return n["right"], t.min_probability, t.margin_nats, t.floor_nats_per_token

    return max(fit, key=preference)[0] if fit else None


@click.command()
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
def main(jobs: int) -> None:
    """Replay the network's second opinion over a grid on the tuning voices; print the best."""
    clips = tuning_clips()
    click.echo(f"{len(clips)} tuning clips ...", err=True)
    corpus.render_all(clips)
    with ProcessPoolExecutor(jobs) as pool:
        rows = [h for part in pool.map(_hear, [clips[k::jobs] for k in range(jobs)]) for h in part]
    commands = sum(r.wanted is not None and r.group != "ordinary" for r in rows)
    alone = tally(rows, None)
    click.echo(f"{commands} command clips; Whisper alone: {alone}")
    click.echo("margin  floor  prob.  recall  wrong  confusable  counts  ordinary")
    table = grid(rows)
    for t, n in table:
        click.echo(
            f"{t.margin_nats:6.1f} {t.floor_nats_per_token:6.1f} {t.min_probability:5.2f} "
            f"{n['right'] / commands:7.1%} {n['wrong']:6.0f} {n['confusable']:11.0f} "
            f"{n['count']:7.0f} {n['ordinary']:9.0f}"
        )
    best = choose(table, alone)
    if best is None:
        raise click.ClickException("every rule adds false alarms or wrong commands")
    click.echo(
        f"chosen: margin_nats={best.margin_nats}, floor_nats_per_token="
        f"{best.floor_nats_per_token}, min_probability={best.min_probability}"
    )


if __name__ == "__main__":
    main()
