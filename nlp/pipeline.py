"""The tagger: themes with score, evidence and source, plus lessons, for one story or many.

    from nlp.pipeline import Tagger
    tagger = Tagger.load()                 # active model in the default models dir, or rules only
    result = tagger.tag(text)
    result.to_dict()   # {"themes": [{"theme", "score", "component", "evidence"}], "lessons": [...]}
    result.all_scores  # every theme's score; a theme is applied when its score >= 0.5

Evidence and lesson offsets index the input text exactly: text[start:end] == span text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from spacy.attrs import IDX

from nlp import registry
from nlp.features import DocInfo, analyse
from nlp.lessons import Lesson, find_lessons
from nlp.model import NEVER, RULES_ONLY_THRESHOLD, Model, to_unit_score
from nlp.rules import ThemeRules, sentence_firsts
from nlp.taxonomy import Taxonomy
from nlp.text import Span, doc_text, make_nlp, trim

APPLIED = 0.5
MAX_EVIDENCE = 3
EVIDENCE_SHARE = 1 / 3


@dataclass
class ThemeTag:
    theme: str
    score: float
    component: str  # "rules", "classifier" or "rules+classifier"
    evidence: list[Span]

    def to_dict(self) -> dict:
        return {"theme": self.theme, "score": round(self.score, 3), "component": self.component,
                "evidence": [e.to_dict() for e in self.evidence]}


@dataclass
class TagResult:
    themes: list[ThemeTag]  # applied themes only, highest score first
    lessons: list[Lesson]
    all_scores: dict[str, float] = field(default_factory=dict)
    model_version: str = ""
    taxonomy_version: str = ""

    def to_dict(self) -> dict:
        return {"themes": [t.to_dict() for t in self.themes],
                "lessons": [lesson.to_dict() for lesson in self.lessons]}


class Tagger:
    def __init__(self, taxonomy: Taxonomy, model: Model | None = None,
                 max_evidence: int = MAX_EVIDENCE):
        self.taxonomy = taxonomy
        self.model = model
        if max_evidence < 1:
            raise ValueError(f"max_evidence must be at least 1, got {max_evidence}")
        self.max_evidence = max_evidence
        self.nlp = make_nlp()
        self.rules = ThemeRules(self.nlp, taxonomy)
        self.theme_ids = taxonomy.ids
        if model is not None:
            model.bind(self.nlp)
            self.model_version = model.version
            # Themes the model knows and the taxonomy still has; new themes run on rules alone.
            self._model_rows = {t: i for i, t in enumerate(model.theme_ids) if t in self.theme_ids}
            # features x themes, so that the weights of a story's features are one row look-up
            # (a copy: a Tagger does not follow later in-place edits of model.coef)
            self._weights = np.ascontiguousarray(model.coef.T)
        else:
            self.model_version = f"rules-only+taxonomy-{taxonomy.version}"
            self._model_rows = {}

    @classmethod
    def load(cls, model_dir: str | Path | None = None,
             taxonomy: Taxonomy | str | Path | None = None) -> Tagger:
        """model_dir: a model version dir, or a models dir with an `active` pointer; None = the
        default models dir (nlp/registry.py). No model there -> rules only. taxonomy: a Taxonomy
        (e.g. Taxonomy.from_toml(text) from the app's database), a file path, or None for the
        default themes.toml."""
        if not isinstance(taxonomy, Taxonomy):
            taxonomy = Taxonomy.load(taxonomy)
        target = registry.resolve(model_dir)
        return cls(taxonomy, Model.load(target) if target is not None else None)

    # --- tagging ---------------------------------------------------------------------------

    def tag(self, text: str) -> TagResult:
        return next(self.tag_many([text]))

    def tag_many(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[TagResult]:
        """Results in input order; docs go through nlp.pipe and the classifier in batches."""
        batch: list[DocInfo] = []
        for doc in self.nlp.pipe(_checked(texts), batch_size=batch_size):
            batch.append(analyse(doc, self.rules))
            if len(batch) >= batch_size:
                yield from self._tag_batch(batch)
                batch = []
        if batch:
            yield from self._tag_batch(batch)

    def analyse_many(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[DocInfo]:
        for doc in self.nlp.pipe(_checked(texts), batch_size=batch_size):
            yield analyse(doc, self.rules)

    def _tag_batch(self, infos: list[DocInfo]) -> Iterator[TagResult]:
        probs = None
        if self.model is not None:
            probs = self.model.probabilities(self.model.matrix(infos))
        for i, info in enumerate(infos):
            yield self._result(info, probs[i] if probs is not None else None)

    def _result(self, info: DocInfo, probs: np.ndarray | None) -> TagResult:
        rule_scores = info.rule_scores(self.theme_ids)
        scores: dict[str, float] = {}
        tags: list[ThemeTag] = []
        for j, theme in enumerate(self.theme_ids):
            row = self._model_rows.get(theme)
            r = float(rule_scores[j])
            if row is None or probs is None:
                rules_on, clf_on = r >= RULES_ONLY_THRESHOLD, False
                score = to_unit_score(r, RULES_ONLY_THRESHOLD)
            else:
                th = self.model.thresholds[theme]
                p = float(probs[row])
                rules_on, clf_on = th.rules < NEVER and r >= th.rules, p >= th.classifier
                score = to_unit_score(p, th.classifier)
                if th.rules < NEVER:
                    score = max(score, to_unit_score(r, th.rules))
            scores[theme] = round(score, 4)
            if rules_on or clf_on:
                component = "rules+classifier" if rules_on and clf_on else (
                    "rules" if rules_on else "classifier")
                evidence = self._evidence(info, theme, rules_on, clf_on, row)
                tags.append(ThemeTag(theme, max(score, APPLIED), component, evidence))
        tags.sort(key=lambda t: (-t.score, t.theme))
        lessons = find_lessons(doc_text(info.doc), self._sentence_starts(info)[:-1])
        return TagResult(tags, lessons, scores, self.model_version, self.taxonomy.version)

    # --- evidence --------------------------------------------------------------------------

    def _sentence_starts(self, info: DocInfo) -> list[int]:
        """Character offset where every doc sentence starts (indexed like info.sent_ids), then
        the length of the text."""
        starts = info.doc.user_data.get("vp_starts")
        if starts is None:
            starts = [len(doc_text(info.doc))]
            if len(info.doc):
                firsts = sentence_firsts(info.sent_ids)
                starts = info.doc.to_array(IDX)[firsts].tolist() + starts
            info.doc.user_data["vp_starts"] = starts
        return starts

    def _sentence(self, info: DocInfo, s: int) -> Span | None:
        """Sentence s as a trimmed span of the text (None when it is only whitespace/a bullet)."""
        starts = self._sentence_starts(info)
        return trim(doc_text(info.doc), starts[s], starts[s + 1])

    def _rule_evidence(self, info: DocInfo) -> dict[str, dict[int, float]]:
        """Per theme, the summed weight of its (not negated) rule hits in each sentence."""
        weights = info.doc.user_data.get("vp_rule_evidence")
        if weights is None:
            weights = {}
            sents = info.sent_ids
            for hit in info.hits:
                if not hit.negated:
                    per_sent = weights.setdefault(hit.theme, {})
                    s = int(sents[hit.start])
                    per_sent[s] = per_sent.get(s, 0.0) + hit.weight
            info.doc.user_data["vp_rule_evidence"] = weights
        return weights

    def _evidence(self, info: DocInfo, theme: str, rules_on: bool, clf_on: bool,
                  row: int | None) -> list[Span]:
        """Up to max_evidence sentences, in text order: first the sentences with the most rule
        weight (when the rules applied the theme), then those that add most to the classifier's
        logit (when the classifier did; only worked out when the rules left room)."""
        chosen: dict[int, Span] = {}

        def take(ranked) -> bool:
            for s in ranked:
                if s not in chosen:
                    span = self._sentence(info, s)
                    if span is not None:
                        chosen[s] = span
                        if len(chosen) == self.max_evidence:
                            return True
            return False

        full = False
        if rules_on:
            weights = self._rule_evidence(info).get(theme, {})
            full = take(sorted(weights, key=lambda s: (-weights[s], s)))
        if clf_on and row is not None and not full:
            contrib = self._contributions(info)[:, row]
            # Sentences that push the score up clearly: above zero and at least a third of the
            # strongest sentence (small positive weights are spread over every sentence).
            floor = max(contrib.max(initial=0.0) * EVIDENCE_SHARE, 1e-9)
            take(int(s) for s in np.argsort(-contrib, kind="stable") if contrib[s] >= floor)
        return [chosen[s] for s in sorted(chosen)]

    def _contributions(self, info: DocInfo) -> np.ndarray:
        """How much each sentence adds to the classifier's logit, for every model theme at once
        (sentences x model themes); worked out once per story, when a theme needs classifier
        evidence. The contributions of a story's sentences sum to its logit minus the intercept.
        """
        cached = info.doc.user_data.get("vp_contrib")
        if cached is not None:
            return cached
        model, weights = self.model, self._weights
        n_sents = int(info.sent_ids[-1]) + 1 if len(info.sent_ids) else 0
        contrib = np.zeros((n_sents, len(model.theme_ids)))
        if len(info.lemmas):
            # Each distinct lemma's share of the logits (its TF-IDF value x weight, plus its
            # part of every character n-gram it contains), split evenly over its occurrences.
            uniq, inverse, counts = np.unique(info.lemmas, return_inverse=True,
                                              return_counts=True)
            word_cols, word_values = model.vectorizer.lemma_values(uniq, counts)
            per_lemma = word_values[:, None] * weights[word_cols]
            if model.chars is not None:
                n_words = len(model.vectorizer.vocab)
                per_lemma += model.chars.lemma_contributions(
                    model.chars.story_grams(uniq, counts), weights[n_words:model.rule_offset])
            per_token = (per_lemma / counts[:, None])[inverse.ravel()]
            firsts = sentence_firsts(info.sent_ids)
            contrib += np.add.reduceat(per_token, firsts, axis=0)
            contrib += self._rule_contributions(info, n_sents)
        info.doc.user_data["vp_contrib"] = contrib
        return contrib

    def _rule_contributions(self, info: DocInfo, n_sents: int) -> np.ndarray:
        """Each theme's rule features (times their weights), split over its hits by weight."""
        model = self.model
        row = self._model_rows  # hits only carry the taxonomy's themes
        hits = [h for h in info.hits if h.theme in row]
        n = len(model.theme_ids)
        if not hits:
            return np.zeros((n_sents, n))
        rules = info.rule_features(model.theme_ids, model.rule_groups).reshape(-1, n)
        # per_theme[t, r]: what theme t's rule features add to theme r's logit.
        per_theme = np.einsum("gt,gtr->tr", rules,
                              self._weights[model.rule_offset:].reshape(-1, n, n))
        sent_theme_weight = np.zeros((n_sents, n))
        np.add.at(sent_theme_weight, (info.sent_ids[[h.start for h in hits]],
                                      [row[h.theme] for h in hits]), [h.weight for h in hits])
        totals = sent_theme_weight.sum(axis=0)
        inv_totals = np.divide(1.0, totals, out=np.zeros_like(totals), where=totals > 0)
        return (sent_theme_weight * inv_totals) @ per_theme


def _checked(texts: Iterable[str]) -> Iterator[str]:
    for text in texts:
        if not isinstance(text, str):
            raise TypeError(f"a story text must be a str, got {type(text).__name__}")
        yield text
