"""What the classifier sees of a story: TF-IDF over lemmas plus one rule score per theme.

Everything works on spaCy's lemma hashes (uint64) rather than strings: the vocabulary is stored
as strings in the model directory and hashed once when a model is bound to a pipeline, so a
story is turned into a feature row with numpy and a dict look-up per distinct lemma.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from spacy.attrs import LEMMA
from spacy.language import Language
from spacy.tokens import Doc

from nlp.rules import RULE_SCALE, Hit, ThemeRules, rule_score, sentence_ids, theme_weights

N_RULE_GROUPS = 3  # rule features per theme: score, density, relative weight


@dataclass
class DocInfo:
    """One analysed story: its doc, lemma hashes per token, sentence per token, rule hits."""

    doc: Doc
    lemmas: np.ndarray  # uint64 per token
    sent_ids: np.ndarray  # int per token
    hits: list[Hit]
    rule_weights: dict[str, float]

    def rule_scores(self, theme_ids: list[str]) -> np.ndarray:
        return np.array([rule_score(self.rule_weights.get(t, 0.0)) for t in theme_ids])

    def rule_features(self, theme_ids: list[str]) -> np.ndarray:
        """Per theme three views of the rule hits, concatenated group by group:
        the saturating rule score; the density (weight per 100 words, saturating), so that a
        long story needs more hits than a short paragraph; and the weight relative to the
        theme with the most weight. Stories are labelled with their main themes, and a theme
        mentioned in passing in a long story has a high score but low density and share."""
        weights = np.array([self.rule_weights.get(t, 0.0) for t in theme_ids])
        n_words = max(len(self.doc), 50)
        density = 1.0 - np.exp(-(weights * 100.0 / n_words) / 4.0)
        top = weights.max() if len(weights) else 0.0
        relative = weights / top if top > 0 else np.zeros(len(theme_ids))
        scores = 1.0 - np.exp(-weights / RULE_SCALE)
        return np.concatenate([scores, density, relative])


def analyse(doc: Doc, rules: ThemeRules) -> DocInfo:
    lemmas = doc.to_array(LEMMA) if len(doc) else np.zeros(0, dtype=np.uint64)
    sent_ids = sentence_ids(doc) if len(doc) else np.zeros(0, dtype=np.int64)
    hits = rules.hits(doc, lemmas.tolist(), sent_ids)
    return DocInfo(doc, lemmas, sent_ids, hits, theme_weights(hits, rules.theme_ids))


def is_feature_lemma(lemma: str, stop_words: frozenset[str]) -> bool:
    """Content words only: stop words, numbers, punctuation and single letters carry no theme."""
    return len(lemma) > 1 and lemma not in stop_words and any(c.isalpha() for c in lemma) \
        and not any(c.isdigit() for c in lemma)


class LemmaVectorizer:
    """Sublinear TF-IDF over lemma hashes, L2-normalised, with a fixed string vocabulary."""

    def __init__(self, vocab: list[str], idf: np.ndarray):
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float64)
        self._cols: dict[int, int] = {}

    @classmethod
    def fit(cls, infos: list[DocInfo], nlp: Language, min_df: int = 2) -> LemmaVectorizer:
        stop = frozenset(nlp.Defaults.stop_words)
        strings = nlp.vocab.strings
        df: dict[int, int] = {}
        for info in infos:
            for h in np.unique(info.lemmas).tolist():
                df[h] = df.get(h, 0) + 1
        keep = sorted(
            strings[h] for h, n in df.items() if n >= min_df and is_feature_lemma(strings[h], stop)
        )
        n_docs = len(infos)
        idf = np.array([math.log((1 + n_docs) / (1 + df[strings[w]])) + 1 for w in keep])
        vec = cls(keep, idf)
        vec.bind(nlp)
        return vec

    def bind(self, nlp: Language) -> None:
        self._cols = {nlp.vocab.strings.add(w): i for i, w in enumerate(self.vocab)}

    def row(self, lemmas: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(columns, values) of one story's normalised TF-IDF vector."""
        if len(lemmas) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        uniq, counts = np.unique(lemmas, return_counts=True)
        get = self._cols.get
        cols, tfs = [], []
        for h, n in zip(uniq.tolist(), counts.tolist(), strict=True):
            c = get(h)
            if c is not None:
                cols.append(c)
                tfs.append(n)
        if not cols:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        cols_a = np.asarray(cols, dtype=np.int64)
        values = (1.0 + np.log(np.asarray(tfs, dtype=np.float64))) * self.idf[cols_a]
        values /= np.linalg.norm(values)
        return cols_a, values

    def column(self, lemma_hash: int) -> int | None:
        return self._cols.get(lemma_hash)


def feature_matrix(infos: list[DocInfo], vec: LemmaVectorizer,
                   theme_ids: list[str]) -> sparse.csr_matrix:
    """Rows: stories. Columns: the vocabulary, then the rule features (rule_features())."""
    n_vocab = len(vec.vocab)
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for info in infos:
        cols, values = vec.row(info.lemmas)
        rule = info.rule_features(theme_ids)
        nz = np.nonzero(rule)[0]
        indices += [cols, n_vocab + nz]
        data += [values, rule[nz]]
        indptr.append(indptr[-1] + len(cols) + len(nz))
    return sparse.csr_matrix(
        (np.concatenate(data) if data else np.zeros(0),
         np.concatenate(indices) if indices else np.zeros(0, dtype=np.int64),
         np.asarray(indptr)),
        shape=(len(infos), n_vocab + N_RULE_GROUPS * len(theme_ids)),
    )
