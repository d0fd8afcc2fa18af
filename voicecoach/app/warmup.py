"""Rendering the built-in programs' phrases ahead, so that a first session starts at once.

A cold cache makes ``voicecoach run`` render every phrase of the session before its first
word: seconds with espeak-ng, about a minute with the natural voice on a Raspberry Pi 4
(bench/voice_cost.md). ``voicecoach warm`` (run by scripts/install-pi) does it beforehand.
"""

from __future__ import annotations

from voicecoach import spoken as texts
from voicecoach.app.catalogue import list_programs, resolve_program
from voicecoach.app.preparation import prepare
from voicecoach.program import Program


def program_phrases(program: Program | str) -> list[str]:
    """Every fixed phrase a session of ``program`` says at its base dose, as the runner lists
    them for pre-rendering."""
    resolved = resolve_program(program) if isinstance(program, str) else program
    prepared = prepare(resolved, None, dose="base")
    steps = [step.text for step in prepared.plan.steps if step.text]
    fixed = [*texts.FIXED_TEXTS, *texts.setting_texts(prepared.session.settings)]
    return list(dict.fromkeys(steps + fixed))


def all_phrases() -> list[str]:
    """The phrases of every program (the built-in ones and the person's own), each once."""
    return list(dict.fromkeys(p for program in list_programs() for p in program_phrases(program)))
