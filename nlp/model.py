"""A trained theme model: vocabulary, linear weights per theme, thresholds and metadata.

Stored as a directory of plain files (no pickle, so loading a model runs no code):
    model.npz   coef (themes x features), intercept, idf
    vocab.json  the lemma vocabulary, in column order
    meta.json   version, taxonomy version, themes, thresholds, training size, metrics

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

from nlp.features import N_RULE_GROUPS, LemmaVectorizer

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
    coef: np.ndarray  # (n_themes, n_vocab + N_RULE_GROUPS * n_themes)
    intercept: np.ndarray  # (n_themes,)
    thresholds: dict[str, Thresholds]
    meta: dict = field(default_factory=dict)

    @property
    def taxonomy_version(self) -> str:
        return self.meta.get("taxonomy_version", "")

    def probabilities(self, X) -> np.ndarray:
        """P(theme) per story (rows) and theme (columns)."""
        z = X @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-np.asarray(z)))

    # --- storage -----------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(directory / MODEL_FILE, coef=self.coef, intercept=self.intercept,
                            idf=self.vectorizer.idf)
        (directory / VOCAB_FILE).write_text(json.dumps(self.vectorizer.vocab, ensure_ascii=False),
                                            encoding="utf-8")
        meta = dict(self.meta)
        meta.update(version=self.version, themes=self.theme_ids,
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
        theme_ids = list(meta["themes"])
        if coef.shape != (len(theme_ids), len(vocab) + N_RULE_GROUPS * len(theme_ids)):
            raise ValueError(f"{directory}: weights do not fit the vocabulary and themes")
        thresholds = {
            t: Thresholds(float(v["classifier"]), float(v["rules"]))
            for t, v in meta["thresholds"].items()
        }
        missing = set(theme_ids) - set(thresholds)
        if missing:
            raise ValueError(f"{directory}: no thresholds for theme(s) {sorted(missing)}")
        return cls(version=meta["version"], theme_ids=theme_ids,
                   vectorizer=LemmaVectorizer(vocab, idf), coef=coef, intercept=intercept,
                   thresholds=thresholds, meta=meta)
