"""Development checks on training data only (never the held-out evaluation set).

Two modes:

* `--loso` (leave one source out): the training data come from several authors, one file each
  (the demo stories and every nlp/data/train_*.jsonl). Train on all files but one, exactly as
  `python -m nlp.train --default` does (same weights, C and thresholds chosen inside the training
  part), tag the left-out file, and repeat for every file. This measures transfer to a writing
  style the model has not seen, which is what the held-out evaluation tests. Reports per fold
  and theme P/R/F1, macro-F1 over the four main themes and over all ten, and the mean over folds
  (plus the mean over the paragraph folds, whose texts are short like the evaluation's).
* default (demo folds): five folds over the demo stories: train on the first paragraph file plus
  four fifths of the demo stories, tag the remaining fifth. Compares demo weights and rules only.

    python benchmarks/tagging_dev_cv.py --loso [--jobs 2] [--json]
    python benchmarks/tagging_dev_cv.py [--demo-weight 1 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.evaluate import MAIN_THEMES, Example, load_jsonl, macro_f1, scores  # noqa: E402
from nlp.pipeline import Tagger  # noqa: E402
from nlp.taxonomy import Taxonomy  # noqa: E402
from nlp.train import DEMO_FILES, PARAGRAPHS, SEED, default_examples, train  # noqa: E402

# --- leave one source out ----------------------------------------------------------------------


def _summary(gold: list, pred: list, theme_ids: list[str]) -> dict:
    rep = scores(gold, pred, theme_ids)
    return {"n": len(gold), "macro_f1": rep["macro_f1"],
            "macro_f1_main": macro_f1(rep["per_theme"], MAIN_THEMES),
            "per_theme": {t: {k: m[k] for k in ("precision", "recall", "f1", "support")}
                          for t, m in rep["per_theme"].items()},
            "n_predicted": sum(len(p) for p in pred), "n_gold": sum(len(g) for g in gold)}


def _loso_fold(source: str) -> dict:
    """Train on every source but `source`, tag `source`."""
    taxonomy = Taxonomy.load()
    examples = default_examples()
    train_set = [e for e in examples if e.source != source]
    test = [e for e in examples if e.source == source]
    model = train(train_set, taxonomy)
    tagger = Tagger(taxonomy, model)
    pred = [{t.theme for t in r.themes} for r in tagger.tag_many(e.text for e in test)]
    out = _summary([e.themes for e in test], pred, taxonomy.ids)
    out["C"] = model.meta["params"]["C"]
    out["rules_only_macro_f1_main"] = _summary(
        [e.themes for e in test],
        [{t.theme for t in r.themes} for r in Tagger(taxonomy).tag_many(e.text for e in test)],
        taxonomy.ids)["macro_f1_main"]
    return out


def _mean(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def _mean_of_folds(folds: dict, theme_ids: list[str]) -> dict:
    rows = list(folds.values())
    return {
        "macro_f1_main": _mean([r["macro_f1_main"] for r in rows]),
        "macro_f1": _mean([r["macro_f1"] for r in rows]),
        "per_theme": {t: {k: _mean([r["per_theme"][t][k] for r in rows])
                          for k in ("precision", "recall", "f1")} for t in theme_ids},
    }


def run_loso(jobs: int = 1) -> dict:
    sources = sorted({e.source for e in default_examples()})
    if jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            results = list(pool.map(_loso_fold, sources))
    else:
        results = [_loso_fold(s) for s in sources]
    folds = dict(zip(sources, results, strict=True))
    theme_ids = Taxonomy.load().ids
    paragraphs = {s: r for s, r in folds.items() if s != "demo"}
    return {"folds": folds, "mean": _mean_of_folds(folds, theme_ids),
            "mean_paragraph_folds": _mean_of_folds(paragraphs, theme_ids)}


def _fmt(v: float | None) -> str:
    return "  n/a" if v is None else f"{v:.3f}"


def print_loso(result: dict) -> None:
    folds = result["folds"]
    theme_ids = list(result["mean"]["per_theme"])
    print("leave-one-source-out: F1 per theme on the left-out file (P/R in --json)")
    header = f"{'left out':18} {'n':>4} {'C':>4} " + " ".join(f"{t[:6]:>6}" for t in theme_ids)
    print(header + "   main4  all10  pred/gold  rules-only main4")
    for source, r in folds.items():
        cells = " ".join(f"{_fmt(r['per_theme'][t]['f1']):>6}" for t in theme_ids)
        print(f"{source:18} {r['n']:4} {r['C']:4g} {cells}   {_fmt(r['macro_f1_main'])}  "
              f"{_fmt(r['macro_f1'])}  {r['n_predicted']:4}/{r['n_gold']:<4}  "
              f"{_fmt(r['rules_only_macro_f1_main'])}")
    for name in ("mean", "mean_paragraph_folds"):
        m = result[name]
        cells = " ".join(f"{_fmt(m['per_theme'][t]['f1']):>6}" for t in theme_ids)
        print(f"{name:28} {cells}   {_fmt(m['macro_f1_main'])}  {_fmt(m['macro_f1'])}")
    m = result["mean"]["per_theme"]
    print("mean over folds, P / R: " + ", ".join(
        f"{t} {_fmt(m[t]['precision'])}/{_fmt(m[t]['recall'])}" for t in theme_ids))


# --- demo folds --------------------------------------------------------------------------------


def run(demo_weight: float, folds: int = 5, with_paragraphs: bool = True) -> dict:
    taxonomy = Taxonomy.load()
    demo = [e for p in DEMO_FILES for e in load_jsonl(p, source="demo")]
    paragraphs = load_jsonl(PARAGRAPHS, source="paragraphs") if with_paragraphs else []
    order = np.random.default_rng(SEED).permutation(len(demo))
    gold, pred_model, pred_rules = [], [], []
    rules_only = Tagger(taxonomy)
    for k in range(folds):
        test_idx = set(order[k::folds].tolist())
        train_set = paragraphs + [
            Example(e.text, e.themes, demo_weight, "demo")
            for i, e in enumerate(demo) if i not in test_idx]
        tagger = Tagger(taxonomy, train(train_set, taxonomy, C=4.0))
        test = [demo[i] for i in sorted(test_idx)]
        gold += [e.themes for e in test]
        texts = [e.text for e in test]
        pred_model += [{t.theme for t in r.themes} for r in tagger.tag_many(texts)]
        pred_rules += [{t.theme for t in r.themes} for r in rules_only.tag_many(texts)]
    out = {}
    for name, pred in (("model", pred_model), ("rules-only", pred_rules)):
        rep = scores(gold, pred, taxonomy.ids)
        out[name] = {"macro_f1": rep["macro_f1"],
                     "macro_f1_main": macro_f1(rep["per_theme"], MAIN_THEMES),
                     "per_theme": {t: m["f1"] for t, m in rep["per_theme"].items()},
                     "n_predicted": sum(len(p) for p in pred), "n_gold": sum(len(g) for g in gold)}
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loso", action="store_true", help="leave one source file out")
    parser.add_argument("--jobs", type=int, default=1, help="--loso: folds in parallel")
    parser.add_argument("--demo-weight", type=float, nargs="+", default=[1.0])
    parser.add_argument("--no-paragraphs", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.loso:
        result = run_loso(args.jobs)
        if args.json:
            print(json.dumps(result, indent=2))
        else:
            print_loso(result)
        return 0
    results = {w: run(w, with_paragraphs=not args.no_paragraphs) for w in args.demo_weight}
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for w, res in results.items():
        for name, r in res.items():
            themes = " ".join(f"{t[:5]}={v:.2f}" if v is not None else f"{t[:5]}=n/a"
                              for t, v in r["per_theme"].items())
            print(f"demo_weight={w} {name:10} macroF1 main={r['macro_f1_main']:.3f} "
                  f"all={r['macro_f1']:.3f} pred/gold={r['n_predicted']}/{r['n_gold']}")
            print(f"    {themes}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
