"""A trained theme model: vocabularies, linear weights per theme, thresholds and metadata.

Stored as a directory of plain files (no pickle, so loading a model runs no code):
    model.npz   coef (themes x features), intercept, idf (lemmas), char_idf (n-grams)
    vocab.json  {"lemmas": [...], "char_ngrams": [...], "char_range": [3, 5]}: the
                vocabularies in column order
    meta.json   version, taxonomy version, themes, thresholds, rule features, training size,
                metrics
Models saved before the character n-grams (vocab.json a plain list of lemmas, three rule
features per theme) still load and tag as they did.

A theme is applied when the classifier probability reaches its threshold or the rule score
reaches the rule threshold; both thresholds per theme are set from cross-validated predictions
(nlp/train.py). Scores are mapped so that each threshold lands on 0.5: `score >= 0.5` means
"applied", for every theme, and scores of different themes can be compared and sorted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nlp.features import (
    ALL_RULE_FEATURES,
    RULE_FEATURES,
    CharVectorizer,
    DocInfo,
    LemmaVectorizer,
    feature_matrix,
)

MODEL_FILE = "model.npz"
VOCAB_FILE = "vocab.json"
META_FILE = "meta.json"
NEVER = 1.01  # a rule threshold that is never reached: the rules of that theme are off

# Rules-only thresholds, used when no trained model exists: a theme needs about two ordinary
# terms or one strong term (rule score >= 0.63, a weight sum of 2.0).
RULES_ONLY_THRESHOLD = 0.63


def to_unit_score(value: float, threshold: float) -> float:
    """Map [0, threshold] to [0, 0.5] and [threshold, 1] to [0.5, 1], monotonically."""
    if threshold >= 1.0:
        return 0.5 * min(value, 1.0)
    if value < threshold:
        return 0.5 * value / threshold if threshold > 0 else 0.5
    return 0.5 + 0.5 * (value - threshold) / (1.0 - threshold)


@dataclass
class Thresholds:
    classifier: float
    rules: float

    def to_dict(self) -> dict:
        return {"classifier": round(self.classifier, 4), "rules": round(self.rules, 4)}


@dataclass
class Model:
    version: str
    theme_ids: list[str]
    vectorizer: LemmaVectorizer
    coef: np.ndarray  # (n_themes, n_vocab + n_chars + len(rule_groups) * n_themes)
    intercept: np.ndarray  # (n_themes,)
    thresholds: dict[str, Thresholds]
    meta: dict = field(default_factory=dict)
    chars: CharVectorizer | None = None  # character n-grams of lemmas (None: older models)
    rule_groups: tuple[str, ...] = RULE_FEATURES

    @property
    def rule_offset(self) -> int:
        """The column of the first rule feature."""
        return len(self.vectorizer.vocab) + (len(self.chars.vocab) if self.chars is not None else 0)

    @property
    def taxonomy_version(self) -> str:
        return self.meta.get("taxonomy_version", "")

    def bind(self, nlp) -> None:
        """Hash the vocabularies into this pipeline's string store (once, before tagging)."""
        self.vectorizer.bind(nlp)
        if self.chars is not None:
            self.chars.bind(nlp)

    def matrix(self, infos: list[DocInfo]):
        """The feature rows of analysed stories (nlp/features.py)."""
        return feature_matrix(infos, self.vectorizer, self.theme_ids, self.chars,
                              self.rule_groups)

    def probabilities(self, X) -> np.ndarray:
        """P(theme) per story (rows) and theme (columns)."""
        z = X @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))

    # --- storage -----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        chars = self.chars
        np.savez_compressed(directory / MODEL_FILE, coef=self.coef, intercept=self.intercept,
                            idf=self.vectorizer.idf,
                            char_idf=chars.idf if chars is not None else np.zeros(0))
        vocab = {"lemmas": self.vectorizer.vocab,
                 "char_ngrams": chars.vocab if chars is not None else [],
                 "char_range": [chars.low, chars.high] if chars is not None else []}
        (directory / VOCAB_FILE).write_text(json.dumps(vocab, ensure_ascii=False),
                                            encoding="utf-8")
        meta = dict(self.meta)
        meta.update(version=self.version, themes=self.theme_ids,
                    rule_features=list(self.rule_groups),
                    thresholds={t: th.to_dict() for t, th in self.thresholds.items()})
        (directory / META_FILE).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n",
                                           encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> Model:
        directory = Path(directory)
        for name in (MODEL_FILE, VOCAB_FILE, META_FILE):
            if not (directory / name).is_file():
                raise FileNotFoundError(f"{directory} is not a model directory: {name} is missing")
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
        vocab = json.loads((directory / VOCAB_FILE).read_text(encoding="utf-8"))
        with np.load(directory / MODEL_FILE, allow_pickle=False) as arrays:
            coef, intercept, idf = arrays["coef"], arrays["intercept"], arrays["idf"]
            char_idf = arrays["char_idf"] if "char_idf" in arrays.files else np.zeros(0)
        if isinstance(vocab, list):  # saved before the character n-grams
            vocab = {"lemmas": vocab, "char_ngrams": []}
        chars = None
        if vocab["char_ngrams"]:
            chars = CharVectorizer(vocab["char_ngrams"], char_idf, *vocab["char_range"])
        n_chars = len(chars.vocab) if chars is not None else 0
        rule_groups = tuple(meta.get("rule_features", ALL_RULE_FEATURES))
        theme_ids = list(meta["themes"])
        n_columns = len(vocab["lemmas"]) + n_chars + len(rule_groups) * len(theme_ids)
        if coef.shape != (len(theme_ids), n_columns):
            raise ValueError(f"{directory}: weights do not fit the vocabulary and themes")
        thresholds = {
            t: Thresholds(float(v["classifier"]), float(v["rules"]))
            for t, v in meta["thresholds"].items()
        }
        missing = set(theme_ids) - set(thresholds)
        if missing:
            raise ValueError(f"{directory}: no thresholds for theme(s) {sorted(missing)}")
        return cls(version=meta["version"], theme_ids=theme_ids,
                   vectorizer=LemmaVectorizer(vocab["lemmas"], idf), coef=coef,
                   intercept=intercept, thresholds=thresholds, meta=meta, chars=chars,
                   rule_groups=rule_groups)
