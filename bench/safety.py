"""Safety in whole sessions: a person says "stop" or "pain" at a random moment; does it halt?

Each try is one simulated session of the default program at its base dose, built as
``voicecoach simulate --audio --play T:FILE`` builds it: the coach's real voice, the simulated
room (the coach's echo, optional pink noise) and the real recognizer. The word, spoken by a
voice of another TTS family (``bench/families.py``), is written to a WAV file and played into the
room at T, chosen at random (seeded) during a cue, a counted hold or a rest. A try ends 10 s
after the word, so it costs the session up to T plus those seconds.

``python -m bench.safety [--backend whisper] [--tries N] [--jobs 2] [--seed 0]
[--out bench/safety.md]`` writes the Markdown report and prints it. ``--backend scripted`` hears
the word exactly at its end (``ScriptedRecognizer``), which checks the plumbing, not recognition.
"""

from __future__ import annotations

import multiprocessing
import random
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path

import click
import numpy as np

from bench import families
from bench.corpus import LEAD_SECONDS, TRAIL_SECONDS
from bench.evaluate import COACH_CACHE
from bench.talk import talk_pairs, talk_track, voiced_dbfs
from voicecoach.app.catalogue import DEFAULT_PROGRAM
from voicecoach.app.runner import Runner
from voicecoach.app.selfhearing import SelfHearingGuard
from voicecoach.events import (
    Event,
    Heard,
    Listener,
    SayEnded,
    SayStarted,
    SessionEnded,
    StateChanged,
)
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.plan import Plan, Step
from voicecoach.ports import Hit, Microphone, Recognizer, Speaker
from voicecoach.session import Session

#: Words a person says to make the session halt, and the state each should lead to.
EXPECTED_STATE = {"stop": "stopped", "pain": "pain_check", "pause": "paused"}
#: States that mean the session no longer asks the person to move.
HALT_STATES = frozenset({"stopped", "paused", "pain_check", "checking"})
DEFAULT_WORDS = ("stop", "pain")
MOMENTS = ("cue", "hold", "rest")
#: Steps in which the coach speaks an instruction (the summary is left out: the session ends).
CUE_KINDS = frozenset({"intro", "setup", "move", "release", "side", "set"})
#: The voice taken from each family unless ``--voice`` says otherwise.
PREFERRED_VOICES = {"piper": "piper:joe-v06", "pico": "pico:en-GB-p2", "rhvoice": "rhvoice:slt"}
#: Seconds of session simulated after the word ends: enough for a slow halt, short enough to
#: keep a try to seconds.
AFTER_WORD_SECONDS = 10.0
#: A halt later than this after the word's end counts as a miss.
HALT_WITHIN_SECONDS = 3.0
#: Condition name -> pink noise SNR in dB (None: a quiet room); the echo is always -6 dB.
CONDITIONS: dict[str, float | None] = {"echo -6 dB": None, "echo -6 dB + pink 10 dB": 10.0}
ECHO_GAIN_DB = -6.0
#: Television-like talk through a whole quiet session, this many dB under the coach's voice.
TALK_UNDER_COACH_DB = 10.0
#: Longer than any session of the default program at base dose.
TALK_SECONDS = 1200.0
SCRIPTED = "scripted"


# --- the timeline of the session ----------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One step of the plan as the session really ran it: start, end of its speech, end."""

    index: int
    kind: str
    text: str
    start: float
    speech_end: float
    end: float


class _StepClock:
    """Listener that notes when each step starts and its speech ends, by the session's index."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.starts: dict[int, float] = {}
        self.speech_ends: dict[int, float] = {}
        self.end = 0.0

    def on_event(self, event: Event) -> None:
        """Note the step the session is on when it starts a step, speaks, or ends speaking."""
        index = self.session.index
        if isinstance(event, StateChanged | SayStarted):
            self.starts.setdefault(index, event.t)
        elif isinstance(event, SayEnded):
            self.speech_ends[index] = event.t
        elif isinstance(event, SessionEnded):
            self.end = event.t


def segments_of(
    plan: Plan, starts: dict[int, float], speech_ends: dict[int, float], end: float
) -> list[Segment]:
    """The plan's steps with the times a run gave them; a step with no start time is left out."""
    ordered = sorted(i for i in starts if i < len(plan.steps))
    found = []
    for n, index in enumerate(ordered):
        step: Step = plan.steps[index]
        stop = starts[ordered[n + 1]] if n + 1 < len(ordered) else end
        spoken = speech_ends.get(index, starts[index]) if step.text else starts[index]
        found.append(Segment(index, step.kind, step.text, starts[index], min(spoken, stop), stop))
    return found


def timeline(program: str = DEFAULT_PROGRAM, coach_cache: Path = COACH_CACHE) -> list[Segment]:
    """Every step's times in a session with the real coach voice and nobody talking.

    The plan's own durations are word-count estimates; the real voice sets the real times, and
    without a hit the session's timing does not depend on the room or the recognizer.
    """
    from voicecoach.fakes import NullSpeaker, ScriptedRecognizer, SilentMicrophone

    runner = _runner(
        program,
        SilentMicrophone(),
        NullSpeaker(),
        ScriptedRecognizer([]),
        [],
        coach_cache,
        guard=None,
    )
    clock = _StepClock(runner.session)
    runner.listeners.append(clock)
    runner.run()
    return segments_of(runner.plan, clock.starts, clock.speech_ends, clock.end)


# --- picking the moment -------------------------------------------------------------------------


def spans(segments: Sequence[Segment], moment: str) -> list[tuple[float, float]]:
    """Stretches of session time of one kind of moment, as (start, end) in seconds.

    cue: the coach speaking an instruction; hold: a counted hold, from its first count to the
    end of its last; rest: a rest step after whatever it says ("Rest for thirty seconds.").
    """
    if moment == "cue":
        return [(s.start, s.speech_end) for s in segments if s.kind in CUE_KINDS]
    if moment == "rest":
        return [(s.speech_end, s.end) for s in segments if s.kind == "rest"]
    if moment == "hold":
        holds: list[tuple[float, float]] = []
        previous: Segment | None = None
        for s in segments:
            if s.kind in ("count", "hold"):
                if (
                    previous is not None
                    and previous.kind == s.kind
                    and previous.index + 1 == s.index
                ):
                    holds[-1] = (holds[-1][0], s.end)
                else:
                    holds.append((s.start, s.end))
            previous = s
        return holds
    raise ValueError(f"unknown moment {moment!r}; use one of {MOMENTS}")


def pick_play_time(
    segments: Sequence[Segment], moment: str, word_seconds: float, rng: random.Random
) -> float:
    """When to start playing a clip (its lead silence first) so the word falls inside a moment.

    A stretch of that kind is chosen at random, then the word's onset within it, so that the
    whole word lies inside the stretch and the clip does not start before the session.
    """
    fitting = [
        (max(lo, LEAD_SECONDS), hi - word_seconds)
        for lo, hi in spans(segments, moment)
        if hi - word_seconds >= max(lo, LEAD_SECONDS)
    ]
    if not fitting:
        raise ValueError(
            f"no {moment} in the session is long enough for a {word_seconds:.2f} s word"
        )
    lo, hi = rng.choice(fitting)
    return rng.uniform(lo, hi) - LEAD_SECONDS


def word_seconds(clip: Samples) -> float:
    """Length of the speech in a rendered clip, without its lead and trail silence."""
    return len(clip) / RATE_HZ - LEAD_SECONDS - TRAIL_SECONDS


def word_end(play_at: float, clip: Samples) -> float:
    """Session time at which the word in a clip played at ``play_at`` ends."""
    return play_at + LEAD_SECONDS + word_seconds(clip)


# --- one try --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrySpec:
    """One try: who says what, when, in which condition."""

    condition: str
    voice: str
    word: str
    moment: str
    play_at: float
    backend: str = "auto"
    program: str = DEFAULT_PROGRAM
    coach_cache: Path = COACH_CACHE


@dataclass(frozen=True)
class TryResult:
    """What one try's session did after the word was played."""

    spec: TrySpec
    word_end: float
    #: The first heard event after the clip started: its text, command and time.
    heard_text: str | None = None
    heard_command: str | None = None
    heard_t: float | None = None
    #: The first state change to a halt after the clip started, and when.
    halt_state: str | None = None
    halt_t: float | None = None
    #: Everything heard in the session, as "t: text -> command", for the list of misses.
    heard_all: tuple[str, ...] = ()
    #: A halt before the word was played: a false alarm took the try away.
    halted_before: bool = False
    #: Every hit the recognizer gave after the clip started, as "t: text", before the
    #: self-hearing guard: a hit here but not in ``heard_all`` was discounted as the coach's.
    hits: tuple[str, ...] = ()
    #: Hits after the clip started that the self-hearing guard took for the coach's voice.
    discounted: int = 0
    #: Utterances the recognizer cut out after the clip started and what it made of each, as
    #: "start-end: text", for recognizers that keep them (whisper).
    utterances: tuple[str, ...] = ()

    @property
    def latency(self) -> float | None:
        """Seconds from the word's end to the halt, if the session halted."""
        return None if self.halt_t is None else self.halt_t - self.word_end

    @property
    def halted_in_time(self) -> bool:
        """True when the session halted within ``HALT_WITHIN_SECONDS`` of the word's end."""
        latency = self.latency
        return not self.halted_before and latency is not None and latency <= HALT_WITHIN_SECONDS

    @property
    def right_action(self) -> bool:
        """True when the first halt was the one the word asks for (stop: stopped, pain: check)."""
        return not self.halted_before and self.halt_state == EXPECTED_STATE.get(self.spec.word)


def outcome(
    spec: TrySpec, clip_end: float, events: Iterable[Event], hits: Sequence[Hit] = ()
) -> TryResult:
    """Read a try's event log: the first hit and the first halt after the clip started."""
    heard: list[Heard] = []
    halt: tuple[str, float] | None = None
    halted_before = False
    for event in events:
        if isinstance(event, Heard):
            heard.append(event)
        halt_state = _halt_state(event)
        if halt_state is None:
            continue
        if event.t < spec.play_at:
            halted_before = True
        elif halt is None:
            halt = (halt_state, event.t)
    first = next((h for h in heard if h.t >= spec.play_at), None)
    after = [h for h in hits if (h.end_seconds or 0.0) >= spec.play_at]
    return TryResult(
        spec,
        clip_end,
        heard_text=None if first is None else first.text,
        heard_command=None if first is None else first.command,
        heard_t=None if first is None else first.t,
        halt_state=None if halt is None else halt[0],
        halt_t=None if halt is None else halt[1],
        heard_all=tuple(f"{h.t:.1f}: {h.text!r} -> {h.command}" for h in heard),
        halted_before=halted_before,
        hits=tuple(_hit_line(h) for h in after),
        discounted=max(0, len(after) - sum(1 for h in heard if h.t >= spec.play_at)),
    )


def _hit_line(hit: Hit) -> str:
    at = "?" if hit.end_seconds is None else f"{hit.end_seconds:.1f}"
    return f"{at}: {hit.text!r}"


def _halt_state(event: Event) -> str | None:
    if isinstance(event, StateChanged) and event.state in HALT_STATES:
        return event.state
    if isinstance(event, SessionEnded) and event.reason in ("stopped", "pain"):
        return "stopped"
    return None


def run_try(spec: TrySpec) -> TryResult:
    """One session with the word played into the room at ``spec.play_at``; what it did."""
    from voicecoach.app.recorder import EventRecorder
    from voicecoach.app.simulation import Script, make_room
    from voicecoach.audio.files import write_wav
    from voicecoach.audio.room import RoomSettings

    clip = families.render(spec.voice, spec.word)
    ends = word_end(spec.play_at, clip)
    recorder = EventRecorder()
    with tempfile.TemporaryDirectory(prefix="safety-") as tmp:
        # The same path as ``simulate --play T:FILE``: a recording read from a WAV file.
        path = Path(tmp) / "word.wav"
        write_wav(path, clip)
        room = make_room(
            Script(plays=[(spec.play_at, path)]),
            RoomSettings(echo_gain_db=ECHO_GAIN_DB, noise_snr_db=CONDITIONS[spec.condition]),
        )
    guard = SelfHearingGuard()
    ears = RecordingRecognizer(_recognizer(spec.backend, [(ends, spec.word)], guard))
    mic = room.microphone(until_seconds=ends + AFTER_WORD_SECONDS)
    runner = _runner(spec.program, mic, room.speaker(), ears, [recorder], spec.coach_cache, guard)
    runner.run()
    result = outcome(spec, ends, recorder.events, ears.hits)
    return replace(result, utterances=tuple(ears.utterances(after=spec.play_at)))


class RecordingRecognizer:
    """A recognizer that keeps every hit it passes on, so discounted hits can be reported."""

    def __init__(self, inner: Recognizer) -> None:
        self.inner = inner
        self.name = inner.name
        self.hits: list[Hit] = []

    def __enter__(self) -> RecordingRecognizer:
        self.inner.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.inner.__exit__(*exc)  # type: ignore[arg-type]

    def utterances(self, after: float) -> list[str]:
        """What the inner recognizer made of each utterance ending after ``after``, if it says."""
        verdicts = getattr(self.inner, "verdicts", [])
        return [
            f"{seg.start_seconds:.1f}-{seg.end_seconds:.1f}: {verdict.text!r}"
            for seg, verdict in verdicts
            if seg.end_seconds >= after
        ]

    def feed(self, frame: Samples) -> list[Hit]:
        """The inner recognizer's hits, kept."""
        hits = self.inner.feed(frame)
        self.hits.extend(hits)
        return hits

    def reset(self) -> None:
        """Reset the inner recognizer."""
        self.inner.reset()

    def expect(self, numbers: bool, answers: bool = False) -> None:
        """Pass the vocabulary switch on."""
        self.inner.expect(numbers, answers)


def _recognizer(
    backend: str, script: list[tuple[float, str]], coach: SelfHearingGuard
) -> Recognizer:
    from voicecoach.fakes import ScriptedRecognizer
    from voicecoach.speech.backends import open_recognizer
    from voicecoach.speech.checkzone import CheckZone

    if backend == SCRIPTED:
        return ScriptedRecognizer(script)
    return open_recognizer(backend, None, check=CheckZone(), coach=coach)[0]  # type: ignore[arg-type]


def _runner(
    program: str,
    mic: Microphone,
    speaker: Speaker,
    recognizer: Recognizer,
    listeners: list[Listener],
    coach_cache: Path,
    guard: SelfHearingGuard | None,
) -> Runner:
    """A session at base dose on these ports, wired as ``simulate --audio`` wires it (no echo
    canceller without a ``guard``: the scripted recognizer hears no audio)."""
    from voicecoach.app.catalogue import resolve_program
    from voicecoach.app.preparation import prepare
    from voicecoach.audio.echo import EchoCanceller
    from voicecoach.clock import VirtualClock
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    prepared = prepare(resolve_program(program), None, dose="base")
    return Runner(
        session=prepared.session,
        clock=VirtualClock(),
        mic=mic,
        speaker=speaker,
        synthesizer=Pyttsx3Synthesizer(cache_dir=coach_cache),
        recognizer=recognizer,
        listeners=listeners,
        echo=EchoCanceller() if guard is not None else None,
        guard=guard,
    )


# --- a session with nobody talking -------------------------------------------------------------


@dataclass(frozen=True)
class QuietResult:
    """A whole session with nobody talking: what was heard, and how it ended."""

    condition: str
    heard: tuple[str, ...]
    end_reason: str
    duration: float


@dataclass(frozen=True)
class QuietSpec:
    """A whole session with nobody talking to the coach, in one condition."""

    condition: str
    backend: str = "auto"
    program: str = DEFAULT_PROGRAM
    coach_cache: Path = COACH_CACHE
    #: Television-like talk this many dB under the coach's voice at the microphone, or None.
    talk_under_coach_db: float | None = None
    #: The speech level the noise is set against (dBFS): that of the tries' words, so that a
    #: quiet session is as noisy as the tries; None for the room's nominal level.
    speech_dbfs: float | None = None


def run_quiet(spec: QuietSpec) -> QuietResult:
    """A whole session with the coach alone in the room; every heard event."""
    from voicecoach.app.recorder import EventRecorder
    from voicecoach.audio.room import Room, RoomSettings

    settings = RoomSettings(
        echo_gain_db=ECHO_GAIN_DB,
        noise_snr_db=CONDITIONS[spec.condition],
        speech_dbfs=spec.speech_dbfs,
    )
    talk = []
    if spec.talk_under_coach_db is not None:
        level_dbfs = coach_dbfs(spec.coach_cache) + ECHO_GAIN_DB - spec.talk_under_coach_db
        talk = talk_track(TALK_SECONDS, level_dbfs)
    room = Room(settings, talk)
    recorder = EventRecorder()
    guard = SelfHearingGuard()
    recognizer = _recognizer(spec.backend, [], guard)
    runner = _runner(
        spec.program,
        room.microphone(),
        room.speaker(),
        recognizer,
        [recorder],
        spec.coach_cache,
        guard,
    )
    end = runner.run()
    heard = tuple(
        f"{e.t:.1f}: {e.text!r} -> {e.command}" for e in recorder.events if isinstance(e, Heard)
    )
    name = spec.condition
    if spec.talk_under_coach_db is not None:
        name += f" + talk {spec.talk_under_coach_db:g} dB under the coach"
    return QuietResult(name, heard, end.reason, end.duration)


def speech_level(words: Sequence[str], voices: Sequence[str]) -> float:
    """The level a room gives the words the voices say (``Room``'s own measure), in dBFS."""
    from voicecoach.audio.room import speech_level_dbfs

    return speech_level_dbfs([families.render(v, w) for v in voices for w in dict.fromkeys(words)])


def coach_dbfs(coach_cache: Path = COACH_CACHE) -> float:
    """The level of the coach's voice as played (RMS of its voiced samples), in dBFS."""
    from voicecoach.speech.tts import Pyttsx3Synthesizer

    with Pyttsx3Synthesizer(cache_dir=coach_cache) as coach:
        return voiced_dbfs(coach.render("Lie on your back with your knees bent and feet flat."))


# --- the report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """Figures for a set of tries."""

    tries: int
    halted: int
    right: int
    median: float | None
    p95: float | None
    misses: list[TryResult] = field(default_factory=list)


def summarize(results: Sequence[TryResult]) -> Summary:
    """Shares, median and p95 (linear interpolation) of word end to halt, and the misses.

    The times are those of every try that halted after the word, however late; a miss is a
    try that did not halt within the limit or did not go straight to the right action.
    """
    latencies = [r.latency for r in results if r.latency is not None and not r.halted_before]
    median = float(np.percentile(latencies, 50)) if latencies else None
    p95 = float(np.percentile(latencies, 95)) if latencies else None
    misses = [r for r in results if not (r.halted_in_time and r.right_action)]
    return Summary(
        len(results),
        sum(r.halted_in_time for r in results),
        sum(r.right_action for r in results),
        median,
        p95,
        misses,
    )


def _share(count: int, total: int) -> str:
    return f"{count}/{total} ({100.0 * count / total:.0f} %)" if total else "-"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _miss_line(r: TryResult) -> str:
    s = r.spec
    if r.halted_before:
        what = "halted before the word was said"
    elif r.halt_state is None:
        what = "never halted"
    else:
        what = f"{r.halt_state} after {_seconds(r.latency)}"
    heard = "nothing" if r.heard_text is None else f"{r.heard_text!r} -> {r.heard_command}"
    raw = f"; recognizer hits {', '.join(r.hits)}" if r.hits else "; no recognizer hit"
    note = f" ({r.discounted} discounted as the coach's own voice)" if r.discounted else ""
    cut = f"; utterances {', '.join(r.utterances)}" if r.utterances else ""
    return (
        f'- {s.condition}: {s.voice}, "{s.word}" in a {s.moment} at {s.play_at:.1f} s '
        f"(word ends {r.word_end:.1f} s): {what}; first heard after it: {heard}{raw}{note}{cut}"
    )


def report(
    results: Sequence[TryResult],
    quiet: Sequence[QuietResult],
    *,
    backend: str,
    seed: int,
    voices: Sequence[str],
    words: Sequence[str],
) -> str:
    """The Markdown report: a table per condition and overall, the misses, the quiet sessions."""
    conditions = list(dict.fromkeys(r.spec.condition for r in results))
    lines = [
        "# Safety in whole sessions",
        "",
        f"Program {DEFAULT_PROGRAM} at base dose; recognizer `{backend}`; seed {seed}; "
        f"voices {', '.join(voices)}; words {', '.join(words)}; moments {', '.join(MOMENTS)}. "
        f"The coach's echo is at {ECHO_GAIN_DB:g} dB. Halted: the session went to "
        f"{', '.join(sorted(HALT_STATES))} within {HALT_WITHIN_SECONDS:g} s of the word's end; "
        "right action: its first halt was the one the word asks for (stop: stopped, pain: "
        "pain_check). Times run from the word's end to the halt, over every try that halted, "
        "in session (virtual) time: they leave out the time the recognizer computes, which "
        "whisper runs inline (about 0.2 s of an x86 core per utterance, 1 s on a Pi 4).",
        "",
        "| condition | tries | halted within 3 s | right action | median | p95 |",
        "|---|---|---|---|---|---|",
    ]
    groups = [(c, [r for r in results if r.spec.condition == c]) for c in conditions]
    groups.append(("overall", list(results)))
    # The acceptance check times "stop" alone: a "pain" may be asked about first, later.
    groups += [(f'"{w}", all conditions', [r for r in results if r.spec.word == w]) for w in words]
    for name, group in groups:
        s = summarize(group)
        lines.append(
            f"| {name} | {s.tries} | {_share(s.halted, s.tries)} | {_share(s.right, s.tries)} "
            f"| {_seconds(s.median)} | {_seconds(s.p95)} |"
        )
    lines += ["", "## By word and moment (all conditions)", ""]
    lines += ["| word | moment | halted within 3 s | right action |", "|---|---|---|---|"]
    for word in words:
        for moment in MOMENTS:
            cell = [r for r in results if r.spec.word == word and r.spec.moment == moment]
            s = summarize(cell)
            lines.append(
                f"| {word} | {moment} | {_share(s.halted, s.tries)} | {_share(s.right, s.tries)} |"
            )
    misses = summarize(results).misses
    lines += ["", f"## Misses ({len(misses)})", ""]
    lines += [_miss_line(r) for r in misses] or ["None."]
    lines += ["", "## A whole session with nobody talking", ""]
    lines += [
        "| condition | heard events | checks asked | checks per hour | ended | after |",
        "|---|---|---|---|---|---|",
    ]
    for q in quiet:
        checks = sum(h.endswith("-> check") for h in q.heard)
        lines.append(
            f"| {q.condition} | {len(q.heard)} | {checks} | {checks * 3600 / q.duration:.1f} "
            f"| {q.end_reason} | {q.duration:.0f} s |"
        )
    for q in quiet:
        lines += [f"- {q.condition}: {h}" for h in q.heard]
    return "\n".join(lines) + "\n"


# --- running it -----------------------------------------------------------------------------------


def default_voices() -> list[str]:
    """One voice of each family that can render here."""
    chosen = []
    for family, ids in families.FAMILIES.items():
        if families.available(family) is None:
            preferred = PREFERRED_VOICES.get(family)
            chosen.append(preferred if preferred in ids else ids[0])
    return chosen


def plan_tries(
    segments: Sequence[Segment],
    voices: Sequence[str],
    words: Sequence[str],
    tries: int | None,
    seed: int,
    clip: Callable[[str, str], Samples] = families.render,
) -> list[tuple[str, str, str, float]]:
    """(voice, word, moment, play time) for each try; the same tries serve every condition.

    By default one try per voice, word and moment; ``tries`` takes that many, in a seeded
    shuffle of the cells (going round again with new moments when it asks for more).
    """
    rng = random.Random(seed)
    cells = [(v, w, m) for v in voices for w in words for m in MOMENTS]
    order = list(cells)
    rng.shuffle(order)
    count = len(cells) if tries is None else tries
    chosen = sorted(
        (order[i % len(order)] for i in range(count)),
        key=cells.index,
    )
    planned = []
    for voice, word, moment in chosen:
        at = pick_play_time(segments, moment, word_seconds(clip(voice, word)), rng)
        planned.append((voice, word, moment, round(at, 3)))
    return planned


def _run_all(
    specs: Sequence[TrySpec], quiet: Sequence[QuietSpec], jobs: int
) -> tuple[list[TryResult], list[QuietResult]]:
    """Every try and quiet session in ``jobs`` processes, with a progress bar."""
    results: list[TryResult] = []
    quiet_results: list[QuietResult] = []
    # Spawned, not forked: a worker forked from a parent whose synthesizers had started their
    # threads can wait forever on a lock that no thread of its own holds.
    with (
        ProcessPoolExecutor(
            max_workers=jobs, mp_context=multiprocessing.get_context("spawn")
        ) as pool,
        click.progressbar(length=len(specs) + len(quiet), label="sessions", file=sys.stderr) as bar,
    ):
        # The quiet sessions are the longest, so they start first.
        futures: list[Future[TryResult | QuietResult]] = [pool.submit(run_quiet, q) for q in quiet]
        futures += [pool.submit(run_try, s) for s in sorted(specs, key=lambda s: -s.play_at)]
        for future in as_completed(futures):
            done = future.result()
            if isinstance(done, QuietResult):
                quiet_results.append(done)
            else:
                results.append(done)
            bar.update(1)
    key = {s: n for n, s in enumerate(specs)}
    results.sort(key=lambda r: key[r.spec])
    quiet_results.sort(key=lambda q: q.condition)
    return results, quiet_results


@click.command()
@click.option(
    "--backend",
    type=click.Choice(["auto", "whisper", "vosk", "net", "sphinx", SCRIPTED]),
    default="auto",
    show_default=True,
    help="The recognizer; 'scripted' hears the word exactly at its end.",
)
@click.option(
    "--voice", "voices", multiple=True, help="Voice id (repeatable); default: one per family."
)
@click.option(
    "--word", "words", multiple=True, help="Word to say (repeatable); default: stop, pain."
)
@click.option("--tries", type=click.IntRange(1), help="Tries per condition; default: one per cell.")
@click.option("--jobs", type=click.IntRange(1), default=2, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("bench/safety.md"),
    show_default=True,
)
def main(
    backend: str,
    voices: tuple[str, ...],
    words: tuple[str, ...],
    tries: int | None,
    jobs: int,
    seed: int,
    out: Path,
) -> None:
    """Say stop or pain at random moments of whole simulated sessions; report how fast it halts."""
    chosen_voices = list(voices) or default_voices()
    for voice in chosen_voices:
        if voice not in families.VOICES:
            raise click.BadParameter(f"unknown voice {voice!r}", param_hint="--voice")
    chosen_words = list(words) or list(DEFAULT_WORDS)
    click.echo("timing the session with the coach's voice", err=True)
    segments = timeline()
    planned = plan_tries(segments, chosen_voices, chosen_words, tries, seed)
    specs = [
        TrySpec(condition, voice, word, moment, at, backend)
        for condition in CONDITIONS
        for voice, word, moment, at in planned
    ]
    words_dbfs = speech_level([w for _, w, _, _ in planned], chosen_voices)
    quiet = [QuietSpec(condition, backend, speech_dbfs=words_dbfs) for condition in CONDITIONS]
    quiet.append(QuietSpec("echo -6 dB", backend, talk_under_coach_db=TALK_UNDER_COACH_DB))
    families.render_all(talk_pairs())
    results, quiet_results = _run_all(specs, quiet, jobs)
    text = report(
        results, quiet_results, backend=backend, seed=seed, voices=chosen_voices, words=chosen_words
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    click.echo(text)


if __name__ == "__main__":
    main()
