"""The live view: a rich panel on a terminal, plain lines anywhere else, refreshed sparingly."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from rich.console import Console

from tests.conftest import SimulateFn
from voicecoach.app.liveview import FLOOR_DBFS, LiveView, frame_dbfs, short_backend
from voicecoach.events import Heard, SayStarted, SessionEnded, SessionStarted, StateChanged
from voicecoach.plan import build_plan, estimate_speech_seconds
from voicecoach.program import Program

ANSI = re.compile(r"\x1b\[")


class Ticks:
    """A clock for the refresh limit that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _terminal() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=100, color_system="standard"), out


def _text(view: LiveView) -> str:
    """The panel as plain text, the way a helper reads it."""
    console = Console(record=True, width=100, file=io.StringIO())
    console.print(view.render())
    return console.export_text()


def test_plain_lines_when_not_a_terminal(tiny_program: Program, simulate: SimulateFn) -> None:
    out = io.StringIO()
    view = LiveView(build_plan(tiny_program), backend="scripted words", console=Console(file=out))
    assert not view.is_terminal
    with view:
        simulate([(30.0, "pause"), (33.0, "resume")], listeners=[view])
    text = out.getvalue()
    lines = text.splitlines()
    assert not ANSI.search(text)
    assert lines[0] == "[    0.0s] Tiny test program; listening with scripted words"
    assert any(line.endswith("] knee-to-chest, move, rep 1 of 2, right side") for line in lines)
    assert any(line.endswith("] bridge, move, set 2 of 2, rep 2 of 2") for line in lines)
    assert any("heard 'pause' (1.00) -> pause at 30.0 s" in line for line in lines)
    assert re.fullmatch(r"\[ *[\d.]+s\] session ended: completed after \d+ s", lines[-1])
    # Holds, releases, rests and the microphone level would flood a log; they are left out.
    assert not any(re.search(r"\] [\w-]+, (hold|release|rest)\b", line) for line in lines)
    assert "dBFS" not in text
    assert view.refreshes == 0


def test_a_panel_on_a_terminal(tiny_program: Program, simulate: SimulateFn) -> None:
    console, out = _terminal()
    ticks = Ticks()
    view = LiveView(build_plan(tiny_program), backend="vosk grammar", console=console, clock=ticks)
    assert view.is_terminal
    with view:
        view.on_event(SessionStarted(0.0, "tiny", "Tiny test program", "2025-03-01T09:00", 16))
        view.on_event(StateChanged(40.0, "hold", "knee-to-chest", 1, "left", 2))
        view.on_event(Heard(41.0, "wait", "pause", 0.87))
        view.on_event(SayStarted(41.1, "Paused. Relax where you are."))
        ticks.now += 1.0
        view.on_level(41.5, -18.0)
        panel = _text(view)
    text = out.getvalue()
    assert ANSI.search(text)
    assert "Tiny test program" in text
    assert "Knee to chest (1 of 2)" in panel
    assert "knee-to-chest, hold, rep 2 of 2, left side" in panel
    assert "Hold" in panel
    assert "2 s left of 3 s" in panel
    assert "-18.0 dBFS" in panel
    assert "'wait' (0.87) -> pause at 41.0 s" in panel
    assert "Paused. Relax where you are." in panel
    assert "vosk grammar" in panel
    assert "0:41 of about" in panel


def test_the_meter_and_countdown_are_bars(tiny_program: Program) -> None:
    view = LiveView(build_plan(tiny_program), console=Console(file=io.StringIO()))
    view.on_event(StateChanged(10.0, "hold", "bridge", 1, None, 1))
    view.on_level(10.0, -30.0)
    start = _text(view)
    view.on_level(11.0, 0.0)
    later = _text(view)
    view.on_level(15.0, -90.0)
    over = _text(view)
    assert "█" * 40 + " 2 s left of 2 s" in start
    assert "█" * 20 + "░" * 20 + " -30.0 dBFS" in start
    assert "█" * 20 + "░" * 20 + " 1 s left of 2 s" in later
    assert "█" * 40 + "   0.0 dBFS" in later
    assert "░" * 40 + " 0 s left of 2 s" in over
    assert "░" * 40 + " -90.0 dBFS" in over


def test_a_spoken_rest_counts_down_after_its_words(tiny_program: Program) -> None:
    plan = build_plan(tiny_program)
    view = LiveView(plan, console=Console(file=io.StringIO()))
    rest = next(s for s in plan.steps if s.kind == "rest" and s.text)
    speech = estimate_speech_seconds(rest.text)
    view.on_event(StateChanged(100.0, "rest", rest.exercise, rest.set, rest.side, rest.rep))
    view.on_level(100.0 + speech / 2, -40.0)
    assert "5 s left of 5 s" in _text(view)
    view.on_level(100.0 + speech + 2.0, -40.0)
    assert "3 s left of 5 s" in _text(view)
    view.on_event(StateChanged(120.0, "move", "bridge", 2, None, 1))
    assert "left of" not in _text(view)


def test_refreshes_at_most_four_times_a_second(tiny_program: Program) -> None:
    console, _ = _terminal()
    ticks = Ticks()
    view = LiveView(build_plan(tiny_program), console=console, clock=ticks)
    with view:
        for frame in range(200):
            view.on_level(frame * 0.02, -40.0)
        assert view.refreshes == 1
        # Ten seconds of 20 ms frames, each with a level and now and then an event.
        for frame in range(500):
            ticks.now += 0.02
            view.on_level(4.0 + frame * 0.02, -40.0)
            if frame % 10 == 0:
                view.on_event(StateChanged(4.0 + frame * 0.02, "move", "bridge", 1, None, 1))
        before = view.refreshes
        assert 39 <= before <= 42
        # The end of the session is always shown at once.
        view.on_event(SessionEnded(20.0, "completed", 20.0))
        assert view.refreshes == before + 1
        assert "ended: completed" in _text(view)


@pytest.mark.parametrize(
    ("samples", "expected"),
    [
        (np.zeros(320, dtype=np.float32), FLOOR_DBFS),
        (np.zeros(0, dtype=np.float32), FLOOR_DBFS),
        (np.full(320, 0.1, dtype=np.float32), -20.0),
        (np.full(320, 1e-6, dtype=np.float32), FLOOR_DBFS),
        (np.sin(np.linspace(0, 40 * np.pi, 320, endpoint=False)).astype(np.float32), -3.01),
    ],
)
def test_frame_level_in_dbfs(samples: np.ndarray, expected: float) -> None:
    assert frame_dbfs(samples) == pytest.approx(expected, abs=0.01)


LONG_NOTICE = (
    "pocketsphinx (embedded English model); no Vosk model found, `voicecoach model download` "
    "gets one"
)


def test_the_backend_takes_one_line_of_the_panel(tiny_program: Program) -> None:
    view = LiveView(build_plan(tiny_program), backend=LONG_NOTICE, console=_terminal()[0])
    console = Console(record=True, width=60, file=io.StringIO())
    console.print(view.render())
    lines = console.export_text().splitlines()
    listening = [line for line in lines if "Listening" in line]
    assert len(listening) == 1
    assert "pocketsphinx" in listening[0]
    assert not any("model download" in line or "gets one" in line for line in lines)


@pytest.mark.parametrize(
    ("description", "name"),
    [
        (LONG_NOTICE, "pocketsphinx"),
        (
            "Silero VAD and Whisper tiny.en (both trained on real speech, no download)",
            "Silero VAD and Whisper tiny.en",
        ),
        ("Vosk with the model in /models/vosk-small", "Vosk with the model in /models/vosk-small"),
    ],
)
def test_short_backend_names_the_recognizer_alone(description: str, name: str) -> None:
    assert short_backend(description) == name
