"""The session state machine: a table of transitions, then exact event sequences."""

from __future__ import annotations

import pytest

from tests.conftest import OPENING_SECONDS, SimulateFn, finish_steps, walk_to_count
from voicecoach.actions import Expect, Say, StopSpeaking
from voicecoach.app.runner import Runner
from voicecoach.clock import VirtualClock
from voicecoach.commands import Command, Parsed
from voicecoach.events import (
    BackRating,
    CommandHandled,
    PainReported,
    RepDone,
    SessionEnded,
    StateChanged,
)
from voicecoach.fakes import EstimatedSynthesizer, NullSpeaker, ScriptedRecognizer, SilentMicrophone
from voicecoach.plan import build_plan
from voicecoach.program import Program
from voicecoach.session import Session
from voicecoach.settings import PainBands, SessionSettings
from voicecoach.spoken import (
    CHECK_QUESTIONS,
    CHECK_REMINDER,
    CHECK_UNANSWERED,
    GENTLE_TEXT,
    MILD_REMINDER,
    OFFER_REMINDER,
    OFFER_TEXT,
    OFFER_UNANSWERED,
    PAIN_AGAIN_TEXT,
    PAIN_TEXT,
    PAUSE_REMINDER,
    PAUSE_TEXT,
    RATING_REMINDER,
    RATING_THANKS,
    RATING_UNANSWERED,
    STOP_TEXT,
    end_pain_text,
    score_reply,
)
from voicecoach.walk import Mode

END_FOR_PAIN = end_pain_text("pain", "999")
CHECK_STOP = CHECK_QUESTIONS[Command.STOP]
CHECK_PAIN = CHECK_QUESTIONS[Command.PAIN]
END_FOR_NUMBNESS = end_pain_text("numbness or tingling", "999")


def _in_mode(program: Program, mode: Mode) -> tuple[Session, float]:
    session = Session(build_plan(program))
    t = walk_to_count(session)
    setup = {
        "paused": Parsed(Command.PAUSE),
        "pain_check": Parsed(Command.PAIN),
        "ending": Parsed(Command.STOP),
        "checking": Parsed(Command.CHECK, about=Command.STOP),
    }
    if mode in setup:
        session.command(setup[mode], t)
    elif mode == "rating":
        t = finish_steps(session, t)
    assert session.mode == mode
    return session, t


@pytest.mark.parametrize(
    ("mode", "command", "next_mode", "says"),
    [
        ("running", Parsed(Command.PAUSE), "paused", PAUSE_TEXT),
        ("running", Parsed(Command.STOP), "ending", STOP_TEXT),
        ("running", Parsed(Command.PAIN), "pain_check", PAIN_TEXT),
        # "numb" is an answer to the pain question: heard in ordinary speech, it changes nothing.
        ("running", Parsed(Command.NUMB), "running", None),
        ("running", Parsed(Command.SKIP), "running", "Moving on. Bridge."),
        ("running", Parsed(Command.REPEAT), "running", "Bring your right knee"),
        ("running", Parsed(Command.RESUME), "running", None),
        ("running", Parsed(Command.NUMBER, 7), "running", None),
        ("paused", Parsed(Command.RESUME), "running", "Okay, here we go. Bring your right knee"),
        # A stray "yes" must never restart movement.
        ("paused", Parsed(Command.YES), "paused", None),
        ("paused", Parsed(Command.PAUSE), "paused", None),
        ("paused", Parsed(Command.STOP), "ending", STOP_TEXT),
        ("paused", Parsed(Command.PAIN), "pain_check", PAIN_TEXT),
        ("paused", Parsed(Command.REPEAT), "paused", PAUSE_TEXT),
        ("paused", Parsed(Command.NUMB), "paused", None),
        (
            "pain_check",
            Parsed(Command.NUMBER, 0),
            "paused",
            "Thank you. I heard zero out of ten, which sounds mild",
        ),
        (
            "pain_check",
            Parsed(Command.NUMBER, 3),
            "paused",
            "Thank you. I heard three out of ten, which sounds mild",
        ),
        (
            "pain_check",
            Parsed(Command.NUMBER, 4),
            "paused",
            "Thank you. I heard four out of ten. If I heard it wrong, say pain. We will leave",
        ),
        (
            "pain_check",
            Parsed(Command.NUMBER, 5),
            "paused",
            "Thank you. I heard five out of ten. If I heard it wrong, say pain. We will leave",
        ),
        (
            "pain_check",
            Parsed(Command.NUMBER, 6),
            "ending",
            "Thank you. I heard six out of ten. " + END_FOR_PAIN,
        ),
        (
            "pain_check",
            Parsed(Command.NUMBER, 10),
            "ending",
            "Thank you. I heard ten out of ten. " + END_FOR_PAIN,
        ),
        ("pain_check", Parsed(Command.NUMB), "ending", END_FOR_NUMBNESS),
        ("pain_check", Parsed(Command.STOP), "ending", STOP_TEXT),
        ("pain_check", Parsed(Command.REPEAT), "pain_check", PAIN_TEXT),
        ("pain_check", Parsed(Command.PAUSE), "pain_check", None),
        ("pain_check", Parsed(Command.RESUME), "pain_check", None),
        ("rating", Parsed(Command.NUMBER, 2), "ending", RATING_THANKS),
        ("rating", Parsed(Command.NUMB), "ending", END_FOR_NUMBNESS),
        ("rating", Parsed(Command.PAIN), "pain_check", PAIN_TEXT),
        ("rating", Parsed(Command.PAUSE), "rating", None),
        # Act, check, ignore: a half-heard safety word, or the person's speech not understood,
        # stops the exercise and asks; the exercise goes on only after a clear "carry on".
        ("running", Parsed(Command.CHECK, about=Command.STOP), "checking", CHECK_STOP),
        ("running", Parsed(Command.CHECK, about=Command.PAIN), "checking", CHECK_PAIN),
        ("running", Parsed(Command.CHECK), "checking", "Is something wrong?"),
        ("paused", Parsed(Command.CHECK), "paused", None),
        ("pain_check", Parsed(Command.CHECK), "pain_check", None),
        ("rating", Parsed(Command.CHECK), "rating", None),
        ("checking", Parsed(Command.STOP), "ending", STOP_TEXT),
        ("checking", Parsed(Command.PAIN), "pain_check", PAIN_TEXT),
        ("checking", Parsed(Command.PAUSE), "paused", PAUSE_TEXT),
        ("checking", Parsed(Command.RESUME), "running", "Okay, here we go. Bring your right knee"),
        # "Yes" to "did you say stop?" is the stop it asked about.
        ("checking", Parsed(Command.YES), "ending", STOP_TEXT),
        ("checking", Parsed(Command.REPEAT), "checking", CHECK_STOP),
        ("checking", Parsed(Command.CHECK), "checking", None),
        ("checking", Parsed(Command.SKIP), "checking", None),
        ("checking", Parsed(Command.NUMBER, 2), "checking", None),
        ("checking", Parsed(Command.START_OVER), "checking", None),
        ("ending", Parsed(Command.CHECK), "ending", None),
        ("ending", Parsed(Command.PAIN), "ending", None),
        ("ending", Parsed(Command.NUMB), "ending", None),
        ("ending", Parsed(Command.RESUME), "ending", None),
    ],
)
def test_transition_table(
    tiny_program: Program, mode: Mode, command: Parsed, next_mode: Mode, says: str | None
) -> None:
    session, t = _in_mode(tiny_program, mode)
    out = session.command(command, t + 0.1)
    assert session.mode == next_mode
    spoken = [o.text for o in out if isinstance(o, Say)]
    handled = [o for o in out if isinstance(o, CommandHandled)]
    assert len(handled) == 1
    if says is None:
        assert spoken == []
        assert handled[0].ignored
    else:
        assert len(spoken) == 1
        assert spoken[0].startswith(says)
        assert not handled[0].ignored


def test_a_check_stops_the_coach_freezes_the_walk_and_listens_for_answers(
    tiny_program: Program,
) -> None:
    session, t = _in_mode(tiny_program, "running")
    step = session.index
    out = session.command(Parsed(Command.CHECK, about=Command.PAIN), t)
    assert StopSpeaking() in out
    assert Expect(answers=True) in out
    session.speech_ended(t + 3)
    # Frozen: however long the question waits, no step is taken.
    assert session.tick(t + 10) == []
    assert session.index == step
    assert Expect() in session.command(Parsed(Command.RESUME), t + 11)


def test_an_unanswered_check_says_how_to_carry_on_and_stays_paused(tiny_program: Program) -> None:
    session, t = _in_mode(tiny_program, "checking")
    session.speech_ended(t + 3)
    assert session.tick(t + 17.9) == []
    out = session.tick(t + 18.0)
    assert Say(CHECK_UNANSWERED) in out
    assert Expect() in out
    assert session.mode == "paused"
    session.speech_ended(t + 25)
    # It stays paused: a reminder every minute, never the exercise by itself.
    assert session.tick(t + 85) == [Say(CHECK_REMINDER)]
    assert session.mode == "paused"


@pytest.mark.parametrize(
    ("about", "mode"), [(None, "paused"), (Command.PAUSE, "paused"), (Command.PAIN, "pain_check")]
)
def test_yes_to_a_check_does_what_it_asked_about(
    tiny_program: Program, about: Command | None, mode: Mode
) -> None:
    session, t = _in_mode(tiny_program, "running")
    session.command(Parsed(Command.CHECK, about=about), t)
    session.command(Parsed(Command.YES), t + 2)
    assert session.mode == mode


def test_commands_that_speak_first_cut_the_coach_off(tiny_program: Program) -> None:
    session, t = _in_mode(tiny_program, "running")
    out = session.command(Parsed(Command.PAUSE), t)
    assert isinstance(out[0], CommandHandled)
    assert isinstance(out[1], StopSpeaking)


def test_pain_check_listens_for_numbers_then_stops(tiny_program: Program) -> None:
    session, t = _in_mode(tiny_program, "running")
    assert Expect(numbers=True) in session.command(Parsed(Command.PAIN), t)
    assert Expect() in session.command(Parsed(Command.NUMBER, 2), t + 1)


def test_no_pain_answer_asks_once_more_then_ends_the_session(tiny_program: Program) -> None:
    session, t = _in_mode(tiny_program, "pain_check")
    session.speech_ended(t + 5)
    assert session.tick(t + 24.9) == []
    assert session.tick(t + 25.0) == [Say(PAIN_AGAIN_TEXT)]
    session.speech_ended(t + 30)
    assert session.tick(t + 49.9) == []
    out = session.tick(t + 50.0)
    assert PainReported(t + 50.0, "knee-to-chest", "right", 1, None, "no answer") in out
    assert Say(end_pain_text("no answer", "999")) in out
    assert session.mode == "ending"


def test_a_moderate_score_rests_until_continue(tiny_program: Program) -> None:
    session, t = _in_mode(tiny_program, "pain_check")
    out = session.command(Parsed(Command.NUMBER, 4), t + 1)
    assert Say(GENTLE_TEXT.format(score="four")) in out
    session.speech_ended(t + 10)
    # While it rests, the coach only reminds the person how to go on.
    assert session.tick(t + 300) == [Say(MILD_REMINDER)]
    assert session.mode == "paused"
    out = session.command(Parsed(Command.RESUME), t + 301)
    spoken = [o.text for o in out if isinstance(o, Say)]
    assert spoken == ["Okay, here we go. Bridge. Keep your feet flat on the floor."]


@pytest.mark.parametrize(
    ("number", "said"),
    [
        ("999", "call nine nine nine for an"),
        ("911", "call nine one one for an"),
        ("112", "call one one two for an"),
    ],
)
def test_the_end_for_pain_says_the_emergency_number(
    tiny_program: Program, number: str, said: str
) -> None:
    session = Session(build_plan(tiny_program), SessionSettings(emergency_number=number))
    t = walk_to_count(session)
    session.command(Parsed(Command.PAIN), t)
    out = session.command(Parsed(Command.NUMBER, 7), t + 1)
    spoken = [o.text for o in out if isinstance(o, Say)]
    assert said in spoken[0]
    assert "emergency department now" in spoken[0]


@pytest.mark.parametrize("number", ["", "9", "1234567", "99a", "٩٩٩"])
def test_a_bad_emergency_number_is_refused(number: str) -> None:
    from voicecoach.errors import UsageError

    with pytest.raises(UsageError, match="emergency number"):
        SessionSettings(emergency_number=number)


def test_pain_bands_are_configurable(tiny_program: Program) -> None:
    settings = SessionSettings(pain=PainBands(continue_max=1, gentle_max=2))
    session = Session(build_plan(tiny_program), settings)
    t = walk_to_count(session)
    session.command(Parsed(Command.PAIN), t)
    session.command(Parsed(Command.NUMBER, 3), t + 1)
    assert session.mode == "ending"


def test_bad_pain_bands_are_refused() -> None:
    from voicecoach.errors import UsageError

    with pytest.raises(UsageError, match="continue-max < gentle-max"):
        PainBands(continue_max=5, gentle_max=5)


# -- whole sessions through the real runner, with scripted words ------------------------


def _states(rec: object) -> list[str]:
    return [e.state for e in rec.events if isinstance(e, StateChanged)]  # type: ignore[attr-defined]


def test_completed_session_does_every_rep(simulate: SimulateFn, tiny_program: Program) -> None:
    rec = simulate()
    reps = [e for e in rec.events if isinstance(e, RepDone)]
    assert len(reps) == build_plan(tiny_program).total_reps == 8
    assert [(r.exercise, r.side, r.set, r.rep) for r in reps[:4]] == [
        ("knee-to-chest", "right", 1, 1),
        ("knee-to-chest", "left", 1, 1),
        ("knee-to-chest", "right", 1, 2),
        ("knee-to-chest", "left", 1, 2),
    ]
    end = rec.events[-1]
    assert isinstance(end, SessionEnded)
    assert end.reason == "completed"
    assert _states(rec)[-1] == "finished"
    assert rec.events[0].type == "start"


def test_pause_then_resume_restarts_the_hold(simulate: SimulateFn) -> None:
    rec = simulate([(OPENING_SECONDS + 15.0, "pause"), (OPENING_SECONDS + 20.0, "go on")])
    records = rec.records()
    paused_at = next(i for i, r in enumerate(records) if r.get("state") == "paused")
    assert [r["type"] for r in records[paused_at - 2 : paused_at]] == ["heard", "command"]
    assert records[paused_at]["t"] == OPENING_SECONDS + 15.0
    said = [r["text"] for r in rec.records() if r["type"] == "say"]
    resumed = said.index("Okay, here we go. Bring your right knee toward your chest.")
    # The hold starts again from one after resuming.
    assert said[resumed + 1 : resumed + 4] == ["one", "two", "three"]
    assert rec.events[-1].reason == "completed"  # type: ignore[union-attr]


def test_pause_freezes_timers(simulate: SimulateFn) -> None:
    rec = simulate([(OPENING_SECONDS + 15.0, "pause"), (OPENING_SECONDS + 300.0, "resume")])
    records = rec.records()
    after_pause = [r for r in records if r["t"] >= OPENING_SECONDS + 15.0 and r["type"] == "say"]
    assert after_pause[0]["text"] == PAUSE_TEXT
    # Nothing but reminders until the resume: no step moved on while paused.
    reminders = [r for r in after_pause[1:] if r["t"] < OPENING_SECONDS + 300.0]
    assert len(reminders) == 4
    assert {r["text"] for r in reminders} == {PAUSE_REMINDER}
    assert after_pause[1 + len(reminders)]["t"] == OPENING_SECONDS + 300.0


def test_stop_ends_with_reason_stopped(simulate: SimulateFn) -> None:
    rec = simulate([(OPENING_SECONDS + 15.0, "please stop")])
    records = rec.records()
    assert [r["type"] for r in records[-6:]] == [
        "heard",
        "command",
        "state",
        "say",
        "say_end",
        "end",
    ]
    assert records[-1]["reason"] == "stopped"
    assert records[-5] == {
        "t": OPENING_SECONDS + 15.0,
        "type": "command",
        "command": "stop",
        "state": "running",
        "ignored": False,
    }
    assert records[-4]["state"] == "stopped"
    assert records[-3]["text"] == STOP_TEXT


def test_skip_goes_to_the_next_exercise(simulate: SimulateFn) -> None:
    rec = simulate([(OPENING_SECONDS + 15.0, "skip")])
    reps = [e for e in rec.events if isinstance(e, RepDone)]
    assert [r.exercise for r in reps] == ["bridge"] * 4


def test_repeat_says_the_cue_again(simulate: SimulateFn) -> None:
    rec = simulate([(OPENING_SECONDS + 12.0, "repeat")])
    said = [r["text"] for r in rec.records() if r["type"] == "say"]
    assert said.count("Bring your right knee toward your chest.") == 3  # twice in rep 1, rep 2


@pytest.mark.parametrize(
    ("score", "reason", "bridge_reps", "after"),
    [
        ("two", "completed", 4, "Thank you. I heard two out of ten, which sounds mild."),
        ("five", "completed", 1, "Thank you. I heard five out of ten. If I heard it wrong"),
        ("eight", "pain", 0, "Thank you. I heard eight out of ten. " + END_FOR_PAIN),
        ("it feels numb", "pain", 0, END_FOR_NUMBNESS),
    ],
)
def test_pain_bands(
    simulate: SimulateFn, score: str, reason: str, bridge_reps: int, after: str
) -> None:
    rec = simulate(
        [
            (OPENING_SECONDS + 15.0, "ouch pain"),
            (OPENING_SECONDS + 25.0, score),
            (OPENING_SECONDS + 40.0, "continue"),
        ]
    )
    said = [r["text"] for r in rec.records() if r["type"] == "say"]
    assert PAIN_TEXT in said
    assert said[said.index(PAIN_TEXT) + 1].startswith(after)
    pains = [e for e in rec.events if isinstance(e, PainReported)]
    assert len(pains) == 1
    assert pains[0].exercise == "knee-to-chest"
    reps = [e for e in rec.events if isinstance(e, RepDone) and e.exercise == "bridge"]
    assert len(reps) == bridge_reps
    assert rec.events[-1].reason == reason  # type: ignore[union-attr]


def test_a_misheard_score_is_said_back_and_corrected_by_saying_pain(simulate: SimulateFn) -> None:
    """A "nine" heard as "five" is said back; "pain" asks again and the right band follows."""
    rec = simulate(
        [
            (OPENING_SECONDS + 15.0, "pain"),
            (OPENING_SECONDS + 25.0, "five"),
            (OPENING_SECONDS + 35.0, "pain"),
            (OPENING_SECONDS + 45.0, "nine"),
        ]
    )
    said = [r["text"] for r in rec.records() if r["type"] == "say"]
    assert any(text.startswith("Thank you. I heard five out of ten.") for text in said)
    assert said.count(PAIN_TEXT) == 2
    assert said[-1] == "Thank you. I heard nine out of ten. " + END_FOR_PAIN
    scores = [e.score for e in rec.events if isinstance(e, PainReported)]
    assert scores == [5, 9]
    assert rec.events[-1].reason == "pain"  # type: ignore[union-attr]


def test_the_reply_to_every_score_is_rendered_before_the_session(tiny_program: Program) -> None:
    """The replies name the score, so there is one per score, in the bands of this session."""
    settings = SessionSettings(pain=PainBands(continue_max=2, gentle_max=6))
    runner = Runner(
        session=Session(build_plan(tiny_program), settings),
        clock=VirtualClock(),
        mic=SilentMicrophone(),
        speaker=NullSpeaker(),
        synthesizer=EstimatedSynthesizer(),
        recognizer=ScriptedRecognizer([]),
    )
    phrases = runner.phrases()
    assert score_reply(2, "continue") in phrases
    assert score_reply(6, "gentle") in phrases
    assert score_reply(7, "end") in phrases
    assert score_reply(7, "gentle") not in phrases


def test_pain_with_no_answer_asks_again_then_ends_after_twenty_seconds(
    simulate: SimulateFn,
) -> None:
    rec = simulate([(OPENING_SECONDS + 15.0, "pain")])
    records = rec.records()
    ends = [r["t"] for r in records if r["type"] == "say_end" and r["t"] > OPENING_SECONDS + 15]
    again = next(r for r in records if r["type"] == "say" and r["text"] == PAIN_AGAIN_TEXT)
    assert again["t"] == pytest.approx(ends[0] + 20.0, abs=0.021)
    pain = next(r for r in records if r["type"] == "pain")
    assert pain["score"] is None
    assert pain["t"] == pytest.approx(ends[1] + 20.0, abs=0.021)
    assert records[-1]["reason"] == "pain"


def test_nonsense_commands_are_logged_and_ignored(simulate: SimulateFn) -> None:
    rec = simulate(
        [
            (OPENING_SECONDS + 5.0, "resume"),
            (OPENING_SECONDS + 6.0, "seven"),
            (OPENING_SECONDS + 7.0, "banana"),
            (OPENING_SECONDS + 8.0, "numb"),
        ]
    )
    ignored = [e for e in rec.events if isinstance(e, CommandHandled) and e.ignored]
    assert [e.command for e in ignored] == ["resume"]
    # Numbers and symptoms are not listened for outside a score question, like "yes".
    heard = [r for r in rec.records() if r["type"] == "heard"]
    assert [(r["text"], r["command"]) for r in heard] == [("resume", "resume"), ("banana", None)]
    assert rec.events[-1].reason == "completed"  # type: ignore[union-attr]


def test_rating_is_asked_and_stored_at_the_end(tiny_program: Program) -> None:
    session = Session(build_plan(tiny_program))
    t = finish_steps(session, walk_to_count(session))
    assert session.mode == "rating"
    out = session.command(Parsed(Command.NUMBER, 2), t + 1)
    assert BackRating(t + 1, 2) in out
    session.speech_ended(t + 2)
    assert session.finished


def test_unanswered_rating_is_asked_again_then_finishes(tiny_program: Program) -> None:
    session = Session(build_plan(tiny_program))
    t = finish_steps(session, walk_to_count(session))
    session.speech_ended(t)
    assert session.tick(t + 14.9) == []
    assert session.tick(t + 15.0) == [Say(RATING_REMINDER)]
    session.speech_ended(t + 20.0)
    assert session.tick(t + 34.9) == []
    out = session.tick(t + 35.0)
    assert Say(RATING_UNANSWERED) in out
    assert session.mode == "ending"
    assert SessionEnded(t + 40.0, "completed", t + 40.0) in session.speech_ended(t + 40.0)
    assert not any(isinstance(o, BackRating) for o in out)


@pytest.mark.parametrize(
    ("answer", "first_exercise"),
    [("yes", "bridge"), ("start over", None), (None, None)],
)
def test_resume_offer(
    tiny_program: Program, answer: str | None, first_exercise: str | None
) -> None:
    from voicecoach.commands import parse

    resumed = build_plan(tiny_program, start_exercise="bridge")
    session = Session(build_plan(tiny_program), resume_plan=resumed)
    out = session.start(0.0)
    assert session.mode == "offer"
    assert any(isinstance(o, Say) and o.text == OFFER_TEXT for o in out)
    # "yes" and "start over" are listened for while the question is asked, and only then.
    assert Expect(answers=True) in out
    session.speech_ended(4.0)
    if answer is None:
        assert session.tick(19.0) == [Say(OFFER_REMINDER)]
        session.speech_ended(23.0)
        after = session.tick(38.0)
        assert Say(f"{OFFER_UNANSWERED} {session.current.text}") in after
    else:
        parsed = parse(answer)
        assert parsed is not None
        after = session.command(parsed, 5.0)
    assert Expect() in after
    assert session.mode == "running"
    assert session.current.kind == "intro"
    exercises = [s.exercise for s in session.steps if s.exercise]
    assert (exercises[0] == "bridge") == (first_exercise == "bridge")


def test_resume_without_asking_takes_the_resumed_plan(tiny_program: Program) -> None:
    resumed = build_plan(tiny_program, start_exercise="bridge")
    session = Session(build_plan(tiny_program), resume_plan=resumed, ask_resume=False)
    session.start(0.0)
    assert [s.exercise for s in session.steps if s.exercise][0] == "bridge"


@pytest.mark.parametrize(
    ("script", "reason", "symptoms"),
    [
        # Outside the pain question a heard "numb" changes nothing.
        ([(12.0, "numb"), (15.0, "my leg is tingling")], "completed", []),
        ([(15.0, "pause"), (20.0, "numb"), (25.0, "resume")], "completed", []),
        # Said with "pain", the pain is heard; the pain question then takes the symptom.
        ([(15.0, "pain, my leg is numb")], "pain", ["no answer"]),
        ([(15.0, "pain, my leg is numb"), (25.0, "tingling")], "pain", ["numbness or tingling"]),
    ],
)
def test_numb_ends_a_session_only_as_an_answer_to_the_pain_question(
    simulate: SimulateFn, script: list[tuple[float, str]], reason: str, symptoms: list[str]
) -> None:
    rec = simulate(script)
    assert rec.events[-1].reason == reason  # type: ignore[union-attr]
    assert [e.symptom for e in rec.events if isinstance(e, PainReported)] == symptoms
