"""The simulated room, the echo canceller and the self-hearing guard, on real rendered speech."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tests.conftest import SimulateFn
from voicecoach.app.selfhearing import ECHO_TAIL_SECONDS, SelfHearingGuard
from voicecoach.audio.delay import DelayEstimator
from voicecoach.audio.echo import EchoCanceller, EchoSettings, echo_return_loss_db
from voicecoach.audio.espeak import Voice, synthesize
from voicecoach.audio.room import NOMINAL_SPEECH_DBFS, Room, RoomSettings, UserSpeech
from voicecoach.events import Heard
from voicecoach.frames import FRAME_SAMPLES, RATE_HZ, Samples, rms_dbfs, split_frames
from voicecoach.speech.tts import Pyttsx3Synthesizer
from voicecoach.speech.vad import Segment, Segmenter, SegmenterSettings, silero
from voicecoach.spoken import PAIN_TEXT, RATING_TEXT

CUES = [
    "Lie on your back with your knees bent and your feet flat on the floor.",
    "Draw your right knee toward your chest, and hold it there gently.",
    "Slowly lower the leg and rest. Breathe in, and breathe out.",
    "Now the left knee. Keep your lower back relaxed against the floor.",
]


@pytest.fixture(scope="module")
def coach_speech(tmp_path_factory: pytest.TempPathFactory) -> Samples:
    """About fifteen seconds of the coach's real rendered voice."""
    with Pyttsx3Synthesizer(cache_dir=tmp_path_factory.mktemp("tts")) as tts:
        return np.concatenate([tts.render(c) for c in CUES * 2])


def _through_room(
    coach: Samples, room: Room, echo: EchoCanceller | None = None
) -> tuple[Samples, Samples]:
    """Play ``coach`` in the room the way the runner does; returns (mic, cleaned)."""
    mic, speaker = room.microphone(), room.speaker()
    heard, cleaned = [], []
    played = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    for frame in split_frames(coach):
        captured = mic.read()
        heard.append(captured)
        cleaned.append(echo.process(captured, played) if echo else captured)
        speaker.play(frame)
        played = frame
    return np.concatenate(heard), np.concatenate(cleaned)


def test_room_echo_has_the_set_delay_and_gain() -> None:
    room = Room(RoomSettings(echo_gain_db=-6.0, echo_delay_seconds=0.05, reverb_seconds=0.0))
    click = np.zeros(RATE_HZ // 2, dtype=np.float32)
    click[0] = 1.0
    heard, _ = _through_room(click, room)
    assert int(np.argmax(np.abs(heard))) == int(0.05 * RATE_HZ)
    assert float(np.max(np.abs(heard))) == pytest.approx(10 ** (-6 / 20), rel=1e-3)


def test_room_places_speech_and_noise_at_the_asked_snr() -> None:
    tone = (0.1 * np.sin(np.arange(RATE_HZ) * 2 * np.pi * 300 / RATE_HZ)).astype(np.float32)
    room = Room(RoomSettings(noise_snr_db=10.0), [UserSpeech(1.0, tone)])
    room.record()
    _through_room(np.zeros(3 * RATE_HZ, dtype=np.float32), room)
    recorded = room.recorded()
    noise = recorded[:RATE_HZ]
    both = recorded[RATE_HZ : 2 * RATE_HZ]
    assert rms_dbfs(noise) == pytest.approx(rms_dbfs(tone) - 10.0, abs=0.5)
    assert rms_dbfs(both) > rms_dbfs(noise) + 9.0


def test_canceller_removes_the_coach_from_the_microphone(coach_speech: Samples) -> None:
    echo = EchoCanceller(EchoSettings(comfort_noise_dbfs=None))
    heard, cleaned = _through_room(coach_speech, Room(RoomSettings(echo_gain_db=0.0)), echo)
    last_five = slice(len(heard) - 5 * RATE_HZ, len(heard))
    assert echo_return_loss_db(heard[last_five], cleaned[last_five]) > 25.0
    assert echo.converged


def test_canceller_keeps_the_person_while_the_coach_talks(coach_speech: Samples) -> None:
    person = (0.05 * np.sin(np.arange(RATE_HZ) * 2 * np.pi * 440 / RATE_HZ)).astype(np.float32)
    at_seconds = len(coach_speech) / RATE_HZ - 2.0
    room = Room(RoomSettings(echo_gain_db=-6.0), [UserSpeech(at_seconds, person)])
    _, cleaned = _through_room(coach_speech, room, EchoCanceller())
    start = int(at_seconds * RATE_HZ)
    kept = cleaned[start : start + RATE_HZ]
    assert rms_dbfs(kept) == pytest.approx(rms_dbfs(person), abs=1.5)


@pytest.mark.parametrize("delay_seconds", [0.03, 0.115, 0.32])
def test_delay_estimator_finds_the_device_delay(
    coach_speech: Samples, delay_seconds: float
) -> None:
    room = Room(RoomSettings(echo_gain_db=-6.0, echo_delay_seconds=delay_seconds))
    estimator = DelayEstimator()
    mic, speaker = room.microphone(), room.speaker()
    played = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    found: list[tuple[float, int]] = []
    for k, frame in enumerate(split_frames(coach_speech)):
        lag = estimator.feed(mic.read(), played)
        if lag is not None:
            found.append((k * FRAME_SAMPLES / RATE_HZ, lag))
        speaker.play(frame)
        played = frame
    # One answer, within two seconds of speech, to the sample (the direct path is the peak).
    assert len(found) == 1, found
    at_seconds, lag = found[0]
    assert at_seconds <= 2.5
    # The runner hands the canceller the frame played one step earlier, so the delay it must
    # bridge is the room's delay less that frame.
    assert lag == int(round(delay_seconds * RATE_HZ)) - FRAME_SAMPLES


@pytest.mark.parametrize("moved_at_seconds", [8.0, 11.3, 14.7, 19.1])
def test_delay_estimator_follows_a_stream_that_moved_within_two_seconds(
    coach_speech: Samples, moved_at_seconds: float
) -> None:
    # A PulseAudio stream's latency moved from 100 to 128 ms in the middle of a session; until
    # the estimator follows it, the canceller works from the old delay and the echo comes
    # through.
    before, after = int(0.1 * RATE_HZ), int(0.128 * RATE_HZ)
    coach = coach_speech.astype(np.float64)
    moved = int(moved_at_seconds * RATE_HZ)
    mic = np.zeros(len(coach))
    mic[before:moved] = 0.5 * coach[: moved - before]
    mic[moved:] = 0.5 * coach[moved - after : len(coach) - after]
    estimator = DelayEstimator()
    found: list[tuple[float, int]] = []
    frames = zip(split_frames(mic.astype(np.float32)), split_frames(coach_speech), strict=True)
    doubted: list[float] = []
    for k, (heard, played) in enumerate(frames):
        lag = estimator.feed(heard, played)
        at_seconds = (k + 1) * FRAME_SAMPLES / RATE_HZ
        if lag is not None:
            found.append((at_seconds, lag))
        if estimator.in_doubt:
            doubted.append(at_seconds)
    assert [lag for _, lag in found] == [before, after]
    assert found[1][0] - moved_at_seconds <= 2.0, found
    # Half a second before that, it already doubts the old delay (the runner's cue to ask
    # about nothing heard over the coach), and it never doubts it before the move.
    assert moved_at_seconds < doubted[0] <= found[1][0] - 0.5


def test_delay_estimator_says_nothing_without_the_coach_talking() -> None:
    estimator = DelayEstimator()
    noise = np.random.default_rng(0).normal(0.0, 0.01, 10 * RATE_HZ).astype(np.float32)
    quiet = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    assert all(estimator.feed(frame, quiet) is None for frame in split_frames(noise))
    assert estimator.delay_samples is None


def test_canceller_follows_a_device_delay_longer_than_its_filter(coach_speech: Samples) -> None:
    # 320 ms is beyond the 200 ms filter: only the measured bulk delay can cancel this echo.
    room = Room(RoomSettings(echo_gain_db=0.0, echo_delay_seconds=0.32))
    echo = EchoCanceller(EchoSettings(comfort_noise_dbfs=None))
    heard, cleaned = _through_room(coach_speech, room, echo)
    last_five = slice(len(heard) - 5 * RATE_HZ, len(heard))
    # The measured 300 ms (the room's 320 ms less the frame of hand-over) less the 20 ms margin.
    assert echo.bulk_delay_seconds == pytest.approx(0.28, abs=0.001)
    assert echo_return_loss_db(heard[last_five], cleaned[last_five]) > 25.0
    assert echo.converged


def test_canceller_relearns_the_second_it_measured_the_delay_on(coach_speech: Samples) -> None:
    # Learning again from nothing when the delay is found costs the person the first seconds
    # in which "stop" over the coach could work; replaying the kept second gains them back.
    cleaned_by = {}
    for passes in (0, 2):
        echo = EchoCanceller(EchoSettings(relearn_passes=passes, comfort_noise_dbfs=None))
        heard, cleaned_by[passes] = _through_room(coach_speech, Room(RoomSettings()), echo)
    third = slice(2 * RATE_HZ, 3 * RATE_HZ)
    loss_db = {p: echo_return_loss_db(heard[third], c[third]) for p, c in cleaned_by.items()}
    assert loss_db[2] > loss_db[0] + 4.0, loss_db


def test_the_person_talking_over_the_coach_does_not_undo_what_the_canceller_learnt(
    coach_speech: Samples,
) -> None:
    """A "pain" said over the coach: learning from it left 8 dB of echo loss for the next
    second (30 dB before), and the coach's words came through into the person's utterance;
    frozen during double talk, the loss stays near 30 dB."""
    frozen_db = _loss_after_a_word_db(coach_speech, EchoSettings())
    # A detector that never fires is the canceller as it was.
    learning_db = _loss_after_a_word_db(coach_speech, EchoSettings(double_talk_db=200.0))
    assert frozen_db >= 25.0
    assert learning_db <= 15.0


def _loss_after_a_word_db(coach_speech: Samples, settings: EchoSettings) -> float:
    """Echo loss in the second after a word said over the coach, through a digital loop."""
    word = synthesize("pain", Voice("mb-en1", 150, 50)).astype(np.float64)
    said_at = int(0.75 * len(coach_speech))
    after = slice(said_at + len(word), said_at + len(word) + RATE_HZ)
    return _digital_loop_loss_db(coach_speech, settings, after, (said_at, word))


def _digital_loop_loss_db(
    coach_speech: Samples,
    settings: EchoSettings,
    judged: slice,
    person: tuple[int, np.ndarray] | None = None,
) -> float:
    """Echo loss over ``judged`` in a digital loop (as the null sink's), with the person's
    samples added at a sample index if given."""
    coach = coach_speech.astype(np.float64)
    delay = int(0.12 * RATE_HZ)
    echo_at_mic = 0.7 * np.concatenate([np.zeros(delay), coach])[: len(coach)]
    said = np.zeros(len(coach))
    if person is not None:
        said_at, word = person
        said[said_at : said_at + len(word)] = word
    canceller = EchoCanceller(settings)
    mic = split_frames((echo_at_mic + said).astype(np.float32))
    cleaned = np.concatenate(
        [canceller.process(m, p) for m, p in zip(mic, split_frames(coach_speech), strict=False)]
    )
    residual = cleaned[judged] - said[judged]
    return float(10 * np.log10(np.mean(echo_at_mic[judged] ** 2) / np.mean(residual**2)))


def test_the_coach_alone_is_not_taken_for_double_talk(coach_speech: Samples) -> None:
    """Compared frame by frame with the echo it predicted, the quiet edges of the coach's own
    syllables looked like double talk and froze the filter while it was still learning; against
    the predicted echo's recent level, the filter learns as fast as one that never freezes."""
    judged = slice(6 * RATE_HZ, 8 * RATE_HZ)
    settings = EchoSettings(comfort_noise_dbfs=None)
    frozen_db = _digital_loop_loss_db(coach_speech, settings, judged)
    never_db = _digital_loop_loss_db(coach_speech, replace(settings, double_talk_db=200.0), judged)
    assert frozen_db >= never_db - 2.0, (frozen_db, never_db)


def test_canceller_settles_and_takes_the_echo_under_the_noise_of_a_noisy_room(
    coach_speech: Samples,
) -> None:
    """Steady noise 10 dB under the echo: learning from all of it left the echo only 10 dB
    down, as loud as the noise, and the canceller never counted as settled (so everything said
    over the coach was thrown away); learning only from what stands above the noise, it settles
    and the echo ends well under the noise."""
    settings = RoomSettings(echo_gain_db=-6.0, noise_snr_db=10.0, speech_dbfs=-26.0)
    echo = EchoCanceller(EchoSettings(comfort_noise_dbfs=None))
    heard, cleaned = _through_room(coach_speech, Room(settings), echo)
    # The same room without its noise (same seed, same echo path) gives the echo alone.
    echo_alone, _ = _through_room(coach_speech, Room(replace(settings, noise_snr_db=None)))
    noise = heard - echo_alone
    last_five = slice(len(heard) - 5 * RATE_HZ, len(heard))
    left = cleaned[last_five] - noise[last_five]
    loss_db = rms_dbfs(echo_alone[last_five]) - rms_dbfs(left)
    assert echo.converged
    assert loss_db >= 15.0, loss_db
    assert rms_dbfs(left) <= rms_dbfs(noise[last_five]) - 4.0


def test_a_word_after_the_coach_in_a_noisy_room_is_cut_out(coach_speech: Samples) -> None:
    """Silero's recurrent state went deaf over the coach's residual in a noisy room: a "pain"
    14 dB above the noise scored under 0.12 and was never cut out. Reset after 2 s with no
    utterance open, the detector finds it."""
    word = synthesize("pain", Voice("mb-en1", 150, 50))
    word = word * np.float32(10 ** ((NOMINAL_SPEECH_DBFS - rms_dbfs(word)) / 20))
    said_at_seconds = len(coach_speech) / RATE_HZ + 0.5
    settings = RoomSettings(echo_gain_db=-6.0, noise_snr_db=10.0, speech_dbfs=NOMINAL_SPEECH_DBFS)
    room = Room(settings, [UserSpeech(said_at_seconds, word)])
    then_quiet = np.concatenate([coach_speech, np.zeros(2 * RATE_HZ, dtype=np.float32)])
    _, cleaned = _through_room(then_quiet, room, EchoCanceller())

    def cut_near_the_word(segmenter: Segmenter) -> list[Segment]:
        found = [s for f in split_frames(cleaned) for s in segmenter.feed(f)]
        return [s for s in found if abs(s.start_seconds - said_at_seconds) < 0.5]

    assert cut_near_the_word(Segmenter(silero()))
    assert not cut_near_the_word(Segmenter(silero(), SegmenterSettings(reset_seconds=1e9)))


def test_canceller_is_not_converged_before_it_has_heard_the_coach() -> None:
    echo = EchoCanceller()
    quiet = np.zeros(FRAME_SAMPLES, dtype=np.float32)
    for _ in range(100):
        echo.process(quiet, quiet)
    assert not echo.converged


def test_guard_discounts_what_the_coach_was_saying_then() -> None:
    guard = SelfHearingGuard()
    guard.said(10.0, "How bad is the pain, from zero to ten?", 3.0)
    assert guard.is_own("pain", 11.6)
    assert guard.speaking(12.5)
    assert not guard.is_own("pain", 20.0)
    assert not guard.is_own("stop", 11.6)
    assert guard.discounted == 1


@pytest.mark.parametrize("question", [PAIN_TEXT, RATING_TEXT])
def test_a_prompt_answer_of_ten_is_not_the_coachs_own_ten(question: str) -> None:
    """The questions name the scale first, so a quick "ten" (ending 0.7 s after the question)
    is too far from the coach's own "ten" to be taken for it; when the question ended with
    "ten", this answer was discounted as the coach's echo."""
    guard = SelfHearingGuard()
    # 8.26 s: PAIN_TEXT rendered by the default voice; RATING_TEXT by letters in proportion.
    seconds = 8.26 * len(question) / len(PAIN_TEXT)
    guard.said(10.0, question, seconds)
    assert not guard.is_own("ten", 10.0 + seconds + 0.7)
    # The coach's own "ten" of the anchored scale is heard back as the coach's.
    ten_ends = 10.0 + seconds * (question.index(" ten,") + 4) / len(question)
    assert guard.is_own("ten", ten_ends)


def test_words_begun_after_the_coach_fell_quiet_are_the_persons() -> None:
    """ "Say stop, pain, or carry on": a prompt "pain" ends within the echo window of the
    coach's own, and in steady noise the canceller never counts as converged; when the words
    began after the coach and its echo tail, they are the person's either way."""
    guard = SelfHearingGuard()
    guard.said(10.0, "Is something wrong? Say stop, pain, or carry on.", 3.0)
    pain_ends = 12.0
    assert guard.is_own_voice("pain", pain_ends + 1.0, True)
    assert guard.is_own_voice("pain", pain_ends + 1.0, True, started=12.9)
    assert not guard.is_own_voice("pain", pain_ends + 1.0, True, started=13.0 + 0.6)
    # Near the coach, with the canceller still learning, anything may be its echo.
    assert guard.is_own_voice("stop", 14.2, False, started=13.7)
    # Words that began in a quiet moment but ran on into the next cue may hold its echo...
    guard.said(15.0, "Pause. Breathe in.", 1.5)
    assert guard.is_own_voice("pause", 15.7, True, started=14.8)
    # ...and the echo arrives as late as the device delay the canceller measured.
    assert guard.is_own_voice("pause", 14.6, True, started=13.6, echo_delay_seconds=0.3)
    assert not guard.is_own_voice("pause", 14.6, True, started=13.6)


def test_guard_discounts_the_coachs_inflections_of_a_command() -> None:
    """The coach answers "stop" with "Stopping here": heard back, that is the coach's "stop"."""
    guard = SelfHearingGuard()
    guard.said(10.0, "Stopping here. Slowly come back to a comfortable position.", 4.0)
    assert guard.is_own("stop", 11.0)
    # Short words must match whole: "on" (of "go on") is no echo of "only".
    guard.said(20.0, "Only go as far as is comfortable.", 3.0)
    assert not guard.is_own("go on", 21.0)


def test_guard_discounts_the_end_of_a_coachs_word() -> None:
    """The canceller can take a word's start and leave its end: the coach's "now" came back
    written "Ow", which is pain."""
    guard = SelfHearingGuard()
    guard.said(10.0, "Get emergency help now, from an emergency department.", 4.0)
    assert guard.is_own("ow", 11.5)
    assert not guard.is_own("ow", 20.0)
    # A word is no echo of a longer word it merely starts: "ow" is not the coach's "own".
    guard.said(30.0, "Go at your own pace.", 2.0)
    assert not guard.is_own("ow", 31.0)


def test_guard_forgets_words_that_were_cut_off() -> None:
    guard = SelfHearingGuard()
    guard.said(0.0, "Paused. Relax where you are. Say resume when you are ready.", 4.0)
    guard.cut(1.0)
    assert not guard.is_own("resume", 2.5)
    assert not guard.speaking(3.0)


def test_carry_on_heard_while_the_coach_talks_does_not_move_the_session_on(
    simulate: SimulateFn,
) -> None:
    """A check ends "say stop, pain, or carry on", and what the echo canceller left of it was
    heard as "carry on": the session carried on by itself. Only a "carry on" that ends after
    the coach has finished moves the session on; a "stop" over the coach still stops it."""
    guard = SelfHearingGuard()
    rec = simulate([(40.0, "?"), (41.0, "carry on"), (50.0, "carry on")], guard=guard)
    heard = [(e.t, e.command) for e in rec.events if isinstance(e, Heard)]
    assert heard == [(40.0, "check"), (50.0, "resume")]
    stopped = simulate([(40.0, "?"), (41.0, "stop")], guard=SelfHearingGuard())
    assert [e.command for e in stopped.events if isinstance(e, Heard)] == ["check", "stop"]


def test_the_coach_is_talking_until_its_echo_has_died_away() -> None:
    guard = SelfHearingGuard()
    guard.said(10.0, "Is something wrong? Say stop, pain, or carry on.", 3.0)
    assert guard.talking(12.9)
    assert guard.talking(13.0 + ECHO_TAIL_SECONDS)
    assert not guard.talking(13.1 + ECHO_TAIL_SECONDS)
    assert not guard.talking(9.9)
