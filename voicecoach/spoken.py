"""What the coach says that no program file writes: opening, transitions, counts and endings."""

from __future__ import annotations

from typing import Literal

from voicecoach.commands import NUMBER_WORDS, Command
from voicecoach.program import Position
from voicecoach.settings import DEFAULT_EMERGENCY_NUMBER, PainBands, SessionSettings

_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def number_words(n: int) -> str:
    """English words for 0..999, as the coach counts them."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    hundreds, rest = divmod(n, 100)
    return f"{_ONES[hundreds]} hundred" + (f" and {number_words(rest)}" if rest else "")


def digit_words(number: str) -> str:
    """A phone number digit by digit ("nine nine nine"), as it is dialled, not as a quantity."""
    return " ".join(_ONES[int(digit)] for digit in number)


# --- the opening: said in every program, after its own safety note ---

#: The short version of the emergency signs, said before the first exercise.
EMERGENCY_OPENING = (
    "If you have numbness around your genitals or bottom, trouble peeing or controlling your "
    "bowels, or weakness in both legs, don't exercise: get emergency help now, from an "
    "ambulance or an emergency department."
)
HOW_TO_STOP = "At any time, say stop, pause, or pain, and I will stop."

#: Both questions about pain use the same anchored scale, so a score means the same thing.
PAIN_SCALE = "from zero, no pain, to ten, the worst pain you can imagine"

# --- the end of a session for pain ---

#: The urgent signs in plain words (NICE NG59: cauda equina syndrome).
EMERGENCY_SIGNS = (
    "numbness or tingling around your genitals or bottom, new trouble peeing or controlling "
    "your bladder or bowels, or numbness, tingling or weakness in both legs"
)

PainCause = Literal["pain", "numbness or tingling", "no answer"]

_WHAT_HAS_NOT_SETTLED: dict[PainCause, str] = {
    "pain": "this pain",
    "numbness or tingling": "this numbness or tingling",
    "no answer": "your back",
}


def end_pain_text(cause: PainCause, emergency_number: str) -> str:
    """Ending a session for pain: where to go for the emergency signs, and what to do next."""
    lead = "I did not hear an answer, so we" if cause == "no answer" else "We"
    what = _WHAT_HAS_NOT_SETTLED[cause]
    settled = "is not better" if cause == "no answer" else "has not settled"
    return (
        f"{lead} will end the session here. Rest in a comfortable position. "
        f"If you have {EMERGENCY_SIGNS}, call {digit_words(emergency_number)} for an "
        "ambulance, or go to an emergency department now. "
        "Otherwise, keep gently active with your everyday activities. "
        f"If {what} {settled} in a day or two, or keeps coming back, see a doctor or a "
        "physiotherapist."
    )


# --- changing position between exercises ---

_ON_THE_FLOOR: tuple[Position, ...] = ("supine", "prone", "quadruped", "side-lying")

#: Seconds given to get up from the floor or down to it, and to change position on the floor.
UP_OR_DOWN_SECONDS = 30.0
ON_THE_FLOOR_SECONDS = 20.0

_GET_UP = (
    "Take your time getting up: roll onto your side, come to hands and knees, and use a chair "
    "to stand. Keep your eyes open while standing."
)
_GET_UP_FROM_HANDS_AND_KNEES = (
    "Take your time getting up: from your hands and knees, hold a sturdy chair and use it to "
    "stand. Keep your eyes open while standing."
)
_GET_UP_TO_SIT = (
    "Take your time getting up: roll onto your side, come to hands and knees, and use a chair "
    "to come up and sit on it."
)
_GET_DOWN = (
    "Take your time getting down to the floor: hold a sturdy chair, lower yourself onto one "
    "knee, then the other, and put your hands on the floor."
)
_SETTLE: dict[Position, str] = {
    "supine": "Come onto your side, with your knees bent, then roll onto your back.",
    "prone": "Come onto your side, then roll onto your stomach.",
    "quadruped": "Come onto your hands and knees, hands under your shoulders.",
    "side-lying": "Come down onto your side, with your knees bent.",
}
_BETWEEN_CHAIR_AND_STANDING: dict[Position, str] = {
    "standing": "Take your time standing up, with your hands pushing on your thighs.",
    "seated": "Take your time sitting down on a sturdy chair, with your feet flat.",
}


def transition(before: Position, after: Position) -> tuple[str, float]:
    """What to say, and the seconds to give, to move from one exercise's position to the next."""
    floor_before, floor_after = before in _ON_THE_FLOOR, after in _ON_THE_FLOOR
    if floor_before and floor_after:
        return f"Take your time changing position. {_SETTLE[after]}", ON_THE_FLOOR_SECONDS
    if floor_after:
        return f"{_GET_DOWN} {_SETTLE[after]}", UP_OR_DOWN_SECONDS
    if floor_before and after == "seated":
        return _GET_UP_TO_SIT, UP_OR_DOWN_SECONDS
    if floor_before:
        up = _GET_UP_FROM_HANDS_AND_KNEES if before == "quadruped" else _GET_UP
        return up, UP_OR_DOWN_SECONDS
    return _BETWEEN_CHAIR_AND_STANDING[after], ON_THE_FLOOR_SECONDS


#: Said between the sides of an exercise lying on one side, with the seconds it takes.
ROLL_OVER = "Lower your hips, and roll over onto your {side} side. Take your time."
ROLL_OVER_SECONDS = 10.0


# --- the closing, which follows the last exercise's position ---

_DONE = "That is the end of today's session. Well done."
_GET_UP_SAFELY = (
    "When you are ready to get up, bend your knees, roll onto your side, and push yourself up "
    "with your arms. Take your time."
)
_CLOSING: dict[Position, str] = {
    "supine": f"{_DONE} Lie still for a moment and breathe. {_GET_UP_SAFELY}",
    "side-lying": f"{_DONE} Lie still for a moment and breathe. {_GET_UP_SAFELY}",
    "prone": (
        f"{_DONE} Rest on your stomach for a moment and breathe. When you are ready to get "
        "up, roll onto your side, bend your knees, and push yourself up with your arms. "
        "Take your time."
    ),
    "quadruped": (
        f"{_DONE} Sit back toward your heels for a moment and breathe. When you are ready, "
        "hold a sturdy chair and use it to stand. Take your time."
    ),
    "seated": f"{_DONE} Sit still for a moment and breathe. When you are ready, stand up slowly.",
    "standing": (
        f"{_DONE} Stand still for a moment and breathe slowly. Take your time before you walk on."
    ),
}


def closing(last: Position) -> str:
    """The closing words, for where the last exercise left the person."""
    return _CLOSING[last]


# --- counting a hold ---

#: The most numbers spoken in one hold: thirty numbers in a row are noise, not help.
MAX_SPOKEN_COUNTS = 12
#: Holds up to this many seconds are counted every second.
COUNT_EVERY_SECOND_MAX = 10
#: Wider spacings for longer holds, tried in order until the count fits ``MAX_SPOKEN_COUNTS``.
_COUNT_SPACINGS_SECONDS = (5, 10, 15, 20, 30, 60)
#: The last seconds of a hold are always counted one by one.
_FINAL_SECONDS = 5


def count_every_seconds(hold_seconds: float) -> int:
    """How often a hold is counted when the program does not say: every second for short holds,
    then every five seconds (wider for very long holds) and the last five."""
    whole = max(1, round(hold_seconds))
    if whole <= COUNT_EVERY_SECOND_MAX:
        return 1
    for every in _COUNT_SPACINGS_SECONDS:
        if len(_counted(whole, "up", every)) <= MAX_SPOKEN_COUNTS:
            return every
    return _COUNT_SPACINGS_SECONDS[-1]


def _counted(whole: int, style: Literal["up", "down"], every: int) -> list[tuple[int, int]]:
    """(second it is said at, number) for each number said in a hold of ``whole`` seconds."""
    numbers = range(1, whole + 1) if style == "up" else range(whole, 0, -1)
    first, final = (1, whole - _FINAL_SECONDS) if style == "up" else (whole, _FINAL_SECONDS + 1)

    def said(n: int) -> bool:
        in_final = n > final if style == "up" else n < final
        return every == 1 or n == first or n % every == 0 or in_final

    return [(second, n) for second, n in enumerate(numbers) if said(n)]


def count_schedule(
    hold_seconds: float, style: Literal["up", "down"], every: int
) -> list[tuple[str, float]]:
    """Each number said in a hold, and the seconds until the next one (or the hold's end)."""
    whole = max(1, round(hold_seconds))
    per_second = hold_seconds / whole
    counted = _counted(whole, style, every)
    ends = [second for second, _ in counted[1:]] + [whole]
    return [
        (number_words(n), (end - second) * per_second)
        for (second, n), end in zip(counted, ends, strict=True)
    ]


# -- what the session machine says -----------------------------------------------------------

PAUSE_TEXT = "Paused. Relax where you are. Say resume when you are ready."
PAUSE_REMINDER = (
    "We are still paused. Say resume when you are ready to go on, or say stop to finish for today."
)
PAUSE_TIMEOUT_TEXT = (
    "We have been paused for a long time, so I am ending the session here. Rest in a "
    "comfortable position for as long as you need, and start a new session whenever you feel "
    "ready to exercise again."
)
RESUME_LEAD = "Okay, here we go."
SKIP_LEAD = "Moving on."
STOP_TEXT = (
    "Stopping here. Slowly come back to a comfortable position, and rest for as long as you "
    "need. Well done today."
)
PAIN_QUESTION = f"On a scale {PAIN_SCALE}, how bad is the pain?"
PAIN_TEXT = (
    "Stop the movement now. Slowly return to a comfortable position and breathe. " + PAIN_QUESTION
)
#: Asked once more when no score came: a missed answer should not end the session at once.
PAIN_AGAIN_TEXT = "I did not hear a number. " + PAIN_QUESTION
#: Replies to a pain score, by band. Each first says the number heard, so that a misheard one
#: is noticed and can be corrected: pocketsphinx names many numbers "five" (bench/results.md),
#: and a "nine" taken for "five" would carry on, more gently, instead of ending the session.
MILD_TEXT = (
    "Thank you. I heard {score} out of ten, which sounds mild. If I heard it wrong, say pain. "
    "Rest a moment. When you are ready, say continue to go on with the next exercise, or say "
    "stop to finish for today."
)
MILD_REMINDER = (
    "When you are ready, say continue to go on with the next exercise, or say stop to finish "
    "for today."
)
GENTLE_TEXT = (
    "Thank you. I heard {score} out of ten. If I heard it wrong, say pain. We will leave this "
    "exercise and carry on more gently. Rest a moment. When you are ready, say continue, or "
    "say stop to finish for today. Then move slowly, and only as far as feels comfortable."
)
LOST_TEXT = {
    "microphone": (
        "I can no longer hear you: the microphone stopped working. We are paused. "
        "Rest comfortably while I try to reconnect it."
    ),
    "speaker": "The speaker stopped working, so the session is paused. The cues are shown here.",
}
BACK_TEXT = {
    "microphone": "I can hear you again. Say resume when you are ready.",
    "speaker": "The speaker is working again. Say resume when you are ready.",
}
# Asked about pain, not "your back": a "ten" meaning "great" would be stored as ten out of ten.
RATING_TEXT = f"On a scale {PAIN_SCALE}, how much pain do you have now?"
RATING_THANKS = "Thank you. Rest well."
RATING_REMINDER = f"How much pain do you have now, {PAIN_SCALE}? Or say stop to skip the question."
RATING_UNANSWERED = "I did not hear a number, and that is fine. Rest well."
OFFER_TEXT = (
    "Welcome back. Last time ended early. Say yes to carry on where you left off, "
    "or say start over to begin again."
)
OFFER_REMINDER = "Say yes to carry on where you left off, or say start over to begin again."
OFFER_UNANSWERED = "I did not hear an answer, so we will start from the beginning."
#: Said again once when a question goes unanswered, before the coach moves on without it.
SEVERE_TEXT = "Thank you. I heard {score} out of ten. "
#: Asked, in the quiet, when the recognizer half-heard a safety word or heard the person
#: without understanding them. Short, and its answers sound nothing alike.
CHECK_QUESTIONS: dict[Command | None, str] = {
    Command.STOP: "Did you say stop? Say stop, pain, or carry on.",
    Command.PAIN: "Did you say pain? Say pain, stop, or carry on.",
    Command.PAUSE: "Did you say pause? Say pause, stop, pain, or carry on.",
    None: "Is something wrong? Say stop, pain, or carry on.",
}
#: A check went unanswered: the exercise never carries on without a clear "carry on".
CHECK_UNANSWERED = (
    "I will wait here. When you are ready, say carry on. Or say stop to finish for today."
)
CHECK_REMINDER = (
    "We are still paused. Say carry on when you are ready, or say stop to finish for today."
)
_REPLIES = {"continue": MILD_TEXT, "gentle": GENTLE_TEXT, "end": SEVERE_TEXT}


def score_reply(score: int, band: str, emergency_number: str = DEFAULT_EMERGENCY_NUMBER) -> str:
    """What the coach says to a pain score in a band: the number it heard, then what next."""
    reply = _REPLIES[band].format(score=NUMBER_WORDS[score])
    return reply + end_pain_text("pain", emergency_number) if band == "end" else reply


def score_replies(bands: PainBands, emergency_number: str = DEFAULT_EMERGENCY_NUMBER) -> list[str]:
    """The reply to every score from zero to ten under ``bands``, for pre-rendering."""
    return [
        score_reply(score, bands.band(score), emergency_number)
        for score in range(len(NUMBER_WORDS))
    ]


def setting_texts(settings: SessionSettings) -> list[str]:
    """Everything the machine says that depends on its settings, for pre-rendering."""
    ends = [
        end_pain_text(c, settings.emergency_number) for c in ("numbness or tingling", "no answer")
    ]
    return [*score_replies(settings.pain, settings.emergency_number), *ends]


#: Everything the machine says besides the plan's steps, for pre-rendering.
FIXED_TEXTS = (
    PAUSE_TEXT,
    PAUSE_REMINDER,
    PAUSE_TIMEOUT_TEXT,
    MILD_REMINDER,
    RESUME_LEAD,
    SKIP_LEAD,
    STOP_TEXT,
    PAIN_TEXT,
    PAIN_AGAIN_TEXT,
    RATING_TEXT,
    RATING_THANKS,
    RATING_UNANSWERED,
    OFFER_REMINDER,
    RATING_REMINDER,
    *CHECK_QUESTIONS.values(),
    CHECK_UNANSWERED,
    CHECK_REMINDER,
    OFFER_TEXT,
    *LOST_TEXT.values(),
    *BACK_TEXT.values(),
)
