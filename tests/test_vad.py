"""The segmenter: utterances cut from a stream by speech probability, and Silero on real audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from speech_audio import LIBRIVOX, needs_mbrola, needs_testdata, quiet, read_wav, speak

from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, rms_dbfs
from voicecoach.speech.vad import CHUNK_SECONDS, Segment, Segmenter, SegmenterSettings, silero


def loudness(chunk: Samples) -> float:
    """A stand-in detector for the timing tests: speech is anything louder than -40 dBFS."""
    return 1.0 if rms_dbfs(chunk) > -40 else 0.0


def tone(seconds: float) -> Samples:
    """A loud tone the stand-in detector takes for speech."""
    t = np.arange(int(seconds * RATE_HZ)) / RATE_HZ
    return (0.3 * np.sin(2 * np.pi * 300 * t)).astype(np.float32)


def segments_of(segmenter: Segmenter, samples: Samples) -> list[Segment]:
    """Every utterance the segmenter ends while ``samples`` stream through it."""
    padded = np.concatenate([samples, np.zeros(-len(samples) % FRAME_SAMPLES, np.float32)])
    found: list[Segment] = []
    for start in range(0, len(padded), FRAME_SAMPLES):
        found += segmenter.feed(padded[start : start + FRAME_SAMPLES])
    return found


def test_one_utterance_is_cut_at_its_speech_with_a_little_audio_before() -> None:
    settings = SegmenterSettings(preroll_seconds=0.2, end_quiet_seconds=0.2)
    found = segments_of(
        Segmenter(loudness, settings), np.concatenate([quiet(1), tone(0.5), quiet(1)])
    )
    assert len(found) == 1
    segment = found[0]
    assert segment.start_seconds == pytest.approx(1.0, abs=CHUNK_SECONDS)
    assert segment.end_seconds == pytest.approx(1.5, abs=CHUNK_SECONDS)
    assert segment.seconds == pytest.approx(0.5 + 0.2 + 0.2, abs=2 * CHUNK_SECONDS)
    assert not segment.cut


def test_a_short_gap_does_not_split_an_utterance_and_a_long_one_does() -> None:
    settings = SegmenterSettings(end_quiet_seconds=0.25)
    one = np.concatenate([quiet(1), tone(0.3), quiet(0.1), tone(0.3), quiet(1)])
    two = np.concatenate([quiet(1), tone(0.3), quiet(0.5), tone(0.3), quiet(1)])
    assert len(segments_of(Segmenter(loudness, settings), one)) == 1
    assert len(segments_of(Segmenter(loudness, settings), two)) == 2


@needs_mbrola
@pytest.mark.parametrize(
    ("text", "voice", "rate_wpm"), [("stop", "mb-en1", 200), ("skip", "mb-en1", 165)]
)
def test_a_short_clipped_word_is_an_utterance(
    text: str, voice: str, rate_wpm: int, tmp_path: Path
) -> None:
    # Only two or three of its chunks stand within 12 dB of its loudest: with 0.12 s of speech
    # required, these words were dropped as clicks.
    audio = speak(text, voice, tmp_path, rate_wpm)
    assert len(segments_of(Segmenter(silero()), audio)) == 1
    strict = SegmenterSettings(min_speech_seconds=0.12)
    assert segments_of(Segmenter(silero(), strict), audio) == []


def test_clicks_shorter_than_the_least_speech_are_dropped() -> None:
    settings = SegmenterSettings(min_speech_seconds=0.12)
    assert segments_of(Segmenter(loudness, settings), np.concatenate([tone(0.05), quiet(1)])) == []


def test_endless_talk_is_cut_into_utterances_of_the_longest_length() -> None:
    settings = SegmenterSettings(max_seconds=2.0, end_quiet_seconds=0.2)
    # Words 0.15 s long with 0.05 s between them: never quiet long enough to end.
    word = np.concatenate([tone(0.15), quiet(0.05)])
    talk = np.concatenate([quiet(1), *[word] * 25, quiet(1)])  # 5 s of talk
    found = segments_of(Segmenter(loudness, settings), talk)
    # Each cut keeps its last 0.25 s to start the next utterance, in case a word was split.
    assert [s.cut for s in found] == [True, True, False]
    assert all(s.seconds == pytest.approx(2.0, abs=2 * CHUNK_SECONDS) for s in found[:2])


def test_a_steady_sound_becomes_the_background_and_speech_above_it_is_heard() -> None:
    hum = tone(6.0) * np.float32(0.1)
    louder = np.concatenate([quiet(4.0), tone(0.5), quiet(1.5)])
    found = segments_of(Segmenter(loudness), hum + louder)
    assert [round(s.start_seconds) for s in found] == [4]


def test_quiet_chunks_skip_the_detector() -> None:
    calls: list[int] = []

    def counting(chunk: Samples) -> float:
        calls.append(1)
        return 0.0

    segments_of(Segmenter(counting, SegmenterSettings(gate_dbfs=-58)), quiet(2.0))
    assert calls == []


def test_reset_forgets_an_open_utterance_but_keeps_stream_time() -> None:
    segmenter = Segmenter(loudness)
    segments_of(segmenter, np.concatenate([quiet(1.0), tone(0.3)]))
    assert segmenter.in_speech
    segmenter.reset()
    assert not segmenter.in_speech
    found = segments_of(segmenter, np.concatenate([quiet(0.5), tone(0.4), quiet(1)]))
    assert len(found) == 1
    assert found[0].start_seconds == pytest.approx(1.3 + 0.5, abs=2 * CHUNK_SECONDS)


def test_an_utterance_carries_the_room_just_before_it() -> None:
    settings = SegmenterSettings(room_seconds=1.0, preroll_seconds=0.25)
    hum = tone(4.0) * np.float32(0.01)  # -50 dBFS: a room the stand-in detector calls quiet
    stream = hum + np.concatenate([quiet(2.5), tone(0.5), quiet(1.0)])
    (segment,) = segments_of(Segmenter(loudness, settings), stream)
    assert len(segment.room) == round(1.0 / CHUNK_SECONDS) * 512
    # The room ends where the utterance's audio (its preroll first) begins.
    begins = round(segment.start_seconds / CHUNK_SECONDS - round(0.25 / CHUNK_SECONDS)) * 512
    assert np.array_equal(segment.room, stream[begins - len(segment.room) : begins])
    assert np.array_equal(segment.samples, stream[begins : begins + len(segment.samples)])


def test_an_utterance_says_how_far_it_stood_above_the_room_and_if_the_room_talked() -> None:
    said = np.concatenate([quiet(3.0), tone(0.5), quiet(1.0)])  # its chunks at -13.5 dBFS
    (in_quiet,) = segments_of(Segmenter(loudness), said + tone(4.5) * np.float32(0.001))
    (in_noise,) = segments_of(Segmenter(loudness), said + tone(4.5) * np.float32(0.1))
    assert in_quiet.above_background_db == pytest.approx(60.0, abs=1.0)
    assert in_noise.above_background_db == pytest.approx(20.0, abs=1.0)
    # The stand-in detector takes the louder hum for speech: a room full of talk.
    assert (in_quiet.room_speech_probability, in_noise.room_speech_probability) == (0.0, 1.0)


@needs_mbrola
def test_silero_finds_a_spoken_word_where_it_is(speech_cache: Path) -> None:
    speech = speak("stop", "mb-us2", speech_cache)
    loud = [i for i in range(0, len(speech), 160) if rms_dbfs(speech[i : i + 160]) > -45]
    first_seconds, last_seconds = loud[0] / RATE_HZ, loud[-1] / RATE_HZ
    found = segments_of(Segmenter(silero()), speech)
    assert len(found) == 1
    assert found[0].start_seconds == pytest.approx(first_seconds, abs=0.1)
    # The release of the final "p" is over 12 dB below the vowel, so speech is taken to end
    # before it; the utterance's audio still holds it (it runs on for end_quiet_seconds).
    assert last_seconds - 0.2 <= found[0].end_seconds <= last_seconds + 0.1
    assert found[0].start_seconds + found[0].seconds >= last_seconds


def test_silero_hears_no_speech_in_noise() -> None:
    noise = np.random.default_rng(3).standard_normal(5 * RATE_HZ).astype(np.float32) * 0.03
    assert segments_of(Segmenter(silero()), noise) == []


@needs_testdata
def test_silero_cuts_recorded_reading_into_utterances() -> None:
    path = sorted(LIBRIVOX.glob("*.wav"))[0]
    found = segments_of(Segmenter(silero()), np.concatenate([read_wav(path), quiet(1)]))
    assert found
    assert all(s.seconds <= SegmenterSettings().max_seconds + 0.5 for s in found)
