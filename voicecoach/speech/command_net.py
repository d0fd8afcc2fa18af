"""A small network that names the command in the last 1.3 s of speech embeddings.

It reads a window of consecutive embeddings (``voicecoach.speech.embedding``) and gives one
probability per class: ``none``, each command, and each pain-scale number. The weights are
trained by ``training/train_commands.py`` on synthetic speech only, from the tuning voices and a
set of training-only voices; the held-out voices never shape them. They ship in the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

from voicecoach.commands import NUMBER_WORDS, PHRASES, Command, Parsed
from voicecoach.errors import RecognizerError

Floats = npt.NDArray[np.float32]

#: The class that means "no command here".
NONE = "none"
WEIGHTS_FILE = "command_net.npz"


def class_names() -> tuple[str, ...]:
    """Every class, in the network's output order: none, the commands, then n0 to n10."""
    commands = tuple(c.value for c in Command if c not in (Command.NUMBER, Command.CHECK))
    return (NONE, *commands, *(f"n{v}" for v in range(len(NUMBER_WORDS))))


def class_of(parsed: Parsed | None) -> str:
    """The class name of a parsed command (``none`` for None)."""
    if parsed is None:
        return NONE
    if parsed.command == Command.NUMBER:
        return f"n{parsed.value}"
    return parsed.command.value


def phrase_of(name: str) -> str:
    """Words that ``commands.parse`` maps back to the class: what a Hit carries as text."""
    if is_number(name):
        return NUMBER_WORDS[int(name[1:])]
    return PHRASES[Command(name)][0]


def is_number(name: str) -> bool:
    """Whether a class is a pain-scale number."""
    return name.startswith("n") and name[1:].isdigit()


@dataclass(frozen=True)
class CommandNet:
    """One hidden layer of rectified units, then a softmax over ``classes``."""

    hidden_weights: Floats
    hidden_bias: Floats
    output_weights: Floats
    output_bias: Floats
    classes: tuple[str, ...]
    #: Consecutive embeddings the network reads at once.
    window_embeddings: int
    #: The acceptance rule chosen with it: a command's mean probability over
    #: ``hold_embeddings`` consecutive embeddings must reach ``threshold``.
    threshold: float = 0.9
    hold_embeddings: int = 2
    #: A threshold for each class, where some differ from ``threshold``; empty when none do.
    class_thresholds: tuple[float, ...] = ()

    def thresholds(self) -> tuple[float, ...]:
        """The threshold each class must reach, in the order of ``classes``."""
        return self.class_thresholds or (self.threshold,) * len(self.classes)

    def probabilities(self, windows: Floats) -> Floats:
        """Class probabilities for each row of flattened embedding windows, shape (n, classes)."""
        hidden = np.maximum(0.0, windows @ self.hidden_weights + self.hidden_bias)
        logits = hidden @ self.output_weights + self.output_bias
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)

    def save(self, path: Path) -> None:
        """Write the weights (half precision: the network does not need more)."""
        np.savez_compressed(
            path,
            hidden_weights=self.hidden_weights.astype(np.float16),
            hidden_bias=self.hidden_bias.astype(np.float32),
            output_weights=self.output_weights.astype(np.float16),
            output_bias=self.output_bias.astype(np.float32),
            classes=np.array(self.classes),
            window_embeddings=np.array(self.window_embeddings),
            threshold=np.array(self.threshold),
            hold_embeddings=np.array(self.hold_embeddings),
            class_thresholds=np.array(self.thresholds(), dtype=np.float64),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> CommandNet:
        """The weights at ``path``, or the ones shipped in the package."""
        source = path or Path(str(resources.files("voicecoach.speech") / "data" / WEIGHTS_FILE))
        try:
            with np.load(source, allow_pickle=False) as data:
                net = cls(
                    hidden_weights=data["hidden_weights"].astype(np.float32),
                    hidden_bias=data["hidden_bias"].astype(np.float32),
                    output_weights=data["output_weights"].astype(np.float32),
                    output_bias=data["output_bias"].astype(np.float32),
                    classes=tuple(str(c) for c in data["classes"]),
                    window_embeddings=int(data["window_embeddings"]),
                    threshold=float(data["threshold"]),
                    hold_embeddings=int(data["hold_embeddings"]),
                    class_thresholds=tuple(
                        float(t) for t in data.get("class_thresholds", np.zeros(0))
                    ),
                )
        except (OSError, KeyError, ValueError) as err:
            raise RecognizerError(
                f"could not read the command network {source} ({err}); reinstall voicecoach"
            ) from err
        if net.classes != class_names():
            raise RecognizerError(
                f"the command network {source} was trained for other commands; "
                "retrain it with `python -m training.train_commands`"
            )
        return net
