"""How well does de-identification work on annotated stories?

    python benchmarks/deidentify_quality.py [--data benchmarks/data/deid_eval.jsonl]
                                            [--json results.json] [--show 20]

Input: JSON Lines, one story per line:
    {"id": ..., "text": ..., "entities": [{"start", "end", "label", "text"}],
     "keep": [{"start", "end", "text"}]}
Gold labels are ours plus GEBOORTEDATUM (compared as DATUM).

Reported:
* per gold label: recall (a gold span counts as found when every character of it is covered by
  some predicted entity, whatever its label), partial overlaps, misses, and how often the
  covering prediction had the same label;
* per predicted label: predictions that overlap no gold span at all (a precision-like figure:
  they masked something the annotator left visible);
* recall over the direct identifiers (PERSOON, ADRES, POSTCODE, TELEFOON, EMAIL, BSN, IBAN,
  GEBOORTEDATUM);
* the share of keep-spans (role and domain words that must stay) wrongly, even partly, masked.
Prints a table; --json also writes the figures (and the misses) to a file. Exit 0.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nlp import deidentify  # noqa: E402

DEFAULT_DATA = Path(__file__).resolve().parent / "data" / "deid_eval.jsonl"
DIRECT_IDENTIFIERS = (
    "PERSOON", "ADRES", "POSTCODE", "TELEFOON", "EMAIL", "BSN", "IBAN", "GEBOORTEDATUM",
)  # fmt: skip
LABEL_ALIASES = {"GEBOORTEDATUM": "DATUM"}


def load(path: Path) -> list[dict]:
    stories = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                story = json.loads(line)
                story.setdefault("entities", [])
                story.setdefault("keep", [])
                story["_line"] = number
                stories.append(story)
    return stories


def coverage(start: int, end: int, predicted: list[deidentify.Entity]) -> tuple[int, set[str]]:
    """How many characters of start-end the predictions cover, and their labels."""
    chars, labels = 0, set()
    for entity in predicted:
        overlap = min(end, entity.end) - max(start, entity.start)
        if overlap > 0:
            chars += overlap
            labels.add(entity.label)
    return chars, labels


def evaluate(stories: list[dict]) -> dict:
    per_label: dict[str, Counter] = defaultdict(Counter)
    predicted_counts: Counter = Counter()
    unmatched_predictions: Counter = Counter()
    keep_total = keep_hit = 0
    misses, partials, false_alarms, keep_errors = [], [], [], []
    started = time.perf_counter()
    for story in stories:
        text = story["text"]
        predicted = deidentify.find_entities(text)
        for gold in story["entities"]:
            label, start, end = gold["label"], gold["start"], gold["end"]
            counts = per_label[label]
            counts["gold"] += 1
            chars, labels = coverage(start, end, predicted)
            where = {"id": story.get("id"), "label": label, "text": text[start:end],
                     "context": text[max(0, start - 40) : end + 40]}  # fmt: skip
            if chars >= end - start:
                counts["found"] += 1
                if LABEL_ALIASES.get(label, label) in labels:
                    counts["same_label"] += 1
            elif chars > 0:
                counts["partial"] += 1
                partials.append(where)
            else:
                counts["missed"] += 1
                misses.append(where)
        for entity in predicted:
            predicted_counts[entity.label] += 1
            if not any(
                g["start"] < entity.end and entity.start < g["end"] for g in story["entities"]
            ):
                unmatched_predictions[entity.label] += 1
                context = text[max(0, entity.start - 40) : entity.end + 40]
                false_alarms.append(
                    {"id": story.get("id"), "label": entity.label, "text": entity.text,
                     "context": context}
                )  # fmt: skip
        for keep in story["keep"]:
            keep_total += 1
            chars, labels = coverage(keep["start"], keep["end"], predicted)
            if chars:
                keep_hit += 1
                keep_text = text[keep["start"] : keep["end"]]
                keep_errors.append(
                    {
                        "id": story.get("id"),
                        "text": keep_text,
                        "masked_as": sorted(labels),
                        "context": text[max(0, keep["start"] - 40) : keep["end"] + 40],
                    }
                )
    seconds = time.perf_counter() - started

    labels_table = {}
    for label in sorted(per_label):
        c = per_label[label]
        labels_table[label] = {
            "gold": c["gold"],
            "found": c["found"],
            "partial": c["partial"],
            "missed": c["missed"],
            "recall": _ratio(c["found"], c["gold"]),
            "recall_incl_partial": _ratio(c["found"] + c["partial"], c["gold"]),
            "same_label": _ratio(c["same_label"], c["found"]),
        }
    direct_gold = sum(per_label[label]["gold"] for label in DIRECT_IDENTIFIERS)
    direct_found = sum(per_label[label]["found"] for label in DIRECT_IDENTIFIERS)
    total_predicted = sum(predicted_counts.values())
    return {
        "stories": len(stories),
        "seconds": round(seconds, 2),
        "per_label": labels_table,
        "direct_identifiers": {
            "gold": direct_gold,
            "found": direct_found,
            "recall": _ratio(direct_found, direct_gold),
        },
        "overall_recall": _ratio(
            sum(c["found"] for c in per_label.values()), sum(c["gold"] for c in per_label.values())
        ),
        "predictions": {
            "total": total_predicted,
            "overlapping_no_gold": sum(unmatched_predictions.values()),
            "share_overlapping_no_gold": _ratio(
                sum(unmatched_predictions.values()), total_predicted
            ),
            "per_label": {
                label: {"predicted": n, "overlapping_no_gold": unmatched_predictions[label]}
                for label, n in sorted(predicted_counts.items())
            },
        },
        "keep": {
            "total": keep_total,
            "masked": keep_hit,
            "share_masked": _ratio(keep_hit, keep_total),
        },
        "misses": misses,
        "partials": partials,
        "false_alarms": false_alarms,
        "keep_errors": keep_errors,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def report(results: dict, show: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 132)
    table = Table(title=f"De-identification quality ({results['stories']} stories)")
    for column in ("label", "gold", "found", "partial", "missed", "recall", "recall+partial",
                   "same label", "predicted", "pred. w/o gold"):  # fmt: skip
        table.add_column(column, justify="right" if column != "label" else "left")
    predictions = results["predictions"]["per_label"]
    for label in sorted(set(results["per_label"]) | set(predictions)):
        row = results["per_label"].get(label, {})
        # GEBOORTEDATUM is predicted as DATUM: predictions are listed on the DATUM row only.
        pred = {} if label in LABEL_ALIASES else predictions.get(label, {})
        table.add_row(
            label,
            *(str(row.get(key, "")) for key in ("gold", "found", "partial", "missed")),
            *(_pct(row.get(key)) if row else "" for key in ("recall", "recall_incl_partial")),
            _pct(row.get("same_label")) if row else "",
            str(pred.get("predicted", "")),
            str(pred.get("overlapping_no_gold", "")),
        )
    console.print(table)
    direct = results["direct_identifiers"]
    keep = results["keep"]
    pred = results["predictions"]
    console.print(
        f"Direct identifiers: {direct['found']}/{direct['gold']} fully masked = "
        f"[bold]{_pct(direct['recall'])}[/bold] (target ≥ 97%)\n"
        f"All gold spans: {_pct(results['overall_recall'])}\n"
        f"Keep-spans wrongly (even partly) masked: {keep['masked']}/{keep['total']} = "
        f"[bold]{_pct(keep['share_masked'])}[/bold] (target ≤ 3%)\n"
        f"Predictions overlapping no gold span: {pred['overlapping_no_gold']}/{pred['total']} = "
        f"{_pct(pred['share_overlapping_no_gold'])}\n"
        f"Time: {results['seconds']} s for {results['stories']} stories"
    )
    sections = (
        ("Missed", "misses"),
        ("Partly masked", "partials"),
        ("Keep-spans masked", "keep_errors"),
        ("Predictions without gold", "false_alarms"),
    )
    for title, key in sections:
        items = results[key]
        if items and show:
            console.print(f"\n[bold]{title}[/bold] ({len(items)}, first {min(show, len(items))}):")
            for item in items[:show]:
                console.print(
                    "  ", json.dumps(item, ensure_ascii=False), markup=False, highlight=False
                )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--show", type=int, default=15, help="list this many misses etc.")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"no evaluation data at {args.data}", file=sys.stderr)
        return 2
    deidentify.warm()
    results = evaluate(load(args.data))
    report(results, args.show)
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.exit(code)
