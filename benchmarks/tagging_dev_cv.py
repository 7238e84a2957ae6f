"""Development check: how well does training transfer to whole stories? (not the held-out eval)

Five folds over the demo stories: train on our paragraphs plus four fifths of the demo stories,
tag the remaining fifth. Compares training variants, and rules only. Uses no held-out data.

    python benchmarks/tagging_dev_cv.py [--demo-weight 1 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.evaluate import MAIN_THEMES, Example, load_jsonl, macro_f1, scores  # noqa: E402
from nlp.pipeline import Tagger  # noqa: E402
from nlp.taxonomy import Taxonomy  # noqa: E402
from nlp.train import DEMO_FILES, PARAGRAPHS, SEED, train  # noqa: E402


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
    parser.add_argument("--demo-weight", type=float, nargs="+", default=[1.0])
    parser.add_argument("--no-paragraphs", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
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
