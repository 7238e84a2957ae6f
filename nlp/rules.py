"""Rule matching: the taxonomy's terms and phrases found in a doc, by lemma, negation-aware.

Exact terms go to a spaCy PhraseMatcher on LEMMA; phrases with gaps ("post * niet * open") to a
small matcher anchored on the lemma of their first word (see ThemeRules.__init__ for why not
spaCy's Matcher); compound wildcards ("*geweld") to a per-lemma cache (each lemma is checked
against them once per process).
Overlapping hits of one theme keep only the strongest, so "huiselijk geweld" is not also counted
as "geweld". A hit with a negation cue shortly before it in the same clause, or followed by an
`after` cue ("... is niet aan de orde"), counts for the negation factor of its weight.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import repeat
from typing import NamedTuple

import numpy as np
from spacy.attrs import LEMMA, SENT_START
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from nlp.taxonomy import Taxonomy

# rule score = 1 - exp(-weight_sum / RULE_SCALE): one ordinary term (1.0) gives 0.39, one strong
# term (2.5) 0.71, two strong terms 0.92.
RULE_SCALE = 2.0
# A repeated term adds less each time: the story is about it, but the fifth "schuld" says little
# that the second did not.
REPEAT_DECAY = 0.5


class Hit(NamedTuple):
    """A term or phrase of a theme found in a doc (a named tuple: tagging makes ~80 of them
    for a 400-word story, and a tuple is the cheapest immutable record to create)."""

    theme: str
    term: str
    start: int  # token indices
    end: int
    weight: float  # after negation
    negated: bool


def rule_score(weight_sum: float) -> float:
    return 1.0 - math.exp(-max(weight_sum, 0.0) / RULE_SCALE)


class ThemeRules:
    """Matchers for one taxonomy, bound to one spaCy pipeline (its vocab and lemmatizer)."""

    def __init__(self, nlp: Language, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.theme_ids = taxonomy.ids
        self.vocab = nlp.vocab
        self._tokenizer = nlp.tokenizer
        self._lemmatize = nlp.get_pipe("vp_lemmatizer")
        self.phrase_matcher = PhraseMatcher(nlp.vocab, attr="LEMMA")
        # Phrases with gaps are matched here, not with spaCy's Matcher: the Matcher tries every
        # pattern at every token and took 4 ms per 400-word story, more than the rest of the
        # pipeline together; anchoring on the first word's lemma makes it a dict look-up per token.
        self._phrases: dict[int, list[tuple[int, tuple]]] = {}
        # match key -> (theme, term, weight, contains_negation)
        self._keys: dict[int, tuple[str, str, float, bool]] = {}
        self._prefixes: list[tuple[str, str, str, float]] = []  # (stem, theme, term, weight)
        self._suffixes: list[tuple[str, str, str, float]] = []
        self._wild_cache: dict[int, tuple[tuple[str, str, float], ...]] = {}
        self._entries: dict[int, object] = {}  # lemma -> (wildcard hits, phrases) or _NOTHING
        neg = taxonomy.negation
        self.neg_cues = {self._lemma_hash(w) for w in neg.cues}
        self.clause_breaks = {self._lemma_hash(w) for w in neg.clause_breaks}
        self.after_cues = [self._lemmas(p) for p in neg.after]
        # lemma -> what it can be in negation: a cue, a clause break, the first word of an
        # `after` cue (bit flags, so that one look-up per token marks all three).
        self._negation_kinds: dict[int, int] = {}
        for flag, lemmas in ((_CUE, self.neg_cues), (_BREAK, self.clause_breaks),
                             (_AFTER, {cue[0] for cue in self.after_cues if cue})):
            for lemma in lemmas:
                self._negation_kinds[lemma] = self._negation_kinds.get(lemma, 0) | flag
        self.factors = {
            t.id: (t.negation_factor if t.negation_factor is not None else neg.factor)
            for t in taxonomy.themes
        }
        for theme in taxonomy.themes:
            for term, weight in theme.terms.items():
                self._add_term(theme.id, term, weight)
            for phrase, weight in theme.phrases.items():
                self._add_phrase(theme.id, phrase, weight)

    # --- building ------------------------------------------------------------------------

    def _lemma(self, word: str) -> str:
        return self.vocab.strings[self._lemma_hash(word)]

    def _lemma_hash(self, word: str) -> int:
        return self._lemmatize.lemma_hash(self.vocab.strings.add(word.lower()))

    def _lemmas(self, text: str) -> tuple[int, ...]:
        return tuple(self._lemma_hash(t.text) for t in self.vocab_doc(text))

    def vocab_doc(self, text: str) -> Doc:
        """A term or phrase as a lemmatised doc (patterns are matched on lemmas)."""
        return self._lemmatize(self._tokenizer(text))

    def _key(self, theme: str, term: str, weight: float, kind: str) -> str:
        key = f"vp:{kind}:{theme}:{term}"
        lemmas = set(self._lemmas(term.replace("|", " ").replace("*", " ")))
        has_negation = bool(lemmas & self.neg_cues)
        self._keys[self.vocab.strings.add(key)] = (theme, term, weight, has_negation)
        return key

    def _add_term(self, theme: str, term: str, weight: float) -> None:
        if term.startswith("*"):
            self._suffixes.append((self._lemma(term[1:]), theme, term, weight))
        elif term.endswith("*"):
            self._prefixes.append((term[:-1].lower(), theme, term, weight))
        else:
            self.phrase_matcher.add(self._key(theme, term, weight, "t"), [self.vocab_doc(term)])

    def _add_phrase(self, theme: str, phrase: str, weight: float) -> None:
        """Compile a phrase to (lemma set | gap) elements, indexed by its first word's lemmas."""
        elements: list[tuple[int, object]] = []
        for word in phrase.split():
            if word in ("*", "**"):
                elements.append((_GAP, 1 if word == "*" else 3))
            else:
                elements.append((_WORD, frozenset(self._lemma_hash(w) for w in word.split("|"))))
        entry = (self.vocab.strings[self._key(theme, phrase, weight, "p")], tuple(elements))
        for lemma in elements[0][1]:
            self._phrases.setdefault(lemma, []).append(entry)

    # --- matching ------------------------------------------------------------------------

    def _wildcards(self, lemma_hash: int) -> tuple[tuple[str, str, float], ...]:
        hits = self._wild_cache.get(lemma_hash)
        if hits is None:
            lemma = self.vocab.strings[lemma_hash]
            found = [(th, tm, w) for stem, th, tm, w in self._suffixes
                     if len(lemma) > len(stem) and lemma.endswith(stem)]
            found += [(th, tm, w) for stem, th, tm, w in self._prefixes
                      if len(lemma) > len(stem) and lemma.startswith(stem)]
            hits = self._wild_cache[lemma_hash] = tuple(found)
        return hits

    def _entry(self, lemma_hash: int):
        hits = self._wildcards(lemma_hash)
        candidates = self._phrases.get(lemma_hash)
        entry = (hits, candidates) if hits or candidates else _NOTHING
        self._entries[lemma_hash] = entry
        return entry

    def raw_hits(self, doc: Doc, lemmas: list[int] | None = None,
                 sent_ids: np.ndarray | None = None) -> list[tuple]:
        """(theme, term, start, end, weight, phrase_has_negation) before negation and overlap."""
        found = []
        keys = self._keys
        for key, start, end in self.phrase_matcher(doc):
            theme, term, weight, has_neg = keys[key]
            found.append((theme, term, start, end, weight, has_neg))
        if lemmas is None:
            lemmas = doc.to_array(LEMMA).tolist()
        if sent_ids is None:
            sent_ids = sentence_ids(doc)
        # Per sentence, the token after its end, and each token's sentence: worked out when a
        # phrase first needs them.
        sent_stops: list[int] = []
        sents: list[int] = []
        # One dict look-up per token: most lemmas start no phrase and match no wildcard.
        entries, entry_for = self._entries, self._entry
        for i, lemma in enumerate(lemmas):
            entry = entries.get(lemma)
            if entry is None:
                entry = entry_for(lemma)
            if entry is _NOTHING:
                continue
            hits, candidates = entry
            for theme, term, weight in hits:
                found.append((theme, term, i, i + 1, weight, False))
            if candidates:
                if not sent_stops:
                    sent_stops = sentence_firsts(sent_ids)[1:].tolist() + [len(lemmas)]
                    sents = sent_ids.tolist()
                stop = sent_stops[sents[i]]
                for key, elements in candidates:
                    end = _match(elements, 1, lemmas, i + 1, stop)
                    if end > 0:
                        theme, term, weight, has_neg = keys[key]
                        found.append((theme, term, i, end, weight, has_neg))
        return found

    def hits(self, doc: Doc, lemmas: list[int] | None = None,
             sent_ids: np.ndarray | None = None) -> list[Hit]:
        """Hits after negation and overlap removal, in text order."""
        if lemmas is None:
            lemmas = doc.to_array(LEMMA).tolist()
        if sent_ids is None:
            sent_ids = sentence_ids(doc)
        found = self.raw_hits(doc, lemmas, sent_ids)
        if not found:
            return []
        negated = self._negation(lemmas, sent_ids)
        factors = self.factors
        hits = []
        for theme, term, start, end, weight, has_neg in found:
            if not has_neg and negated(start, end):
                hits.append(Hit(theme, term, start, end, weight * factors[theme], True))
            else:
                hits.append(Hit(theme, term, start, end, weight, False))
        return _strongest_per_span(hits)

    def _negation(self, lemmas: list[int], sent_ids: np.ndarray) -> Callable[[int, int], bool]:
        """negated(start, end) for the hits of one doc: is there a negation cue at most `window`
        tokens before `start` in the same clause, or an `after` cue within `after_window` tokens
        after `end` in the same clause? The cues before every token are worked out at once."""
        neg = self.taxonomy.negation
        n = len(lemmas)
        position = np.arange(n)
        kinds = np.fromiter(map(self._negation_kinds.get, lemmas, repeat(0)), np.int64, n)
        cue_at = np.where(kinds & _CUE, position, -1)
        break_at = np.where(kinds & _BREAK, position, -1)
        # The last cue and the last clause break strictly before each token.
        last_cue = np.concatenate(([-1], np.maximum.accumulate(cue_at)[:-1]))
        last_break = np.concatenate(([-1], np.maximum.accumulate(break_at)[:-1]))
        sent_start = sentence_firsts(sent_ids)[sent_ids]
        before = ((last_cue >= 0) & (last_cue > last_break) & (last_cue >= sent_start)
                  & (position - last_cue <= neg.window)).tolist()
        after = self._after_cues_in(lemmas, np.flatnonzero(kinds & _AFTER).tolist())
        if not after:
            return lambda start, end: before[start]
        sents = sent_ids.tolist()
        breaks = self.clause_breaks

        def negated(start: int, end: int) -> bool:
            if before[start]:
                return True
            stop = min(end + neg.after_window, n)
            for cue_start, cue_end in after:
                if cue_start >= end and cue_end <= stop and all(
                        sents[i] == sents[start] and lemmas[i] not in breaks
                        for i in range(end, cue_end)):
                    return True
            return False

        return negated

    def _after_cues_in(self, lemmas: list[int], firsts: list[int]) -> list[tuple[int, int]]:
        """(start, end) of every `after` cue ("niet aan de orde") in a doc, given the tokens
        that can start one; usually none."""
        found = []
        for j in firsts:
            for cue in self.after_cues:
                if cue and tuple(lemmas[j:j + len(cue)]) == cue:
                    found.append((j, j + len(cue)))
        return found


_WORD, _GAP = 0, 1
_NOTHING = object()
_CUE, _BREAK, _AFTER = 1, 2, 4  # negation kinds of a lemma


def _match(elements: tuple, k: int, lemmas: list[int], i: int, stop: int) -> int:
    """End of the shortest match of elements[k:] starting at token i, within [.., stop); -1."""
    if k == len(elements):
        return i
    kind, value = elements[k]
    if kind == _WORD:
        if i < stop and lemmas[i] in value:
            return _match(elements, k + 1, lemmas, i + 1, stop)
        return -1
    # A gap is mostly followed by a word: try only the skips that land on that word.
    after = elements[k + 1][1] if k + 1 < len(elements) and elements[k + 1][0] == _WORD else None
    for skip in range(value + 1):
        j = i + skip
        if j > stop:
            break
        if after is not None and (j >= stop or lemmas[j] not in after):
            continue
        end = _match(elements, k + 1, lemmas, j, stop)
        if end >= 0:
            return end
    return -1


def _strongest_per_span(hits: list[Hit]) -> list[Hit]:
    """Per theme, drop hits that overlap a stronger (then longer, then earlier) hit of the same
    theme. Most hits overlap nothing: only runs of overlapping hits need the greedy choice."""
    kept: list[Hit] = []
    run: list[Hit] = []  # hits of one theme, each overlapping the run so far
    run_end = -1
    for hit in sorted(hits, key=lambda h: (h.theme, h.start)):  # stable: ties keep input order
        if run and hit.theme == run[0].theme and hit.start < run_end:
            run.append(hit)
            run_end = max(run_end, hit.end)
        else:
            kept += _strongest_of_run(run)
            run, run_end = [hit], hit.end
    kept += _strongest_of_run(run)
    kept.sort(key=lambda h: (h.start, h.theme))
    return kept


def _strongest_of_run(hits: list[Hit]) -> list[Hit]:
    """The greedy choice within one run of overlapping hits of a theme."""
    if len(hits) < 2:
        return hits
    kept: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.weight, h.start - h.end, h.start)):
        if not any(hit.start < k.end and k.start < hit.end for k in kept):
            kept.append(hit)
    return kept


def sentence_ids(doc: Doc) -> np.ndarray:
    """The sentence number of every token (0, 1, ...). The first token always starts a sentence,
    as in spaCy's Token.is_sent_start, also in a doc made from a span (Span.as_doc())."""
    starts = doc.to_array(SENT_START) == 1
    if len(starts):
        starts[0] = True
    return np.cumsum(starts) - 1



def sentence_firsts(sent_ids: np.ndarray) -> np.ndarray:
    """The first token of every sentence, from sentence_ids()."""
    return np.flatnonzero(np.diff(sent_ids, prepend=-1))


def theme_weights(hits: list[Hit], theme_ids: list[str]) -> dict[str, float]:
    """Per theme, the summed weight of its hits, each repeat of a term counting less."""
    totals = dict.fromkeys(theme_ids, 0.0)
    seen: dict[tuple[str, str], int] = {}
    for hit in hits:
        n = seen.get((hit.theme, hit.term), 0)
        seen[(hit.theme, hit.term)] = n + 1
        if hit.theme in totals:
            totals[hit.theme] += hit.weight * REPEAT_DECAY**n
    return totals
