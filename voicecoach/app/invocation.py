"""How a message names a voicecoach command: in the form that runs where the person is.

After the README's setup, ``voicecoach`` is not on the PATH: the checkout's ``scripts/run``
runs any command. Every hint that suggests a command is built here, so they all agree.
"""

from __future__ import annotations

import os
import shutil
import sys
from functools import cache
from pathlib import Path

#: The checkout this package runs from, if it is one: the folder holding ``scripts/run``
#: (this module is voicecoach/app/invocation.py in it).
CHECKOUT = Path(__file__).resolve().parents[2]


def command_prefix(*, on_path: Path | None, script: Path, checkout: Path | None, cwd: Path) -> str:
    """What to type before a command's arguments, from where things are.

    ``on_path`` is what ``voicecoach`` on the PATH resolves to, ``script`` this environment's
    ``voicecoach``, ``checkout`` the folder with ``scripts/run`` (None outside a checkout).
    """
    if on_path is not None and on_path.resolve() == script.resolve():
        return "voicecoach"
    if checkout is not None:
        run = checkout / "scripts" / "run"
        return "scripts/run" if cwd.resolve() == checkout.resolve() else str(run)
    return str(script)


@cache
def _prefix() -> str:
    found = shutil.which("voicecoach")
    has_run = (CHECKOUT / "scripts" / "run").is_file()
    return command_prefix(
        on_path=Path(found) if found else None,
        script=Path(sys.prefix) / "bin" / "voicecoach",
        checkout=CHECKOUT if has_run else None,
        cwd=Path(os.getcwd()),
    )


def voicecoach_command(args: str) -> str:
    """``voicecoach ARGS`` as the person should type it here, e.g. ``scripts/run devices``."""
    return f"{_prefix()} {args}"
