"""Choosing the Whisper verifier's rule (``VerifierTuning``) on the tuning voices alone.

python -m training.tune_verifier [--every 4] [--jobs 2]

Every tuning-voice clip (clean, pink and babble noise at 10 dB) goes through the Silero and
Whisper recognizer with a rule that takes every closest phrase, keeping each utterance's
verdict. The grid then replays the rule for each margin and floor: recall, wrong commands, and
false alarms on confusable words, hold counts and ordinary sentences. The shipped defaults
are the row with the most recall whose confusable false alarms stay within 3 % and whose
wrong commands and ordinary-speech alarms do not rise above the strictest row's. "pain" has
a looser rule of its own (a missed pain costs far more than a needless question about it), and
"stop" a stricter one (it ends the session, and a missed one is asked about): the script also
counts, for stricter and looser rules, the scored utterances whose closest phrase is "pain"
that were pain and that were not, and the same for "stop". Held-out voices and the other voice
families never take part (bench/ reports them).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import click

from bench import corpus
from training.hearing import hear_clip
from voicecoach.commands import Parsed

MARGINS_NATS = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0)
FLOORS_NATS = (-1.5, -2.0, -2.5, -3.0, -4.0)
CONDITIONS = ("clean", "pink10", "babble10")


@dataclass(frozen=True)
class Heard:
    """One clip: what it should give, and each utterance's transcript and closed-set scores."""

    group: str
    wanted: Parsed | None
    #: (named by the transcript, closest phrase, gap to the transcript, mean per token)
    verdicts: tuple[tuple[Parsed | None, Parsed | None, float | None, float | None], ...]


def _hear(clips: Sequence[corpus.Clip]) -> list[Heard]:
    from voicecoach.speech.whisper_recognizer import WhisperRecognizer
    from voicecoach.speech.whisper_verifier import VerifierTuning, WhisperVerifier

    inf = float("inf")
    everything = WhisperVerifier(tuning=VerifierTuning(inf, -inf, inf, -inf, inf, -inf))
    out = []
    with WhisperRecognizer(verifier=everything) as recognizer:
        for clip in clips:
            u = clip.utterance
            hear_clip(recognizer, clip)
            verdicts = tuple(
                (v.parsed if v.how == "transcript" else None, v.closest, v.gap_nats,
                 v.per_token_nats)
                for _, v in recognizer.verdicts
            )  # fmt: skip
            out.append(Heard(u.group, u.expected, verdicts))
    return out


def decide(heard: Heard, margin_nats: float, floor_nats: float) -> Parsed | None:
    """What the recognizer reports for a clip under one rule."""
    for named, closest, gap, per_token in heard.verdicts:
        if named is not None:
            return named
        if gap is not None and per_token is not None:
            if gap >= -margin_nats and per_token >= floor_nats:
                return closest
    return None


#: Stricter rules, the common one, then looser ones, tried for "pain" and "stop":
#: (margin, floor per token).
RULES = (
    (4.0, -1.5), (4.0, -2.0), (2.0, -2.5), (4.0, -2.5), (6.0, -3.0), (8.0, -3.5), (10.0, -4.0),
    (12.0, -5.0),
)  # fmt: skip


def rule_counts(rows: list[Heard], command: str) -> list[tuple[float, float, int, int]]:
    """For each rule of ``RULES``: scored utterances whose closest phrase is ``command`` taken
    that were it, and that were not."""
    scored = [
        (r.wanted is not None and r.wanted.command.value == command, gap, per_token)
        for r in rows
        for _, closest, gap, per_token in r.verdicts
        if closest is not None and closest.command.value == command and gap is not None
        and per_token is not None
    ]  # fmt: skip
    return [
        (m, f, sum(p and g >= -m and t >= f for p, g, t in scored),
         sum(not p and g >= -m and t >= f for p, g, t in scored))
        for m, f in RULES
    ]  # fmt: skip


def grid_rows(rows: list[Heard]) -> list[dict[str, float]]:
    """Recall, wrong commands and false alarms for every rule of the grid."""
    commands = [r for r in rows if r.wanted is not None and r.group != "ordinary"]
    out = []
    for margin in MARGINS_NATS:
        for floor in FLOORS_NATS:
            got = [(r, decide(r, margin, floor)) for r in rows]
            alarms = {g: 0 for g in ("confusable", "count", "ordinary")}
            for r, d in got:
                if r.wanted is None and d is not None:
                    alarms[r.group] += 1
            out.append(
                {
                    "margin": margin,
                    "floor": floor,
                    "recall": sum(d == r.wanted for r, d in got if r in commands) / len(commands),
                    "wrong": sum(d not in (None, r.wanted) for r, d in got if r in commands),
                    **{g: n / max(1, sum(r.group == g for r in rows)) for g, n in alarms.items()},
                }
            )
    return out


def choose(table: list[dict[str, float]]) -> dict[str, float]:
    """The rule with the most recall that keeps false alarms and wrong commands down."""
    strict = table[0]
    fit = [
        t
        for t in table
        if t["confusable"] <= 0.03 and t["wrong"] <= strict["wrong"]
        and t["ordinary"] <= strict["ordinary"]
    ]  # fmt: skip
    return max(fit or table[:1], key=lambda t: t["recall"])


@click.command()
@click.option("--every", default=4, show_default=True, help="Use every Nth tuning clip.")
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
def main(every: int, jobs: int) -> None:
    """Replay the verifier's rule over a grid on the tuning voices and print the best."""
    clips = [c for c in corpus.clips("tune") if c.condition in CONDITIONS][::every]
    clips = [c for c in clips if c.utterance.expected is None or c.utterance.group != "command"
             or c.utterance.expected.command.value != "start"]  # fmt: skip
    click.echo(f"{len(clips)} tuning clips ...", err=True)
    corpus.render_all(clips)
    with ProcessPoolExecutor(jobs) as pool:
        rows = [h for part in pool.map(_hear, [clips[k::jobs] for k in range(jobs)]) for h in part]
    table = grid_rows(rows)
    click.echo("margin  floor  recall  wrong  confusable  counts  ordinary")
    for t in table:
        click.echo(
            f"{t['margin']:6.1f} {t['floor']:6.1f} {t['recall']:7.1%} {t['wrong']:6.0f} "
            f"{t['confusable']:11.1%} {t['count']:7.1%} {t['ordinary']:9.1%}"
        )
    for command in ("pain", "stop"):
        click.echo(f'scored "{command}": margin  floor  taken when {command}  taken when not')
        for margin, floor, right, wrong in rule_counts(rows, command):
            click.echo(f"{margin:28.1f} {floor:6.1f} {right:15d} {wrong:15d}")
    best = choose(table)
    click.echo(f"chosen: margin_nats={best['margin']}, floor_nats_per_token={best['floor']}")


if __name__ == "__main__":
    main()
