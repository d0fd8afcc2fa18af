"""The one exception root; each user-facing failure is a subclass with its own exit code."""

from __future__ import annotations

import re


class VoiceCoachError(Exception):
    """A failure the user can act on; the CLI prints it without a traceback."""

    exit_code = 1

    def __init__(self, message: str, *, event: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        #: What caused the failure (a file, device, command event), for logs and tests.
        self.event = event

    def __str__(self) -> str:
        return self.message


#: A problem that starts with LINE:COL (a TOML syntax error) is printed as FILE:LINE:COL.
_AT_LINE = re.compile(r"\d+:\d+: ")


class ProgramError(VoiceCoachError):
    """A program file that cannot be read or does not validate; carries every problem found."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = [f"{source}:{'' if _AT_LINE.match(p) else ' '}{p}" for p in self.problems]
        super().__init__("\n".join(lines) or source, event=source)


class UsageError(VoiceCoachError):
    """A bad option value the click layer cannot catch by itself."""

    exit_code = 2


class JournalError(VoiceCoachError):
    """The journal file is corrupt, unwritable, or its disk is full."""


class AudioDeviceError(VoiceCoachError):
    """An audio device is missing, busy, refuses every rate, or vanished mid-stream."""


class AudioFileError(VoiceCoachError):
    """An audio file cannot be read or written."""


class SpeechError(VoiceCoachError):
    """Text-to-speech failed to render."""


class RecognizerError(VoiceCoachError):
    """A recognizer backend cannot load (missing library, corrupt model)."""


class ReportError(VoiceCoachError):
    """The report cannot be made as asked (an output file cannot be written, no plotting)."""


class ModelError(VoiceCoachError):
    """A Vosk model is missing, fails its checksum, or its archive is unsafe."""
