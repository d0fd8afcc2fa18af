"""Entry point for ``python -m voicecoach``."""

from __future__ import annotations

from voicecoach.cli import main

if __name__ == "__main__":
    main()
