"""A live view of the session for a helper or physiotherapist in the room (``rich``).

On a terminal it redraws one panel, at most ``refresh_per_second`` times a second: program,
exercise, side, set and rep, a countdown bar for holds and rests, the microphone level, the
last words heard and the recognizer backend. Anywhere else (a pipe, CI, journald) it writes
plain lines, one per meaningful change, and never the level meter.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import numpy as np
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from voicecoach.durations import minutes_seconds
from voicecoach.events import Event, Heard, PainReported, SayStarted, SessionEnded, StateChanged
from voicecoach.frames import Samples
from voicecoach.plan import Plan, estimate_speech_seconds

_LOGGER = logging.getLogger(__name__)

#: The quietest level the meter shows; anything below reads as an empty meter.
FLOOR_DBFS = -60.0
_BAR_WIDTH = 40
# States whose changes are worth a plain line; holds, releases and rests would flood a log.
_QUIET_STATES = frozenset({"hold", "release", "rest"})
_STATE_WORDS = {
    "pain_check": "pain check",
    "checking": "asking what was said",
    "paused_too_long": "paused too long: ending",
    "resume_offer": "offering to resume",
    "side_change": "changing side",
    "set_change": "new set",
}


def frame_dbfs(samples: Samples) -> float:
    """The RMS level of a frame in dB relative to full scale (``FLOOR_DBFS`` for silence)."""
    if len(samples) == 0:
        return FLOOR_DBFS
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return max(FLOOR_DBFS, 20.0 * math.log10(rms)) if rms > 0 else FLOOR_DBFS


@dataclass(frozen=True)
class _Countdown:
    """A hold or rest: ``seconds`` long, counting from session time ``starts_at``."""

    label: str
    starts_at: float
    seconds: float

    def left(self, now: float) -> float:
        return max(0.0, min(self.seconds, self.starts_at + self.seconds - now))


def _timed_steps(plan: Plan) -> dict[tuple[object, ...], tuple[float, float]]:
    """(state, exercise, set, side, rep) of each hold and rest -> (speech seconds, seconds)."""
    timed: dict[tuple[object, ...], tuple[float, float]] = {}
    for step in plan.steps:
        if step.state not in ("hold", "rest"):
            continue
        key = (step.state, step.exercise, step.set, step.side, step.rep)
        speech, seconds = timed.get(key, (0.0, 0.0))
        # A counted hold is many one-second steps: together they are one countdown.
        if step.kind == "count":
            timed[key] = (speech, seconds + step.seconds)
        else:
            timed[key] = (speech + estimate_speech_seconds(step.text), seconds + step.seconds)
    return timed


class LiveView:
    """A session listener that shows the session live; also takes the microphone level."""

    def __init__(
        self,
        plan: Plan,
        *,
        backend: str = "",
        console: Console | None = None,
        refresh_per_second: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.plan = plan
        #: The recognizer and audio backends in use, as shown to the helper.
        self.backend = backend
        self.console = console or Console(stderr=True)
        self.refreshes = 0
        self._interval = 1.0 / refresh_per_second
        self._clock = clock
        self._last_refresh: float | None = None
        self._live: Live | None = None
        self._timed = _timed_steps(plan)
        self._exercises = {e.id: (i, e) for i, e in enumerate(plan.program.exercises)}
        self._now = 0.0
        self._state: StateChanged | None = None
        self._countdown: _Countdown | None = None
        self._dbfs = FLOOR_DBFS
        self._heard: Heard | None = None
        self._said = ""
        self._ended: SessionEnded | None = None

    def _backend_name(self) -> str:
        return short_backend(self.backend) if self.backend else "unknown"

    @property
    def is_terminal(self) -> bool:
        """True when the view redraws a panel; False when it writes plain lines."""
        return self.console.is_terminal

    # -- lifecycle -------------------------------------------------------------------------

    def __enter__(self) -> Self:
        if self.is_terminal:
            self._live = Live(
                self.render(), console=self.console, auto_refresh=False, transient=False
            )
            self._live.start()
        else:
            self._line(f"{self.plan.program.title}; listening with {self._backend_name()}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.update(self.render(), refresh=True)
            self._live.stop()
            self._live = None

    # -- inputs ----------------------------------------------------------------------------

    def on_event(self, event: Event) -> None:
        """Take one session event."""
        self._now = max(self._now, event.t)
        match event:
            case StateChanged():
                self._state = event
                self._countdown = self._countdown_for(event)
                if event.state not in _QUIET_STATES:
                    self._line(self._where())
            case Heard():
                self._heard = event
                self._line(f"heard {self._heard_text()}")
            case SayStarted():
                self._said = event.text
            case PainReported():
                self._line(f"pain reported: {'?' if event.score is None else event.score}")
            case SessionEnded():
                self._ended = event
                self._line(f"session ended: {event.reason} after {event.duration:.0f} s")
        self._refresh(force=isinstance(event, SessionEnded))

    def on_level(self, t: float, dbfs: float) -> None:
        """Take the microphone level (dBFS) at session time ``t``."""
        self._now = max(self._now, t)
        self._dbfs = dbfs
        self._refresh()

    # -- output ----------------------------------------------------------------------------

    def _line(self, text: str) -> None:
        if not self.is_terminal:
            self.console.print(
                f"[{self._now:7.1f}s] {text}", markup=False, highlight=False, soft_wrap=True
            )

    def _refresh(self, force: bool = False) -> None:
        if self._live is None:
            return
        now = self._clock()
        if not force and self._last_refresh is not None:
            if now - self._last_refresh < self._interval:
                return
        self._last_refresh = now
        self.refreshes += 1
        self._live.update(self.render(), refresh=True)

    def render(self) -> RenderableType:
        """The panel as it stands."""
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column()
        grid.add_row("Exercise", self._exercise_text())
        grid.add_row("Now", self._where())
        if self._countdown is not None:
            grid.add_row(self._countdown.label, self._countdown_bar(self._countdown))
        grid.add_row("Microphone", self._meter())
        grid.add_row("Heard", self._heard_text() or "-")
        grid.add_row("Coach", Text(self._said or "-", overflow="ellipsis", no_wrap=True))
        # One line, never wrapped: the whole notice was printed before the panel started.
        grid.add_row("Listening", Text(self._backend_name(), overflow="ellipsis", no_wrap=True))
        elapsed = (
            f"{minutes_seconds(self._now)} of about {minutes_seconds(self.plan.total_seconds)}"
        )
        title = f"{self.plan.program.title}  ·  {elapsed}"
        return Panel(Group(grid), title=title, title_align="left", border_style="blue")

    def _exercise_text(self) -> str:
        state = self._state
        if state is None or state.exercise not in self._exercises:
            return "-"
        index, exercise = self._exercises[state.exercise]
        return f"{exercise.name} ({index + 1} of {len(self._exercises)})"

    def _where(self) -> str:
        if self._ended is not None:
            return f"ended: {self._ended.reason}"
        state = self._state
        if state is None:
            return "starting"
        words = [_STATE_WORDS.get(state.state, state.state)]
        found = self._exercises.get(state.exercise or "")
        if found is not None:
            exercise = found[1]
            words.insert(0, exercise.id)
            if state.rep > 0 and exercise.sets > 1:
                words.append(f"set {state.set} of {exercise.sets}")
            if state.rep > 0:
                words.append(f"rep {state.rep} of {exercise.reps}")
        if state.side is not None:
            words.append(f"{state.side} side")
        return ", ".join(words)

    def _countdown_for(self, event: StateChanged) -> _Countdown | None:
        timed = self._timed.get((event.state, event.exercise, event.set, event.side, event.rep))
        if timed is None:
            return None
        speech, seconds = timed
        return _Countdown(event.state.capitalize(), event.t + speech, seconds)

    def _countdown_bar(self, countdown: _Countdown) -> Text:
        left = countdown.left(self._now)
        share = left / countdown.seconds if countdown.seconds > 0 else 0.0
        return _bar(share, "cyan") + Text(f" {math.ceil(left)} s left of {countdown.seconds:g} s")

    def _meter(self) -> Text:
        share = (min(0.0, self._dbfs) - FLOOR_DBFS) / -FLOOR_DBFS
        style = "green" if self._dbfs < -12 else "yellow" if self._dbfs < -3 else "red"
        return _bar(share, style) + Text(f" {self._dbfs:5.1f} dBFS")

    def _heard_text(self) -> str:
        heard = self._heard
        if heard is None:
            return ""
        confidence = "" if heard.confidence is None else f" ({heard.confidence:.2f})"
        command = f" -> {heard.command}" if heard.command else ""
        return f"'{heard.text}'{confidence}{command} at {heard.t:.1f} s"


def _bar(share: float, style: str) -> Text:
    """A bar ``_BAR_WIDTH`` characters wide, filled to ``share`` (0 to 1)."""
    filled = round(max(0.0, min(1.0, share)) * _BAR_WIDTH)
    return Text("█" * filled, style=style) + Text("░" * (_BAR_WIDTH - filled), style="dim")


def short_backend(description: str) -> str:
    """The recognizer's name alone, without the notes after it: "pocketsphinx" from
    "pocketsphinx (embedded English model); no Vosk model found, ..."."""
    name = description.split(";", 1)[0].split(" (", 1)[0].strip()
    return name or "unknown"
