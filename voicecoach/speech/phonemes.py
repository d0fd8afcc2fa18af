"""Text to Piper phoneme ids: espeak-ng's IPA, split into sentences the way Piper splits them.

Piper voices are trained on espeak-ng's IPA phonemes, one codepoint per symbol (NFD), with the
clause's punctuation kept as a symbol and each sentence synthesised on its own. Piper gets them
from libespeak-ng through its own GPL bridge; here the separately installed ``espeak-ng``
program writes them (``-q --ipa``), as a subprocess, so that nothing GPL is linked into this
MIT package. espeak-ng ends a clause at each line break, so the text goes in one clause a
line, and each output line is one clause's phonemes.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voicecoach.errors import SpeechError

#: Piper's special symbols: beginning and end of a sentence, and the pad after every phoneme.
BOS, EOS, PAD = "^", "$", "_"
#: Punctuation that ends a clause; ``.``, ``!`` and ``?`` also end a sentence.
_CLAUSE_END = re.compile(r"([.!?,:;]+)(?=\s|$)")
_SENTENCE_ENDS = frozenset(".!?")
#: Within a sentence these terminators are followed by a space (as Piper's bridge writes them).
_SPACED = frozenset(",:;")
_TIMEOUT_SECONDS = 30.0
#: espeak-ng releases before 1.52 write two things differently from the one Piper voices were
#: trained with (on the cue texts, these were all the differences but one stress mark).
_NEWER_DATA = (1, 52)
_VOWEL = "aæɐɑɒəɚɛɜeiɪoɔuʊʌᵻ"
#: 1.52 writes a glide ʲ after i, iː and ɪ before another vowel, also across a word boundary
#: ("see a", "the other", "peeing"), but not inside its one phoneme iə ("zero"); after aɪ only
#: before a stressed vowel ("lie on", not "high as"), and never after eɪ or ɔɪ.
_GLIDE = re.compile(rf"(?<![aeɔo])(iː|i(?!ə)|ɪ)(?=[ ]?[ˈˌ]?[{_VOWEL}])|(?<=a)(ɪ)(?=[ ]?[ˈˌ])")

ESPEAK_FIX = "install espeak-ng: sudo apt-get install espeak-ng"


@dataclass(frozen=True)
class Clause:
    """A piece of text up to a punctuation mark, and that mark (``""`` when there is none)."""

    text: str
    terminator: str

    @property
    def ends_sentence(self) -> bool:
        """True for ``.``, ``!`` and ``?``: Piper synthesises each sentence on its own."""
        return self.terminator[-1:] in _SENTENCE_ENDS


def split_clauses(text: str) -> list[Clause]:
    """The clauses of ``text``, split where espeak-ng splits them: at punctuation and a space."""
    clauses, start = [], 0
    for match in _CLAUSE_END.finditer(text):
        clauses.append(Clause(text[start : match.start()].strip(), match.group(1)[-1]))
        start = match.end()
    clauses.append(Clause(text[start:].strip(), ""))
    # A clause with nothing to say ("..." alone, or the end after the last full stop) is
    # silent; its mark only matters if it ends a sentence.
    kept: list[Clause] = []
    for clause in clauses:
        if any(ch.isalnum() for ch in clause.text):
            kept.append(clause)
        elif kept and clause.ends_sentence and not kept[-1].terminator:
            kept[-1] = Clause(kept[-1].text, clause.terminator)
    return kept


def sentences_of(clauses: Sequence[Clause], ipa_lines: Sequence[str]) -> list[list[str]]:
    """Piper's phonemes per sentence: each clause's IPA and its terminator, NFD-decomposed."""
    sentences: list[list[str]] = []
    current: list[str] = []
    for clause, ipa in zip(clauses, ipa_lines, strict=True):
        phonemes = " ".join(ipa.split()) + clause.terminator
        if clause.terminator in _SPACED:
            phonemes += " "
        current.extend(unicodedata.normalize("NFD", phonemes))
        if clause.ends_sentence:
            sentences.append(current)
            current = []
    if current:
        sentences.append(current)
    return [sentence for sentence in sentences if sentence]


def as_newer_espeak(ipa: str) -> str:
    """espeak-ng 1.51's IPA written as 1.52 writes it: ``ɔːɹ`` for ``oːɹ``, and the glides."""
    return _GLIDE.sub(lambda found: found.group(0) + "ʲ", ipa.replace("oː", "ɔː"))


def espeak_release(version_line: str) -> tuple[int, int]:
    """(major, minor) from ``espeak-ng --version``; (0, 0) when it names none."""
    found = re.search(r"(\d+)\.(\d+)", version_line.split("Data at")[0])
    return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def phoneme_ids(phonemes: Sequence[str], id_map: Mapping[str, Sequence[int]]) -> list[int]:
    """Ids for one sentence, as Piper makes them: BOS, each phoneme then a pad, EOS."""
    ids = [*id_map[BOS], *id_map[PAD]]
    for phoneme in phonemes:
        # A symbol the voice never learned (a rare diacritic) is left out, as Piper does.
        if phoneme in id_map:
            ids.extend(id_map[phoneme])
            ids.extend(id_map[PAD])
    ids.extend(id_map[EOS])
    return ids


class EspeakPhonemizer:
    """Runs the ``espeak-ng`` program for IPA phonemes, one subprocess per text."""

    def __init__(self, voice: str = "en-us", program: str = "espeak-ng") -> None:
        self.voice = voice
        self.program = program
        self._version = ""

    def executable(self) -> str:
        """The program's path, or a SpeechError that says how to install it."""
        exe = shutil.which(self.program)
        if exe is None:
            raise SpeechError(f"the program {self.program} is not installed; {ESPEAK_FIX}")
        return exe

    def version(self) -> str:
        """espeak-ng's version line (asked once): its phonemes change between releases."""
        if not self._version:
            self._version = self._run(["--version"], "").strip()
        return self._version

    def phonemize(self, text: str) -> list[list[str]]:
        """The phonemes of each sentence of ``text``, as Piper would feed them to its voice."""
        clauses = split_clauses(" ".join(text.split()))
        if not clauses:
            return []
        lines = self._ipa_lines(clauses)
        if len(lines) != len(clauses):
            # espeak-ng split a clause itself (a very long one): ask for each clause alone.
            lines = [" ".join(self._ipa_lines([clause])) for clause in clauses]
        if espeak_release(self.version()) < _NEWER_DATA:
            lines = [as_newer_espeak(line) for line in lines]
        return sentences_of(clauses, lines)

    def _ipa_lines(self, clauses: Sequence[Clause]) -> list[str]:
        text = "\n".join(clause.text for clause in clauses) + "\n"
        out = self._run(["-q", "--ipa", "-v", self.voice], text)
        return [line for line in out.splitlines() if line.strip()]

    def _run(self, args: list[str], text: str) -> str:
        try:
            done = subprocess.run(
                [self.executable(), *args],
                input=text.encode(),
                capture_output=True,
                check=True,
                timeout=_TIMEOUT_SECONDS,
            )
        except subprocess.CalledProcessError as err:
            message = err.stderr.decode(errors="replace").strip()
            raise SpeechError(f"espeak-ng failed ({message}); {ESPEAK_FIX}") from err
        except (OSError, subprocess.TimeoutExpired) as err:
            raise SpeechError(f"espeak-ng could not run ({err}); {ESPEAK_FIX}") from err
        return done.stdout.decode("utf-8", errors="replace")
