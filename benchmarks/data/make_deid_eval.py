#!/usr/bin/env python3
"""Build deid_eval.jsonl from the hand-written deid_eval_source.txt.

Source format: one item per line (empty lines are skipped).
  [[LABEL|text]]  an identifying span that the de-identifier must mask
  {{text}}        a role/domain word that the de-identifier must NOT remove

Output: one JSON object per line
  {"id": "deid-001", "text": ..., "entities": [{"start", "end", "label", "text"}],
   "keep": [{"start", "end", "text"}]}
with character offsets (Python str indices, end exclusive) into the plain text.

Usage:  python benchmarks/data/make_deid_eval.py [--source PATH] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent

LABELS = {
    "PERSOON",
    "ADRES",
    "POSTCODE",
    "TELEFOON",
    "EMAIL",
    "URL",
    "BSN",
    "IBAN",
    "KENTEKEN",
    "DATUM",
    "GEBOORTEDATUM",
    "LEEFTIJD",
    "DOSSIERNUMMER",
    "INSTELLING",
}

# Either an entity [[LABEL|text]] or a keep span {{text}}.
MARKUP = re.compile(r"\[\[([A-Z]+)\|([^\[\]|{}]+?)\]\]|\{\{([^\[\]{}]+?)\}\}")


def bsn_11proef(value: str) -> bool:
    digits = [int(c) for c in value if c.isdigit()]
    if len(digits) != 9:
        return False
    total = sum(d * w for d, w in zip(digits[:8], range(9, 1, -1), strict=False)) - digits[8]
    return total % 11 == 0


def iban_valid(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]+", compact):
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def parse_line(line: str, lineno: int) -> tuple[str, list[dict], list[dict]]:
    parts: list[str] = []
    entities: list[dict] = []
    keep: list[dict] = []
    pos = 0  # position in the plain text being built
    last = 0  # position in the source line
    for m in MARKUP.finditer(line):
        before = line[last : m.start()]
        parts.append(before)
        pos += len(before)
        if m.group(1) is not None:
            label, span = m.group(1), m.group(2)
            if label not in LABELS:
                raise ValueError(f"line {lineno}: unknown label {label!r}")
            entities.append({"start": pos, "end": pos + len(span), "label": label, "text": span})
        else:
            span = m.group(3)
            keep.append({"start": pos, "end": pos + len(span), "text": span})
        if span != span.strip() or not span:
            raise ValueError(f"line {lineno}: span with surrounding whitespace: {span!r}")
        parts.append(span)
        pos += len(span)
        last = m.end()
    parts.append(line[last:])
    text = "".join(parts)
    for token in ("[[", "]]", "{{", "}}"):
        if token in text:
            raise ValueError(f"line {lineno}: unbalanced markup {token!r} left in text")
    return text, entities, keep


def check_item(item: dict, lineno: int) -> None:
    text = item["text"]
    spans = item["entities"] + item["keep"]
    for sp in spans:  # noqa: E501
        assert text[sp["start"] : sp["end"]] == sp["text"], (lineno, sp)
    ordered = sorted(spans, key=lambda s: (s["start"], s["end"]))
    for a, b in zip(ordered, ordered[1:], strict=False):
        assert a["end"] <= b["start"], f"line {lineno}: overlapping spans {a} / {b}"
    for ent in item["entities"]:
        if ent["label"] == "IBAN":
            assert iban_valid(ent["text"]), f"line {lineno}: IBAN checksum invalid: {ent['text']}"
        if ent["label"] == "BSN":
            assert sum(c.isdigit() for c in ent["text"]) == 9, f"line {lineno}: BSN not 9 digits"

  # noqa: E501
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--source", type=Path, default=HERE / "deid_eval_source.txt")
    ap.add_argument("--out", type=Path, default=HERE / "deid_eval.jsonl")
    args = ap.parse_args(argv)

    items = []
    for lineno, raw in enumerate(args.source.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        text, entities, keep = parse_line(line, lineno)
        item = {
            "id": f"deid-{len(items) + 1:03d}",
            "text": text,
            "entities": entities,
            "keep": keep,
        }
        check_item(item, lineno)
        items.append(item)

    with args.out.open("w", encoding="utf-8", newline="\n") as fh:
        for item in items:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    # Re-read and verify what was written.
    for line in args.out.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        for sp in obj["entities"] + obj["keep"]:
            assert obj["text"][sp["start"] : sp["end"]] == sp["text"]

    labels = Counter(e["label"] for it in items for e in it["entities"])
    bsns = [e["text"] for it in items for e in it["entities"] if e["label"] == "BSN"]
    n_keep = sum(len(it["keep"]) for it in items)
    n_empty = sum(1 for it in items if not it["entities"])
    print(f"wrote {args.out} ({len(items)} items)")
    print(f"items without identifying span: {n_empty} ({100 * n_empty / len(items):.0f}%)")
    print(f"entity spans: {sum(labels.values())}, keep spans: {n_keep}")
    for label in sorted(LABELS):
        print(f"  {label:14s} {labels.get(label, 0)}")
    print(f"BSN valid under 11-proef: {sum(map(bsn_11proef, bsns))} of {len(bsns)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
