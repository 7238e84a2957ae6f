"""Evaluation: per-theme precision, recall and F1, macro-F1, and agreement (Cohen's kappa).

    python -m nlp.evaluate FILE.jsonl [--model-dir DIR] [--json]

FILE has one story a line with "text" and "themes". A theme that has no gold label and no
prediction in the file has no F1 (reported as null) and is left out of the macro average.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

MAIN_THEMES = ("veiligheid", "armoede", "informeel-netwerk", "samenwerking")


@dataclass(frozen=True)
class Example:
    text: str
    themes: frozenset[str]
    weight: float = 1.0
    source: str = ""


def as_examples(items: Iterable) -> list[Example]:
    """Accept Example objects or (text, themes) pairs."""
    out = []
    for item in items:
        if isinstance(item, Example):
            out.append(item)
        else:
            text, themes = item
            out.append(Example(text, frozenset(themes)))
    return out


def load_jsonl(path: str | Path, source: str | None = None, weight: float = 1.0) -> list[Example]:
    examples = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get("text"), str) or not isinstance(row.get("themes"), list):
                raise ValueError(f"{path}:{n}: needs \"text\" (string) and \"themes\" (list)")
            examples.append(Example(row["text"], frozenset(row["themes"]), weight,
                                    source if source is not None else str(path)))
    return examples


def scores(gold: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]],
           themes: Sequence[str]) -> dict:
    """Per-theme P/R/F1 (with counts) and macro-F1 over `themes`."""
    if len(gold) != len(predicted):
        raise ValueError("gold and predicted differ in length")
    per_theme = {}
    for theme in themes:
        tp = fp = fn = 0
        for g, p in zip(gold, predicted, strict=True):
            in_g, in_p = theme in g, theme in p
            tp += in_g and in_p
            fp += in_p and not in_g
            fn += in_g and not in_p
        precision = tp / (tp + fp) if tp + fp else None
        recall = tp / (tp + fn) if tp + fn else None
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else None
        per_theme[theme] = {"precision": precision, "recall": recall, "f1": f1,
                            "support": tp + fn, "tp": tp, "fp": fp, "fn": fn}
    return {"per_theme": per_theme, "macro_f1": macro_f1(per_theme, themes), "n": len(gold)}


def macro_f1(per_theme: dict, themes: Iterable[str]) -> float | None:
    values = [per_theme[t]["f1"] for t in themes
              if t in per_theme and per_theme[t]["f1"] is not None]
    return sum(values) / len(values) if values else None


def evaluate(tagger, examples: Iterable, themes: Sequence[str] | None = None) -> dict:
    """Tag every example's text and compare with its themes."""
    examples = as_examples(examples)
    themes = list(themes) if themes is not None else tagger.taxonomy.ids
    predicted = [{t.theme for t in r.themes} for r in tagger.tag_many(e.text for e in examples)]
    report = scores([e.themes for e in examples], predicted, themes)
    report["macro_f1_main"] = macro_f1(report["per_theme"], [t for t in MAIN_THEMES if t in themes])
    report["model_version"] = tagger.model_version
    report["taxonomy_version"] = tagger.taxonomy.version
    return report


def cohen_kappa(a: Sequence[Iterable[str]], b: Sequence[Iterable[str]],
                themes: Sequence[str]) -> dict[str, float | None]:
    """Agreement per theme between two raters (e.g. tagger and reviewers) over the same stories.

    a[i] and b[i] are the theme sets the two gave story i. When both raters gave one and the
    same answer to every story, kappa is undefined (no variation): None.
    """
    if len(a) != len(b):
        raise ValueError("both raters must rate the same stories")
    out: dict[str, float | None] = {}
    for theme in themes:
        ya = [int(theme in x) for x in a]
        yb = [int(theme in x) for x in b]
        if len(set(ya) | set(yb)) < 2:
            out[theme] = None
        else:
            out[theme] = float(cohen_kappa_score(ya, yb))
    return out


def main(argv: list[str] | None = None) -> int:
    from nlp.pipeline import Tagger

    parser = argparse.ArgumentParser(description="Evaluate the tagger on a JSONL file.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report = evaluate(Tagger.load(args.model_dir), load_jsonl(args.file))
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    fmt = lambda v: "  n/a" if v is None else f"{v:.3f}"  # noqa: E731
    print(f"model {report['model_version']}, {report['n']} stories")
    for theme, m in report["per_theme"].items():
        print(f"{theme:18} P {fmt(m['precision'])}  R {fmt(m['recall'])}  F1 {fmt(m['f1'])}"
              f"  n={m['support']}")
    print(f"macro-F1 main {fmt(report['macro_f1_main'])}  all {fmt(report['macro_f1'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
