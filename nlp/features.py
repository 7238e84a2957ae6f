"""What the classifier sees of a story: TF-IDF over its lemmas, TF-IDF over the character
n-grams of those lemmas, and rule features per theme.

Everything works on spaCy's lemma hashes (uint64) rather than strings: the vocabularies are
stored as strings in the model directory and hashed once when a model is bound to a pipeline.
A batch of stories becomes a feature matrix with a handful of sparse products: stories x
distinct lemmas (counts) times distinct lemmas x features (which vocabulary word, which n-grams;
a lemma's n-grams are worked out once per process and cached).
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

# Rule features per theme (model.py stores which ones a model was trained with). "relative"
# (weight relative to the strongest theme) is no longer used: leaving it out raised all-10
# macro-F1 in every leave-one-source-out fold (nlp/README.md); older models still have it.
RULE_FEATURES = ("score", "density")
ALL_RULE_FEATURES = ("score", "density", "relative")


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

    def rule_features(self, theme_ids: list[str],
                      groups: tuple[str, ...] = RULE_FEATURES) -> np.ndarray:
        """Per theme some views of the rule hits, concatenated group by group: "score", the
        saturating rule score; "density", the weight per 100 words (saturating), so that a long
        story needs more hits than a short paragraph (stories are labelled with their main
        themes; a theme mentioned in passing in a long story has a high score but a low
        density); "relative", the weight relative to the strongest theme (older models)."""
        weights = np.array([self.rule_weights.get(t, 0.0) for t in theme_ids])
        views = {}
        for group in groups:
            if group == "score":
                views[group] = 1.0 - np.exp(-weights / RULE_SCALE)
            elif group == "density":
                n_words = max(len(self.doc), 50)
                views[group] = 1.0 - np.exp(-(weights * 100.0 / n_words) / 4.0)
            elif group == "relative":
                top = weights.max() if len(weights) else 0.0
                views[group] = weights / top if top > 0 else np.zeros(len(theme_ids))
            else:
                raise ValueError(f"unknown rule feature {group!r}")
        return np.concatenate([views[g] for g in groups]) if groups else np.zeros(0)


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

    def lemma_matrix(self, lemmas: np.ndarray) -> sparse.csr_matrix:
        """Distinct lemma hashes (rows) x vocabulary: a 1 where a lemma is a vocabulary word."""
        get = self._cols.get
        cols = [get(h, -1) for h in lemmas.tolist()]
        rows = [i for i, c in enumerate(cols) if c >= 0]
        return sparse.csr_matrix((np.ones(len(rows)), (rows, [cols[i] for i in rows])),
                                 shape=(len(lemmas), len(self.vocab)))

    def lemma_values(self, uniq: np.ndarray,
                     counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For one story's distinct lemmas and their counts (np.unique): each lemma's column
        (0 when it is not in the vocabulary) and its normalised TF-IDF value (0 when not), the
        same numbers as the story's row of feature_matrix()."""
        get = self._cols.get
        cols = np.array([get(h, -1) for h in uniq.tolist()], dtype=np.int64)
        known = cols >= 0
        values = np.zeros(len(uniq))
        values[known] = (1.0 + np.log(counts[known])) * self.idf[cols[known]]
        if known.any():
            values /= math.sqrt(float(values @ values))
        return np.where(known, cols, 0), values


def char_ngrams(word: str, low: int, high: int) -> list[str]:
    """Character n-grams of a word padded with a space on each side, as sklearn's "char_wb"."""
    padded = f" {word} "
    return [padded[i:i + n] for n in range(low, high + 1) for i in range(len(padded) - n + 1)]


class CharVectorizer:
    """Sublinear TF-IDF over the character n-grams (low..high) of a story's content lemmas,
    L2-normalised. A compound or spelling variant that never occurred in training
    ("schuldenberg", "huiselijkgeweld") still shares most of its n-grams with known words."""

    def __init__(self, vocab: list[str], idf: np.ndarray, low: int = 3, high: int = 5):
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float64)
        self.low, self.high = int(low), int(high)
        self._cols: dict[str, int] = {}
        self._strings = None
        self._stop: frozenset[str] = frozenset()
        self._reset_cache()

    def _reset_cache(self) -> None:
        # The n-grams of every lemma met so far, stored flat: lemma hash -> (start, length)
        # into _flat_cols / _flat_counts (filled up to _size; the arrays double when full).
        # New lemmas wait in _pending until the end of the look-up that met them.
        self._spans: dict[int, tuple[int, int]] = {}
        self._flat_cols = np.zeros(4096, dtype=np.int64)
        self._flat_counts = np.zeros(4096)
        self._size = 0
        self._pending: tuple[list[int], list[float]] = ([], [])

    @classmethod
    def fit(cls, infos: list[DocInfo], nlp: Language, low: int = 3, high: int = 5,
            min_df: int = 3) -> CharVectorizer:
        stop = frozenset(nlp.Defaults.stop_words)
        strings = nlp.vocab.strings
        grams_of: dict[int, frozenset[str]] = {}
        df: dict[str, int] = {}
        for info in infos:
            seen: set[str] = set()
            for h in np.unique(info.lemmas).tolist():
                grams = grams_of.get(h)
                if grams is None:
                    lemma = strings[h]
                    grams = grams_of[h] = frozenset(
                        char_ngrams(lemma, low, high) if is_feature_lemma(lemma, stop) else ())
                seen |= grams
            for g in seen:
                df[g] = df.get(g, 0) + 1
        keep = sorted(g for g, n in df.items() if n >= min_df)
        n_docs = len(infos)
        idf = np.array([math.log((1 + n_docs) / (1 + df[g])) + 1 for g in keep])
        vec = cls(keep, idf, low, high)
        vec.bind(nlp)
        return vec

    def bind(self, nlp: Language) -> None:
        self._cols = {g: i for i, g in enumerate(self.vocab)}
        self._strings = nlp.vocab.strings
        self._stop = frozenset(nlp.Defaults.stop_words)
        self._reset_cache()

    def _add(self, lemma_hash: int) -> tuple[int, int]:
        """Work out the known n-grams of a lemma (none for a stop word) and store them."""
        lemma = self._strings[lemma_hash]
        counts: dict[int, int] = {}
        if is_feature_lemma(lemma, self._stop):
            for g in char_ngrams(lemma, self.low, self.high):
                c = self._cols.get(g)
                if c is not None:
                    counts[c] = counts.get(c, 0) + 1
        cols, values = self._pending
        span = (self._size + len(cols), len(counts))
        cols += counts
        values += counts.values()
        self._spans[lemma_hash] = span
        return span

    def _entries(self, lemmas: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For distinct lemma hashes: (row pointer, n-gram columns, counts), CSR style."""
        get, add = self._spans.get, self._add
        spans = [get(h) or add(h) for h in lemmas.tolist()]
        if self._pending[0]:
            self._store_pending()
        starts, lengths = np.array(spans, dtype=np.int64).reshape(-1, 2).T
        indptr = np.zeros(len(spans) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        index = np.repeat(starts - indptr[:-1], lengths) + np.arange(indptr[-1])
        return indptr, self._flat_cols[index], self._flat_counts[index]

    def _store_pending(self) -> None:
        cols, counts = self._pending
        end = self._size + len(cols)
        if end > len(self._flat_cols):
            capacity = max(2 * len(self._flat_cols), end)
            self._flat_cols = np.resize(self._flat_cols, capacity)
            self._flat_counts = np.resize(self._flat_counts, capacity)
        self._flat_cols[self._size:end] = cols
        self._flat_counts[self._size:end] = counts
        self._size = end
        self._pending = ([], [])

    def lemma_matrix(self, lemmas: np.ndarray) -> sparse.csr_matrix:
        """Distinct lemma hashes (rows) x n-gram vocabulary: how often each n-gram occurs in each
        lemma."""
        indptr, cols, counts = self._entries(lemmas)
        return sparse.csr_matrix((counts, cols, indptr), shape=(len(lemmas), len(self.vocab)))

    def story_grams(self, uniq: np.ndarray, counts: np.ndarray) -> tuple:
        """A story's (lemma, n-gram) pairs, worked out once for lemma_contributions() from its
        distinct lemmas and their counts (np.unique order): per pair the lemma (index into
        uniq), the n-gram column, and the pair's share of that n-gram's TF-IDF value (its count
        over the n-gram's count in the story, times the value)."""
        indptr, cols, per_lemma = self._entries(uniq)
        owner = np.repeat(np.arange(len(uniq)), np.diff(indptr))
        pair_tf = per_lemma * counts[owner]
        tf = np.bincount(cols, weights=pair_tf, minlength=len(self.vocab))[cols]
        value = (1.0 + np.log(tf)) * self.idf[cols]  # unnormalised, per pair
        fraction = pair_tf / tf
        # The pairs of one n-gram have fractions summing to 1: the squared norm in one pass.
        norm = math.sqrt(float(fraction @ (value * value))) if len(cols) else 1.0
        return len(uniq), owner, cols, fraction * value / norm

    def lemma_contributions(self, grams: tuple, weights: np.ndarray) -> np.ndarray:
        """How much each distinct lemma of a story (story_grams()) adds to the story's n-gram
        row @ weights (n-grams x themes): every n-gram's part is split over the lemmas it came
        from, by how often it occurs in each. Per theme, the contributions sum to row @ weights.
        """
        n_lemmas, owner, cols, share = grams
        out = np.zeros((n_lemmas, weights.shape[1]))
        if len(owner):
            # owner is sorted: sum each lemma's run of pairs (lemmas without n-grams stay 0).
            firsts = np.flatnonzero(np.diff(owner, prepend=-1))
            out[owner[firsts]] = np.add.reduceat(share[:, None] * weights[cols], firsts, axis=0)
        return out


def _tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Raw counts -> sublinear TF-IDF with L2-normalised rows."""
    counts = counts.tocsr()
    counts.eliminate_zeros()
    data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=counts.shape[0]))
    data /= norms[rows]
    return sparse.csr_matrix((data, counts.indices, counts.indptr), shape=counts.shape)


def feature_matrix(infos: list[DocInfo], vec: LemmaVectorizer, theme_ids: list[str],
                   chars: CharVectorizer | None = None,
                   rule_groups: tuple[str, ...] = RULE_FEATURES) -> sparse.csr_matrix:
    """Rows: stories. Columns: the lemma vocabulary, the n-gram vocabulary (when the model has
    one), then the rule features (DocInfo.rule_features())."""
    lengths = [len(info.lemmas) for info in infos]
    lemmas = np.concatenate([info.lemmas for info in infos]) if sum(lengths) else \
        np.zeros(0, dtype=np.uint64)
    uniq, inverse = np.unique(lemmas, return_inverse=True)
    story = np.repeat(np.arange(len(infos)), lengths)
    counts = sparse.csr_matrix((np.ones(len(lemmas)), (story, inverse.ravel())),
                               shape=(len(infos), len(uniq)))
    blocks = [_tfidf(counts @ vec.lemma_matrix(uniq), vec.idf)]
    if chars is not None:
        blocks.append(_tfidf(counts @ chars.lemma_matrix(uniq), chars.idf))
    n_rules = len(rule_groups) * len(theme_ids)
    rules = np.array([info.rule_features(theme_ids, rule_groups) for info in infos])
    blocks.append(sparse.csr_matrix(rules.reshape(len(infos), n_rules)))
    return sparse.hstack(blocks, format="csr")
