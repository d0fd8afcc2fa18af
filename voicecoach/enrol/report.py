"""How well each word is heard in the person's voice, with and without their examples.

Each stored example is heard by Whisper as a session would hear it (the numbers only while a
score is asked), and then by the second opinion with that one example left out of the
templates, so that no example vouches for itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from voicecoach.commands import Command
from voicecoach.frames import Samples
from voicecoach.speech.personal import WORDS, PersonalExamples
from voicecoach.speech.whisper_verifier import Verdict

#: Whisper's verdict on one utterance, with the numbers asked for or not.
Hear = Callable[[Samples, bool], Verdict]


@dataclass(frozen=True)
class WordReport:
    """One word's examples, and how many of them were heard as that word."""

    word: str
    examples: int
    #: By Whisper alone.
    heard_without: int
    #: By Whisper with the person's other examples.
    heard_with: int
    #: Heard as another command (by either): what a session cannot afford.
    wrong: int


def leave_one_out(
    examples: Mapping[str, Sequence[Samples]], personal: PersonalExamples, hear: Hear
) -> list[WordReport]:
    """Each word's report, every example heard with the others as the templates."""
    out = []
    for word, clips in examples.items():
        meaning = WORDS[word]
        without = with_ = wrong = 0
        for i, samples in enumerate(clips):
            verdict = hear(samples, meaning.command == Command.NUMBER)
            taken = verdict.parsed
            if taken is None:
                taken = personal.decide(verdict, personal.distances(samples, leave_out=(word, i)))
                with_ += taken == meaning
            else:
                without += taken == meaning
                with_ += taken == meaning
            wrong += taken is not None and taken != meaning
        out.append(WordReport(word, len(clips), without, with_, wrong))
    return out


def format_reports(reports: Sequence[WordReport]) -> str:
    """A table: word, examples, heard without and with the examples, heard wrong."""
    lines = [f"{'word':<8} {'examples':>8} {'Whisper alone':>14} {'with yours':>11} {'wrong':>6}"]
    for r in reports:
        lines.append(
            f"{r.word:<8} {r.examples:>8} {r.heard_without:>14} {r.heard_with:>11} {r.wrong:>6}"
        )
    total = sum(r.examples for r in reports)
    without = sum(r.heard_without for r in reports)
    with_ = sum(r.heard_with for r in reports)
    lines.append(
        f"{'all':<8} {total:>8} {without:>14} {with_:>11} {sum(r.wrong for r in reports):>6}"
    )
    return "\n".join(lines)


def spoken_summary(reports: Sequence[WordReport]) -> str:
    """What the coach says at the end of an enrolment: which words it may still miss."""
    weak = [r.word for r in reports if r.examples and r.heard_with < r.examples]
    if not weak:
        return "I heard every word you said, every time."
    listed = ", ".join(weak[:-1]) + (" and " if len(weak) > 1 else "") + weak[-1]
    advice = " For pain, you can also say: it hurts." if "pain" in weak else ""
    return f"I may miss {listed}. Say them plainly, and again if I do not react.{advice}"
