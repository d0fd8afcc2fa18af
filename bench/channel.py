"""The telephone band: a bench condition for speech heard the way a phone line carries it;
and sox's decoding of the recordings the bench reads in formats voicecoach does not (Ogg).

A person's recordings often come through a telephone line: 8 kHz samples in 8-bit mu-law, no
sound above about 3.6 kHz and little below 300 Hz. Whisper learned from such audio too, but a
synthetic voice loses most of what marks its fricatives ("pause" heard as "Paul"), so the
bench measures every voice family through the band as well as clean.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

from voicecoach.frames import RATE_HZ, Samples, from_int16, to_int16_bytes

PHONE_CONDITION = "phone"
LINE_RATE_HZ = 8_000
#: The line's low edge: two two-pole high-passes, -6 dB here and -38 dB at 100 Hz.
LOW_EDGE_HZ = 300

_RAW16 = ["-t", "raw", "-e", "signed", "-b", "16", "-c", "1"]
_WIDE = [*_RAW16, "-r", str(RATE_HZ), "-", "rate", str(RATE_HZ)]
_MULAW = ["-t", "raw", "-e", "u-law", "-b", "8", "-c", "1", "-r", str(LINE_RATE_HZ)]


def telephone(samples: Samples) -> Samples:
    """``samples`` as a phone line carries them, back at 16 kHz: high-passed at 300 Hz,
    resampled to 8 kHz (sox's anti-alias filter ends the band) and stored in mu-law."""
    edge = str(LOW_EDGE_HZ)
    line = _sox(
        [*_RAW16, "-r", str(RATE_HZ), "-"],
        [*_MULAW, "-", "highpass", edge, "highpass", edge, "rate", str(LINE_RATE_HZ)],
        to_int16_bytes(samples),
    )
    wide = _sox([*_MULAW, "-"], _WIDE, line)
    out = from_int16(wide)[: len(samples)]
    # sox's resampler may round the length by a sample; keep the clip's timing exact.
    return np.pad(out, (0, len(samples) - len(out))).astype(np.float32)


def decoded(path: Path) -> Samples:
    """Any recording sox can read, as 16 kHz mono samples (the first channel of a stereo one)."""
    return from_int16(_sox([str(path)], [*_WIDE, "remix", "1"], b"", f"reading {path}"))


def _sox(
    source: list[str], target: list[str], data: bytes, doing: str = "the telephone band"
) -> bytes:
    done = subprocess.run(["sox", "-V1", *source, *target], input=data, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"sox failed on {doing}: {done.stderr.decode().strip()}")
    return done.stdout
