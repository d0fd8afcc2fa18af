"""The folders are the layers: the pure core at the package's top level uses no adapter."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import voicecoach

PACKAGE = Path(voicecoach.__file__).parent
#: ``__main__`` is the face's entry point (``python -m voicecoach``), not a core module.
CORE = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")

#: Layers above the core: the shell, the adapters and the face.
OUTER_LAYERS = ("journal", "audio", "speech", "report", "cli", "app", "enrol")
#: What only an adapter or the shell may touch: devices, speech engines, models, SQL, threads,
#: processes, the terminal, and where files live on this machine.
FORBIDDEN = frozenset(
    {
        "sounddevice",
        "pyttsx3",
        "vosk",
        "pocketsphinx",
        "onnxruntime",
        "ctranslate2",
        "sqlite3",
        "threading",
        "subprocess",
        "click",
        "rich",
        "platformdirs",
    }
)
#: One module is one noun, at most about this many lines.
MAX_LINES = 400


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports, anywhere in it (inside functions too), as dotted names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module is not None and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def outside_the_core(name: str) -> bool:
    """Whether importing ``name`` reaches past the core."""
    parts = name.split(".")
    if parts[0] == "voicecoach":
        return len(parts) > 1 and parts[1] in OUTER_LAYERS
    return parts[0] in FORBIDDEN


def test_the_core_is_the_top_level() -> None:
    assert {"session", "commands", "ports", "frames", "plan"} <= {p.stem for p in CORE}


@pytest.mark.parametrize("path", CORE, ids=lambda p: p.name)
def test_a_core_module_imports_no_adapter_shell_or_device(path: Path) -> None:
    assert sorted(n for n in imported(path) if outside_the_core(n)) == []


def test_the_rule_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from voicecoach.audio import devices\n    import sqlite3\n")
    assert {n for n in imported(module) if outside_the_core(n)} == {
        "voicecoach.audio",
        "voicecoach.audio.devices",
        "sqlite3",
    }


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_no_module_is_longer_than_a_noun_needs(path: Path) -> None:
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {lines} lines"
