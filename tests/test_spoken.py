"""What the coach says in whole simulated sessions: the spoken transcript, not the TOML alone."""

from __future__ import annotations

from dataclasses import replace

import pytest
from click.testing import CliRunner

from tests.conftest import OPENING_SECONDS, SimulateFn
from voicecoach.app.catalogue import resolve_program
from voicecoach.app.recorder import EventRecorder
from voicecoach.cli import main
from voicecoach.events import SayStarted, StateChanged
from voicecoach.plan import build_plan
from voicecoach.program import DEFAULT_SAFETY_NOTE, Program
from voicecoach.progression import effective_progression
from voicecoach.spoken import (
    MAX_SPOKEN_COUNTS,
    count_every_seconds,
    count_schedule,
    end_pain_text,
    number_words,
    transition,
)

BUILT_IN = ["gentle-start", "spine-stabilise", "strength", "three-for-chronic-pain"]
ANCHORS = "from zero, no pain, to ten, the worst pain you can imagine"


def _said(recorder: EventRecorder) -> list[str]:
    return [e.text for e in recorder.events if isinstance(e, SayStarted)]


def _opening(recorder: EventRecorder) -> str:
    """Everything said before the first exercise starts."""
    said: list[str] = []
    for event in recorder.events:
        if isinstance(event, StateChanged) and event.exercise is not None:
            break
        if isinstance(event, SayStarted):
            said.append(event.text)
    return " ".join(said)


@pytest.mark.parametrize("name", [*BUILT_IN, "no safety note"])
def test_every_opening_says_how_to_report_pain_and_where_to_go_for_the_urgent_signs(
    simulate: SimulateFn, tiny_program: Program, name: str
) -> None:
    program = (
        replace(tiny_program, safety_note=DEFAULT_SAFETY_NOTE)
        if name == "no safety note"
        else resolve_program(name)
    )
    # Stopped once the opening is over, which is all this test listens to.
    opening = _opening(simulate([(90.0, "stop")], program=program))
    for words in (
        "At any time, say stop, pause, or pain, and I will stop.",
        "numbness around your genitals or bottom",
        "trouble peeing or controlling your bowels",
        "weakness in both legs",
        "don't exercise: get emergency help now",
        "ambulance or an emergency department",
    ):
        assert words in opening


@pytest.mark.parametrize(
    ("heard", "fits"),
    [
        ("seven", "If this pain has not settled in a day or two, or keeps coming back"),
        ("it feels numb", "If this numbness or tingling has not settled in a day or two"),
        (None, "I did not hear an answer"),
    ],
)
def test_the_end_for_pain_says_what_the_signs_are_and_where_to_go(
    simulate: SimulateFn, heard: str | None, fits: str
) -> None:
    script = [(OPENING_SECONDS + 15.0, "pain")]
    if heard is not None:
        script.append((OPENING_SECONDS + 30.0, heard))
    last = _said(simulate(script))[-1]
    for words in (
        "numbness or tingling around your genitals or bottom",
        "new trouble peeing or controlling your bladder or bowels",
        "numbness, tingling or weakness in both legs",
        "call nine nine nine for an ambulance, or go to an emergency department now",
        "keep gently active",
        fits,
    ):
        assert words in last
    assert "before exercising again" not in last


def test_the_end_for_pain_fits_its_cause() -> None:
    assert "this pain" in end_pain_text("pain", "911")
    assert "this pain" not in end_pain_text("numbness or tingling", "911")
    assert "call nine one one" in end_pain_text("no answer", "911")


def test_both_pain_questions_carry_their_anchors(simulate: SimulateFn) -> None:
    said = _said(
        simulate(
            [
                (OPENING_SECONDS + 15.0, "pain"),
                (OPENING_SECONDS + 30.0, "two"),
                (OPENING_SECONDS + 50.0, "continue"),
            ]
        )
    )
    questions = [text for text in said if ANCHORS in text]
    # The end question is asked once more when it goes unanswered, with its anchors too.
    assert [q.rsplit(", ", 1)[-1] for q in questions[:2]] == [
        "how bad is the pain?",
        "how much pain do you have now?",
    ]
    assert not any("how is your back" in text for text in said)


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_change_of_position_gives_time_to_get_there(simulate: SimulateFn, name: str) -> None:
    program = resolve_program(name)
    position = {exercise.id: exercise.position for exercise in program.exercises}
    records = simulate(program=program).records()
    before = program.exercises[0].position
    changes = 0
    for index, record in enumerate(records):
        if record["type"] != "state" or record["state"] != "setup":
            continue
        after = position[str(record["exercise"])]
        if after != before:
            changes += 1
            # The transition is said first; the exercise's set-up waits until they are there.
            says = [r for r in records[index:] if r["type"] in ("say", "say_end")]
            said, end, following = says[0], says[1], says[2]
            assert said["text"].startswith("Take your time")
            assert float(following["t"]) - float(end["t"]) >= 20.0, said["text"]
        before = after
    assert changes == {"strength": 4, "three-for-chronic-pain": 2}.get(name, 0)


@pytest.mark.parametrize(
    ("name", "gets_up"),
    [
        ("gentle-start", True),
        ("spine-stabilise", True),
        ("strength", True),
        ("three-for-chronic-pain", False),
    ],
)
def test_the_closing_follows_the_last_position(
    simulate: SimulateFn, name: str, gets_up: bool
) -> None:
    said = _said(simulate(program=resolve_program(name)))
    closing = next(text for text in said if text.startswith("That is the end of today's"))
    if gets_up:
        assert "bend your knees, roll onto your side, and push yourself up with your arms" in (
            closing
        )
    else:
        assert "lie" not in closing.lower().split()
        assert "roll onto your side" not in closing
        assert "Stand still" in closing


@pytest.mark.parametrize(
    ("before", "after", "says", "seconds"),
    [
        ("quadruped", "standing", "from your hands and knees, hold a sturdy chair", 30.0),
        ("supine", "standing", "roll onto your side, come to hands and knees, and use a", 30.0),
        ("standing", "supine", "getting down to the floor", 30.0),
        ("standing", "seated", "sitting down on a sturdy chair", 20.0),
        ("prone", "seated", "use a chair to come up and sit on it", 30.0),
        ("supine", "prone", "roll onto your stomach", 20.0),
        ("quadruped", "side-lying", "Come down onto your side", 20.0),
    ],
)
def test_a_program_without_its_own_transition_gets_a_general_one(
    before: str, after: str, says: str, seconds: float
) -> None:
    text, given = transition(before, after)  # type: ignore[arg-type]
    assert says in text
    assert text.startswith("Take your time")
    assert given == seconds


@pytest.mark.parametrize(
    ("hold_seconds", "style", "numbers"),
    [
        (3, "up", "one two three"),
        (10, "down", "ten nine eight seven six five four three two one"),
        (12, "down", "twelve ten five four three two one"),
        (15, "up", "one five ten eleven twelve thirteen fourteen fifteen"),
        (30, "down", "thirty twenty-five twenty fifteen ten five four three two one"),
        (
            30,
            "up",
            "one five ten fifteen twenty twenty-five twenty-six twenty-seven twenty-eight "
            "twenty-nine thirty",
        ),
        (60, "down", "sixty fifty forty thirty twenty ten five four three two one"),
    ],
)
def test_long_holds_are_counted_every_five_seconds_then_the_last_five(
    hold_seconds: float, style: str, numbers: str
) -> None:
    every = count_every_seconds(hold_seconds)
    schedule = count_schedule(hold_seconds, style, every)  # type: ignore[arg-type]
    assert " ".join(text for text, _ in schedule) == numbers
    # Each number lasts until the next one is due, so the hold keeps its length.
    assert sum(seconds for _, seconds in schedule) == pytest.approx(hold_seconds)


@pytest.mark.parametrize("hold_seconds", [11, 37, 59.5, 61, 120, 299, 300])
@pytest.mark.parametrize("style", ["up", "down"])
def test_no_hold_says_more_than_twelve_numbers(hold_seconds: float, style: str) -> None:
    schedule = count_schedule(hold_seconds, style, count_every_seconds(hold_seconds))  # type: ignore[arg-type]
    assert len(schedule) <= MAX_SPOKEN_COUNTS == 12


COUNTS = {number_words(n) for n in range(1, 301)}


def _longest_count(said: list[str]) -> int:
    """The most numbers said in a row: a hold's count."""
    longest = run = 0
    for text in said:
        run = run + 1 if text in COUNTS else 0
        longest = max(longest, run)
    return longest


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("dose", ["base", "ceiling"])
def test_no_hold_in_a_session_says_more_than_twelve_numbers(
    simulate: SimulateFn, name: str, dose: str
) -> None:
    program = resolve_program(name)
    if dose == "ceiling":
        exercises = tuple(
            replace(ex, hold_seconds=effective_progression(ex).hold_max_seconds or 0.0)
            for ex in program.exercises
        )
        program = replace(program, exercises=exercises)
    said = _said(simulate(program=program))
    assert _longest_count(said) <= MAX_SPOKEN_COUNTS


@pytest.mark.parametrize(("every", "numbers"), [(None, 11), (1, 30), (10, 8)])
def test_a_program_may_set_how_often_a_hold_is_counted(
    tiny_program: Program, every: int | None, numbers: int
) -> None:
    knee = replace(tiny_program.exercises[0], hold_seconds=30, count_every_seconds=every)
    steps = build_plan(replace(tiny_program, exercises=(knee,))).steps
    first_hold = [s for s in steps if s.kind == "count" and s.rep == 1 and s.side == "right"]
    assert len(first_hold) == numbers


@pytest.mark.parametrize(
    ("name", "said", "not_said"),
    [
        ("strength", "Not for a flare-up: use the gentle programs until your back settles.", ""),
        ("strength", "a fall or a car accident, see a professional before you start", ""),
        ("strength", "If this hurts, lift only your arms.", ""),
        ("strength", "Squeeze your buttocks, and stand up tall.", "Squeeze, and stand"),
        ("strength", "lift your chest, and let your back dip", "curve the other way"),
        ("strength", "your face toward the floor", "eyes on the floor"),
        ("strength", "Stomach in, step your feet back, or keep your knees down.", ""),
        ("strength", "You start on your right side. Lie on your right side", "Lie on one side"),
        ("three-for-chronic-pain", "leg, leave this one out.", "eyes on the floor"),
        ("three-for-chronic-pain", "Slide forward, then straighten your arms", ""),
        ("spine-stabilise", "Your tailbone curls up slightly; your bottom stays down", "tip up"),
        ("spine-stabilise", "until your thighs are side by side", "level with your other"),
        ("gentle-start", "Gently press the back of your long knee toward the floor.", ""),
        (
            "gentle-start",
            "up to three is fine; at four or five we'll ease off",
            "no more than five",
        ),
    ],
)
def test_cues_work_with_eyes_closed_and_risky_moves_are_warned(
    simulate: SimulateFn, name: str, said: str, not_said: str
) -> None:
    transcript = " ".join(_said(simulate(program=resolve_program(name))))
    assert said in transcript
    assert not not_said or not_said not in transcript


def test_the_side_plank_gives_time_to_roll_over_between_sides(simulate: SimulateFn) -> None:
    records = simulate(program=resolve_program("strength")).records()
    says = [r for r in records if r["type"] in ("say", "say_end")]
    turns = [i for i, r in enumerate(says) if str(r.get("text", "")).startswith("Now the left")]
    assert turns
    for i in turns:
        assert "roll over onto your left side" in str(says[i]["text"])
        assert float(says[i + 2]["t"]) - float(says[i + 1]["t"]) >= 10.0


@pytest.mark.parametrize(
    ("option", "exit_code", "output"),
    [
        ([], 0, "call nine nine nine for an ambulance"),
        (["--emergency-number", "911"], 0, "call nine one one for an ambulance"),
        (["--emergency-number", "nine"], 2, "error: emergency number: need 2 to 6 digits"),
    ],
)
def test_simulate_says_the_emergency_number_it_is_given(
    option: list[str], exit_code: int, output: str
) -> None:
    args = ["simulate", "gentle-start", "--no-journal", "--heard", "80:pain", *option]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == exit_code, result.output
    assert output in result.output
