"""What the coach's voice costs: render speed, model load, cache, time to the first word.

    .venv/bin/python -m bench.voice_cost [--phrases 40] [--out bench/voice_cost.md]

Renders the built-in programs' phrases with the natural voice (Piper, our own inference) and
with espeak-ng (pyttsx3), each into a fresh cache, then again from that cache. Also measures
each voice's speaking rate on the cues (words per minute, as played, silence trimmed), and
where piper-tts is installed (a development tool only), how often our phoneme ids equal
Piper's own for the cues and for held-out sentences from docs/.
"""

from __future__ import annotations

import os
import re
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from voicecoach.app.warmup import all_phrases, program_phrases
from voicecoach.frames import RATE_HZ
from voicecoach.speech.cached import CachedSynthesizer

#: A Raspberry Pi 4 core against this machine's, for neural-network inference (as bench/).
PI4_FACTOR = 4.0
REPO = Path(__file__).resolve().parent.parent


def _timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def _cpu_seconds() -> float:
    """CPU time of this process and of the children it waited for (the natural voice renders
    a cold cache in one)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def measure(make: Callable[[Path], CachedSynthesizer], phrases: list[str]) -> dict[str, float]:
    """Cold first phrase, real-time factor, cached renders and time to the first word."""
    first = program_phrases("gentle-start")
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        with make(cache) as synth:
            cold_first, samples = _timed(lambda: synth.render(first[0]))
            times, best, audio = [], [], []
            for phrase in phrases:
                seconds, out = _timed(lambda p=phrase: synth.render(p))  # type: ignore[misc]
                # Once more past the cache: the faster of the two is the least disturbed by
                # whatever else the machine runs (this one is shared).
                again, _ = _timed(lambda p=phrase: synth._synthesize(p))  # type: ignore[misc]  # noqa: SLF001
                times.append(seconds)
                best.append(min(seconds, again))
                audio.append(len(out) / RATE_HZ)
        # What `voicecoach run` does before its first word: render every phrase of the session.
        cpu_before = _cpu_seconds()
        cold_start, speech_seconds = _timed(lambda: _start(make, cache / "cold", first))
        cold_cpu = _cpu_seconds() - cpu_before
        _start(make, cache / "warm", first)
        warm_start, _ = _timed(lambda: _start(make, cache / "warm", first))
        with make(cache) as synth:
            disk, _ = _timed(lambda: [synth.render(p) for p in phrases])
            memory, _ = _timed(lambda: [synth.render(p) for p in phrases])
    words = sum(len(p.split()) for p in phrases if len(p.split()) > 4)
    spoken = sum(a for p, a in zip(phrases, audio, strict=True) if len(p.split()) > 4)
    return {
        "cold_first_s": cold_first,
        "first_audio_s": len(samples) / RATE_HZ,
        "rtf": sum(times) / sum(audio),
        "rtf_median": statistics.median(t / a for t, a in zip(times, audio, strict=True)),
        "rtf_best": sum(best) / sum(audio),
        "disk_hit_ms": 1000 * disk / len(phrases),
        "memory_hit_ms": 1000 * memory / len(phrases),
        "start_cold_s": cold_start,
        "start_cold_cpu_s": cold_cpu,
        "session_speech_s": speech_seconds,
        "start_warm_s": warm_start,
        "session_phrases": len(first),
        "wpm": 60 * words / spoken if spoken else 0.0,
    }


def _start(make: Callable[[Path], CachedSynthesizer], cache: Path, phrases: list[str]) -> float:
    """Pre-render a session's phrases as `run` does; seconds of speech they hold."""
    with make(cache) as synth:
        synth.prerender(phrases)
        synth.render(phrases[0])
        return sum(len(synth.render(p)) for p in phrases) / RATE_HZ


def phoneme_agreement(sentences: list[str]) -> tuple[int, int] | None:
    """(equal, total) phrases whose ids equal piper-tts's, or None without piper-tts."""
    try:
        from piper.voice import PiperVoice
    except ImportError:
        return None
    from voicecoach.speech.phonemes import EspeakPhonemizer, phoneme_ids
    from voicecoach.speech.piper_voice import find_natural_voice

    files = find_natural_voice()
    if files is None:
        return None
    voice = PiperVoice.load(files.model_path)
    ours = EspeakPhonemizer(voice.config.espeak_voice)
    id_map = voice.config.phoneme_id_map
    equal = 0
    for text in sentences:
        mine = [phoneme_ids(s, id_map) for s in ours.phonemize(text)]
        theirs = [voice.phonemes_to_ids(s) for s in voice.phonemize(text)]
        equal += mine == theirs
    return equal, len(sentences)


def held_out_sentences(limit: int = 200) -> list[str]:
    """Plain sentences from docs/, never looked at while writing the phonemizer."""
    text = " ".join(path.read_text() for path in sorted((REPO / "docs").glob("*.md")))
    text = re.sub(r"[`*#|\[\]()_>]", " ", text)
    found = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text)]
    plain = [s for s in found if 20 < len(s) < 200 and re.fullmatch(r"[A-Za-z ,.;:'?!-]+", s)]
    return plain[:limit]


def _makers() -> dict[str, Callable[[Path], CachedSynthesizer]]:
    from voicecoach.speech.piper_voice import PiperSynthesizer, find_natural_voice
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    files = find_natural_voice()
    makers: dict[str, Callable[[Path], CachedSynthesizer]] = {
        "espeak-ng (pyttsx3)": lambda cache: Pyttsx3Synthesizer(cache_dir=cache)
    }
    if files is not None:
        makers = {
            f"natural ({files.id})": lambda cache: PiperSynthesizer(files, cache_dir=cache),
            **makers,
        }
    return makers


def report(
    results: dict[str, dict[str, float]], agreement: dict[str, Any], count: int, load: str
) -> str:
    """The measurements as a markdown table, with the Raspberry Pi 4 estimate."""
    lines = [
        f"Render cost on this machine (2 x86 cores, shared; load average {load}), {count} cue "
        f"phrases; Raspberry Pi 4 figures are estimates, x{PI4_FACTOR:g}.",
        "",
        "| | " + " | ".join(results) + " |",
        "|---|" + "---|" * len(results),
    ]
    rows = [
        ("first phrase, cold (incl. model load), s", "cold_first_s", 1),
        ("real-time factor, uncached (total)", "rtf", 1),
        ("real-time factor, uncached (median phrase)", "rtf_median", 1),
        ("real-time factor, faster of two renders of each phrase", "rtf_best", 1),
        ("render from the disk cache, ms per phrase", "disk_hit_ms", 0),
        ("render from memory, ms per phrase", "memory_hit_ms", 0),
        ("`run` to first word, cold cache, s", "start_cold_s", 1),
        ("... CPU seconds it took (both cores)", "start_cold_cpu_s", 1),
        ("... seconds of speech it rendered", "session_speech_s", 0),
        ("`run` to first word, warm cache, s", "start_warm_s", 0),
        ("speaking rate on the cues at --rate 160, wpm", "wpm", 0),
    ]
    for label, key, scaled in rows:
        cells = []
        for values in results.values():
            value = values[key]
            pi = f" (Pi 4 ~{value * PI4_FACTOR:.3g})" if scaled else ""
            cells.append(f"{value:.3g}{pi}")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    phrases = next(iter(results.values()))["session_phrases"]
    lines += ["", f"`run` renders the session's {phrases:.0f} phrases before its first word."]
    for name, value in agreement.items():
        if value is None:
            lines.append(f"- phoneme ids equal to piper-tts's, {name}: piper-tts not installed")
        else:
            lines.append(
                f"- phoneme ids equal to piper-tts's, {name}: {value[0]} of {value[1]} "
                f"({100 * value[0] / value[1]:.1f} %)"
            )
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--phrases", "count", default=40, show_default=True, help="Phrases to time.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Markdown file.")
def main(count: int, out: Path | None) -> None:
    """Measure the coach's voices and print a markdown report."""
    phrases = all_phrases()
    timed = phrases[:count]
    # Other work on the machine slows every figure here; the load says how much there was.
    before = os.getloadavg()[0]
    results = {name: measure(make, timed) for name, make in _makers().items()}
    load = f"{before:.1f} before, {os.getloadavg()[0]:.1f} after"
    agreement = {
        f"the {len(phrases)} cue phrases": phoneme_agreement(phrases),
        "held-out sentences from docs/": phoneme_agreement(held_out_sentences()),
    }
    text = report(results, agreement, len(timed), load)
    click.echo(text)
    if out is not None:
        out.write_text(text)


if __name__ == "__main__":
    main()
