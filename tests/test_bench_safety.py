"""The safety bench's pieces: moments, word-end arithmetic, the figures, and one scripted try."""

from __future__ import annotations

import random
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from bench import families, safety, talk
from bench.corpus import LEAD_SECONDS, TRAIL_SECONDS
from voicecoach.app.catalogue import resolve_program
from voicecoach.app.preparation import prepare
from voicecoach.events import Event, Heard, SessionEnded, StateChanged
from voicecoach.fakes import ScriptedRecognizer
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ
from voicecoach.ports import Hit

WORD_SECONDS = 0.6


@pytest.fixture(scope="module")
def coach_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One phrase cache for the module: the coach's voice is rendered once."""
    return tmp_path_factory.mktemp("coach-tts")


@pytest.fixture(scope="module")
def segments(coach_cache: Path) -> list[safety.Segment]:
    """The default program's steps with the times the real coach voice gives them."""
    return safety.timeline(coach_cache=coach_cache)


def _segment_at(segments: list[safety.Segment], t: float) -> safety.Segment:
    return next(s for s in segments if s.start <= t < s.end)


def test_timeline_follows_the_plan(segments: list[safety.Segment]) -> None:
    """Every step of the plan gets a time, in order, and each lasts at least its speech."""
    assert [s.index for s in segments] == list(range(len(segments)))
    assert {s.kind for s in segments} >= {"intro", "setup", "move", "count", "release", "rest"}
    for before, after in zip(segments, segments[1:], strict=False):
        assert before.end == after.start
        assert before.start <= before.speech_end <= before.end


@pytest.mark.parametrize("moment", safety.MOMENTS)
def test_moments_fall_inside_their_kind_of_step(
    segments: list[safety.Segment], moment: str
) -> None:
    """The whole word lies inside a cue's speech, a counted hold, or the quiet of a rest."""
    rng = random.Random(0)
    for _ in range(50):
        onset = safety.pick_play_time(segments, moment, WORD_SECONDS, rng) + LEAD_SECONDS
        end = onset + WORD_SECONDS
        step = _segment_at(segments, onset)
        if moment == "cue":
            assert step.kind in safety.CUE_KINDS
            assert end <= step.speech_end
        elif moment == "rest":
            assert step.kind == "rest"
            assert step.speech_end <= onset
            assert end <= step.end
        else:
            covered = [s for s in segments if s.start < end and s.end > onset]
            assert {s.kind for s in covered} == {"count"}


def test_moments_are_spread_over_the_session(segments: list[safety.Segment]) -> None:
    """Seeded picks are repeatable and reach beyond the first exercise."""
    picks = [
        safety.pick_play_time(segments, "hold", WORD_SECONDS, random.Random(n)) for n in range(30)
    ]
    again = [
        safety.pick_play_time(segments, "hold", WORD_SECONDS, random.Random(n)) for n in range(30)
    ]
    assert picks == again
    assert max(picks) > segments[-1].end / 2


def test_a_moment_too_short_for_the_word_is_refused() -> None:
    """No rest long enough: a clear error rather than a word spilling into the next step."""
    short = [safety.Segment(0, "rest", "", 1.0, 1.0, 1.4)]
    with pytest.raises(ValueError, match="no rest"):
        safety.pick_play_time(short, "rest", WORD_SECONDS, random.Random(0))


def test_segments_of_a_run() -> None:
    """A step without speech ends its speech at its start; the last step ends with the session."""
    steps = prepare(resolve_program("gentle-start"), None, dose="base").plan
    rest = next(i for i, s in enumerate(steps.steps) if s.kind == "rest" and not s.text)
    starts = {rest - 1: 10.0, rest: 14.0, rest + 1: 17.0}
    found = safety.segments_of(steps, starts, {rest - 1: 12.0, rest + 1: 19.0}, 25.0)
    assert [(s.start, s.speech_end, s.end) for s in found] == [
        (10.0, 12.0, 14.0),
        (14.0, 14.0, 17.0),
        (17.0, 19.0, 25.0),
    ]


def test_word_end_arithmetic() -> None:
    """The word ends after the clip's lead silence and its speech, not its trail."""
    clip = np.zeros(int((LEAD_SECONDS + 0.7 + TRAIL_SECONDS) * RATE_HZ), dtype=np.float32)
    assert safety.word_seconds(clip) == pytest.approx(0.7)
    assert safety.word_end(100.0, clip) == pytest.approx(100.0 + LEAD_SECONDS + 0.7)


def _result(
    word: str, state: str | None, latency: float | None, *, before: bool = False
) -> safety.TryResult:
    spec = safety.TrySpec("echo -6 dB", "pico:en-GB-p2", word, "cue", 50.0)
    halt_t = None if latency is None else 51.0 + latency
    return safety.TryResult(spec, 51.0, halt_state=state, halt_t=halt_t, halted_before=before)


def test_summary_shares_median_and_p95() -> None:
    """Halted within 3 s, right action, and times over every try that halted after the word."""
    results = [
        _result("stop", "stopped", 0.5),
        _result("pain", "pain_check", 1.0),
        _result("stop", "paused", 2.0),  # halted in time, but the wrong action
        _result("pain", "pain_check", 4.0),  # the right action, too late
        _result("stop", None, None),  # never halted
        _result("stop", "stopped", None, before=True),  # a false alarm took the try away
    ]
    summary = safety.summarize(results)
    assert (summary.tries, summary.halted, summary.right) == (6, 3, 3)
    assert summary.median == pytest.approx(1.5)
    # Linear interpolation over 0.5, 1, 2, 4: rank 0.95 * 3 = 2.85 lies 85 % from 2 to 4.
    assert summary.p95 == pytest.approx(3.7)
    assert summary.misses == results[2:]


def test_summary_of_nothing() -> None:
    """No tries: no figures, and the report says so rather than failing."""
    summary = safety.summarize([])
    assert (summary.tries, summary.median, summary.p95) == (0, None, None)


def test_outcome_reads_the_first_hit_and_halt_after_the_word() -> None:
    """Hits before the clip are not the word's; a halt before it marks the try as taken away."""
    spec = safety.TrySpec("echo -6 dB", "pico:en-GB-p2", "pain", "hold", 50.0)
    events: list[Event] = [
        Heard(20.0, "pause", "pause"),
        StateChanged(20.0, "paused", "x", 1, None, 1),
        Heard(51.3, "pain", "pain"),
        StateChanged(51.3, "pain_check", "x", 1, None, 1),
        SessionEnded(61.0, "interrupted", 61.0),
    ]
    hits = [Hit.of("pause", 1.0, 19.8), Hit.of("pain", 1.0, 51.2), Hit.of("ten", 1.0, 52.0)]
    result = safety.outcome(spec, 51.0, events, hits)
    assert (result.heard_text, result.heard_command, result.heard_t) == ("pain", "pain", 51.3)
    assert (result.halt_state, result.halt_t) == ("pain_check", 51.3)
    assert result.halted_before
    assert not result.halted_in_time
    assert result.hits == ("51.2: 'pain'", "52.0: 'ten'")
    assert result.discounted == 1


def test_report_lists_conditions_misses_and_quiet_sessions() -> None:
    """One row per condition, overall and per word, each miss on its own line, the quiet
    sessions' hits."""
    results = [_result("stop", "stopped", 0.4), _result("pain", None, None)]
    quiet = [safety.QuietResult("echo -6 dB", ("12.0: 'stop' -> stop",), "stopped", 19.0)]
    text = safety.report(
        results, quiet, backend="scripted", seed=0, voices=["pico:en-GB-p2"], words=["stop", "pain"]
    )
    assert "| echo -6 dB | 2 | 1/2 (50 %) | 1/2 (50 %) | 0.40 s | 0.40 s |" in text
    assert "| overall | 2 |" in text
    assert '| "stop", all conditions | 1 | 1/1 (100 %) | 1/1 (100 %) | 0.40 s | 0.40 s |' in text
    assert '| "pain", all conditions | 1 | 0/1 (0 %) | 0/1 (0 %) | - | - |' in text
    assert '"pain" in a cue at 50.0 s (word ends 51.0 s): never halted' in text
    assert "| echo -6 dB | 1 | 0 | 0.0 | stopped | 19 s |" in text


def test_default_tries_cover_every_cell(segments: list[safety.Segment]) -> None:
    """One try per voice, word and moment by default; ``tries`` takes a seeded subset."""
    clip = np.zeros(int((LEAD_SECONDS + 0.5 + TRAIL_SECONDS) * RATE_HZ), dtype=np.float32)
    voices, words = ["a", "b"], ["stop", "pain"]
    planned = safety.plan_tries(segments, voices, words, None, 0, clip=lambda v, w: clip)
    cells = {(v, w, m) for v, w, m, _ in planned}
    assert len(planned) == len(cells) == 2 * 2 * len(safety.MOMENTS)
    assert planned == safety.plan_tries(segments, voices, words, None, 0, clip=lambda v, w: clip)
    assert len(safety.plan_tries(segments, voices, words, 5, 0, clip=lambda v, w: clip)) == 5


VOICE = "pico:en-GB-p2"


@pytest.mark.skipif(families.available("pico") is not None, reason="pico2wave or sox missing")
@pytest.mark.parametrize(("word", "state"), [("stop", "stopped"), ("pain", "pain_check")])
def test_a_scripted_word_halts_the_session(
    segments: list[safety.Segment], coach_cache: Path, word: str, state: str
) -> None:
    """End to end with the scripted ears: the word, heard at its end, halts the session."""
    clip = families.render(VOICE, word)
    # The first move cue: the canceller has learned the room by then, and the cue does not
    # itself say the word (the safety note says "pain", and the guard takes it for the coach's).
    first_move = [next(s for s in segments if s.kind == "move")]
    at = safety.pick_play_time(first_move, "cue", safety.word_seconds(clip), random.Random(1))
    spec = safety.TrySpec(
        "echo -6 dB", VOICE, word, "cue", at, backend=safety.SCRIPTED, coach_cache=coach_cache
    )
    result = safety.run_try(spec)
    assert result.word_end == pytest.approx(safety.word_end(at, clip))
    assert (result.heard_text, result.heard_command) == (word, word)
    assert result.halt_state == state
    assert result.halted_in_time
    assert result.right_action
    assert result.latency == pytest.approx(0.0, abs=0.05)


def test_recording_recognizer_keeps_hits_and_utterances() -> None:
    """Hits pass through unchanged and are kept; a recognizer's verdicts name the utterances."""
    inner = ScriptedRecognizer([(0.01, "stop")])
    inner.verdicts = [  # type: ignore[attr-defined]
        (SimpleNamespace(start_seconds=0.2, end_seconds=0.5), SimpleNamespace(text="Pang")),
        (SimpleNamespace(start_seconds=2.0, end_seconds=2.4), SimpleNamespace(text="Stop.")),
    ]
    ears = safety.RecordingRecognizer(inner)
    with ears:
        hits = ears.feed(np.zeros(FRAME_SAMPLES, dtype=np.float32))
    assert [h.text for h in hits] == [h.text for h in ears.hits] == ["stop"]
    assert ears.utterances(after=1.0) == ["2.0-2.4: 'Stop.'"]
    assert safety.RecordingRecognizer(ScriptedRecognizer([])).utterances(after=0.0) == []


@pytest.mark.skipif(not talk.talk_voices(), reason="no voice family renders here")
def test_television_talk_fills_the_time_at_the_level_asked() -> None:
    track = talk.talk_track(12.0, -40.0)
    assert track
    assert track[-1].end_seconds >= 12.0
    for before, after in zip(track, track[1:], strict=False):
        # One speaker at a time, with a short gap: a conversation, not a crowd.
        gap = after.start_seconds - before.end_seconds
        assert talk.GAP_SECONDS[0] <= gap <= talk.GAP_SECONDS[1]
    assert [talk.voiced_dbfs(s.samples) for s in track] == pytest.approx([-40.0] * len(track))
