"""A model's vocabulary: how typed text becomes token ids.

If every token is one character (special tokens such as <unk> aside) the
vocabulary is character-level and text is read code point by code point; otherwise tokens are whitespace-separated
words. Text the vocabulary does not know is an error that names the first
unknown tokens and where they are, unless the caller asks to skip them or to
map them to the vocabulary's unknown token (<unk>, [UNK], <oov>, ...).

The empty token may only come first: Keras' TextVectorization and
StringLookup put their mask token '' at index 0 (and '[UNK]' at 1). It is the
padding row of the embedding; no piece of text ever reads as it. Keras also
lower-cases and strips punctuation before the lookup by default; gatescope
does not, so standardize text the same way before encoding it.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import CellsError

UNKNOWN_TOKENS = ("<unk>", "<UNK>", "[UNK]", "<oov>", "<OOV>", "[OOV]")


class Vocab:
    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if not tokens:
            raise CellsError("vocab: empty; expected at least one token")
        index: dict[str, int] = {}
        for i, t in enumerate(tokens):  # one pass: a dict finds duplicates in linear time
            if not isinstance(t, str) or (t == "" and i > 0):
                raise CellsError(f"vocab: token {i} is {t!r}; every token must be a non-empty string "
                                 "(only index 0 may be '', Keras' mask token)")
            if t in index:
                raise CellsError(f"vocab: token {t[:40]!r} appears more than once (at {index[t]} and {i})")
            index[t] = i
        self.tokens = tokens
        self.index = index
        self.mask = 0 if tokens[0] == "" else None  # padding row; never matches a piece of text
        # special tokens such as <unk>, <eos> or [PAD] (and the mask) do not make a character vocabulary word-level
        self.char_level = all(len(t) == 1 for t in tokens if t and not _special(t))
        self.unknown = next((index[t] for t in UNKNOWN_TOKENS if t in index), None)

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        return list(text) if self.char_level else text.split()

    def encode(self, text: str, on_unknown: str = "error") -> list[int]:
        """Token ids of ``text``, one per piece (see :meth:`split`).

        on_unknown: "error" (default) names the unknown pieces; "skip" leaves
        them out; "map" gives them the id of the vocabulary's unknown token,
        and is an error that says so when the vocabulary has none.
        """
        if on_unknown not in ("error", "skip", "map"):
            raise CellsError(f"on_unknown: got {on_unknown!r}; expected 'error', 'skip' or 'map'")
        mapped = self.unknown if on_unknown == "map" else None
        ids, unknown = [], []
        for pos, piece in enumerate(self.split(text)):
            i = self.index.get(piece) if piece else None  # '' (the mask) is never read from text
            if i is not None:
                ids.append(i)
            elif mapped is not None:
                ids.append(mapped)
            else:
                unknown.append((pos, piece))
        if unknown and on_unknown != "skip":
            shown = ", ".join(f"{p!r} at {i}" for i, p in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            unit = "character" if self.char_level else "word"
            why = (f"; on_unknown='map' needs an unknown token ({', '.join(UNKNOWN_TOKENS)}), and this vocabulary has none"
                   if on_unknown == "map" else "")
            raise CellsError(f"input: {len(unknown)} {unit}(s) not in the model's vocabulary of {len(self)}: {shown}{why}")
        return ids

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.tokens[i] for i in ids]


def _special(token: str) -> bool:
    return len(token) > 2 and ((token[0], token[-1]) in (("<", ">"), ("[", "]")))
