"""``scripts/bench``: every available backend over the corpus; writes results.md and results.json.

python -m bench.run [--quick] [--backend net]
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bench import (
    corpus,
    evaluate,
    human,
    report,
    selection,
    selftrigger,
    startup,
    system,
    targets,
)
from bench.evaluate import ECHO_CONDITION, BenchClip, ChunkResult
from bench.metrics import Row, real_time_factor, summarize

BENCH_DIR = Path(__file__).resolve().parent
ROWS_DIR = corpus.CORPUS_DIR / "runs"
CHUNK_CLIPS = 24
ALL_BACKENDS = ("whisper", "net", "sphinx", "vosk")
#: The program every self-trigger session plays.
SESSION_PROGRAM = "gentle-start"


def available_backends(requested: Sequence[str]) -> dict[str, str | None]:
    """Each requested backend, with None when it can run here or the reason it cannot."""
    from voicecoach.speech.models import find_model

    out: dict[str, str | None] = {}
    for name in requested or ALL_BACKENDS:
        if name == "vosk" and find_model(None) is None:
            out[name] = "no Vosk model is installed here (`voicecoach model download` gets one)"
        else:
            out[name] = None
    return out


def chunks(items: list[BenchClip]) -> list[list[BenchClip]]:
    """Batches for the workers; the coach-echo clips are batched apart (they share a room)."""
    echo = [i for i in items if i.condition == ECHO_CONDITION]
    plain = [i for i in items if i.condition != ECHO_CONDITION]
    out = [plain[k : k + CHUNK_CLIPS] for k in range(0, len(plain), CHUNK_CLIPS)]
    out += [echo[k : k + CHUNK_CLIPS] for k in range(0, len(echo), CHUNK_CLIPS)]
    # Alternate long and short batches so that the progress bar moves evenly.
    return out[::2] + out[1::2]


class InProcess(Executor):
    """Runs submitted work at once in this process (for tests and ``--jobs 0``)."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run ``fn`` now and return its finished future."""
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def _pool(jobs: int, fresh: bool = False) -> Executor:
    if jobs <= 0:
        return InProcess()
    # Spawned workers start empty, so each one's peak RSS is its own backend's.
    context = multiprocessing.get_context("spawn")
    return ProcessPoolExecutor(jobs, mp_context=context, max_tasks_per_child=1 if fresh else None)


def run_corpus(
    backend: str, items: list[BenchClip], jobs: int, progress: Callable[[int], None]
) -> tuple[list[Row], list[ChunkResult]]:
    """Every clip through one backend; rows and each batch's worker measurements."""
    results: list[ChunkResult] = []
    with _pool(jobs) as pool:
        futures = {pool.submit(evaluate.run_chunk, backend, c): len(c) for c in chunks(items)}
        for future in as_completed(futures):
            results.append(future.result())
            progress(futures[future])
    if jobs <= 0:
        evaluate.close_recognizers()
    return [row for r in results for row in r.rows], results


def run_sessions(
    backend: str, gains_db: Iterable[float], max_seconds: float, jobs: int
) -> list[dict[str, Any]]:
    """Whole sessions with nobody talking, one fresh process each."""
    with _pool(jobs, fresh=True) as pool:
        futures = [
            pool.submit(selftrigger.run_session, backend, SESSION_PROGRAM, g, max_seconds)
            for g in gains_db
        ]
        return [f.result() for f in futures]


def split_summaries(rows: list[Row]) -> dict[str, dict[str, Any]]:
    """Per split, per condition (plus ``all``), every accuracy metric."""
    grouped: dict[str, dict[str, list[Row]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        grouped[row.split][row.condition].append(row)
        grouped[row.split]["all"].append(row)
    order = [*selection.ALL_CONDITIONS, "all"]
    return {
        split: {c: summarize(conds[c]) for c in order if c in conds}
        for split, conds in grouped.items()
    }


def cost(
    rows: list[Row],
    chunks_done: list[ChunkResult],
    sessions: list[dict[str, Any]],
    start: dict[str, Any],
) -> dict[str, Any]:
    """RTF, memory, load time and start-up, from what the workers and sessions measured."""
    loads = [c.load_seconds for c in chunks_done if c.load_seconds is not None]
    session_cpu = sum(s["cpu_seconds"] for s in sessions)
    # The simulated room stands in for a device's microphone and speaker, which cost nothing.
    room_cpu = sum(s.get("room_cpu_seconds", 0.0) for s in sessions)
    session_audio = sum(s["session_seconds"] for s in sessions)
    return {
        "rtf_listening": real_time_factor(r for r in rows if r.condition == "clean"),
        "rtf_with_echo": real_time_factor(r for r in rows if r.condition == ECHO_CONDITION),
        "rtf_session": (session_cpu - room_cpu) / session_audio if session_audio else None,
        "rtf_session_with_room": session_cpu / session_audio if session_audio else None,
        "corpus_peak_rss_mb": max((c.peak_rss_mb for c in chunks_done), default=None),
        "session_peak_rss_mb": max((s["peak_rss_mb"] for s in sessions), default=None),
        "load_seconds": min(loads) if loads else None,
        "start_cold_seconds": start.get("cold_seconds"),
        "start_warm_seconds": start.get("warm_seconds"),
    }


def run_backend(
    backend: str,
    items: list[BenchClip],
    *,
    jobs: int,
    session_gains_db: Sequence[float],
    session_seconds: float,
    measure_start: bool,
    rows_dir: Path = ROWS_DIR,
    people: list[human.Recording] | None = None,
) -> dict[str, Any]:
    """Everything measured for one backend; every row is kept in ``rows_dir``; the recorded
    people are ``people``, or every recording of people the machine has."""
    from voicecoach.speech.backends import open_recognizer

    description = open_recognizer(backend, None)[1]  # type: ignore[arg-type]
    with click.progressbar(length=len(items), label=f"{backend}: clips", file=sys.stderr) as bar:
        rows, done = run_corpus(backend, items, jobs, bar.update)
    click.echo(f"{backend}: whole sessions with the coach heard back ...", err=True)
    sessions = run_sessions(backend, session_gains_db, session_seconds, jobs)
    start: dict[str, Any] = {"measured": False, "reason": "skipped (--no-start)"}
    if measure_start:
        click.echo(f"{backend}: start to first spoken word ...", err=True)
        start = startup.measure(backend)
    _save_rows(rows_dir / f"bench-{backend}.jsonl", rows)
    human_rows = None
    people = human.everyone() if people is None else people
    if people:
        label = f"{backend}: recordings of people"
        with click.progressbar(length=len(people), label=label, file=sys.stderr) as bar:
            human_rows = human.hear(backend, people, bar.update)
    result = {
        "available": True,
        "description": description,
        "splits": split_summaries(rows),
        "self_trigger": sessions,
        "human": None
        if human_rows is None
        else {"rows": human_rows, "summary": human.summary(human_rows)},
        "startup": start,
        "cost": cost(rows, done, sessions, start),
    }
    result["targets"] = targets.check_all(result)
    return result


def _save_rows(path: Path, rows: list[Row]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as sink:
        for row in rows:
            sink.write(json.dumps(row.as_json()) + "\n")


def corpus_line(items: list[BenchClip]) -> str:
    """Voices per split, clips and audio per group."""
    parts = []
    for split in report.SPLIT_NAMES:
        voices = sorted({i.clip.voice for i in items if i.clip.split == split})
        if voices:
            parts.append(f"{report.SPLIT_NAMES[split]}: {', '.join(voices)}")
    groups: dict[str, int] = defaultdict(int)
    for item in items:
        groups[item.clip.utterance.group] += 1
    counts = ", ".join(f"{g} {n}" for g, n in groups.items())
    conditions = sorted({i.condition for i in items})
    return (
        f"{len(items)} clips ({counts}) in conditions {', '.join(conditions)}; one rate and "
        f"pitch per utterance and voice, the same in every condition. " + "; ".join(parts) + "."
    )


NOTES = [
    "Speech is synthetic (espeak-ng with MBROLA and formant voices, `bench/corpus.py`); "
    "held-out voices never influenced a threshold.",
    "Latency: from the end of the command word (last 10 ms window within 35 dB of the clip's "
    "loudest, on the clean rendering; only clips that end with the command) to the end of the "
    "20 ms frame on which the command was accepted, plus the wall time the recognizer spent on "
    "that frame (a live loop hands the command out only then).",
    "echo-6: the clip is said over the coach's real voice (pyttsx3, the default program's cues "
    "back to back) heard through the simulated room at -6 dB, with the echo canceller and the "
    "runner's self-hearing rule, after 4 s of coach speech to learn the room.",
    "Self-triggers: `Runner` with the room's microphone and speaker, the real coach voice, "
    "recognizer, `EchoCanceller()` and `SelfHearingGuard()` on a virtual clock, nobody "
    "talking, as `voicecoach simulate --audio` builds it.",
    "False alarms per hour count every accepted command over the audio fed (clip plus 1 s of "
    "trailing silence; a command accepted in the 3 s of room before it counts, its seconds do "
    "not).",
    "Every clip except echo-6 is heard after 3 s of its own noise alone (`corpus.ROOM_SECONDS`): "
    "a room is as noisy before the person speaks as while they do.",
]


def build(
    backends: dict[str, str | None],
    size: selection.Size,
    *,
    jobs: int,
    session_seconds: float,
    session_gains_db: Sequence[float],
    measure_start: bool,
    command: str,
    mode: str,
) -> dict[str, Any]:
    """Run the bench and return everything results.json holds."""
    started = time.perf_counter()
    items = selection.select(size)
    click.echo(f"rendering speech for {len(items)} clips (cached) ...", err=True)
    corpus.render_all([i.clip for i in items], jobs=max(2, jobs))
    evaluate.coach_utterances()
    out: dict[str, Any] = {"backends": {}}
    for name, reason in backends.items():
        if reason is not None:
            out["backends"][name] = {"available": False, "reason": reason}
            continue
        out["backends"][name] = run_backend(
            name,
            items,
            jobs=jobs,
            session_gains_db=session_gains_db,
            session_seconds=session_seconds,
            measure_start=measure_start,
        )
    info = system.describe()
    out.update(
        command=command,
        mode=mode,
        date=datetime.now().astimezone().isoformat(timespec="minutes"),
        hardware=info,
        hardware_line=system.hardware_line(info),
        notes=NOTES,
        corpus_line=corpus_line(items),
        wall_minutes=(time.perf_counter() - started) / 60.0,
    )
    return out


def write(results: dict[str, Any], out_dir: Path) -> str:
    """Write results.json and results.md; return the Markdown."""
    text = report.markdown(results)
    (out_dir / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (out_dir / "results.md").write_text(text, encoding="utf-8")
    return text


def _session_seconds(quick: bool) -> float:
    from voicecoach.app.catalogue import resolve_program
    from voicecoach.app.preparation import prepare

    if quick:
        return 60.0
    plan = prepare(resolve_program(SESSION_PROGRAM), None, dose="base").plan
    # The whole program, with room for the end-of-session questions.
    return plan.total_seconds * 1.2 + 120.0


@click.command()
@click.option("--quick", is_flag=True, help="A sanity check in under 3 minutes.")
@click.option(
    "--backend",
    "backends",
    multiple=True,
    type=click.Choice(ALL_BACKENDS),
    help="Only this backend (repeatable); default: every one available here.",
)
@click.option("--jobs", default=2, show_default=True, help="Worker processes (0: in-process).")
@click.option("--no-start", is_flag=True, help="Skip the start-up timing (needs PulseAudio).")
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where results.md and results.json go [default: bench/, or "
    "bench/.corpus/quick/ with --quick, so a quick run keeps the full results].",
)
def main(
    quick: bool, backends: tuple[str, ...], jobs: int, no_start: bool, out_dir: Path | None
) -> None:
    """Run every available recognizer over the corpus and write the results."""
    out_dir = out_dir or (corpus.CORPUS_DIR / "quick" if quick else BENCH_DIR)
    args = " ".join(["scripts/bench", *sys.argv[1:]])
    results = build(
        available_backends(backends),
        selection.QUICK if quick else selection.FULL,
        jobs=jobs,
        session_seconds=_session_seconds(quick),
        session_gains_db=(-6.0,) if quick else (-6.0, 0.0),
        measure_start=not no_start,
        command=args,
        mode="quick" if quick else "full",
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    write(results, out_dir)
    for name, result in results["backends"].items():
        click.echo(f"\n## {name}\n")
        if not result.get("available"):
            click.echo(f"not measured: {result['reason']}")
            continue
        click.echo("\n".join(report.targets_table(result["targets"])))
        click.echo("\n".join(report.cost_lines(result)))
    click.echo(f"\nwrote {out_dir / 'results.md'} and {out_dir / 'results.json'}")


if __name__ == "__main__":
    main()
