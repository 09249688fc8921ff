"""A model's vocabulary: how typed text becomes token ids.

If every token is one character (special tokens such as <unk> aside) the
vocabulary is character-level and text is read code point by code point; otherwise tokens are whitespace-separated
words. Text the vocabulary does not know is an error that names the first
unknown tokens and where they are, unless the caller asks to skip them or
the vocabulary has an unknown-token entry to map them to.
"""

from __future__ import annotations

from collections.abc import Sequence

from .errors import CellsError

UNKNOWN_TOKENS = ("<unk>", "<UNK>", "[UNK]")


class Vocab:
    def __init__(self, tokens: Sequence[str]):
        tokens = list(tokens)
        if not tokens:
            raise CellsError("vocab: empty; expected at least one token")
        bad = [t for t in tokens if not isinstance(t, str) or t == ""]
        if bad:
            raise CellsError(f"vocab: every token must be a non-empty string; got {bad[0]!r}")
        if len(set(tokens)) != len(tokens):
            dup = next(t for t in tokens if tokens.count(t) > 1)
            raise CellsError(f"vocab: token {dup!r} appears more than once")
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(tokens)}
        # special tokens such as <unk>, <eos> or [PAD] do not make a character vocabulary word-level
        self.char_level = all(len(t) == 1 for t in tokens if not _special(t))
        self.unknown = next((self.index[t] for t in UNKNOWN_TOKENS if t in self.index), None)

    def __len__(self) -> int:
        return len(self.tokens)

    def split(self, text: str) -> list[str]:
        return list(text) if self.char_level else text.split()

    def encode(self, text: str, on_unknown: str = "error") -> list[int]:
        """Token ids of ``text``. on_unknown: "error" (default), "skip", or "map" (to the unknown token)."""
        if on_unknown not in ("error", "skip", "map"):
            raise CellsError(f"on_unknown: got {on_unknown!r}; expected 'error', 'skip' or 'map'")
        pieces = self.split(text)
        ids, unknown = [], []
        for pos, piece in enumerate(pieces):
            i = self.index.get(piece)
            if i is None:
                unknown.append((pos, piece))
                if on_unknown == "map" and self.unknown is not None:
                    ids.append(self.unknown)
                elif on_unknown == "error" or (on_unknown == "map" and self.unknown is None):
                    continue
            else:
                ids.append(i)
        if unknown and (on_unknown == "error" or (on_unknown == "map" and self.unknown is None)):
            shown = ", ".join(f"{p!r} at {i}" for i, p in unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
            unit = "character" if self.char_level else "word"
            raise CellsError(f"input: {len(unknown)} {unit}(s) not in the model's vocabulary of {len(self)}: {shown}")
        return ids

    def decode(self, ids: Sequence[int]) -> list[str]:
        return [self.tokens[i] for i in ids]


def _special(token: str) -> bool:
    return len(token) > 2 and ((token[0], token[-1]) in (("<", ">"), ("[", "]")))
