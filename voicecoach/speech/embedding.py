"""Speech embeddings: Google's speech-embedding network over a log-mel front end, streamed.

The two ONNX models (the mel front end and the embedding network, both Apache-2.0) ship in
this package's ``speech/data`` folder, taken from the ``openwakeword`` 0.4.0 wheel; see
``speech/data/NOTICE.md``. numpy runs them (``embedding_net.py``), so neither openwakeword,
its scipy and scikit-learn, nor onnxruntime is loaded in the session's process. The network
was trained by Google on a large body of real speech, so its embeddings separate words spoken
by people even when the classifier on top of them was trained on synthetic voices alone.

One 96-number embedding comes out for every 80 ms of audio; each describes the last 0.775 s.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicecoach.errors import RecognizerError
from voicecoach.frames import RATE_HZ, Samples
from voicecoach.speech.embedding_net import EmbeddingNet, MelFrontEnd

#: Samples between two mel frames (10 ms) and between two embeddings (8 mel frames, 80 ms).
MEL_HOP_SAMPLES = 160
MEL_FRAMES_PER_EMBEDDING = 8
EMBEDDING_HOP_SAMPLES = MEL_HOP_SAMPLES * MEL_FRAMES_PER_EMBEDDING
#: Mel frames one embedding looks at (0.775 s), and the numbers in one embedding.
EMBEDDING_WINDOW_FRAMES = 76
EMBEDDING_SIZE = 96
#: The mel model yields (samples / 160 - 3) frames: it needs 3 hops of audio before a chunk.
_MEL_CONTEXT_SAMPLES = 3 * MEL_HOP_SAMPLES
#: Hops of audio before the first embedding: its window must fill with mel frames first.
_FIRST_EMBEDDING_HOPS = -(-EMBEDDING_WINDOW_FRAMES // MEL_FRAMES_PER_EMBEDDING)
#: Embeddings end on hop boundaries, so the first window starts 4 mel frames into the stream.
_FRAMES_BEFORE_FIRST_WINDOW = -EMBEDDING_WINDOW_FRAMES % MEL_FRAMES_PER_EMBEDDING
#: Hops embedded in one pass (0.32 s). The mel front end floors each pass 80 dB under its
#: loudest band, so the piece size moves the numbers where a pass is nearly silent; the
#: network's second opinion was tuned with these pieces.
_MAX_HOPS_AT_ONCE = 4
_FIX = "reinstall voicecoach (`scripts/setup`): the files ship inside the package"

Embeddings = npt.NDArray[np.float32]


def model_dir() -> Path:
    """Where the package keeps the two ONNX models."""
    return Path(__file__).resolve().parent / "data"


class SpeechEmbedder:
    """Turns a stream of 16 kHz samples into one speech embedding per 80 ms."""

    def __init__(self) -> None:
        folder = model_dir()
        try:
            self._mel = MelFrontEnd(folder / "melspectrogram.onnx")
            self._net = EmbeddingNet(folder / "embedding_model.onnx")
        except RecognizerError as err:
            raise RecognizerError(f"{err}; {_FIX}") from err
        self.reset()

    def reset(self) -> None:
        """Forget all audio heard so far."""
        self._pending = np.zeros(0, dtype=np.float32)
        self._tail = np.zeros(_MEL_CONTEXT_SAMPLES, dtype=np.float32)
        self._skip_frames = _FRAMES_BEFORE_FIRST_WINDOW
        self._net.reset()

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
        mel_frames = self.mel(audio)[self._skip_frames :]
        self._skip_frames = 0
        return self._net.feed(mel_frames)

    def mel(self, audio: Samples) -> npt.NDArray[np.float32]:
        """Log-mel frames of a stretch of audio, scaled as the embedding network expects."""
        # The front end was built for 16-bit sample values, not [-1, 1].
        spec = self._mel((audio * 32767.0).astype(np.float32))
        return spec / 10.0 + 2.0


def embedding_end_seconds(index: int) -> float:
    """When the index-th embedding of a stream ends, in seconds from the stream's start."""
    return (index + _FIRST_EMBEDDING_HOPS) * EMBEDDING_HOP_SAMPLES / RATE_HZ
