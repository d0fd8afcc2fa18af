"""The session state machine: pure, driven by ticks, commands and the end of speech.

It never touches audio, threads or the clock. The runner feeds it events with their time and
carries out the actions it returns (``actions``: say, stop speaking, listen for numbers); every
other output is an event for the listeners (event log, transcript, journal). The walk through
the plan's steps is its base (``walk.Walk``); what each command does in each mode is declared
in one table, ``TRANSITIONS``, at the end.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from voicecoach.actions import Expect, Output
from voicecoach.commands import Command, Parsed
from voicecoach.events import (
    BackRating,
    CommandHandled,
    EndReason,
    PainReported,
    ResumeAccepted,
    SessionStarted,
)
from voicecoach.plan import Plan
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
    RATING_REMINDER,
    RATING_THANKS,
    RATING_UNANSWERED,
    RESUME_LEAD,
    SKIP_LEAD,
    STOP_TEXT,
    PainCause,
    end_pain_text,
    score_reply,
)
from voicecoach.walk import Mode, Walk

_LOGGER = logging.getLogger(__name__)

_QUESTION_REMINDERS: dict[Mode, str] = {"offer": OFFER_REMINDER, "rating": RATING_REMINDER}


class Session(Walk):
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
        super().__init__(plan, settings)
        #: The rest of an unfinished session, offered (or taken) instead of the full plan.
        self.resume_plan = resume_plan
        self.ask_resume = ask_resume
        #: The journal id of the unfinished session ``resume_plan`` continues, when known.
        self.resumed_from = resumed_from
        self._pain_deadline: float | None = None
        self._pain_asked_again = False
        #: While checking: the safety word the person may have said (None: not understood).
        self._check_about: Command | None = None

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

    # -- command handlers (see TRANSITIONS) ---------------------------------------------

    def _pause(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self._enter_pause(self.current.restart, t)
        self._say(PAUSE_TEXT)

    def _resume(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self._resume_index, t, RESUME_LEAD)

    def _repeat_pause(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._say(PAUSE_TEXT)

    def _stop(self, parsed: Parsed, t: float) -> None:
        self._end("stopped", STOP_TEXT, t)

    def _skip(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self._next_exercise_index(), t, SKIP_LEAD)

    def _repeat(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._begin(self.current.restart, t)

    # -- the offer to carry on an unfinished session, and the rating at the end ----------

    def _accept_offer(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._answer_deadline = None
        self._out.append(Expect())
        self._out.append(ResumeAccepted(t, self.resumed_from))
        assert self.resume_plan is not None
        self._take_plan(self.resume_plan, t)

    def _decline_offer(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        self._answer_deadline = None
        self._out.append(Expect())
        self._begin(0, t)

    def _rating(self, parsed: Parsed, t: float) -> None:
        assert parsed.value is not None
        self._answer_deadline = None
        self._stop_speaking()
        self._out.append(BackRating(t, parsed.value))
        self._end("completed", RATING_THANKS, t, state="finished")

    def _skip_rating(self, parsed: Parsed, t: float) -> None:
        self._answer_deadline = None
        self._stop_speaking()
        self._complete_session(t)

    # -- the check: stop, ask in the quiet, and carry on only when told to ----------------

    def _check(self, parsed: Parsed, t: float) -> None:
        self._stop_speaking()
        if self.mode == "running":
            self._check_about = parsed.about
        self.mode = "checking"
        self._answer_deadline = None
        self._emit_state("checking", t)
        self._out.append(Expect(answers=True))
        self._say(CHECK_QUESTIONS[self._check_about])

    def _carry_on(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self._begin(self.current.restart, t, RESUME_LEAD)

    def _confirm(self, parsed: Parsed, t: float) -> None:
        """ "Yes" to "did you say stop?" is a stop; to "is something wrong?" a pause."""
        about = Parsed(self._check_about or Command.PAUSE)
        TRANSITIONS[("checking", about.command)](self, about, t)

    def _check_unanswered(self, t: float) -> None:
        self._leave_check()
        self._enter_pause(self.current.restart, t, CHECK_REMINDER)
        self._say(CHECK_UNANSWERED)

    # -- pain ---------------------------------------------------------------------------

    def _pain(self, parsed: Parsed, t: float) -> None:
        self._leave_check()
        self._stop_speaking()
        self.mode = "pain_check"
        self._pain_deadline = None
        self._pain_asked_again = False
        self._emit_state("pain_check", t)
        self._out.append(Expect(numbers=True))
        self._say(PAIN_TEXT)

    def _numb(self, parsed: Parsed, t: float) -> None:
        self._pain_report(t, None, "numbness or tingling")

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


_Handler = Callable[[Session, Parsed, float], None]

#: Every command the machine acts on, per mode; anything else is logged and ignored.
TRANSITIONS: dict[tuple[Mode, Command], _Handler] = {
    ("offer", Command.YES): Session._accept_offer,
    ("offer", Command.START_OVER): Session._decline_offer,
    ("offer", Command.STOP): Session._stop,
    ("running", Command.PAUSE): Session._pause,
    ("running", Command.CHECK): Session._check,
    ("running", Command.SKIP): Session._skip,
    ("running", Command.REPEAT): Session._repeat,
    ("running", Command.STOP): Session._stop,
    ("running", Command.PAIN): Session._pain,
    ("checking", Command.RESUME): Session._carry_on,
    ("checking", Command.YES): Session._confirm,
    ("checking", Command.REPEAT): Session._check,
    ("checking", Command.PAUSE): Session._pause,
    ("checking", Command.STOP): Session._stop,
    ("checking", Command.PAIN): Session._pain,
    ("paused", Command.RESUME): Session._resume,
    ("paused", Command.REPEAT): Session._repeat_pause,
    ("paused", Command.SKIP): Session._skip,
    ("paused", Command.STOP): Session._stop,
    ("paused", Command.PAIN): Session._pain,
    ("pain_check", Command.NUMBER): Session._pain_score,
    # Only while a score is asked: "numb" is heard in ordinary speech ("number"), and acted on
    # at any time it would end a session with the urgent warning (commands.SYMPTOMS).
    ("pain_check", Command.NUMB): Session._numb,
    ("pain_check", Command.REPEAT): Session._pain,
    ("pain_check", Command.STOP): Session._stop,
    ("rating", Command.NUMBER): Session._rating,
    ("rating", Command.NUMB): Session._numb,
    ("rating", Command.STOP): Session._skip_rating,
    ("rating", Command.PAIN): Session._pain,
}
