#!/usr/bin/env python3
"""Validate themes_eval_d.jsonl (stdlib only).

Usage: python3 benchmarks/data/check_themes_eval_d.py [path/to/themes_eval_d.jsonl]

NEVER tune on this set: it is for one final measurement only.
Exits with status 1 when a check fails.
"""
import json
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT = HERE / "themes_eval_d.jsonl"
USED_PAGES = Path("/tmp/vertelpunt_used_pages.txt")

THEMES = [
    "veiligheid", "armoede", "informeel-netwerk", "samenwerking", "werkdruk",
    "privacy", "vakmanschap", "wonen", "opvoeding", "gezondheid",
]
MAIN_THEMES = {"veiligheid", "armoede", "informeel-netwerk", "samenwerking"}
MIN_MAIN = 45
MIN_OTHER = 15
MIN_ITEMS = 240
MIN_REAL = 110
MIN_NO_THEME = 8
MAX_PER_SOURCE = 2
MIN_WORDS, MAX_WORDS = 25, 250
KEYS = {"id", "text", "themes", "origin", "source"}
ORIGINS = {"written", "real-paraphrased"}
ID_RE = re.compile(r"^tv-\d{3,}$")


def norm_url(url):
    """Compare addresses ignoring scheme, 'www.', case and a trailing slash."""
    u = url.strip().lower()
    u = re.sub(r"^https?://", "", u)
    u = re.sub(r"^www\.", "", u)
    return u.rstrip("/")


def norm_text(text):
    return " ".join(text.lower().split())


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT
    errors = []

    def err(msg):
        errors.append(msg)

    used = set()
    if USED_PAGES.exists():
        for line in USED_PAGES.read_text(encoding="utf-8").splitlines():
            if line.strip():
                used.add(norm_url(line))

    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            err(f"line {n}: empty line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            err(f"line {n}: invalid JSON ({exc})")
            continue
        if not isinstance(obj, dict):
            err(f"line {n}: not a JSON object")
            continue
        if set(obj) != KEYS:
            err(f"line {n}: keys {sorted(obj)} != {sorted(KEYS)}")
            continue
        items.append((n, obj))

    ids, texts = Counter(), Counter()
    per_source = Counter()
    theme_counts = Counter()
    origin_counts = Counter()
    lengths = []
    no_theme = 0

    for n, o in items:
        if not isinstance(o["id"], str) or not ID_RE.match(o["id"]):
            err(f"line {n}: bad id {o['id']!r}")
        ids[o["id"]] += 1
        text = o["text"]
        if not isinstance(text, str) or not text.strip():
            err(f"line {n}: empty text")
            continue
        texts[norm_text(text)] += 1
        words = len(text.split())
        lengths.append(words)
        if not MIN_WORDS <= words <= MAX_WORDS:
            err(f"line {n}: {words} words (allowed {MIN_WORDS}-{MAX_WORDS})")
        themes = o["themes"]
        if not isinstance(themes, list):
            err(f"line {n}: themes is not a list")
            themes = []
        if len(themes) > 3:
            err(f"line {n}: more than 3 themes")
        if len(set(themes)) != len(themes):
            err(f"line {n}: duplicate themes")
        for t in themes:
            if t not in THEMES:
                err(f"line {n}: unknown theme {t!r}")
        for t in set(themes):
            theme_counts[t] += 1
        if not themes:
            no_theme += 1
        origin = o["origin"]
        if origin not in ORIGINS:
            err(f"line {n}: bad origin {origin!r}")
        origin_counts[origin] += 1
        source = o["source"]
        if not isinstance(source, str):
            err(f"line {n}: source is not a string")
            continue
        if origin == "real-paraphrased":
            if not re.match(r"^https?://\S+$", source):
                err(f"line {n}: real-paraphrased item needs an http(s) source")
            else:
                per_source[norm_url(source)] += 1
                if norm_url(source) in used:
                    err(f"line {n}: source is on the used-pages list: {source}")
        elif origin == "written" and source != "":
            err(f"line {n}: written item must have an empty source")

    for key, cnt in ids.items():
        if cnt > 1:
            err(f"duplicate id {key} ({cnt}x)")
    for key, cnt in texts.items():
        if cnt > 1:
            err(f"duplicate text ({cnt}x): {key[:60]}...")
    for key, cnt in per_source.items():
        if cnt > MAX_PER_SOURCE:
            err(f"source used {cnt}x (max {MAX_PER_SOURCE}): {key}")

    total = len(items)
    if total < MIN_ITEMS:
        err(f"only {total} items (need {MIN_ITEMS})")
    if origin_counts["real-paraphrased"] < MIN_REAL:
        err(f"only {origin_counts['real-paraphrased']} real-paraphrased (need {MIN_REAL})")
    for t in THEMES:
        need = MIN_MAIN if t in MAIN_THEMES else MIN_OTHER
        if theme_counts[t] < need:
            err(f"theme {t}: {theme_counts[t]} items (need {need})")
    if no_theme < MIN_NO_THEME:
        err(f"only {no_theme} items without a theme (need {MIN_NO_THEME})")

    print(f"file: {path}")
    print(f"items: {total}")
    print("per theme:")
    for t in THEMES:
        print(f"  {t:18s} {theme_counts[t]:4d}")
    print(f"  {'(no theme)':18s} {no_theme:4d}")
    print("per origin:")
    for k in sorted(ORIGINS):
        print(f"  {k:18s} {origin_counts[k]:4d}")
    print(f"distinct sources: {len(per_source)}")
    if len(lengths) >= 2:
        q1, q2, q3 = statistics.quantiles(lengths, n=4)
        print(f"words: min {min(lengths)}, q1 {q1:.0f}, median {q2:.0f}, "
              f"q3 {q3:.0f}, max {max(lengths)}")
    n_labels = Counter(len(o["themes"]) for _, o in items
                       if isinstance(o["themes"], list))
    print("themes per item: " + ", ".join(f"{k}: {n_labels[k]}"
                                          for k in sorted(n_labels)))
    if not USED_PAGES.exists():
        print(f"note: {USED_PAGES} not found; used-pages check skipped")

    if errors:
        print(f"\nFAILED: {len(errors)} problem(s)")
        for e in errors:
            print("  - " + e)
        return 1
    print("\nOK: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
