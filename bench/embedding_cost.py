"""What the speech embeddings cost, run by numpy, against onnxruntime on the same two files.

python -m bench.embedding_cost [--seconds 60]

Each engine runs in its own process, so each peak RSS is its own:
- streamed: recorded reading (Debian's pocketsphinx-testdata, looped) fed 20 ms at a time, as
  the command network hears it, in CPU seconds per second of audio;
- utterance: 3 s of it at once, as the second opinion and enrolment embed, median CPU ms of 5;
- the peak RSS of the process, and how far numpy's embeddings are from onnxruntime's.

onnxruntime runs one window at a time on one thread, as voicecoach ran it before numpy did.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import click
import numpy as np
import numpy.typing as npt

from bench import system
from bench.whisper_cost import _quiet_room, _reading
from voicecoach.frames import Samples, split_frames

UTTERANCE_SECONDS = 3.0
REPEATS = 5
#: One hop of 80 ms between embeddings, and the mel front end's context before each piece.
_HOP_SAMPLES = 1280
_CONTEXT_SAMPLES = 480
#: The embedder cut audio into pieces of up to 4 hops; fed 20 ms at a time, 1 hop each.
_PIECE_HOPS = 4

Embeddings = npt.NDArray[np.float32]


class _OnnxruntimeEmbedder:
    """The embeddings as onnxruntime made them from the same files, window by window."""

    def __init__(self) -> None:
        import onnxruntime as ort

        from voicecoach.speech.embedding import model_dir

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self._mel, self._net = (
            ort.InferenceSession(
                str(model_dir() / name), options, providers=["CPUExecutionProvider"]
            )
            for name in ("melspectrogram.onnx", "embedding_model.onnx")
        )

    def embed(self, samples: Samples, piece_hops: int = _PIECE_HOPS) -> Embeddings:
        """The embeddings of ``samples``, cut into pieces of ``piece_hops`` hops."""
        out: list[Embeddings] = []
        mel = np.zeros((0, 32), np.float32)
        tail = np.zeros(_CONTEXT_SAMPLES, np.float32)
        piece_samples = piece_hops * _HOP_SAMPLES
        for start in range(0, len(samples) - piece_samples + 1, piece_samples):
            audio = np.concatenate([tail, samples[start : start + piece_samples]])
            tail = audio[-_CONTEXT_SAMPLES:]
            spec = self._mel.run(None, {"input": (audio * 32767.0)[None, :]})[0]
            mel = np.concatenate([mel, np.asarray(spec, np.float32).reshape(-1, 32) / 10 + 2])
            for end in range(len(mel) - 8 * (piece_hops - 1), len(mel) + 1, 8):  # its new hops
                if end >= 76:
                    window = mel[end - 76 : end][None, :, :, None]
                    out.append(np.asarray(self._net.run(None, {"input_1": window})[0]).ravel())
            mel = mel[-76:]
        return np.stack(out)


def _cpu_seconds(work: Callable[[], object]) -> float:
    started = time.process_time()
    work()
    return time.process_time() - started


def measure(engine: str, seconds: float) -> dict[str, float]:
    """CPU cost, peak RSS and (for numpy) the largest difference from onnxruntime."""
    from voicecoach.speech.embedding import SpeechEmbedder

    samples = _audio(seconds)
    utterance = samples[: int(UTTERANCE_SECONDS * 16000)]
    if engine == "onnxruntime":
        reference = _OnnxruntimeEmbedder()
        streamed = _cpu_seconds(lambda: reference.embed(samples, piece_hops=1))
        once = [_cpu_seconds(lambda: reference.embed(utterance)) for _ in range(REPEATS)]
    else:
        embedder = SpeechEmbedder()
        streamed = _cpu_seconds(lambda: [embedder.feed(f) for f in split_frames(samples)])
        once = []
        for _ in range(REPEATS):
            embedder.reset()
            once.append(_cpu_seconds(lambda: embedder.feed(utterance)))
    figures = {
        "rtf": streamed / seconds,
        "utterance_ms": statistics.median(once) * 1000,
        "peak_mb": system.peak_rss_mb(),
    }
    if engine == "numpy":  # after the peak is read: the reference brings onnxruntime in
        embedder.reset()
        whole = embedder.feed(samples)  # in 0.32 s pieces, as the reference
        expected = _OnnxruntimeEmbedder().embed(samples)
        count = min(len(whole), len(expected))
        figures["max_difference"] = float(np.abs(whole[:count] - expected[:count]).max())
    return figures


def _audio(seconds: float) -> Samples:
    reading = _reading(seconds)
    return reading if reading is not None else _quiet_room(seconds)


@click.command()
@click.option("--seconds", default=60.0, show_default=True, help="Audio streamed per engine.")
@click.option("--engine", type=click.Choice(["numpy", "onnxruntime"]), hidden=True)
def main(seconds: float, engine: str | None) -> None:
    """Print the speech embeddings' cost with numpy and with onnxruntime."""
    if engine is not None:
        print(json.dumps(measure(engine, seconds)))
        return
    for name in ("numpy", "onnxruntime"):
        command = [sys.executable, "-m", "bench.embedding_cost", "--engine", name]
        done = subprocess.run(
            [*command, "--seconds", str(seconds)], capture_output=True, text=True, check=True
        )
        row = json.loads(done.stdout)
        extra = (
            f", largest difference {row['max_difference']:.1e}" if "max_difference" in row else ""
        )
        print(
            f"{name:12s} streamed RTF {row['rtf']:.4f}, {UTTERANCE_SECONDS:.0f} s utterance "
            f"{row['utterance_ms']:.0f} ms, peak RSS {row['peak_mb']:.0f} MB{extra}"
        )


if __name__ == "__main__":
    main()
