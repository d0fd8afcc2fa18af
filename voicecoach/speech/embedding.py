"""Speech embeddings: Google's speech-embedding network over a log-mel front end, streamed.

The two ONNX models (the mel front end and the embedding network, both Apache-2.0) ship in
this package's ``speech/data`` folder, taken from the ``openwakeword`` 0.4.0 wheel; see
``speech/data/NOTICE.md``. Shipping the two files spares a Raspberry Pi's SD card the
openwakeword package and the scipy and scikit-learn it pulls in. The network was trained by
Google on a large body of real speech, so its embeddings separate words spoken by people even
when the classifier on top of them was trained on synthetic voices alone.

One 96-number embedding comes out for every 80 ms of audio; each describes the last 0.775 s.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Protocol

import numpy as np
import numpy.typing as npt

from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples

#: Samples between two mel frames (10 ms) and between two embeddings (8 mel frames, 80 ms).
MEL_HOP_SAMPLES = 160
MEL_FRAMES_PER_EMBEDDING = 8
EMBEDDING_HOP_SAMPLES = MEL_HOP_SAMPLES * MEL_FRAMES_PER_EMBEDDING
#: Mel frames one embedding looks at (0.775 s), and the numbers in one embedding.
EMBEDDING_WINDOW_FRAMES = 76
EMBEDDING_SIZE = 96
#: The mel model yields (samples / 160 - 3) frames: it needs 3 hops of audio before a chunk.
_MEL_CONTEXT_SAMPLES = 3 * MEL_HOP_SAMPLES
_MEL_BANDS = 32
#: Hops of audio before the first embedding: its window must fill with mel frames first.
_FIRST_EMBEDDING_HOPS = -(-EMBEDDING_WINDOW_FRAMES // MEL_FRAMES_PER_EMBEDDING)
#: Hops embedded in one call of each model: onnxruntime keeps the memory of its largest call,
#: and an 8 s utterance in one call peaked 70 MB higher than in 0.32 s pieces (same output
#: and speed; 0.64 s pieces peaked 10 MB higher).
_MAX_HOPS_AT_ONCE = 4
_FIX = "reinstall voicecoach (`scripts/setup`): the files ship inside the package"

Embeddings = npt.NDArray[np.float32]


class _Input(Protocol):
    name: str


class _Session(Protocol):
    """The part of ``onnxruntime.InferenceSession`` the embedder uses."""

    def get_inputs(self) -> Sequence[_Input]: ...
    def run(self, outputs: None, feeds: dict[str, npt.NDArray[np.float32]]) -> list[object]: ...


def model_dir() -> Path:
    """Where the package keeps the two ONNX models."""
    return Path(__file__).resolve().parent / "data"


class SpeechEmbedder:
    """Turns a stream of 16 kHz samples into one speech embedding per 80 ms."""

    def __init__(self) -> None:
        ort = _import_onnxruntime()
        options = ort.SessionOptions()
        # One thread each: the audio loop is single-threaded and a Pi has few cores to share.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        folder = model_dir()
        try:
            self._mel: _Session = ort.InferenceSession(
                str(folder / "melspectrogram.onnx"), options, providers=["CPUExecutionProvider"]
            )
            self._net: _Session = ort.InferenceSession(
                str(folder / "embedding_model.onnx"), options, providers=["CPUExecutionProvider"]
            )
        except Exception as err:  # onnxruntime raises its own untyped errors for bad files
            raise RecognizerError(
                f"could not load the speech-embedding models in {folder} ({err}); {_FIX}"
            ) from err
        self.reset()

    def reset(self) -> None:
        """Forget all audio heard so far."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._tail = np.zeros(_MEL_CONTEXT_SAMPLES, dtype=np.float32)
        self._mel_frames = np.zeros((0, _MEL_BANDS), dtype=np.float32)

    def feed(self, samples: Samples) -> Embeddings:
        """Consume samples; return the embeddings completed by them, shape (n, 96)."""
        self._pending = np.concatenate([self._pending, samples.astype(np.float32)])
        out = [self._embed_pending()]
        while len(self._pending) >= EMBEDDING_HOP_SAMPLES:
            out.append(self._embed_pending())
        return np.concatenate(out)

    def _embed_pending(self) -> Embeddings:
        """Embed up to ``_MAX_HOPS_AT_ONCE`` hops of the pending audio."""
        chunks = min(len(self._pending) // EMBEDDING_HOP_SAMPLES, _MAX_HOPS_AT_ONCE)
        if chunks == 0:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        used = chunks * EMBEDDING_HOP_SAMPLES
        audio = np.concatenate([self._tail, self._pending[:used]])
        self._tail = audio[-_MEL_CONTEXT_SAMPLES:]
        self._pending = self._pending[used:]
        self._mel_frames = np.concatenate([self._mel_frames, self.mel(audio)])
        windows = (len(self._mel_frames) - EMBEDDING_WINDOW_FRAMES) // MEL_FRAMES_PER_EMBEDDING
        windows = min(chunks, windows + 1) if windows >= 0 else 0
        if windows == 0:
            return np.zeros((0, EMBEDDING_SIZE), dtype=np.float32)
        last = len(self._mel_frames)
        starts = [
            last - EMBEDDING_WINDOW_FRAMES - MEL_FRAMES_PER_EMBEDDING * k
            for k in reversed(range(windows))
        ]
        out = self.embed([self._mel_frames[s : s + EMBEDDING_WINDOW_FRAMES] for s in starts])
        # Keep only the mel frames a later embedding can still use.
        self._mel_frames = self._mel_frames[-EMBEDDING_WINDOW_FRAMES:]
        return out

    def mel(self, audio: Samples) -> npt.NDArray[np.float32]:
        """Log-mel frames of a stretch of audio, scaled as the embedding network expects."""
        # The front end was built for 16-bit sample values, not [-1, 1].
        spec = self._run(self._mel, (audio * 32767.0).astype(np.float32)[None, :])
        return np.asarray(spec, dtype=np.float32).reshape(-1, _MEL_BANDS) / 10.0 + 2.0

    def embed(self, windows: list[npt.NDArray[np.float32]]) -> Embeddings:
        """The embedding of each 76-frame mel window."""
        batch = np.stack(windows)[..., None].astype(np.float32)
        return np.asarray(self._run(self._net, batch), dtype=np.float32).reshape(-1, EMBEDDING_SIZE)

    def _run(self, session: _Session, data: npt.NDArray[np.float32]) -> object:
        return session.run(None, {session.get_inputs()[0].name: data})[0]


def embedding_end_seconds(index: int) -> float:
    """When the index-th embedding of a stream ends, in seconds from the stream's start."""
    return (index + _FIRST_EMBEDDING_HOPS) * EMBEDDING_HOP_SAMPLES / RATE_HZ


def _import_onnxruntime() -> ModuleType:
    try:
        return importlib.import_module("onnxruntime")
    except ImportError as err:
        raise RecognizerError(f"onnxruntime is not installed or cannot load ({err})") from err
