"""Words of a story with the facts the name rules need: case, sentence start, keep-terms."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from .lexicon import KEEP_TERMS, words

# Letters, with inner apostrophes and hyphens ("D'Souza", "Al-Hassan", "Berg-Smit").
WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")
_SENTENCE_END = ".!?:;…\n\r\x1e"
_OPENERS = " \t\u00a0\"'“‘«([-–•*>"  # "- Fatima" after a line break starts a sentence


class Token(NamedTuple):
    text: str
    lower: str
    start: int
    end: int
    capitalised: bool
    name_shaped: bool  # capitalised, no acronym, no capital inside a part ("WhatsApp")
    sentence_start: bool  # only computed for capitalised words


def tokenize(text: str) -> list[Token]:
    tokens = []
    for match in WORD_RE.finditer(text):
        word, start = match.group(), match.start()
        if len(word) > 3 and word[-2] in "'’" and word[-1] == "s":
            word = word[:-2]  # "Fatima's"
        capitalised = word[0].isupper()
        name_shaped = capitalised and not word.isupper() and not _has_inner_capital(word)
        sentence_start = capitalised and starts_sentence(text, start)
        tokens.append(
            Token(
                word,
                word.lower(),
                start,
                start + len(word),
                capitalised,
                name_shaped,
                sentence_start,
            )
        )
    return tokens


def _has_inner_capital(word: str) -> bool:
    return any(part[1:] != part[1:].lower() for part in re.split(r"['’-]", word) if part)


def starts_sentence(text: str, start: int) -> bool:
    index = start - 1
    while index >= 0 and text[index] in _OPENERS:
        index -= 1
    if index < 0:
        return True
    if text[index] == "." and _is_abbreviation(text, index):
        return False
    return text[index] in _SENTENCE_END


def _is_abbreviation(text: str, dot: int) -> bool:
    """ "dhr." "mw." "J." "o.a.": a full stop after one of these ends no sentence."""
    start = dot
    while start > 0 and (text[start - 1].isalpha() or text[start - 1] == "."):
        start -= 1
    word = text[start:dot].lower()
    return len(word.replace(".", "")) == 1 or word in _ABBREVIATIONS


_ABBREVIATIONS = words(
    "dhr mw mevr mej dr drs ir ing mr prof ds fam bijv o.a d.w.z m.b.t i.v.m a.s t.a.v nr tel"
    " ca evt mbt ivm st"
)


def keep_matches(tokens: list[Token]) -> tuple[set[int], list[tuple[int, int]]]:
    """Where the story names a role, domain or other keep-term (see lexicon.KEEP_TERMS).

    Returns the indexes of the tokens inside keep-terms, and the character spans of those.
    """
    index = _keep_index()
    covered: set[int] = set()
    spans = []
    for position, token in enumerate(tokens):
        for phrase in index.get(token.lower, ()):
            end = position + len(phrase)
            if end <= len(tokens) and all(
                tokens[position + k].lower == word for k, word in enumerate(phrase)
            ):
                covered.update(range(position, end))
                spans.append((token.start, tokens[end - 1].end))
                break
    return covered, spans


@lru_cache(maxsize=1)
def _keep_index() -> dict[str, list[tuple[str, ...]]]:
    """First word -> keep-terms as word tuples, longest first."""
    index: dict[str, list[tuple[str, ...]]] = {}
    for term in KEEP_TERMS:
        words = tuple(w.lower() for w in WORD_RE.findall(term))
        if words:
            index.setdefault(words[0], []).append(words)
    for phrases in index.values():
        phrases.sort(key=len, reverse=True)
    return index


def covered_by(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a <= start and end <= b for a, b in spans)
