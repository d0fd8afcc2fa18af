"""The session state machine: pure, driven by ticks, commands and the end of speech.

It never touches audio, threads or the clock. The runner feeds it events with their time and
carries out the actions it returns (say, stop speaking, listen for numbers); every other
output is an event for the listeners (event log, transcript, journal).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from voicecoach.commands import Command, Parsed
from voicecoach.events import (
    BackRating,
    CommandHandled,
    EndReason,
    Event,
    PainReported,
    RepDone,
    ResumeAccepted,
    SessionEnded,
    SessionStarted,
    StateChanged,
)
from voicecoach.plan import Plan, Step, steps_from
from voicecoach.settings import SessionSettings
from voicecoach.spoken import (
    BACK_TEXT,
    CHECK_QUESTIONS,
    CHECK_REMINDER,
    CHECK_UNANSWERED,
    LOST_TEXT,
    MILD_REMINDER,
    OFFER_REMINDER,
    OFFER_TEXT,
    OFFER_UNANSWERED,
    PAIN_AGAIN_TEXT,
    PAIN_TEXT,
    PAUSE_REMINDER,
    PAUSE_TEXT,
    PAUSE_TIMEOUT_TEXT,
    RATING_REMINDER,
    RATING_TEXT,
    RATING_THANKS,
    RATING_UNANSWERED,
    RESUME_LEAD,
    SKIP_LEAD,
    STOP_TEXT,
    PainCause,
    end_pain_text,
    score_reply,
)

_LOGGER = logging.getLogger(__name__)

Mode = Literal["offer", "running", "checking", "paused", "pain_check", "rating", "ending", "ended"]


@dataclass(frozen=True)
class Say:
    """Action: start speaking ``text``, replacing anything still being said."""

    text: str


@dataclass(frozen=True)
class StopSpeaking:
    """Action: cut the current utterance off now."""


@dataclass(frozen=True)
class Expect:
    """Action: tell the recognizer what to listen for besides the commands: pain-scale numbers
    and the symptoms "numb" and "tingling" while a score is asked, the answers "yes" and "start
    over" while the offer to carry on is."""

    numbers: bool = False
    answers: bool = False


Action = Say | StopSpeaking | Expect
Output = Action | Event

_QUESTION_REMINDERS: dict[Mode, str] = {"offer": OFFER_REMINDER, "rating": RATING_REMINDER}

_Handler = Callable[["Session", Parsed, float], None]

#: Every command the machine acts on, per mode; anything else is logged and ignored.
TRANSITIONS: dict[tuple[Mode, Command], _Handler] = {}


def _on(*keys: tuple[Mode, Command]) -> Callable[[_Handler], _Handler]:
    def register(handler: _Handler) -> _Handler:
        for key in keys:
            TRANSITIONS[key] = handler
        return handler

    return register


class Session:
    """Walks a plan's steps; pause, resume, stop, skip, repeat and pain change the walk."""

    def __init__(
        self,
        plan: Plan,
        settings: SessionSettings | None = None,
        *,
        resume_plan: Plan | None = None,
        ask_resume: bool = True,
        resumed_from: int | None = None,
    ) -> None:
        self.plan = plan
        self.settings = settings or SessionSettings()
        #: The rest of an unfinished session, offered (or taken) instead of the full plan.
        self.resume_plan = resume_plan
        self.ask_resume = ask_resume
        #: The journal id of the unfinished session ``resume_plan`` continues, when known.
        self.resumed_from = resumed_from
        self.steps: list[Step] = list(plan.steps)
        self.index = 0
        self.mode: Mode = "running"
        self.reps_done = 0
        self._speaking = False
        self._deadline: float | None = None
        self._resume_index = 0
        self._pain_deadline: float | None = None
        self._pain_asked_again = False
        self._answer_deadline: float | None = None
        self._question_reminded = False
        #: While checking: the safety word the person may have said (None: not understood).
        self._check_about: Command | None = None
        #: While paused: what to remind the person of, when next, and when to give up.
        self._reminder = PAUSE_REMINDER
        self._remind_at: float | None = None
        self._paused_until: float | None = None
        self._end_reason: EndReason = "completed"
        self._last_state: tuple[object, ...] | None = None
        self._out: list[Output] = []

    # -- inputs -------------------------------------------------------------------------

    def start(self, t: float, started_at: str = "") -> list[Output]:
        """Begin the first step, or first offer to carry on an unfinished session.

        ``started_at`` is the wall-clock ISO-8601 time, passed on to the listeners as is.
        """
        taken = self.resume_plan is not None and not self.ask_resume
        program = self.plan.program
        self._out.append(
            SessionStarted(
                t,
                program.name,
                program.title,
                started_at,
                self.plan.total_reps,
                self.plan.planned,
                self.resumed_from if taken else None,
            )
        )
        if self.resume_plan is not None and self.ask_resume:
            self.mode = "offer"
            self._emit_state("resume_offer", t)
            self._out.append(Expect(answers=True))
            self._say(OFFER_TEXT)
        elif self.resume_plan is not None:
            self._take_plan(self.resume_plan, t)
        else:
            self._begin(0, t)
        return self._flush()

    def tick(self, t: float) -> list[Output]:
        """Advance timers to session time ``t``."""
        if self.mode == "running":
            self._advance(t)
        elif self.mode == "paused":
            self._wait_paused(t)
        elif self.mode == "pain_check" and self._pain_deadline is not None:
            if t >= self._pain_deadline:
                self._pain_timeout(t)
        elif self.mode in _QUESTION_REMINDERS and self._answer_deadline is not None:
            if t >= self._answer_deadline:
                self._no_answer(t)
        elif self.mode == "checking" and self._answer_deadline is not None:
            if t >= self._answer_deadline:
                self._check_unanswered(t)
        return self._flush()

    def speech_ended(self, t: float) -> list[Output]:
        """The last ``Say`` finished playing by itself."""
        self._speaking = False
        if self.mode == "ending":
            self._finish(t)
        elif self.mode == "pain_check":
            self._pain_deadline = t + self.settings.pain_answer_seconds
        elif self.mode == "paused":
            self._remind_at = t + self.settings.pause_reminder_seconds
        elif self.mode in ("offer", "rating", "checking"):
            self._answer_deadline = t + self.settings.question_answer_seconds
        elif self.mode == "running" and self._deadline is None:
            self._deadline = t + self.current.seconds
        return self._flush()

    def command(self, parsed: Parsed, t: float) -> list[Output]:
        """Act on a recognized command, or log and ignore one that makes no sense now."""
        handler = TRANSITIONS.get((self.mode, parsed.command))
        if handler is None:
            _LOGGER.info("ignored %s in %s", parsed.command, self.mode)
            self._out.append(CommandHandled(t, parsed.command.value, self.mode, ignored=True))
        else:
            self._out.append(CommandHandled(t, parsed.command.value, self.mode))
            handler(self, parsed, t)
        return self._flush()

    def interrupt(self, t: float, reason: EndReason = "interrupted") -> list[Output]:
        """End at once (Ctrl-C, SIGTERM, a failure): stop speaking, record ``reason``."""
        if self.mode != "ended":
            self._stop_speaking()
            self._end_reason = reason
            self._finish(t)
        return self._flush()

    def device_lost(self, t: float, device: str) -> list[Output]:
        """A device vanished: pause any movement and say (or show) what happened."""
        if self.mode in ("running", "checking"):
            self._leave_check()
            self._stop_speaking()
            self._enter_pause(self.current.restart, t)
        if self.mode == "paused":
            self._reminder = LOST_TEXT[device]
        if self.mode in ("paused", "offer"):
            self._stop_speaking()
            self._say(LOST_TEXT[device])
        # In a pain check or the final rating the question's own timeout decides safely.
        return self._flush()

    def device_back(self, t: float, device: str) -> list[Output]:
        """A lost device works again: tell the person how to carry on."""
        if self.mode == "paused":
            self._stop_speaking()
            self._reminder = PAUSE_REMINDER
            self._say(BACK_TEXT[device])
        return self._flush()

    # -- queries ------------------------------------------------------------------------

    @property
    def current(self) -> Step:
        """The step the session is on (or was on before a pause or pain check)."""
        return self.steps[min(self.index, len(self.steps) - 1)]

    @property
    def finished(self) -> bool:
        """True once the end event has been emitted."""
        return self.mode == "ended"

    # -- the walk -----------------------------------------------------------------------

    def _begin(self, index: int, t: float, lead: str = "") -> None:
        self.index = index
        self.mode = "running"
        step = self.current
        self._emit_state(step.state, t)
        text = f"{lead} {step.text}".strip()
        if text:
            self._say(text)
        # A count keeps to its schedule from the step start; any other step's pause
        # follows its speech, so the person hears the whole cue before the time starts.
        timed_from_start = step.kind == "count" or not text
        self._deadline = t + step.seconds if timed_from_start else None

    def _advance(self, t: float) -> None:
        while (
            self.mode == "running"
            and not self._speaking
            and self._deadline is not None
            and t >= self._deadline - 1e-9
        ):
            self._complete(self.current, t)

    def _complete(self, step: Step, t: float) -> None:
        if step.completes_rep_hold_seconds is not None and step.exercise is not None:
            self.reps_done += 1
            self._out.append(
                RepDone(
                    t, step.exercise, step.side, step.set, step.rep, step.completes_rep_hold_seconds
                )
            )
        if self.index + 1 < len(self.steps):
            following = self.steps[self.index + 1]
            # The counts of one hold keep to one schedule: the next count starts when this one
            # was due, so a late audio frame never pushes the rest of the hold back.
            start = t
            if step.kind == following.kind == "count" and self._deadline is not None:
                start = self._deadline
            self._begin(self.index + 1, start)
        elif self.settings.ask_rating:
            self.mode = "rating"
            self._answer_deadline = None
            self._question_reminded = False
            self._emit_state("rating", t)
            self._out.append(Expect(numbers=True))
            self._say(RATING_TEXT)
        else:
            self._complete_session(t)

    def _complete_session(self, t: float) -> None:
        self._out.append(Expect())
        self._emit_state("finished", t)
        self._end_reason = "completed"
        self._finish(t)

    def _no_answer(self, t: float) -> None:
        """A question went unanswered: ask once more, then start the full plan, or finish
        without a rating."""
        self._answer_deadline = None
        self._stop_speaking()
        if not self._question_reminded:
            self._question_reminded = True
            self._say(_QUESTION_REMINDERS[self.mode])
        elif self.mode == "offer":
            self._out.append(Expect())
            self._begin(0, t, OFFER_UNANSWERED)
        else:
            self._end("completed", RATING_UNANSWERED, t, state="finished")

    def _enter_pause(self, resume_index: int, t: float, reminder: str = PAUSE_REMINDER) -> None:
        """Freeze the walk until resume; the pause ends the session if it lasts too long."""
        self._resume_index = resume_index
        self.mode = "paused"
        self._reminder = reminder
        self._remind_at = None
        self._paused_until = t + self.settings.pause_timeout_seconds
        self._emit_state("paused", t)

    def _wait_paused(self, t: float) -> None:
        """Remind the person now and then how to go on; end a pause that lasts too long."""
        if self._paused_until is not None and t >= self._paused_until:
            self._end("interrupted", PAUSE_TIMEOUT_TEXT, t, state="paused_too_long")
        elif self._remind_at is not None and t >= self._remind_at:
            self._remind_at = None
            self._say(self._reminder)

    def _take_plan(self, plan: Plan, t: float) -> None:
        self.steps = list(plan.steps)
        self._begin(0, t)

    def _finish(self, t: float) -> None:
        self._answer_deadline = None
        self.mode = "ended"
        self._out.append(SessionEnded(t, self._end_reason, t))

    def _end(self, reason: EndReason, text: str, t: float, state: str = "stopped") -> None:
        """Say ``text``, then end with ``reason`` once it has been said."""
        # A question asked before (stop during the offer) must not time out over the goodbye.
        self._answer_deadline = None
        self._stop_speaking()
        self._out.append(Expect())
        self._end_reason = reason
        self.mode = "ending"
        self._emit_state(state, t)
        self._say(text)

    # -- command handlers ---------------------------------------------------------------

    @_on(("running", Command.PAUSE), ("checking", Command.PAUSE))
    def _pause(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self._enter_pause(self.current.restart, t)
        self._say(PAUSE_TEXT)

    # -- the check: stop, ask in the quiet, and carry on only when told to ----------------

    @_on(("running", Command.CHECK), ("checking", Command.REPEAT))
    def _check(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        if self.mode == "running":
            self._check_about = parsed.about
        self.mode = "checking"
        self._answer_deadline = None
        self._emit_state("checking", t)
        self._out.append(Expect(answers=True))
        self._say(CHECK_QUESTIONS[self._check_about])

    @_on(("checking", Command.RESUME))
    def _carry_on(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self._begin(self.current.restart, t, RESUME_LEAD)

    @_on(("checking", Command.YES))
    def _confirm(self, parsed: Parsed, t: float) -> None:
        """ "Yes" to "did you say stop?" is a stop; to "is something wrong?" a pause."""
        about = Parsed(self._check_about or Command.PAUSE)
        TRANSITIONS[("checking", about.command)](self, about, t)

    def _check_unanswered(self, t: float) -> None:
        self._leave_check()
        self._enter_pause(self.current.restart, t, CHECK_REMINDER)
        self._say(CHECK_UNANSWERED)

    def _leave_check(self) -> None:
        if self.mode == "checking":
            self._answer_deadline = None
            self._out.append(Expect())

    @_on(("offer", Command.YES))
    def _accept_offer(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._answer_deadline = None
        self._out.append(Expect())
        self._out.append(ResumeAccepted(t, self.resumed_from))
        assert self.resume_plan is not None
        self._take_plan(self.resume_plan, t)

    @_on(("offer", Command.START_OVER))
    def _decline_offer(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._answer_deadline = None
        self._out.append(Expect())
        self._begin(0, t)

    @_on(("rating", Command.NUMBER))
    def _rating(self, parsed: Parsed, t: float) -> None:
        assert parsed.value is not None
        self._answer_deadline = None
        self._stop_speaking()
        self._out.append(BackRating(t, parsed.value))
        self._end("completed", RATING_THANKS, t, state="finished")

    @_on(("rating", Command.STOP))
    def _skip_rating(self, parsed: Parsed, t: float) -> None:
        self._answer_deadline = None
        self._stop_speaking()
        self._complete_session(t)

    @_on(("paused", Command.RESUME))
    def _resume(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self._resume_index, t, RESUME_LEAD)

    @_on(("paused", Command.REPEAT))
    def _repeat_pause(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._say(PAUSE_TEXT)

    @_on(
        ("offer", Command.STOP),
        ("running", Command.STOP),
        ("paused", Command.STOP),
        ("pain_check", Command.STOP),
        ("checking", Command.STOP),
    )
    def _stop(self, parsed: Parsed, t: float) -> None:
        self._end("stopped", STOP_TEXT, t)

    @_on(("running", Command.SKIP), ("paused", Command.SKIP))
    def _skip(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self._next_exercise_index(), t, SKIP_LEAD)

    @_on(("running", Command.REPEAT))
    def _repeat(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self.current.restart, t)

    @_on(
        ("running", Command.PAIN),
        ("paused", Command.PAIN),
        ("rating", Command.PAIN),
        ("pain_check", Command.REPEAT),
        ("checking", Command.PAIN),
    )
    def _pain(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self.mode = "pain_check"
        self._pain_deadline = None
        self._pain_asked_again = False
        self._emit_state("pain_check", t)
        self._out.append(Expect(numbers=True))
        self._say(PAIN_TEXT)

    # Only while a score is asked: "numb" is heard in ordinary speech ("number"), and acted on
    # at any time it would end a session with the urgent warning (commands.SYMPTOMS).
    @_on(("pain_check", Command.NUMB), ("rating", Command.NUMB))
    def _numb(self, parsed: Parsed, t: float) -> None:
        self._pain_report(t, None, "numbness or tingling")

    @_on(("pain_check", Command.NUMBER))
    def _pain_score(self, parsed: Parsed, t: float) -> None:
        self._pain_report(t, parsed.value, None)

    def _pain_timeout(self, t: float) -> None:
        """No score came: ask once more, then end the session for safety."""
        if self._pain_asked_again:
            self._pain_report(t, None, "no answer")
            return
        self._pain_asked_again = True
        self._pain_deadline = None
        self._say(PAIN_AGAIN_TEXT)

    def _pain_report(self, t: float, score: int | None, symptom: PainCause | None) -> None:
        step = self.current
        self._out.append(PainReported(t, step.exercise, step.side, step.rep, score, symptom))
        number = self.settings.emergency_number
        band = "end" if score is None else self.settings.pain.band(score)
        if score is None:
            reply = end_pain_text(symptom or "no answer", number)
        else:
            reply = score_reply(score, band, number)
        if band == "end":
            self._end("pain", reply, t)
            return
        self._stop_speaking()
        self._out.append(Expect())
        if band == "continue":
            self._enter_pause(self._next_exercise_index(), t, MILD_REMINDER)
            self._say(reply)
        else:
            self._go_gentler(reply, t)

    def _go_gentler(self, reply: str, t: float) -> None:
        """Drop the rest of this exercise and ease every later one; rest until "continue"."""
        first = self.current.exercise_index + 1
        # An empty rest stands for the pause, so a pain report in it names no exercise.
        note = Step("rest", "", 0.0)
        self.steps = [note, *steps_from(self.plan.program, first, offset=1, gentle=True)]
        self.index = 0
        self._enter_pause(1, t, MILD_REMINDER)
        self._say(reply)

    # -- helpers ------------------------------------------------------------------------

    def _next_exercise_index(self) -> int:
        here = self.current.exercise_index
        for i in range(self.index + 1, len(self.steps)):
            if self.steps[i].exercise_index > here or self.steps[i].kind == "summary":
                return i
        return len(self.steps) - 1

    def _say(self, text: str) -> None:
        self._speaking = True
        self._out.append(Say(text))

    def _stop_speaking(self) -> None:
        if self._speaking:
            self._speaking = False
            self._out.append(StopSpeaking())

    def _emit_state(self, state: str, t: float) -> None:
        step = self.current
        key = (state, step.exercise, step.set, step.side, step.rep)
        if key != self._last_state:
            self._last_state = key
            self._out.append(StateChanged(t, state, step.exercise, step.set, step.side, step.rep))

    def _flush(self) -> list[Output]:
        out, self._out = self._out, []
        return out
