"""Theme tagging quality on a labelled JSONL file (one story a line: "text", "themes").

    python benchmarks/tagging_quality.py [FILE] [--model-dir DIR] [--rules-only] [--json]

FILE defaults to benchmarks/data/themes_eval_d.jsonl, the newest independent evaluation set
(sets B and C are the others; set A was retired into training after four looks; see
benchmarks/data/README.md): use them to report, never to tune. Prints per-theme precision,
recall, F1, support and Cohen's kappa between tagger and gold labels, and macro-F1 over the
four main themes and over all themes.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from nlp.evaluate import MAIN_THEMES, cohen_kappa, load_jsonl, macro_f1, scores  # noqa: E402
from nlp.pipeline import Tagger  # noqa: E402
from nlp.taxonomy import Taxonomy  # noqa: E402

DEFAULT_FILE = Path(__file__).parent / "data" / "themes_eval_d.jsonl"


def measure(path: Path, model_dir: Path | None, rules_only: bool) -> dict:
    tagger = Tagger(Taxonomy.load()) if rules_only else Tagger.load(model_dir)
    examples = load_jsonl(path)
    themes = tagger.taxonomy.ids
    gold = [e.themes for e in examples]
    predicted = [{t.theme for t in r.themes} for r in tagger.tag_many(e.text for e in examples)]
    report = scores(gold, predicted, themes)
    kappa = cohen_kappa(gold, predicted, themes)
    for theme in themes:
        report["per_theme"][theme]["kappa"] = kappa[theme]
    report["macro_f1_main"] = macro_f1(report["per_theme"], MAIN_THEMES)
    report.update(file=str(path), model_version=tagger.model_version,
                  taxonomy_version=tagger.taxonomy.version,
                  labels_gold=sum(len(g) for g in gold),
                  labels_predicted=sum(len(p) for p in predicted))
    return report


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path, nargs="?", default=DEFAULT_FILE)
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--rules-only", action="store_true", help="ignore any trained model")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not args.file.is_file():
        print(f"no such file: {args.file}", file=sys.stderr)
        return 2
    report = measure(args.file, args.model_dir, args.rules_only)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    table = Table(title=f"{report['file']}: {report['n']} stories, model "
                        f"{report['model_version']}, taxonomy {report['taxonomy_version']}")
    for column in ("theme", "P", "R", "F1", "kappa", "support", "predicted"):
        table.add_column(column, justify="left" if column == "theme" else "right")
    for theme, m in report["per_theme"].items():
        name = f"[bold]{theme}[/bold]" if theme in MAIN_THEMES else theme
        table.add_row(name, _fmt(m["precision"]), _fmt(m["recall"]), _fmt(m["f1"]),
                      _fmt(m["kappa"]), str(m["support"]), str(m["tp"] + m["fp"]))
    console = Console()
    console.print(table)
    console.print(f"macro-F1 over {', '.join(MAIN_THEMES)}: {_fmt(report['macro_f1_main'])}")
    console.print(f"macro-F1 over all {len(report['per_theme'])} themes: "
                  f"{_fmt(report['macro_f1'])}")
    console.print(f"labels: gold {report['labels_gold']}, predicted {report['labels_predicted']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
