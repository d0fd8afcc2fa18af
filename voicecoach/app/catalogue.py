"""The catalogue of programs: the built-in ones, the user's folder, and files named by path."""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import platformdirs

from voicecoach.errors import ProgramError
from voicecoach.program import Program
from voicecoach.programfile import did_you_mean, is_program_name, parse_program

_LOGGER = logging.getLogger(__name__)

#: The program a session uses when none is named.
DEFAULT_PROGRAM = "gentle-start"

#: Environment variable that points the user programs folder somewhere else.
PROGRAMS_DIR_ENV = "VOICECOACH_PROGRAMS_DIR"


def _read_text(path: Path) -> str:
    source = str(path)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramError(source, ["file not found"]) from None
    except IsADirectoryError:
        raise ProgramError(source, ["is a folder, not a program file"]) from None
    except UnicodeDecodeError as err:
        raise ProgramError(
            source, [f"is not UTF-8 text (bad byte at offset {err.start})"]
        ) from None
    except OSError as err:
        raise ProgramError(source, [f"cannot be read: {err.strerror or err}"]) from None
    except ValueError as err:  # a path with a NUL byte in it
        raise ProgramError(source, [f"cannot be read: {err}"]) from None


def _require_file_name(program: Program, stem: str, source: str) -> None:
    # Programs are found by file name, so a different `name` could never be looked up.
    if program.name != stem:
        rule = f"must match the file name '{stem}.toml' so it can be found by name"
        raise ProgramError(source, [f"name: {rule}; got '{program.name}'"])


def load_program_file(path: Path) -> Program:
    """Load and validate a program file; a file in the user programs folder must match its name."""
    program = parse_program(_read_text(path), str(path))
    if path.resolve().parent == user_programs_dir().resolve():
        _require_file_name(program, path.stem, str(path))
        return replace(program, origin="user")
    return replace(program, origin="file")


def user_programs_dir() -> Path:
    """The folder of the user's own programs (``$VOICECOACH_PROGRAMS_DIR`` overrides it)."""
    override = os.environ.get(PROGRAMS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir("voicecoach")) / "programs"


def _builtin_dir() -> Traversable:
    return resources.files("voicecoach") / "programs"


def _builtin_names() -> list[str]:
    return sorted(
        e.name.removesuffix(".toml") for e in _builtin_dir().iterdir() if e.name.endswith(".toml")
    )


def _load_builtin(name: str) -> Program:
    source = f"<built-in>/{name}.toml"
    program = parse_program((_builtin_dir() / f"{name}.toml").read_text(encoding="utf-8"), source)
    _require_file_name(program, name, source)
    return replace(program, origin="built-in")


def _user_files() -> list[Path]:
    folder = user_programs_dir()
    return sorted(folder.glob("*.toml")) if folder.is_dir() else []


def _looks_like_path(name_or_path: str) -> bool:
    separators = {"/", os.sep, os.altsep or "/"}
    return name_or_path.endswith(".toml") or any(s in name_or_path for s in separators)


def resolve_program(name_or_path: str) -> Program:
    """Load a program by file path, or by name: a user program wins over a built-in one."""
    if _looks_like_path(name_or_path):
        return load_program_file(Path(name_or_path).expanduser())
    if is_program_name(name_or_path):
        user_file = user_programs_dir() / f"{name_or_path}.toml"
        if user_file.is_file():
            return load_program_file(user_file)
        if name_or_path in _builtin_names():
            return _load_builtin(name_or_path)
    names = sorted({*_builtin_names(), *(p.stem for p in _user_files())})
    hint = did_you_mean(name_or_path, names)
    problem = f"no program by that name; available: {', '.join(names)}{hint}"
    raise ProgramError(name_or_path, [problem])


def list_programs() -> list[Program]:
    """Every built-in and user program by name; a user program replaces a built-in of that name."""
    found = {name: _load_builtin(name) for name in _builtin_names()}
    for path in _user_files():
        try:
            found[path.stem] = load_program_file(path)
        except ProgramError as err:
            # One broken file in the user's folder must not hide every other program.
            _LOGGER.warning("skipping user program %s:\n%s", path, err)
    return [found[name] for name in sorted(found)]
