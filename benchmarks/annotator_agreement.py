"""How well two annotators of the same evaluation set agree: the ceiling a tagger is measured
against. Treats FIRST as gold and SECOND as predictions (per-theme F1 is symmetric in that).

    python benchmarks/annotator_agreement.py benchmarks/data/themes_eval_c.jsonl \\
        benchmarks/data/themes_eval_c_second.jsonl

SECOND holds {"id", "themes"} per line for the same ids (themes_eval_c_second.jsonl: a second
helper who read only the ids and texts of set C and labelled them by the definitions).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp.evaluate import MAIN_THEMES, cohen_kappa, macro_f1, scores  # noqa: E402
from nlp.taxonomy import Taxonomy  # noqa: E402


def labels(path: str) -> dict[str, set[str]]:
    with open(path, encoding="utf-8") as lines:
        return {d["id"]: set(d["themes"]) for d in map(json.loads, lines)}


def main(first: str, second: str) -> int:
    a, b = labels(first), labels(second)
    if a.keys() != b.keys():
        raise SystemExit(f"the files label different items ({len(a.keys() ^ b.keys())} differ)")
    ids = sorted(a)
    themes = Taxonomy.load().ids
    report = scores([a[i] for i in ids], [b[i] for i in ids], themes)
    kappa = cohen_kappa([a[i] for i in ids], [b[i] for i in ids], themes)
    print(f"{len(ids)} items; per theme F1 / Cohen's kappa between the two annotators:")
    for theme in themes:
        print(f"  {theme:18} {report['per_theme'][theme]['f1']:.3f} / {kappa[theme]:.3f}")
    print(f"macro-F1, 4 main themes: {macro_f1(report['per_theme'], MAIN_THEMES):.3f}")
    print(f"macro-F1, all 10: {report['macro_f1']:.3f}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1], sys.argv[2]))
