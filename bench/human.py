"""Real people: the recordings in Debian's pocketsphinx-testdata, heard as ``voicecoach detect``.

python -m bench.human [--backend whisper]

The package holds about a minute of recorded speech: five LibriVox readings of Jane Austen,
five spoken card names ("seven of clubs", "eight of spades four of clubs seven of hearts"),
"go forward ten meters", a TIDIGITS digit string and two more short recordings. None holds a
command word, so every command heard during an exercise is a false alarm. Each recording is
heard twice: as during an exercise (commands only), and as while the pain score is asked
(numbers on), where a score that is not among the recording's numbers is a wrong score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from voicecoach.audio.files import read_audio
from voicecoach.commands import number_value
from voicecoach.frames import Samples, from_int16

TESTDATA = Path("/usr/share/pocketsphinx/test/data")
#: What is said in the recordings whose transcript is not in a file beside them: pocketsphinx's
#: own tests decode goforward.raw to these words, and TIDIGITS names a file by its digits.
_SAID = {"goforward": "go forward ten meters", "dhd.2934z": "two nine three four zero"}
_LINE = re.compile(r"<s>(.*)</s>\s*\((.+)\)")


@dataclass(frozen=True)
class Recording:
    """One recorded file, and its words when they are known."""

    name: str
    path: Path
    said: str | None

    def samples(self) -> Samples:
        """16 kHz mono samples (the .raw files are headerless 16-bit little-endian)."""
        if self.path.suffix == ".raw":
            return from_int16(self.path.read_bytes())
        return read_audio(self.path).samples

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


def hear(backend: str, root: Path = TESTDATA) -> list[dict[str, Any]]:
    """Each recording through the backend, during an exercise and while a score is asked."""
    from voicecoach.speech.backends import open_recognizer
    from voicecoach.speech.detect import Detector

    recognizer, _ = open_recognizer(backend, None)  # type: ignore[arg-type]
    rows = []
    with recognizer:
        for rec in recordings(root):
            audio = rec.samples()
            commands = Detector(recognizer, numbers=False).detect_samples(audio, rec.name)
            heard = [d.command for d in commands]
            asked = Detector(recognizer, numbers=True).detect_samples(audio, rec.name)
            scores = [d.value for d in asked if d.value is not None]
            rows.append(
                {
                    "name": rec.name,
                    "seconds": round(len(audio) / 16000, 2),
                    "said": rec.said,
                    "commands": heard,
                    "scores": scores,
                    "wrong_scores": [s for s in scores if rec.said and s not in rec.numbers()],
                }
            )
    return rows


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Minutes heard, false commands (and per hour), scores heard and wrong ones."""
    seconds = sum(r["seconds"] for r in rows)
    false = sum(len(r["commands"]) for r in rows)
    return {
        "recordings": len(rows),
        "minutes": seconds / 60,
        "false_commands": false,
        "false_per_hour": false / (seconds / 3600) if seconds else None,
        "scores": sum(len(r["scores"]) for r in rows),
        "wrong_scores": sum(len(r["wrong_scores"]) for r in rows),
    }


def lines(rows: list[dict[str, Any]]) -> list[str]:
    """A markdown table, one recording a line, then the totals."""
    out = [
        "| recording | seconds | words said | commands, during an exercise | scores, when asked |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        scores = ", ".join(
            f"**{s} (wrong)**" if s in r["wrong_scores"] else str(s) for s in r["scores"]
        )
        out.append(
            f"| {r['name']} | {r['seconds']:.1f} | {r['said'] or '-'} | "
            f"{', '.join(r['commands']) or 'none'} | {scores or 'none'} |"
        )
    if not rows:
        return [*out, "", "No recordings found."]
    s = summary(rows)
    out += [
        "",
        f"{s['recordings']} recordings, {s['minutes']:.1f} min: {s['false_commands']} false "
        f"commands ({s['false_per_hour']:.0f} /h); {s['scores']} scores heard with numbers on, "
        f"{s['wrong_scores']} of them not among the recording's numbers.",
    ]
    return out


@click.command()
@click.option("--backend", default="whisper", show_default=True, help="Recognizer to run.")
def main(backend: str) -> None:
    """Run the recognizer over pocketsphinx-testdata's recordings and print the table."""
    if not TESTDATA.is_dir():
        raise click.ClickException(f"{TESTDATA} is missing: apt-get install pocketsphinx-testdata")
    click.echo("\n".join(lines(hear(backend))))


if __name__ == "__main__":
    main()
