"""The bench: metrics on known inputs, and an end-to-end run on a tiny corpus."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import shutil
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from speech_audio import needs_mbrola

from bench import (
    answers,
    channel,
    corpus,
    evaluate,
    human,
    metrics,
    report,
    run,
    selection,
    selftrigger,
    system,
    targets,
)
from bench.metrics import Detected, Row
from voicecoach.audio.room import Room, RoomSettings
from voicecoach.commands import Command, Parsed, number_value
from voicecoach.fakes import ScriptedRecognizer
from voicecoach.frames import FRAME_SAMPLES, FRAME_SECONDS, RATE_HZ, silence, to_int16_bytes

needs_testdata = pytest.mark.skipif(
    not human.TESTDATA.is_dir(), reason="needs Debian's pocketsphinx-testdata"
)


def _burst(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    return (0.1 * rng.standard_normal(int(seconds * RATE_HZ))).astype(np.float32)


def _clip_with_word(lead: float, word: float, tail: float) -> np.ndarray:
    return np.concatenate([silence(lead), _burst(word), silence(tail)]).astype(np.float32)


def _row(expected: str | None, detected: list[Detected], word_end: float | None = None) -> Row:
    return Row("heldout", "command" if expected else "ordinary", "t", "v", "clean", expected,
               3600.0, 1.0, word_end, detected)  # fmt: skip


def test_word_end_is_where_the_speech_stops() -> None:
    samples = _clip_with_word(0.5, 0.4, 1.0)
    end = metrics.word_end_seconds(samples)
    assert end == pytest.approx(0.9, abs=0.011)


def test_known_command_at_known_time_gives_recall_and_latency() -> None:
    samples = _clip_with_word(0.5, 0.4, 1.0)
    recognizer = evaluate.Counting(ScriptedRecognizer([(1.1, "pain")]))
    detected, cpu, seconds = evaluate.detect(recognizer, samples, numbers=False)
    word_end = metrics.word_end_seconds(samples)
    assert word_end is not None
    row = _row("pain", detected, word_end)
    assert metrics.recall_per_command([row]) == {"pain": {"clips": 1, "heard": 1}}
    # Accepted at the end of the frame that releases the hit: 1.1 s rounded up to a frame.
    accepted = np.ceil(1.1 / FRAME_SECONDS - 1e-9) * FRAME_SECONDS
    # ...plus the wall time the recognizer took over that frame (microseconds for a scripted one,
    # more if the machine is busy, so only a loose upper bound).
    [latency] = metrics.latencies([row])
    assert accepted - word_end - 1e-9 <= latency < accepted - word_end + 0.1
    assert seconds == pytest.approx(len(samples) / RATE_HZ + 1.0)
    assert cpu >= 0.0


def test_time_spent_deciding_counts_as_latency() -> None:
    samples = _clip_with_word(0.5, 0.4, 1.0)
    slow = evaluate.Counting(ScriptedRecognizer([(1.1, "pain")], decide_seconds=0.2))
    detected, _, _ = evaluate.detect(slow, samples, numbers=False)
    frame_end = np.ceil(1.1 / FRAME_SECONDS - 1e-9) * FRAME_SECONDS
    assert [d.label for d in detected] == ["pain"]
    assert detected[0].accepted_seconds >= frame_end + 0.2


def test_a_clip_without_a_command_gives_no_false_alarm() -> None:
    samples = _clip_with_word(0.5, 2.0, 1.0)
    detected, _, seconds = evaluate.detect(
        evaluate.Counting(ScriptedRecognizer([])), samples, numbers=False
    )
    row = _row(None, detected)
    row.audio_seconds = seconds
    fa = metrics.false_alarms([row], "ordinary")
    assert fa["alarms"] == 0
    assert fa["per_hour"] == 0.0
    assert fa["clips"] == 1


def test_numbers_are_not_commands_when_not_expected() -> None:
    samples = _clip_with_word(0.2, 0.3, 0.5)
    recognizer = evaluate.Counting(ScriptedRecognizer([(0.6, "three")]))
    detected, _, _ = evaluate.detect(recognizer, samples, numbers=False)
    assert detected == []


def test_false_alarms_per_hour() -> None:
    rows = [_row(None, [Detected("stop", 1.0), Detected("pause", 2.0)]), _row(None, [])]
    fa = metrics.false_alarms(rows, "ordinary")
    assert fa["per_hour"] == pytest.approx(1.0)
    assert fa["percent_clips"] == pytest.approx(50.0)


def test_confusions_count_a_mislabeled_clip() -> None:
    heard_as_pause = _row("pain", [Detected("pause", 1.0)])
    right = _row("pain", [Detected("pain", 1.0)])
    wrong_number = _row("number:3", [Detected("number:2", 1.0)])
    rows = [heard_as_pause, right, wrong_number]
    assert metrics.confusions(rows) == {"pain -> pause": 1, "number -> number:2": 1}
    assert metrics.pain_as_other(rows) == 1
    assert metrics.recall_per_command(rows)["pain"] == {"clips": 2, "heard": 1}


def test_percentiles_on_fixed_numbers() -> None:
    values = [float(v) for v in range(1, 21)]
    assert metrics.percentile(values, 50) == 10.0
    assert metrics.percentile(values, 95) == 19.0
    assert metrics.percentile(values, 100) == 20.0
    assert metrics.percentile([], 50) is None
    summary = metrics.latency_summary([0.1, 0.2, 0.3, 0.4])
    assert summary == {"n": 4, "median_ms": 200.0, "p95_ms": 400.0, "max_ms": 400.0}


def test_a_target_reports_by_how_much_it_is_missed() -> None:
    result = {"splits": {}, "cost": {"start_warm_seconds": 2.0}}
    start = next(t for t in targets.TARGETS if t.metric.startswith("start"))
    checked = targets.check(result, "all", start)
    assert checked["met"] is False
    assert checked["gap"] == pytest.approx(0.5)


def _level_db(samples: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(samples[RATE_HZ // 4 : -RATE_HZ // 4])) + 1e-12))


def _tone(hz: float, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return (0.3 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


@pytest.mark.skipif(shutil.which("sox") is None, reason="needs sox")
def test_the_telephone_band_keeps_the_voice_band_and_drops_the_rest() -> None:
    voice_band = _tone(1000.0)
    line = channel.telephone(voice_band)
    assert len(line) == len(voice_band)
    assert _level_db(line) == pytest.approx(_level_db(voice_band), abs=1.0)
    # mu-law's error is spread over the band, some 35 dB under the tone.
    power = np.abs(np.fft.rfft(line)) ** 2
    tone = power[990:1011].sum()  # 1 Hz bins
    assert 10 * np.log10(tone / (power.sum() - tone)) > 25.0
    assert _level_db(voice_band) - _level_db(channel.telephone(_tone(100.0))) > 15.0
    assert _level_db(voice_band) - _level_db(channel.telephone(_tone(5000.0))) > 40.0


def _above_4_khz_db(samples: np.ndarray) -> float:
    power = np.abs(np.fft.rfft(samples)) ** 2
    high = power[np.fft.rfftfreq(len(samples), 1 / RATE_HZ) > 4000].sum()
    return float(10 * np.log10(high / power.sum() + 1e-30))


@pytest.mark.skipif(
    shutil.which("espeak-ng") is None or shutil.which("sox") is None, reason="needs espeak-ng, sox"
)
def test_a_clip_in_the_phone_condition_is_its_clean_speech_through_the_line() -> None:
    clean = next(i for i in selection.select(selection.TINY) if i.clip.utterance.group == "command")
    phone = evaluate.BenchClip(clean.clip, channel.PHONE_CONDITION)
    wide, line = clean.audio(room_seconds=1.0), phone.audio(room_seconds=1.0)
    assert len(line) == len(wide)
    assert _above_4_khz_db(wide) > -40.0
    assert _above_4_khz_db(line) < _above_4_khz_db(wide) - 30.0


def test_the_full_bench_hears_every_clip_through_the_telephone_band_too() -> None:
    assert channel.PHONE_CONDITION in selection.FULL.conditions
    target = next(t for t in targets.TARGETS if t.metric == "recall, telephone band")
    result = {"splits": {"pico": {"phone": {"recall": {"pause": {"clips": 4, "heard": 3}}}}}}
    assert target.measure(result, "pico") == pytest.approx(75.0)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng")
def test_the_bench_runs_end_to_end_on_a_tiny_corpus(tmp_path: Path) -> None:
    items = selection.select(selection.TINY)
    assert {i.condition for i in items} == {"clean"}
    assert len({i.clip.voice for i in items}) == 2
    recorded = tmp_path / "recorded"
    recorded.mkdir()
    (recorded / "reading.raw").write_bytes(to_int16_bytes(_burst(0.5)))
    result = run.run_backend(
        "sphinx", items, jobs=0, session_gains_db=(), session_seconds=0.0,
        measure_start=False, rows_dir=tmp_path, people=human.recordings(recorded),
    )  # fmt: skip
    assert result["human"]["summary"]["recordings"] == 1
    assert set(result["splits"]) == {"tune", "heldout"}
    heldout = result["splits"]["heldout"]["clean"]
    assert sum(v["clips"] for v in heldout["recall"].values()) > 0
    assert result["cost"]["load_seconds"] > 0
    results = {
        "backends": {"sphinx": result, "vosk": {"available": False, "reason": "no model"}},
        "command": "test", "mode": "tiny", "date": "today", "hardware_line": "here",
        "notes": [], "corpus_line": run.corpus_line(items), "wall_minutes": 0.0,
    }  # fmt: skip
    text = run.write(results, tmp_path)
    assert "held-out voices" in text
    assert "Not measured: no model" in text
    assert "### Recorded people" in text
    assert json.loads((tmp_path / "results.json").read_text())["mode"] == "tiny"
    assert len((tmp_path / "bench-sphinx.jsonl").read_text().splitlines()) == len(items)
    assert report.targets_table(result["targets"])[0].startswith("| metric")


@needs_testdata
def test_recorded_people_give_no_command_and_no_wrong_score(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    for name in ("004.wav", "cards.transcription"):  # "five five"
        shutil.copy(human.TESTDATA / "cards" / name, cards / name)
    (recording,) = human.recordings(tmp_path)
    assert (recording.said, recording.numbers()) == ("five five", {5})
    (row,) = human.hear("whisper", human.recordings(tmp_path))
    assert row["commands"] == []
    assert row["scores"]
    assert set(row["scores"]) == {5}
    assert row["wrong_scores"] == []
    assert "0 false commands" in human.lines([row])[-1]


def test_every_recording_of_the_package_is_listed_with_what_is_said_where_known() -> None:
    if not human.TESTDATA.is_dir():
        pytest.skip("needs Debian's pocketsphinx-testdata")
    found = {r.name: r for r in human.recordings()}
    assert len(found) == 14
    assert found["005"].numbers() == {8, 4, 7}
    assert found["goforward"].said == "go forward ten meters"
    assert sum(r.said is None for r in found.values()) == 2  # numbers.raw, something.raw


@pytest.mark.skipif(not human.HEDGEWARS.is_dir(), reason="needs Debian's hedgewars-data")
def test_a_games_voices_are_named_by_their_lines_and_cries_of_pain_ask_for_pain() -> None:
    found = {r.name: r for r in human.hedgewars()}
    assert {name.split()[1] for name in found} == set(human.HEDGEWARS_VOICES)
    ouch, ow, alone = (found[f"hedgewars British {n}"] for n in ("Ouch", "Ow1", "Leavemealone"))
    assert (ouch.wanted(), ow.said, ow.wanted()) == ("pain", "ow", "pain")
    assert (alone.said, alone.wanted()) == ("leave me alone", None)
    assert found["hedgewars British Laugh"].said == "(laugh)"
    assert not ouch.scores_judged  # an actor may say other words than the file's name


@pytest.mark.skipif(not human.KLETTRES.is_dir(), reason="needs Debian's klettres-data")
def test_letters_and_words_are_named_by_what_is_said() -> None:
    found = {r.name: r for r in human.klettres()}
    assert len(found) > 80
    assert found["klettres en H"].said == "H"
    assert found["klettres en_GB dog"].wanted() is None


def test_a_command_a_recording_asks_for_is_not_a_false_alarm() -> None:
    row = {"seconds": 1.0, "scores": [], "wrong_scores": [], "questions": []}
    rows = [
        {**row, "name": "cry", "said": "ow", "wanted": "pain", "commands": ["pain"]},
        {**row, "name": "grunt", "said": "ow", "wanted": "pain", "commands": [],
         "questions": [""]},
        {**row, "name": "drat", "said": "drat", "wanted": None, "commands": ["pause"]},
    ]  # fmt: skip
    s = human.summary(rows)
    assert (s["false_commands"], s["asking"], s["asked_heard"]) == (1, 2, 1)
    assert (s["cries"], s["cries_asked"]) == (2, 1)
    text = "\n".join(human.lines(rows))
    assert "**pause (false)**" in text
    assert "asked about a cry" in text
    assert text.splitlines()[-1].startswith("All: 3 recordings")


def test_the_simulated_rooms_cpu_time_is_counted_apart_and_changes_nothing_heard() -> None:
    timed_room, plain_room = Room(RoomSettings()), Room(RoomSettings())
    mic, speaker, cost = selftrigger.timed_ports(timed_room, until_seconds=1.0)
    plain_mic, plain_speaker = plain_room.microphone(until_seconds=1.0), plain_room.speaker()
    coach = _burst(1.0)
    heard: list[np.ndarray] = []
    expected: list[np.ndarray] = []
    for k in range(int(1.0 / FRAME_SECONDS)):
        frame = coach[k * FRAME_SAMPLES : (k + 1) * FRAME_SAMPLES]
        speaker.play(frame)
        plain_speaker.play(frame)
        got, want = mic.read(), plain_mic.read()
        assert got is not None
        assert want is not None
        heard.append(got)
        expected.append(want)
    assert mic.read() is None
    assert np.array_equal(np.concatenate(heard), np.concatenate(expected))
    assert np.abs(np.concatenate(heard)).max() > 0.01  # the echo reached the microphone
    assert 0.0 < cost.cpu_seconds < 1.0


def test_answers_without_a_number_are_said_by_every_scored_voice_in_each_condition() -> None:
    found = answers.answers()
    voices = {a.clip.voice for a in found}
    assert {a.clip.split for a in found} == {"tune", "heldout", "piper", "pico", "rhvoice"}
    assert len(found) == len(answers.ANSWER_TEXTS) * len(voices) * len(answers.CONDITIONS)
    assert all(a.clip.utterance.numbers and a.clip.utterance.expected is None for a in found)
    assert not any(number_value(w) is not None for t in answers.ANSWER_TEXTS for w in t.split())
    assert len(answers.answers(every=3)) == -(-len(found) // 3)
    assert answers.ACTED_ON_WHILE_ASKED == {"numb", "repeat", "stop"}  # the table's headings


def test_an_answer_heard_as_a_score_is_counted_and_shown_with_what_was_written() -> None:
    row = {"voice": "mb-us1", "split": "tune", "numb": [], "commands": [], "ignored": []}
    rows = [
        {**row, "text": "I'm fine", "condition": "clean", "scores": [5],
         "written": ["Five. (transcript)"]},
        {**row, "text": "I'm fine", "condition": "phone", "scores": [], "written": []},
        {**row, "text": "hmm", "condition": "clean", "scores": [], "numb": ["numb"],
         "written": ["Hmm. (scored)"]},
        {**row, "text": "it's gone", "condition": "clean", "scores": [], "ignored": ["resume"],
         "written": ["It's gone. (scored)"]},
    ]  # fmt: skip
    text = "\n".join(answers.lines(rows))
    assert "| tune | clean | 3 | 1 | 1 | 0 | 1 |" in text
    assert "| tune | phone | 1 | 0 | 0 | 0 | 0 |" in text
    assert "All: 4 answers: 1 heard as a score, 1 as numb or tingling, 0 as stop" in text
    assert '- "I\'m fine" heard as 5: 1' in text
    assert '- "it\'s gone" heard as resume: 1' in text
    assert "mb-us1 clean: 'hmm' written ['Hmm. (scored)']" in text


@needs_mbrola
def test_answers_of_someone_in_trouble_are_never_heard_as_a_score() -> None:
    # A "really bad" heard as a low score would carry the session on. The bench heard none of
    # these five as a score in 2,040 answers; here the tuning MBROLA voices say them clean.
    trouble = {"it's bad", "it's really bad", "it's getting worse", "quite a lot", "it's sharp"}
    found = [
        a
        for a in answers.answers()
        if a.clip.utterance.text in trouble
        and a.clip.voice.startswith("mb-")
        and a.clip.split == "tune"
        and a.condition == "clean"
    ]
    assert len(found) == 15
    # The same voices, rates and pitches giving a score, so that hearing nothing cannot pass.
    seven = corpus.Utterance("number", "seven", True, Parsed(Command.NUMBER, 7))
    said = [
        evaluate.BenchClip(dataclasses.replace(a.clip, utterance=seven), a.condition)
        for a in found[:3]
    ]
    rows = answers.hear("whisper", found + said)
    assert [r["scores"] for r in rows[:-3]] == [[]] * len(found)
    assert not any(r["numb"] for r in rows)
    assert sum(r["scores"] == [7] for r in rows[-3:]) >= 2  # 3 of 3 when written


def test_corpus_files_written_at_once_by_several_workers_are_whole(tmp_path: Path) -> None:
    """Two test workers on an empty cache render the same noise track at once: with one
    temporary name for both, one of them found its file gone when it went to rename it."""
    path = tmp_path / "noise" / "pink.wav"
    samples = np.random.default_rng(0).uniform(-0.5, 0.5, RATE_HZ).astype(np.float32)
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: corpus._write_wav(path, samples), range(64)))
    assert np.allclose(corpus.read_wav(path), samples, atol=1e-4)
    assert [p.name for p in path.parent.iterdir()] == ["pink.wav"]


def test_a_worker_process_reports_its_own_peak_memory_not_the_bench_before_it() -> None:
    """The bench forks a worker that then starts Python afresh; ``getrusage`` would report
    what the bench held when it forked (346 MB in a full run) as the worker's peak."""
    held = np.ones(300 * 1024 * 1024 // 8)  # the bench, holding 300 MB of results
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        worker_mb = pool.submit(system.peak_rss_mb).result()
    assert system.peak_rss_mb() >= 300.0
    assert worker_mb < 200.0, f"{worker_mb:.0f} MB with {held.nbytes >> 20} MB in the bench"
