"""Training: a multi-label theme classifier with per-theme thresholds set by cross-validation.

    python -m nlp.train --default                 # the fresh-install model (demo + paragraphs)
    python -m nlp.train --data reviewed.jsonl     # train, hold out a split, promote if not worse

One logistic regression per theme over TF-IDF of lemmas, TF-IDF of the lemmas' character
n-grams and rule features of every theme (nlp/features.py). Cross-validated probabilities set,
per theme, the classifier threshold and the rule threshold (or switch the rules of that theme
off) that give the best F1 on data the model did not see. Everything is seeded: the same
examples and taxonomy give the same weights and thresholds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from nlp import registry
from nlp.evaluate import Example, as_examples, evaluate, load_jsonl, scores
from nlp.features import (
    RULE_FEATURES,
    CharVectorizer,
    DocInfo,
    LemmaVectorizer,
    analyse,
    feature_matrix,
)
from nlp.model import NEVER, RULES_ONLY_THRESHOLD, Model, Thresholds
from nlp.rules import ThemeRules
from nlp.taxonomy import Taxonomy
from nlp.text import make_nlp

SEED = 20261123
FOLDS = 5
C_GRID = (1.0, 4.0, 16.0)
CLASSIFIER_GRID = np.round(np.arange(0.10, 0.91, 0.025), 3)
RULE_GRID = np.round(np.arange(0.40, 0.991, 0.025), 3)

# Character n-grams of the content lemmas, 3 to 5 characters, seen in at least 3 stories. The
# n-gram block enters the fit multiplied by CHAR_SCALE, so its L2 penalty is CHAR_SCALE**2 times
# weaker than that of the lemma and rule blocks: the classifier leans on sub-word evidence
# (compounds, spelling variants) that transfers to other writers. The factor is folded into the
# saved weights, so tagging needs no scale. All three were chosen by leave-one-source-out
# (benchmarks/tagging_dev_cv.py --loso; nlp/README.md).
CHAR_RANGE = (3, 5)
CHAR_MIN_DF = 3
CHAR_SCALE = 4.0
NB_ALPHA = 1.0  # smoothing of the naive-Bayes feature weights (Design.fit_weights)

ROOT = Path(__file__).resolve().parent.parent
DEMO_FILES = (ROOT / "vertelpunt/demo/stories_1.jsonl", ROOT / "vertelpunt/demo/stories_2.jsonl")
DATA_DIR = Path(__file__).parent / "data"
# Every nlp/data/train_*.jsonl: paragraphs written for training by authors who never saw the
# evaluation set, one file per author (nlp/README.md).
PARAGRAPH_FILES = "train_*.jsonl"
PARAGRAPHS = DATA_DIR / "train_paragraphs.jsonl"  # the first set, used alone by fast tests


# Whole demo stories count three times as much as a training paragraph, in fitting and in setting
# thresholds: they are what the tagger sees in use (labelled with their main themes only), the
# paragraphs are short and on-topic. Measured with benchmarks/tagging_dev_cv.py (README); weight
# 1 made no difference in leave-one-source-out.
DEMO_WEIGHT = 3.0


def default_examples() -> list[Example]:
    """The fresh-install training set: the demo stories plus every training paragraph file,
    each example's source the file it came from ("demo" for the demo stories)."""
    examples = []
    for path in DEMO_FILES:
        if path.is_file():
            examples += load_jsonl(path, source="demo", weight=DEMO_WEIGHT)
    for path in sorted(DATA_DIR.glob(PARAGRAPH_FILES)):
        examples += load_jsonl(path, source=path.stem)
    return examples


# --- fitting -----------------------------------------------------------------------------


def _analyse(texts: list[str], taxonomy: Taxonomy):
    nlp = make_nlp()
    rules = ThemeRules(nlp, taxonomy)
    return nlp, [analyse(doc, rules) for doc in nlp.pipe(texts, batch_size=128)]


@dataclass
class Design:
    """Vectorizers fitted on some stories, and those stories' feature matrix with each column
    multiplied by its scale (CHAR_SCALE for the n-grams, 1 otherwise)."""

    vec: LemmaVectorizer
    chars: CharVectorizer
    X_scaled: object  # scipy.sparse.csr_matrix
    scale: np.ndarray

    @classmethod
    def fit(cls, infos: list[DocInfo], theme_ids: list[str], nlp) -> Design:
        vec = LemmaVectorizer.fit(infos, nlp)
        chars = CharVectorizer.fit(infos, nlp, *CHAR_RANGE, min_df=CHAR_MIN_DF)
        X = feature_matrix(infos, vec, theme_ids, chars, RULE_FEATURES)
        scale = np.ones(X.shape[1])
        scale[len(vec.vocab):len(vec.vocab) + len(chars.vocab)] = CHAR_SCALE
        return cls(vec, chars, X.multiply(scale).tocsr(), scale)

    def matrix(self, infos: list[DocInfo], theme_ids: list[str]):
        return feature_matrix(infos, self.vec, theme_ids, self.chars, RULE_FEATURES)

    def fit_weights(self, Y: np.ndarray, w: np.ndarray,
                    C: float) -> tuple[np.ndarray, np.ndarray]:
        """coef (for the unscaled features) and intercept per theme (column of Y).

        Each theme's features are first weighted by their naive-Bayes log-count ratio
        (nb_ratios), as in NBSVM (Wang & Manning 2012, "Baselines and bigrams"): a word
        that mostly occurs in the theme's stories weighs more before the regression sees
        it, which helps most on small training sets. The product is still one linear
        model, so tagging and evidence work as before. In leave-one-source-out it raised
        main-4 macro-F1 from 0.809 to 0.820 (nlp/README.md).

        liblinear's dual solver: with more features than stories it is ~50x faster than the
        primal one on the n-gram block, and it reaches the same optimum."""
        X = self.X_scaled
        present = (X > 0).astype(np.float64)
        coef = np.zeros((Y.shape[1], X.shape[1]))
        intercept = np.zeros(Y.shape[1])
        for j in range(Y.shape[1]):
            y = Y[:, j]
            if y.min() == y.max():  # no positives (or only): a constant model
                prevalence = np.clip(y.mean(), 0.01, 0.99)
                intercept[j] = np.log(prevalence / (1 - prevalence))
                continue
            r = nb_ratios(present, y)
            clf = LogisticRegression(C=C, class_weight="balanced", solver="liblinear",
                                     dual=True, random_state=SEED, max_iter=1000)
            clf.fit(X.multiply(r).tocsr(), y, sample_weight=w)
            coef[j], intercept[j] = clf.coef_[0] * r, clf.intercept_[0]
        return coef * self.scale, intercept


def nb_ratios(present, y: np.ndarray, alpha: float = NB_ALPHA) -> np.ndarray:
    """|log-count ratio| per feature: how much more often it occurs in stories with the
    theme than in those without, smoothed by `alpha`. Every story counts once here (weighting
    the demo stories as in the fit measured slightly worse). Its size is the weight; the
    regression still decides the direction."""
    pos = np.asarray(present[y == 1].sum(axis=0)).ravel() + alpha
    neg = np.asarray(present[y == 0].sum(axis=0)).ravel() + alpha
    return np.abs(np.log((pos / pos.sum()) / (neg / neg.sum())))


def _out_of_fold(infos, Y, w, theme_ids, nlp, grid, folds) -> dict[float, np.ndarray]:
    """Out-of-fold probabilities for every C of the grid (features fitted once per fold)."""
    oof = {C: np.zeros(Y.shape) for C in grid}
    splitter = KFold(n_splits=min(folds, len(infos)), shuffle=True, random_state=SEED)
    for train_idx, test_idx in splitter.split(np.arange(len(infos))):
        design = Design.fit([infos[i] for i in train_idx], theme_ids, nlp)
        X_test = design.matrix([infos[i] for i in test_idx], theme_ids)
        for C in grid:
            coef, intercept = design.fit_weights(Y[train_idx], w[train_idx], C)
            oof[C][test_idx] = 1.0 / (1.0 + np.exp(-(np.asarray(X_test @ coef.T) + intercept)))
    return oof


def _weighted_f1(y: np.ndarray, pred: np.ndarray, w: np.ndarray) -> float:
    tp = float(w[(y == 1) & pred].sum())
    fp = float(w[(y == 0) & pred].sum())
    fn = float(w[(y == 1) & ~pred].sum())
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0


def choose_thresholds(y: np.ndarray, probs: np.ndarray, rule_scores: np.ndarray,
                      w: np.ndarray) -> tuple[Thresholds, float]:
    """The (classifier, rules) threshold pair with the best weighted F1 of "either fires".

    Ties go to the higher thresholds (fewer tags): on small data a plateau of equal F1 is
    common, and the conservative end of it generalises better."""
    best, best_f1 = Thresholds(0.5, NEVER), -1.0
    rule_options = [NEVER] + list(RULE_GRID[::-1])
    for theta in CLASSIFIER_GRID[::-1]:
        clf_pred = probs >= theta
        for rho in rule_options:
            pred = clf_pred | (rule_scores >= rho) if rho < NEVER else clf_pred
            f1 = _weighted_f1(y, pred, w)
            if f1 > best_f1 + 1e-9:
                best, best_f1 = Thresholds(float(theta), float(rho)), f1
    return best, best_f1


@dataclass
class CrossValidation:
    C: float
    oof: np.ndarray
    thresholds: dict[str, Thresholds]
    macro_f1: float


def _cross_validate(C: float, oof: np.ndarray, Y: np.ndarray, w: np.ndarray,
                    rule_scores: np.ndarray, theme_ids: list[str]) -> CrossValidation:
    thresholds, f1s = {}, []
    for j, theme in enumerate(theme_ids):
        if Y[:, j].max() == 0:  # nothing to learn from: rules alone, at the rules-only level
            thresholds[theme] = Thresholds(NEVER, RULES_ONLY_THRESHOLD)
            continue
        thresholds[theme], f1 = choose_thresholds(Y[:, j], oof[:, j], rule_scores[:, j], w)
        f1s.append(f1)
    return CrossValidation(C, oof, thresholds, float(np.mean(f1s)) if f1s else 0.0)


def train(examples: Iterable, taxonomy: Taxonomy | None = None, *, C: float | None = None,
          folds: int = FOLDS, now: datetime | None = None) -> Model:
    """Train on (text, set_of_theme_ids) pairs or Example objects. C None: chosen by CV."""
    taxonomy = taxonomy or Taxonomy.load()
    examples = as_examples(examples)
    if len(examples) < 2:
        raise ValueError("training needs at least two examples")
    theme_ids = taxonomy.ids
    unknown = sorted({t for e in examples for t in e.themes} - set(theme_ids))
    if unknown:
        raise ValueError(f"examples use theme(s) not in taxonomy {taxonomy.version}: {unknown}")
    nlp, infos = _analyse([e.text for e in examples], taxonomy)
    Y = np.array([[int(t in e.themes) for t in theme_ids] for e in examples])
    w = np.array([e.weight for e in examples], dtype=np.float64)
    rule_scores = np.array([info.rule_scores(theme_ids) for info in infos])

    grid = (C,) if C is not None else C_GRID
    oof = _out_of_fold(infos, Y, w, theme_ids, nlp, grid, folds)
    runs = [_cross_validate(c, oof[c], Y, w, rule_scores, theme_ids) for c in grid]
    best = max(runs, key=lambda r: (r.macro_f1, -r.C))
    design = Design.fit(infos, theme_ids, nlp)
    coef, intercept = design.fit_weights(Y, w, best.C)

    predicted = []
    for i in range(len(examples)):
        predicted.append({t for j, t in enumerate(theme_ids)
                          if best.oof[i, j] >= best.thresholds[t].classifier
                          or rule_scores[i, j] >= best.thresholds[t].rules})
    cv = scores([e.themes for e in examples], predicted, theme_ids)
    features = {"lemmas": "sublinear tf-idf, min_df 2", "char_ngrams": list(CHAR_RANGE),
                "char_min_df": CHAR_MIN_DF, "char_scale": CHAR_SCALE,
                "rule_features": list(RULE_FEATURES)}
    fingerprint = json.dumps([[e.text, sorted(e.themes), e.weight] for e in examples]
                             + [taxonomy.to_toml(), best.C, folds, SEED, features])
    meta = {
        "taxonomy_version": taxonomy.version,
        "created": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "training_size": len(examples),
        "training_sources": _count_sources(examples),
        "positives": {t: int(Y[:, j].sum()) for j, t in enumerate(theme_ids)},
        "params": {"C": best.C, "C_grid": list(grid), "folds": folds, "seed": SEED,
                   "class_weight": "balanced", "features": features},
        "cv_macro_f1_by_C": {str(r.C): round(r.macro_f1, 4) for r in runs},
        "metrics": {"note": "out-of-fold predictions at the chosen thresholds (thresholds were "
                            "chosen on the same predictions, so slightly optimistic)",
                    "macro_f1": cv["macro_f1"], "per_theme": cv["per_theme"]},
        "data_sha256": hashlib.sha256(fingerprint.encode()).hexdigest(),
    }
    return Model(version=registry.new_version(fingerprint, now), theme_ids=theme_ids,
                 vectorizer=design.vec, coef=coef, intercept=intercept,
                 thresholds=best.thresholds, meta=meta, chars=design.chars,
                 rule_groups=RULE_FEATURES)


def _count_sources(examples: list[Example]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for e in examples:
        counts[e.source or "unnamed"] = counts.get(e.source or "unnamed", 0) + 1
    return counts


# --- versions and promotion ------------------------------------------------------------------


def save(model: Model, models_dir: str | Path) -> Path:
    return model.save(Path(models_dir) / model.version)


def split_heldout(examples: list[Example], fraction: float = 0.2) -> tuple[list, list]:
    """A seeded split into (train, held-out)."""
    order = np.random.default_rng(SEED).permutation(len(examples))
    n_heldout = max(1, int(round(len(examples) * fraction)))
    heldout = set(order[:n_heldout].tolist())
    return ([e for i, e in enumerate(examples) if i not in heldout],
            [e for i, e in enumerate(examples) if i in heldout])


@dataclass
class Promotion:
    promoted: bool
    new_version: str
    current_version: str | None
    new_macro_f1: float | None
    current_macro_f1: float | None


def promote_if_not_worse(new: str | Path, current: str | Path | None, heldout: Iterable,
                         taxonomy: Taxonomy | None = None) -> Promotion:
    """Make `new` (a saved model version dir) the active model of its models dir when its
    macro-F1 on the held-out examples is not worse than that of `current` (None: no model yet)."""
    from nlp.pipeline import Tagger

    new = Path(new)
    heldout = as_examples(heldout)
    new_f1 = evaluate(Tagger.load(new, taxonomy), heldout)["macro_f1"] or 0.0
    current_f1 = None
    if current is not None:
        current_f1 = evaluate(Tagger.load(Path(current), taxonomy), heldout)["macro_f1"] or 0.0
    promoted = current_f1 is None or new_f1 >= current_f1
    if promoted:
        registry.set_active(new.parent, new.name)
    return Promotion(promoted, new.name, Path(current).name if current else None, new_f1,
                     current_f1)


# --- command line ----------------------------------------------------------------------------


def _data_hash(model_dir: Path) -> str | None:
    try:
        return json.loads((model_dir / "meta.json").read_text(encoding="utf-8"))["data_sha256"]
    except (OSError, ValueError, KeyError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train a theme model.")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--default", action="store_true",
                        help="train the fresh-install model from the demo stories and "
                             "nlp/data/train_*.jsonl; activate it if none is active")
    source.add_argument("--data", type=Path, nargs="+", help="JSONL files with text and themes")
    parser.add_argument("--models-dir", type=Path, default=None,
                        help="default: $VERTELPUNT_MODELS_DIR or $VERTELPUNT_DATA_DIR/models")
    parser.add_argument("--taxonomy", type=Path, default=None)
    parser.add_argument("--heldout", type=Path, default=None,
                        help="held-out JSONL for promotion (default: a 20%% split of --data)")
    parser.add_argument("--force", action="store_true", help="--default: activate even if a "
                        "model is already active")
    args = parser.parse_args(argv)
    models_dir = args.models_dir or registry.default_models_dir()
    taxonomy = Taxonomy.load(args.taxonomy)

    if args.default:
        model = train(default_examples(), taxonomy)
        current = registry.active_version(models_dir)
        if current and _data_hash(models_dir / current) == model.meta["data_sha256"]:
            print(f"{current} is active and was trained on the same data: nothing to do")
            return 0
        path = save(model, models_dir)
        if current is None or args.force:
            registry.set_active(models_dir, model.version)
        state = "active" if registry.active_version(models_dir) == model.version else \
            f"saved; {current} stays active (use --force)"
        print(f"{model.version} -> {path} ({state}); "
              f"CV macro-F1 {model.meta['metrics']['macro_f1']:.3f}")
        return 0

    examples = [e for p in args.data for e in load_jsonl(p)]
    if args.heldout:
        train_set, heldout = examples, load_jsonl(args.heldout)
    else:
        train_set, heldout = split_heldout(examples)
    model = train(train_set, taxonomy)
    path = save(model, models_dir)
    current = registry.active_version(models_dir)
    result = promote_if_not_worse(path, models_dir / current if current else None, heldout,
                                  taxonomy)
    verdict = "promoted" if result.promoted else "not promoted (worse on held-out)"
    print(f"{model.version}: {verdict}; held-out macro-F1 new {result.new_macro_f1:.3f}"
          + (f", current {result.current_macro_f1:.3f}" if result.current_macro_f1 is not None
             else ""), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
