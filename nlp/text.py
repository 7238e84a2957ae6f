"""The Dutch language pipeline every other module builds on: spacy.blank("nl") + sentences + lemmas.

No trained spaCy model is used (none can be installed here, and none is needed): the tokenizer
comes with spaCy, the sentence splitter and the lemmatizer are ours. spaCy's Dutch stop words
include "niet", "geen" and "zonder"; nothing here drops stop words, because negation handling
and lesson detection need exactly those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import spacy
from spacy.attrs import IDX, SENT_START
from spacy.language import Language
from spacy.tokens import Doc

from nlp import lemmas  # noqa: F401  (registers the "vp_lemmatizer" factory)

# A line that starts with a bullet: "- ", "* ", "• ", "1. ", "2) ", "a. ".
_BULLET = re.compile(r"[ \t]*(?:[-*•–·]|\d{1,3}[.)]|[a-z][.)])[ \t]+")
# Sentence-final punctuation, closing quotes/brackets, whitespace, then something that can start
# a sentence (capital, digit, opening quote or bracket, bullet).
_SENT_END = re.compile(r"[.!?…]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-ZÀ-Þ0-9•*\-])")
_NEWLINE = re.compile(r"\n\s*(?=\S)")
# Abbreviations after which a full stop does not end a sentence (spaCy keeps most of them as one
# token, but the splitter works on the raw text for speed).
ABBREVIATIONS = frozenset({
    "bijv", "bv", "o.a", "m.b.t", "mbt", "ivm", "i.v.m", "mevr", "mw", "dhr", "mr", "dr", "drs",
    "ing", "ir", "ca", "etc", "evt", "e.d", "enz", "nl", "z.s.m", "i.p.v", "ipv", "jl", "a.s",
    "resp", "t.a.v", "tav", "vs", "zgn", "d.w.z", "dwz", "m.n", "p.w",
})


@dataclass(frozen=True, slots=True)
class Span:
    """A stretch of the input text: text[start:end] == self.text."""

    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the full stop at text[dot] closes an abbreviation or an initial ("J.")."""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lower().lstrip("(\"'")
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences start: after newlines and sentence-final punctuation."""
    starts = {m.end() for m in _NEWLINE.finditer(text)}
    for m in _SENT_END.finditer(text):
        if text[m.start()] == "." and _is_abbreviation(text, m.start()):
            continue
        starts.add(m.end())
    first = len(text) - len(text.lstrip())
    starts.add(first)
    return sorted(s for s in starts if s < len(text))


def trim(text: str, start: int, end: int) -> Span | None:
    """text[start:end] without a leading bullet marker and surrounding whitespace, or None."""
    while start < end and text[start].isspace():
        start += 1
    bullet = _BULLET.match(text, start, end)
    if bullet and bullet.end() < end:
        start = bullet.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    while start < end and text[start].isspace():
        start += 1
    return Span(start, end, text[start:end]) if end > start else None


def sentence_spans(text: str) -> list[Span]:
    """Sentences as exact spans of the text, without bullet markers and surrounding whitespace."""
    starts = sentence_starts(text)
    bounds = zip(starts, starts[1:] + [len(text)], strict=True)
    return [span for span in (trim(text, s, e) for s, e in bounds) if span is not None]


def doc_text(doc: Doc) -> str:
    """The doc's text. spaCy rebuilds doc.text from its tokens on every access (about a
    millisecond for a 400-word story), so make_nlp() keeps the input string instead."""
    text = doc.user_data.get("vp_text")
    if text is None:
        text = doc.user_data["vp_text"] = doc.text
    return text


class TextKeepingTokenizer:
    """Wraps spaCy's tokenizer and keeps the input string on the doc (see doc_text())."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> Doc:
        doc = self.tokenizer(text)
        doc.user_data["vp_text"] = text
        return doc

    def __getattr__(self, name):
        return getattr(self.tokenizer, name)


class SentenceSplitter:
    """spaCy component: sets token.is_sent_start from sentence_starts(), so doc.sents works too.

    The boundaries come from regexes over the raw text and are mapped onto tokens in one numpy
    call; a per-token Python loop was the slowest step of the pipeline.
    """

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        token_starts = doc.to_array(IDX).astype(np.int64)
        first_tokens = np.searchsorted(token_starts, sentence_starts(doc_text(doc)))
        flags = np.full(len(doc), -1, dtype=np.int32)
        flags[np.unique(np.clip(first_tokens, 0, len(doc) - 1))] = 1
        flags[0] = 1
        doc.from_array([SENT_START], flags.view(np.uint32).astype(np.uint64).reshape(-1, 1))
        return doc


@Language.factory("vp_sentences")
def make_sentence_splitter(nlp: Language, name: str) -> SentenceSplitter:
    return SentenceSplitter()


def make_nlp() -> Language:
    """spacy.blank("nl") with our sentence splitter and cached lemmatizer."""
    nlp = spacy.blank("nl")
    nlp.max_length = 2_000_000  # characters; stories are far shorter, pasted documents may not be
    nlp.tokenizer = TextKeepingTokenizer(nlp.tokenizer)
    nlp.add_pipe("vp_sentences")
    nlp.add_pipe("vp_lemmatizer")
    return nlp
