#!/usr/bin/env python3
"""Validate a theme evaluation set (themes_eval_b/c/d.jsonl) and print counts (stdlib only).

Usage: python3 benchmarks/data/check_themes_eval.py [path]   (default: themes_eval_b.jsonl)
Exit code 1 if any check fails. Each set's author wrote a validator like this one; they
checked the same things, so one serves all three.
"""
import json
import sys
from collections import Counter
from pathlib import Path

THEMES = ["veiligheid", "armoede", "informeel-netwerk", "samenwerking", "werkdruk",
          "privacy", "vakmanschap", "wonen", "opvoeding", "gezondheid"]
ORIGINS = {"written", "real", "real-edited", "real-paraphrased"}
MIN_COUNTS = {"veiligheid": 40, "armoede": 40, "informeel-netwerk": 40, "samenwerking": 40}
MIN_OTHER = 15
MIN_ITEMS = 170


def main() -> int:
    default = Path(__file__).with_name("themes_eval_b.jsonl")
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    errors = []
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {n}: empty line")
            continue
        try:
            items.append((n, json.loads(line)))
        except json.JSONDecodeError as e:
            errors.append(f"line {n}: invalid JSON ({e})")

    ids, texts = Counter(), Counter()
    theme_counts, origin_counts, n_themes = Counter(), Counter(), Counter()
    words = []
    for n, d in items:
        for key in ("id", "text", "themes", "origin", "source"):
            if key not in d:
                errors.append(f"line {n}: missing key {key!r}")
        extra = set(d) - {"id", "text", "themes", "origin", "source"}
        if extra:
            errors.append(f"line {n}: unexpected keys {sorted(extra)}")
        ids[d.get("id")] += 1
        text = d.get("text", "")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"line {n}: empty text")
        texts[text.strip()] += 1
        words.append(len(str(text).split()))
        th = d.get("themes", [])
        if not isinstance(th, list):
            errors.append(f"line {n}: themes is not a list")
            th = []
        if len(th) > 3:
            errors.append(f"line {n}: more than 3 themes")
        if len(set(th)) != len(th):
            errors.append(f"line {n}: duplicate theme")
        for t in th:
            if t not in THEMES:
                errors.append(f"line {n}: unknown theme {t!r}")
            theme_counts[t] += 1
        n_themes[len(th)] += 1
        origin = d.get("origin")
        origin_counts[origin] += 1
        if origin not in ORIGINS:
            errors.append(f"line {n}: unknown origin {origin!r}")
        src = d.get("source", "")
        if origin == "written" and src:
            errors.append(f"line {n}: written item has a source")
        if origin in ORIGINS - {"written"} and not str(src).startswith("http"):
            errors.append(f"line {n}: {origin} item without source address")

    for i, c in ids.items():
        if c > 1:
            errors.append(f"duplicate id {i!r} ({c}x)")
    for t, c in texts.items():
        if c > 1:
            errors.append(f"duplicate text ({c}x): {t[:50]!r}")
    if len(items) < MIN_ITEMS:
        errors.append(f"only {len(items)} items, need >= {MIN_ITEMS}")
    for t in THEMES:
        need = MIN_COUNTS.get(t, MIN_OTHER)
        if theme_counts[t] < need:
            errors.append(f"theme {t}: {theme_counts[t]} items, need >= {need}")

    print(f"file: {path}")
    print(f"items: {len(items)}")
    print("per theme:")
    for t in THEMES:
        print(f"  {t:18s} {theme_counts[t]:4d}")
    print("per origin:")
    for o, c in sorted(origin_counts.items(), key=lambda x: -x[1]):
        print(f"  {str(o):18s} {c:4d}")
    print("themes per item: " + ", ".join(f"{k}: {n_themes[k]}" for k in sorted(n_themes)))
    if words:
        ws = sorted(words)
        mean, median = sum(ws) / len(ws), ws[len(ws) // 2]
        print(f"words per text: mean {mean:.1f}, median {median}, min {ws[0]}, max {ws[-1]}")
    if errors:
        print(f"\n{len(errors)} problem(s):")
        for e in errors:
            print("  - " + e)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
