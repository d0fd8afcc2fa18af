"""voicecoach: a voice-guided, hands-free, offline exercise session player for lower back pain."""

from __future__ import annotations

import os

# numpy's OpenBLAS starts a thread per core for every matrix product, and its idle threads spin:
# the speech embeddings took twice the CPU time with two threads for no gain in wall time, and
# a Pi's cores are shared with the audio loop and Whisper. Set before anything imports numpy;
# an OPENBLAS_NUM_THREADS already in the environment wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"
