"""Keys for a helper sitting nearby: p pauses or resumes, s stops, x reports pain."""

from __future__ import annotations

import os
import select
import sys
from types import TracebackType
from typing import Self

from voicecoach.commands import Command, Parsed

HELP = "keys: p pause/resume, s stop, x pain"


def command_for_key(key: str, mode: str) -> Parsed | None:
    """The command a key means in the session's current mode."""
    match key.lower():
        case "p":
            return Parsed(Command.RESUME if mode == "paused" else Command.PAUSE)
        case "s":
            return Parsed(Command.STOP)
        case "x":
            return Parsed(Command.PAIN)
    return None


class KeyReader:
    """Reads single key presses without waiting; does nothing when stdin is not a terminal."""

    def __init__(self) -> None:
        self.active = False
        self._saved: list[int | list[bytes | int]] | None = None
        self._fd = -1

    def __enter__(self) -> Self:
        if not sys.stdin.isatty():
            return self
        import termios
        import tty

        self._fd = sys.stdin.fileno()
        self._saved = termios.tcgetattr(self._fd)
        # cbreak keeps Ctrl-C working (it still raises KeyboardInterrupt) while keys need no Enter.
        tty.setcbreak(self._fd)
        self.active = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        self.active = False

    def poll(self) -> list[str]:
        """Keys pressed since the last call."""
        if not self.active:
            return []
        keys: list[str] = []
        while select.select([self._fd], [], [], 0)[0]:
            data = os.read(self._fd, 32)
            if not data:
                break
            keys.extend(data.decode(errors="ignore"))
        return keys
