#!/usr/bin/env python3
"""Validator for benchmarks/data/themes_eval_c.jsonl (stdlib only).

Usage: python3 benchmarks/data/check_themes_eval_c.py [path]

Checks the format and the minimum counts of the independent evaluation set
and prints counts per theme, per origin and word-length quartiles.
Exits 1 on the first set of problems found (all problems are listed).

NOTE: this set is for ONE final measurement. Never tune on it.
"""
import json
import os
import sys
from collections import Counter

THEMES = [
    "veiligheid", "armoede", "informeel-netwerk", "samenwerking", "werkdruk",
    "privacy", "vakmanschap", "wonen", "opvoeding", "gezondheid",
]
MAJOR = {"veiligheid", "armoede", "informeel-netwerk", "samenwerking"}
MIN_MAJOR = 45
MIN_OTHER = 15
MIN_ITEMS = 240
MIN_REAL = 100
MIN_NO_THEME = 5
MAX_PER_SOURCE = 3
MIN_WORDS, MAX_WORDS = 25, 250
KEYS = {"id", "text", "themes", "origin", "source"}
ORIGINS = {"written", "real-paraphrased"}


def quartiles(values):
    v = sorted(values)
    n = len(v)

    def q(p):
        if n == 0:
            return 0
        k = (n - 1) * p
        lo = int(k)
        hi = min(lo + 1, n - 1)
        return v[lo] + (v[hi] - v[lo]) * (k - lo)

    return v[0], q(0.25), q(0.5), q(0.75), v[-1]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "themes_eval_c.jsonl")
    errors = []
    records = []
    with open(path, encoding="utf-8") as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {ln}: empty line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {ln}: invalid JSON ({exc})")
                continue
            if not isinstance(rec, dict):
                errors.append(f"line {ln}: not a JSON object")
                continue
            if set(rec) != KEYS:
                errors.append(f"line {ln}: keys {sorted(rec)} != {sorted(KEYS)}")
                continue
            records.append((ln, rec))

    ids, texts = Counter(), Counter()
    theme_count, origin_count, source_count = Counter(), Counter(), Counter()
    n_themes = Counter()
    lengths = []
    for ln, rec in records:
        rid, text, themes = rec["id"], rec["text"], rec["themes"]
        origin, source = rec["origin"], rec["source"]
        if not isinstance(rid, str) or not rid:
            errors.append(f"line {ln}: bad id")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"line {ln}: empty text")
            text = ""
        if not isinstance(themes, list) or not all(isinstance(t, str) for t in themes):
            errors.append(f"line {ln}: themes must be a list of strings")
            themes = []
        if len(themes) > 3:
            errors.append(f"line {ln}: more than 3 themes")
        if len(set(themes)) != len(themes):
            errors.append(f"line {ln}: duplicate themes")
        for t in themes:
            if t not in THEMES:
                errors.append(f"line {ln}: unknown theme {t!r}")
        if origin not in ORIGINS:
            errors.append(f"line {ln}: bad origin {origin!r}")
        if not isinstance(source, str):
            errors.append(f"line {ln}: source must be a string")
            source = ""
        if origin == "real-paraphrased":
            if not source.startswith(("http://", "https://")):
                errors.append(f"line {ln}: real-paraphrased item needs a source address")
            else:
                source_count[source] += 1
        if origin == "written" and source:
            errors.append(f"line {ln}: written item must have an empty source")
        words = len(text.split())
        if not MIN_WORDS <= words <= MAX_WORDS:
            errors.append(f"line {ln}: {words} words (allowed {MIN_WORDS}-{MAX_WORDS})")
        ids[rid] += 1
        texts[" ".join(text.split()).lower()] += 1
        theme_count.update(themes)
        origin_count[origin] += 1
        n_themes[len(themes)] += 1
        lengths.append(words)

    for rid, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {rid!r} ({c}x)")
    for t, c in texts.items():
        if c > 1:
            errors.append(f"duplicate text ({c}x): {t[:60]!r}")
    for s, c in source_count.items():
        if c > MAX_PER_SOURCE:
            errors.append(f"source used {c}x (max {MAX_PER_SOURCE}): {s}")

    total = len(records)
    if total < MIN_ITEMS:
        errors.append(f"only {total} items (need >= {MIN_ITEMS})")
    if origin_count["real-paraphrased"] < MIN_REAL:
        errors.append(
            f"only {origin_count['real-paraphrased']} real-paraphrased items (need >= {MIN_REAL})"
        )
    for t in THEMES:
        need = MIN_MAJOR if t in MAJOR else MIN_OTHER
        if theme_count[t] < need:
            errors.append(f"theme {t}: {theme_count[t]} items (need >= {need})")
    if n_themes[0] < MIN_NO_THEME:
        errors.append(f"only {n_themes[0]} items without a theme (need >= {MIN_NO_THEME})")

    print(f"file: {path}")
    print(f"items: {total}")
    print("per theme:")
    for t in THEMES:
        print(f"  {t:18s} {theme_count[t]:4d}")
    print("per origin:")
    for o in sorted(ORIGINS):
        print(f"  {o:18s} {origin_count[o]:4d}")
    most = max(source_count.values()) if source_count else 0
    print(f"distinct sources: {len(source_count)} (max per source: {most})")
    print("themes per item: " + ", ".join(f"{k}: {n_themes[k]}" for k in sorted(n_themes)))
    if lengths:
        mn, q1, q2, q3, mx = quartiles(lengths)
        print(f"words per item: min {mn}, q1 {q1:.1f}, median {q2:.1f}, q3 {q3:.1f}, max {mx}")

    if errors:
        print(f"\nFAILED: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
