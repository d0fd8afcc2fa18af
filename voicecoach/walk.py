"""The walk through a plan's steps: what the session machine does between commands.

Pure, like the machine built on it (``session.Session``): each step is said and timed, reps are
counted, a pause waits and reminds, and the session ends with a rating and a goodbye.
"""

from __future__ import annotations

from typing import Literal

from voicecoach.actions import Expect, Output, Say, StopSpeaking
from voicecoach.events import EndReason, RepDone, SessionEnded, StateChanged
from voicecoach.plan import Plan, Step, steps_from
from voicecoach.settings import SessionSettings
from voicecoach.spoken import MILD_REMINDER, PAUSE_REMINDER, PAUSE_TIMEOUT_TEXT, RATING_TEXT

Mode = Literal["offer", "running", "checking", "paused", "pain_check", "rating", "ending", "ended"]


class Walk:
    """Walks a plan's steps, saying each and keeping its time; the base of ``Session``."""

    def __init__(self, plan: Plan, settings: SessionSettings | None = None) -> None:
        self.plan = plan
        self.settings = settings or SessionSettings()
        self.steps: list[Step] = list(plan.steps)
        self.index = 0
        self.mode: Mode = "running"
        self.reps_done = 0
        self._speaking = False
        self._deadline: float | None = None
        self._resume_index = 0
        #: When an unanswered question is asked again, or given up on.
        self._answer_deadline: float | None = None
        self._question_reminded = False
        #: While paused: what to remind the person of, when next, and when to give up.
        self._reminder = PAUSE_REMINDER
        self._remind_at: float | None = None
        self._paused_until: float | None = None
        self._end_reason: EndReason = "completed"
        self._last_state: tuple[object, ...] | None = None
        self._out: list[Output] = []

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

    def _take_plan(self, plan: Plan, t: float) -> None:
        self.steps = list(plan.steps)
        self._begin(0, t)

    def _go_gentler(self, reply: str, t: float) -> None:
        """Drop the rest of this exercise and ease every later one; rest until "continue"."""
        first = self.current.exercise_index + 1
        # An empty rest stands for the pause, so a pain report in it names no exercise.
        note = Step("rest", "", 0.0)
        self.steps = [note, *steps_from(self.plan.program, first, offset=1, gentle=True)]
        self.index = 0
        self._enter_pause(1, t, MILD_REMINDER)
        self._say(reply)

    def _next_exercise_index(self) -> int:
        here = self.current.exercise_index
        for i in range(self.index + 1, len(self.steps)):
            if self.steps[i].exercise_index > here or self.steps[i].kind == "summary":
                return i
        return len(self.steps) - 1

    # -- pauses and the end -------------------------------------------------------------

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

    def _leave_check(self) -> None:
        if self.mode == "checking":
            self._answer_deadline = None
            self._out.append(Expect())

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

    # -- output -------------------------------------------------------------------------

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
