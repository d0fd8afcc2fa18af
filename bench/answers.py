"""What people say instead of a number, when the coach asks how bad the pain is.

python -m bench.answers [--backend whisper] [--every N]

Asked "how bad is the pain, from zero to ten?", a person does not always give a number: "it's
fine", "not too bad", "it's really bad", "I don't know". The coach listens for numbers (and
"numb" or "tingling") then, and a word heard as a number is a pain score nobody gave: "fine"
is close to "five", and a "really bad" heard as "three" would carry the session on. Each
answer is said by every voice of the corpus (tuning, held-out, and the Piper, SVOX Pico and
RHVoice families), clean, in pink noise at 10 dB and through the telephone band, after the
room alone, and heard as while a score is asked. Every score heard is wrong; "numb" heard
ends the session with the urgent advice, so it is counted apart, and so are the commands a
session acts on while it asks (stop ends it, repeat asks again; the rest wait for a score).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import click

from bench import corpus
from bench.channel import PHONE_CONDITION
from bench.corpus import FAMILY_SPLITS, FLOOR, ROOM_SECONDS, Clip, Noise, Utterance
from bench.evaluate import BenchClip
from voicecoach.commands import Command
from voicecoach.session import TRANSITIONS

#: Answers without a number, from someone at ease to someone in trouble, and unsure ones.
ANSWER_TEXTS: tuple[str, ...] = (
    "I'm fine", "it's fine", "it's okay", "not bad", "not too bad", "a little",
    "just a bit", "it's better now", "it's gone", "nothing really",
    "it's bad", "it's really bad", "it's getting worse", "quite a lot", "it's sharp",
    "I don't know", "I'm not sure", "let me think", "sorry, what?", "hmm",
)  # fmt: skip
#: The conditions each answer is heard in: the corpus' names, and the telephone line.
CONDITIONS: tuple[str, ...] = ("clean", "pink10", PHONE_CONDITION)
_PINK10 = Noise("pink", 10.0)
#: The commands besides a number that a session asking for a score acts on: numb, repeat, stop.
ACTED_ON_WHILE_ASKED = frozenset(
    command.value
    for mode, command in TRANSITIONS
    if mode == "pain_check" and command != Command.NUMBER
)


def answers(every: int = 1) -> list[BenchClip]:
    """Every answer in every scored voice and condition (every ``every``-th of them); an
    espeak-ng voice says each at one of the corpus' rates and pitches, in turn."""
    splits = ("tune", "heldout", *FAMILY_SPLITS)
    voices = [v for split in splits for v in corpus.voices(split)]
    combos = [(r, p) for r in corpus.RATES_WPM for p in corpus.PITCHES]
    out = []
    for k, text in enumerate(ANSWER_TEXTS):
        utterance = Utterance("answer", text, numbers=True, expected=None)
        for j, voice in enumerate(voices):
            rate, pitch = combos[(k + j) % len(combos)]
            for condition in CONDITIONS:
                noise = _PINK10 if condition == "pink10" else FLOOR
                out.append(BenchClip(Clip(utterance, voice, rate, pitch, noise), condition))
    return out[::every]


def hear(
    backend: str, found: list[BenchClip], done: Callable[[int], None] = lambda n: None
) -> list[dict[str, Any]]:
    """Each answer heard as while a score is asked: the scores and symptoms taken, and what
    the recognizer wrote. ``done(1)`` is called after each (a progress bar's ``update``)."""
    from voicecoach.speech.backends import open_recognizer
    from voicecoach.speech.detect import Detector

    recognizer, _ = open_recognizer(backend, None)  # type: ignore[arg-type]
    rows = []
    with recognizer:
        detector = Detector(recognizer, numbers=True)
        # Whisper keeps what it wrote of each utterance; other backends write nothing more.
        verdicts: list[Any] = getattr(recognizer, "verdicts", [])
        for answer in found:
            verdicts.clear()
            audio = answer.audio(room_seconds=ROOM_SECONDS)
            heard = list(detector.detect_samples(audio, answer.clip.utterance.text))
            acted = [d.command for d in heard if d.command in ACTED_ON_WHILE_ASKED]
            rows.append(
                {
                    "text": answer.clip.utterance.text,
                    "voice": answer.clip.voice,
                    "split": answer.clip.split,
                    "condition": answer.condition,
                    "scores": [d.value for d in heard if d.value is not None],
                    "numb": [c for c in acted if c == "numb"],
                    "commands": [c for c in acted if c != "numb"],
                    "ignored": [
                        d.command for d in heard if d.value is None and d.command not in acted
                    ],
                    "written": [f"{v.text} ({v.how})" for _, v in verdicts] if heard else [],
                }
            )
            done(1)
    return rows


#: The columns of the table: a row's key, and its heading.
_KINDS = {
    "scores": "heard as a score",
    "numb": "as numb or tingling",
    "commands": "as stop or repeat",
    "ignored": "as a command the question waits through",
}


def _what(row: dict[str, Any]) -> str:
    """Everything ``row`` was heard as, in the table's order ("5", "numb", "pause")."""
    return " / ".join(str(x) for kind in _KINDS for x in row[kind])


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """A markdown table per split and condition, then every answer heard as something."""
    out = [
        f"| voices | condition | answers | {' | '.join(_KINDS.values())} |",
        "|---|---|---|" + "---|" * len(_KINDS),
    ]
    for split in dict.fromkeys(r["split"] for r in rows):
        for condition in CONDITIONS:
            part = [r for r in rows if r["split"] == split and r["condition"] == condition]
            if part:
                counts = [str(sum(1 for r in part if r[kind])) for kind in _KINDS]
                out.append(f"| {split} | {condition} | {len(part)} | {' | '.join(counts)} |")
    totals = ", ".join(f"{sum(1 for r in rows if r[k])} {heading}" for k, heading in _KINDS.items())
    out += ["", f"All: {len(rows)} answers: {totals}.", ""]
    heard = [r for r in rows if _what(r)]
    taken = Counter((r["text"], _what(r)) for r in heard)
    out += [f"- {text!r} heard as {what}: {n}" for (text, what), n in taken.most_common()]
    written = [
        f"  - {r['voice']} {r['condition']}: {r['text']!r} written {r['written']}" for r in heard
    ]
    return [
        *out,
        *(
            ["", "Written (Whisper's transcript, and how it was taken):", *written]
            if written
            else []
        ),
    ]


@click.command()
@click.option("--backend", default="whisper", show_default=True, help="Recognizer to run.")
@click.option(
    "--every", default=1, show_default=True, type=click.IntRange(min=1),
    help="Hear every N-th answer only (a quicker, smaller sample).",
)  # fmt: skip
def main(backend: str, every: int) -> None:
    """Hear the answers without a number as while a pain score is asked; print the table."""
    found = answers(every)
    with click.progressbar(length=len(found), label="answers", file=sys.stderr) as bar:
        rows = hear(backend, found, bar.update)
    click.echo("\n".join(lines(rows)))


if __name__ == "__main__":
    main()
