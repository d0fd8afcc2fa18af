"""Real people: recordings in Debian packages, heard as ``voicecoach detect``.

python -m bench.human [--backend whisper]

- pocketsphinx-testdata holds about a minute of recorded speech: five LibriVox readings of
  Jane Austen, five spoken card names ("seven of clubs", "eight of spades four of clubs seven
  of hearts"), "go forward ten meters", a TIDIGITS digit string and two more short recordings.
- klettres-data (KDE's alphabet tutor) holds two English speakers, one American and one
  British, each saying the 26 letters and about 20 short words ("dog", "key", "pet") alone:
  three minutes of single words from people, the kind of sound a command is.
- hedgewars-data (a game) holds ten English character voices acted by people, about 60
  short cries each: "leave me alone", "oh dear", "watch it", laughs, coughs, and five cries
  of being hurt ("ouch", and four takes of "ow") that the coach should take as pain. A file
  is named by its line; an actor may say it their own way, or only grunt.

Each recording is heard twice: as during an exercise (commands only), and as while the pain
score is asked (numbers on). A command its words do not ask for is a false alarm, and a score
that is not among its numbers is a wrong score.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np

from bench import channel
from voicecoach.audio.files import read_audio
from voicecoach.commands import expected, number_value, parse_utterance
from voicecoach.frames import FRAME_SAMPLES, Samples, from_int16, silence
from voicecoach.ports import Hit, Recognizer

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
TESTDATA_SOURCE = "pocketsphinx-testdata"
KLETTRES = Path("/usr/share/klettres")
#: KLettres' English speakers: a folder each, of letters (alpha) and short words (syllab).
KLETTRES_SPEAKERS = ("en", "en_GB")
#: What is said in the recordings whose transcript is not in a file beside them: pocketsphinx's
#: own tests decode goforward.raw to these words, and TIDIGITS names a file by its digits.
_SAID = {"goforward": "go forward ten meters", "dhd.2934z": "two nine three four zero"}
#: Quiet around a cry heard as in a session: more than ``CheckZone``'s quiet before and after.
_QUIET_BEFORE_SECONDS = 3.5
_QUIET_AFTER_SECONDS = 1.5
HEDGEWARS = Path("/usr/share/games/hedgewars/Data/Sounds/voices")
#: Its voices that speak English (the others speak Spanish, Polish, Russian or Ukrainian).
HEDGEWARS_VOICES = (
    "British", "Classic", "Default", "HillBilly", "Mobster",
    "Pirate", "Robot", "Russian", "Singer", "Surfer",
)  # fmt: skip
#: A hedgewars file's line, where its name runs the words together; takes of one line are
#: numbered ("Ow1" to "Ow4"). Sounds without words are named in brackets.
_HEDGEWARS_SAID = {
    "Byebye": "bye bye", "Comeonthen": "come on then", "Cutitout": "cut it out",
    "Enemydown": "enemy down", "Firstblood": "first blood", "Flyaway": "fly away",
    "Gonnagetyou": "gonna get you", "Illgetyou": "i'll get you", "Justyouwait": "just you wait",
    "Leavemealone": "leave me alone", "Nooo": "no", "Ohdear": "oh dear", "Runaway": "run away",
    "Sameteam": "same team", "Solong": "so long", "Takecover": "take cover",
    "Thisoneismine": "this one is mine", "Uh-oh": "uh oh", "Watchit": "watch it",
    "Watchthis": "watch this", "Whatthe": "what the", "Yessir": "yes sir",
    "Youllregretthat": "you'll regret that", "Firepunch": "(battle cry)", "Jump": "(jump)",
    "Laugh": "(laugh)", "Ooff": "(oof)", "PoisonCough": "(cough)", "PoisonMoan": "(moan)",
}  # fmt: skip
_LINE = re.compile(r"<s>(.*)</s>\s*\((.+)\)")


@dataclass(frozen=True)
class Recording:
    """One recorded file, and its words when they are known."""

    name: str
    path: Path
    said: str | None
    #: The package it comes from.
    source: str = TESTDATA_SOURCE
    #: False when the file names its line but an actor may have said other words ("Got one!"
    #: for "enemy down"): its scores are listed, not judged.
    scores_judged: bool = True

    def samples(self) -> Samples:
        """16 kHz mono samples (the .raw files are headerless 16-bit little-endian; Ogg files
        are decoded by sox)."""
        if self.path.suffix == ".raw":
            return from_int16(self.path.read_bytes())
        if self.path.suffix == ".ogg":
            return channel.decoded(self.path)
        return read_audio(self.path).samples

    def wanted(self) -> str | None:
        """The command its words ask for during an exercise ("ouch" is pain), or None."""
        parsed = parse_utterance(self.said or "")
        if parsed is None or not expected(parsed, numbers=False, answers=False):
            return None
        return parsed.command.value

    def numbers(self) -> set[int]:
        """The pain-scale values named in the words said."""
        words = (self.said or "").split()
        return {v for w in words if (v := number_value(w)) is not None}


def recordings(root: Path = TESTDATA) -> list[Recording]:
    """Every recording of the package, with its transcript where the package gives one."""
    said = dict(_SAID)
    for listing in (root / "librivox" / "transcription", root / "cards" / "cards.transcription"):
        if listing.is_file():
            for line in listing.read_text(encoding="utf-8").splitlines():
                if match := _LINE.match(line.strip()):
                    said[match.group(2).strip()] = " ".join(match.group(1).split())
    files = sorted([*root.glob("librivox/*.wav"), *root.glob("cards/*.wav"), *root.glob("*.raw")])
    files += sorted(root.glob("tidigits/*.raw"))
    return [Recording(f.stem, f, said.get(f.stem)) for f in files]


def klettres(root: Path = KLETTRES) -> list[Recording]:
    """KLettres' English letters and words, each said alone; the file is named by what is said."""
    return [
        Recording(f"klettres {speaker} {f.stem}", f, f.stem, "klettres-data")
        for speaker in KLETTRES_SPEAKERS
        for f in sorted(
            [*root.glob(f"{speaker}/alpha/*.ogg"), *root.glob(f"{speaker}/syllab/*.ogg")]
        )
    ]


def hedgewars(root: Path = HEDGEWARS) -> list[Recording]:
    """The English voices' lines and cries, each named by what is said."""
    out = []
    for voice in HEDGEWARS_VOICES:
        for f in sorted(root.glob(f"{voice}/*.ogg")):
            line = f.stem.rstrip("0123456789")
            said = _HEDGEWARS_SAID.get(line, line.lower())
            out.append(Recording(f"hedgewars {voice} {f.stem}", f, said, "hedgewars-data", False))
    return out


def everyone(
    testdata: Path = TESTDATA, klettres_root: Path = KLETTRES, hedgewars_root: Path = HEDGEWARS
) -> list[Recording]:
    """Every recording of people the machine has."""
    return [*recordings(testdata), *klettres(klettres_root), *hedgewars(hedgewars_root)]


def hear(
    backend: str, found: list[Recording], done: Callable[[int], None] = lambda n: None
) -> list[dict[str, Any]]:
    """Each recording through the backend, during an exercise and while a score is asked; a
    cry of pain also as in a session, after a quiet room, where the coach may ask about it.
    ``done(1)`` is called after each recording (a progress bar's ``update``)."""
    from voicecoach.speech.backends import open_recognizer
    from voicecoach.speech.checkzone import CheckZone
    from voicecoach.speech.detect import Detector

    # One recognizer as sessions open it: its check zone only adds questions, which
    # ``Detector`` leaves out, so the two passes hear exactly the commands they did without it.
    recognizer, _ = open_recognizer(backend, None, check=CheckZone())  # type: ignore[arg-type]
    rows = []
    with recognizer:
        for rec in found:
            audio = rec.samples()
            commands = Detector(recognizer, numbers=False).detect_samples(audio, rec.name)
            heard = [d.command for d in commands]
            asked = Detector(recognizer, numbers=True).detect_samples(audio, rec.name)
            scores = [d.value for d in asked if d.value is not None]
            wanted = rec.wanted()
            rows.append(
                {
                    "name": rec.name,
                    "source": rec.source,
                    "seconds": round(len(audio) / 16000, 2),
                    "said": rec.said,
                    "wanted": wanted,
                    "commands": heard,
                    "questions": [
                        h.unsure_of
                        for h in in_session(recognizer, audio)
                        if h.unsure_of is not None
                    ]
                    if wanted == "pain"
                    else [],
                    "scores": scores,
                    "wrong_scores": [
                        s
                        for s in scores
                        if rec.scores_judged and rec.said and s not in rec.numbers()
                    ],
                }
            )
            done(1)
    return rows


def in_session(asking: Recognizer, audio: Samples) -> list[Hit]:
    """What a session's recognizer (``asking``, with a ``CheckZone``) gives for ``audio`` said
    after the quiet a lone cry needs: commands, and what the coach would ask about
    (``Hit.unsure_of``; "" is "is something wrong?")."""
    asking.reset()
    asking.expect(False)
    stream = np.concatenate([silence(_QUIET_BEFORE_SECONDS), audio, silence(_QUIET_AFTER_SECONDS)])
    stream = np.pad(stream, (0, -len(stream) % FRAME_SAMPLES))
    return [
        hit
        for k in range(0, len(stream), FRAME_SAMPLES)
        for hit in asking.feed(stream[k : k + FRAME_SAMPLES])
    ]


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Minutes heard, false commands (and per hour), commands asked for and heard, scores
    heard and wrong ones."""
    seconds = sum(r["seconds"] for r in rows)
    false = sum(c != r.get("wanted") for r in rows for c in r["commands"])
    asking = [r for r in rows if r.get("wanted")]
    return {
        "recordings": len(rows),
        "minutes": seconds / 60,
        "false_commands": false,
        "false_per_hour": false / (seconds / 3600) if seconds else None,
        "asking": len(asking),
        "asked_heard": sum(r["wanted"] in r["commands"] for r in asking),
        # A cry of pain the session would ask about instead: "" ("is something wrong?") or
        # the safety word it came close to.
        "cries": sum(r.get("wanted") == "pain" for r in rows),
        "cries_asked": sum(
            r.get("wanted") == "pain" and "pain" not in r["commands"] and bool(r.get("questions"))
            for r in rows
        ),
        "scores": sum(len(r["scores"]) for r in rows),
        "wrong_scores": sum(len(r["wrong_scores"]) for r in rows),
    }


def _total(name: str, s: dict[str, Any]) -> str:
    asked = (
        f"; {s['asked_heard']} of the {s['asking']} that ask for a command heard as it"
        if s["asking"]
        else ""
    )
    if s["cries"]:
        asked += f" ({s['cries_asked']} more of the {s['cries']} cries of pain asked about)"
    return (
        f"{name}: {s['recordings']} recordings, {s['minutes']:.1f} min: {s['false_commands']} "
        f"false commands ({s['false_per_hour']:.0f} /h){asked}; {s['scores']} scores heard "
        f"with numbers on, {s['wrong_scores']} of them judged not among the recording's "
        "numbers."
    )


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """A markdown table of the recordings in which something was heard, then the totals of
    each package and of all."""
    out = [
        "| recording | seconds | words said | commands, during an exercise | scores, when asked |",
        "|---|---|---|---|---|",
    ]
    if not rows:
        return [*out, "", "No recordings found."]
    for r in rows:
        if not (r["commands"] or r["scores"] or r.get("questions")):
            continue
        commands = ", ".join(
            [c if c == r.get("wanted") else f"**{c} (false)**" for c in r["commands"]]
            + [f"asked about {q or 'a cry'}" for q in r.get("questions", [])]
        )
        scores = ", ".join(
            f"**{s} (wrong)**" if s in r["wrong_scores"] else str(s) for s in r["scores"]
        )
        out.append(
            f"| {r['name']} | {r['seconds']:.1f} | {r['said'] or '-'} | "
            f"{commands or 'none'} | {scores or 'none'} |"
        )
    out.append("")
    sources = sorted({r.get("source", TESTDATA_SOURCE) for r in rows})
    for source in sources:
        part = [r for r in rows if r.get("source", TESTDATA_SOURCE) == source]
        out += [f"- {_total(source, summary(part))}"]
    return [*out, "", _total("All", summary(rows))]


@click.command()
@click.option("--backend", default="whisper", show_default=True, help="Recognizer to run.")
def main(backend: str) -> None:
    """Run the recognizer over the recordings of people and print the table."""
    found = everyone()
    if not found:
        raise click.ClickException(
            f"no recordings in {TESTDATA}, {KLETTRES} or {HEDGEWARS}: "
            "apt-get install pocketsphinx-testdata klettres-data hedgewars-data"
        )
    with click.progressbar(length=len(found), label="recordings", file=sys.stderr) as bar:
        rows = hear(backend, found, bar.update)
    click.echo("\n".join(lines(rows)))


if __name__ == "__main__":
    main()
