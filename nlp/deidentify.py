"""Find and mask personal data in Dutch practice stories before they are stored for research.

The public interface the web app and the CLI use:

    find_entities(text) -> list[Entity]     sorted, non-overlapping, offsets into `text`
    mask(text, entities) -> str             "[PERSOON-1] belde ..." (validates the entities)
    deidentify(text) -> Deidentified        both at once
    warm() -> float, is_ready() -> bool     load deduce's lookup lists (seconds, once)

`python -m nlp.deidentify --warm` builds deduce's cache at install time. How the detectors
work, what they miss and how to extend the word lists: nlp/DEIDENTIFY.md. The pieces live in
nlp/deid/: patterns (phone, BSN, IBAN, ...), names, places (addresses, institutions, ages),
engine (deduce), masking, lexicon (word lists).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import threading
import time
from dataclasses import dataclass

from nlp.deid import engine as _engine
from nlp.deid import masking as _masking
from nlp.deid.names import find_persons, is_remnant, strip_particles
from nlp.deid.patterns import find_patterns
from nlp.deid.places import find_addresses, find_ages, find_institutions
from nlp.deid.spans import merge_adjacent, resolve, split_lines
from nlp.deid.tokens import keep_matches, tokenize

LABELS = (
    "PERSOON", "ADRES", "POSTCODE", "TELEFOON", "EMAIL", "URL", "BSN", "IBAN", "KENTEKEN",
    "DATUM", "LEEFTIJD", "DOSSIERNUMMER", "INSTELLING",
)  # fmt: skip

_ready = threading.Event()


@dataclass(frozen=True)
class Entity:
    start: int
    end: int
    label: str
    text: str


@dataclass(frozen=True)
class Deidentified:
    text: str
    entities: list[Entity]


def find_entities(text: str) -> list[Entity]:
    """Personal data in `text`: sorted, non-overlapping, offsets into `text`.

    Loads deduce on first use (seconds; call warm() at start-up to avoid the wait).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    if not text.strip():
        return []
    engine = _engine.get_engine()
    _ready.set()
    tokens = tokenize(text)
    keep = keep_matches(tokens)
    findings = engine.run(text)
    persons = find_persons(text, tokens, engine, findings, keep)
    spans = [
        *find_patterns(text),
        *persons,
        *find_addresses(text, tokens, findings, keep[1], engine.is_place),
        *find_institutions(text, tokens, findings, keep[1]),
        *find_ages(text, persons),
    ]
    spans = resolve(split_lines(spans, text), text)
    spans = [s if s.label != "PERSOON" else strip_particles(s, text) for s in spans]
    spans = [
        s for s in spans if s and (s.label != "PERSOON" or not is_remnant(text[s.start : s.end]))
    ]
    spans = merge_adjacent(spans, text, "PERSOON")
    return [Entity(s.start, s.end, s.label, text[s.start : s.end]) for s in spans]


def mask(text: str, entities: list[Entity]) -> str:
    """`text` with every entity replaced by a placeholder such as "[PERSOON-1]".

    Accepts any list of entities (the teller may add and remove masks), in any order. Raises
    ValueError when an entity lies outside the text, has an unknown label, does not match
    the text at its offsets, or overlaps another.
    """
    checked = _masking.validate(text, entities, LABELS)
    return _masking.mask(text, checked)


def deidentify(text: str) -> Deidentified:
    entities = find_entities(text)
    return Deidentified(mask(text, entities), entities)


def warm() -> float:
    """Load deduce (building its cache if needed); returns the seconds it took. Idempotent."""
    started = time.perf_counter()
    _engine.get_engine()
    _ready.set()
    return time.perf_counter() - started


def is_ready() -> bool:
    """True once deduce is loaded in this process."""
    return _ready.is_set()


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MB (Linux reports kB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m nlp.deidentify",
        description="Mask personal data in Dutch text (stdin to stdout), or prepare the cache.",
    )
    parser.add_argument("--warm", action="store_true", help="build/load deduce's cache and exit")
    parser.add_argument("--json", action="store_true", help="print entities as JSON as well")
    args = parser.parse_args(argv)
    if args.warm:
        seconds = warm()
        print(
            f"deduce ready in {seconds:.1f} s, peak RSS {peak_rss_mb():.0f} MB "
            f"(cache: {_engine.cache_dir()})"
        )
        return 0
    result = deidentify(sys.stdin.read())
    if args.json:
        entities = [e.__dict__ for e in result.entities]
        print(json.dumps({"text": result.text, "entities": entities}, ensure_ascii=False))
    else:
        sys.stdout.write(result.text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
