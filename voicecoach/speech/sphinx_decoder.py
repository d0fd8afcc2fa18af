"""The pocketsphinx decoder this recognizer needs: the model's dictionary cut to the command
words and decoys, a keyword list to spot candidates, and a grammar to confirm them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Protocol

from voicecoach.commands import NUMBER_WORDS, command_phrases
from voicecoach.errors import RecognizerError

if TYPE_CHECKING:
    from voicecoach.speech.sphinx_recognizer import SphinxTuning


class DecodedWord(Protocol):
    """One word of a pocketsphinx result, its times in 10 ms frames."""

    word: str
    start_frame: int
    end_frame: int
    prob: int


class Decoder(Protocol):
    """The part of ``pocketsphinx.Decoder`` this recognizer uses."""

    config: Mapping[str, object]

    def activate_search(self, name: str) -> None: ...
    def start_utt(self) -> None: ...
    def end_utt(self) -> None: ...
    def set_cmn(self, prior: str) -> None: ...
    def process_raw(self, data: bytes) -> int: ...
    def hyp(self) -> object | None: ...
    def seg(self) -> Iterable[DecodedWord] | None: ...
    def add_word(self, word: str, phones: str, update: bool) -> int: ...
    def add_kws(self, name: str, path: str) -> None: ...
    def add_jsgf_string(self, name: str, grammar: str) -> None: ...
    def lookup_word(self, word: str) -> str: ...


#: Real words that sound like commands. They compete in the confirming grammar, so that "paint"
#: is heard as "paint" and not as "pain". None of them may contain a command word.
DECOYS: tuple[str, ...] = (
    "paint", "plain", "plane", "pen", "pin", "main", "rain", "gain", "same", "page", "paid",
    "top", "spot", "stomp", "stock", "shop", "step",
    "pass", "cause", "post", "pot", "pace", "boss",
    "white", "way", "late", "what",
    "ship", "keep", "kept", "script",
    "yet", "yeah", "less", "guess",
    "none", "some", "come", "nun", "gum",
    "out", "couch", "now", "how",
    "peat", "treat", "hard",
    "tinkling", "single", "mingling",
)  # fmt: skip
#: The confirming grammar's garbage path: the model's speech-noise unit and a few broad phones.
GARBAGE_PHONES: tuple[str, ...] = ("+SPN+", "AH", "N", "IY", "R", "L")
FIX = "reinstall it with `pip install --force-reinstall pocketsphinx` (its wheel ships the model)"


def kws_name(numbers: bool) -> str:
    return "spot_numbers" if numbers else "spot"


def grammar_name(numbers: bool) -> str:
    return "confirm_numbers" if numbers else "confirm"


def strip_variant(word: str) -> str:
    # Alternative pronunciations come back as "repeat(2)".
    return word.split("(", 1)[0]


def is_vocabulary(word: str) -> bool:
    return not word.startswith(("gb_", "<", "[", "+"))


def _phrases(numbers: bool) -> list[str]:
    return command_phrases() + (list(NUMBER_WORDS) if numbers else [])


def build_decoder(ps: ModuleType, workdir: Path, tuning: SphinxTuning) -> Decoder:
    model = Path(ps.get_model_path()) / "en-us"
    words = {w for p in _phrases(True) for w in p.split()}
    dictionary = _write_dictionary(model / "cmudict-en-us.dict", words | set(DECOYS), workdir)
    decoder: Decoder = ps.Decoder(
        hmm=str(model / "en-us"),
        dict=str(dictionary),
        lm=None,
        loglevel="FATAL",
        # Half-bit dither: digital silence (files, muted inputs) otherwise excites the spotter.
        dither=True,
        seed=1,
        kws_delay=tuning.delay_frames,
        # The confirming decode takes the Viterbi path. The default lattice rescoring costs
        # about 0.3 s of CPU per candidate on the looping grammar (measured here, more on a
        # Pi), and the audio loop would fall that far behind each time.
        bestpath=False,
    )
    for phone in GARBAGE_PHONES:
        decoder.add_word(f"gb_{phone.lower().strip('+')}", phone, False)
    _add_phrase_words(decoder, _phrases(True))
    for numbers in (False, True):
        kws_file = workdir / f"{kws_name(numbers)}.kws"
        kws_file.write_text(_kws_list(_phrases(numbers), tuning), encoding="utf-8")
        decoder.add_kws(kws_name(numbers), str(kws_file))
        decoder.add_jsgf_string(grammar_name(numbers), _grammar(_phrases(numbers), tuning))
    return decoder


def _token(phrase: str) -> str:
    # The grammar holds each phrase as one dictionary word: alternatives of different word
    # counts make pocketsphinx's grammar search stop in the middle of a longer phrase.
    return phrase.replace(" ", "_")


def _add_phrase_words(decoder: Decoder, phrases: list[str]) -> None:
    for phrase in phrases:
        if " " in phrase:
            phones = " ".join(decoder.lookup_word(word) for word in phrase.split())
            decoder.add_word(_token(phrase), phones, False)


def _write_dictionary(cmudict: Path, words: set[str], workdir: Path) -> Path:
    """A dictionary with just our words: loads in milliseconds and keeps memory small."""
    lines = []
    with cmudict.open(encoding="utf-8") as source:
        for line in source:
            head = line.split(" ", 1)[0]
            if head.split("(", 1)[0] in words:
                lines.append(line)
    found = {line.split(" ", 1)[0].split("(", 1)[0] for line in lines}
    missing = words - found
    if missing:
        raise RecognizerError(f"the pocketsphinx dictionary lacks {sorted(missing)}; {FIX}")
    path = workdir / "voicecoach.dict"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _kws_list(phrases: list[str], tuning: SphinxTuning) -> str:
    lines = []
    for phrase in phrases:
        threshold = tuning.thresholds.get(phrase, tuning.default_threshold)
        lines.append(f"{phrase} /{10.0**threshold:.6g}/\n")
    return "".join(lines)


def _grammar(phrases: list[str], tuning: SphinxTuning) -> str:
    garbage = [f"gb_{p.lower().strip('+')}" for p in GARBAGE_PHONES]
    return (
        "#JSGF V1.0;\ngrammar voicecoach;\n"
        "public <utterance> = <item>+ ;\n"
        f"<item> = /1/ <command> | /1/ <decoy> | /{tuning.garbage_weight:g}/ <garbage> ;\n"
        f"<command> = {' | '.join(_token(p) for p in phrases)} ;\n"
        f"<decoy> = {' | '.join(DECOYS)} ;\n"
        f"<garbage> = {' | '.join(garbage)} ;\n"
    )
