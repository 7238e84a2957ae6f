"""Dutch lemmas for theme matching, and the measurement that chose the lemmatizer.

The winner of the comparison in nlp/README.md is simplemma (plus a small diminutive rule), run as
a spaCy component that caches one lemma per lower-cased word form: a story repeats most of its
words, and a corpus repeats most of its vocabulary, so after warm-up a lemma costs one dict look-up.

    python -m nlp.lemmas --compare      # re-run the measurement on nlp/data/lemma_gold.tsv
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np
import simplemma
from spacy.attrs import LEMMA, LOWER
from spacy.language import Language
from spacy.tokens import Doc

GOLD_PATH = Path(__file__).parent / "data" / "lemma_gold.tsv"

# Lexicalised diminutives keep their own lemma: "meisje" is not a small "meis".
_LEXICAL_DIMINUTIVES = frozenset(
    ["meisje", "beetje", "praatje", "koekje", "toetje", "sprookje", "tientje"]
)
_DIM_SUFFIXES = ("etje", "pje", "tje", "je")


def _undiminutive(lemma: str) -> str:
    """Map a non-lexicalised diminutive ("kindje", "huisje") to its base noun.

    simplemma already knows plurals ("huisjes" -> "huisje") but leaves diminutives alone; the base
    noun is what a taxonomy term names. The base is accepted only when simplemma itself knows it
    as a word, so "bedje" -> "bed" but "tasje" is not cut to an unknown stem by accident.
    """
    if lemma in _LEXICAL_DIMINUTIVES or len(lemma) < 5:
        return lemma
    for suffix in _DIM_SUFFIXES:
        if lemma.endswith(suffix):
            stem = lemma[: -len(suffix)]
            if suffix == "etje" or suffix == "pje":
                candidates = (stem, stem[:-1] if stem[-1:] == stem[-2:-1] else stem)
            else:
                candidates = (stem,)
            for cand in candidates:
                if len(cand) >= 3 and simplemma.is_known(cand, lang="nl"):
                    return cand
            return lemma
    return lemma


def _compound_lemma(form: str) -> str | None:
    """Lemma of an unknown compound from its longest known tail: "energierekeningen" ->
    "energie" + "rekening". Dutch writes compounds as one word, and simplemma's dictionary
    cannot list them all; without this their plurals stay unlemmatised."""
    for cut in range(3, len(form) - 3):
        tail = form[cut:]
        if simplemma.is_known(tail, lang="nl"):
            return form[:cut] + _undiminutive(simplemma.lemmatize(tail, lang="nl"))
    return None


def simplemma_lemma(form: str) -> str:
    """The lemma the pipeline uses for one lower-cased word form."""
    if not form or not form[0].isalpha():
        return form
    if len(form) >= 9 and form.isalpha() and not simplemma.is_known(form, lang="nl"):
        compound = _compound_lemma(form)
        if compound is not None:
            return compound
    return _undiminutive(simplemma.lemmatize(form, lang="nl"))


def simplemma_plain(form: str) -> str:
    return simplemma.lemmatize(form, lang="nl")


class CachedLemmatizer:
    """spaCy component: sets token.lemma from a per-word-form cache (vectorised over the doc)."""

    def __init__(self, nlp: Language, lemma_fn: Callable[[str], str] = simplemma_lemma):
        self.strings = nlp.vocab.strings
        self.lemma_fn = lemma_fn
        self._cache: dict[int, int] = {}

    def lemma_hash(self, lower_hash: int) -> int:
        lemma = self._cache.get(lower_hash)
        if lemma is None:
            lemma = self.strings.add(self.lemma_fn(self.strings[lower_hash]))
            self._cache[lower_hash] = lemma
        return lemma

    def __call__(self, doc: Doc) -> Doc:
        if len(doc) == 0:
            return doc
        cache_get = self._cache.get
        lowers = doc.to_array(LOWER).tolist()
        lemmas = [cache_get(h) or self.lemma_hash(h) for h in lowers]
        doc.from_array([LEMMA], np.asarray(lemmas, dtype=np.uint64).reshape(-1, 1))
        return doc


@Language.factory("vp_lemmatizer")
def make_lemmatizer(nlp: Language, name: str) -> CachedLemmatizer:
    return CachedLemmatizer(nlp)


# --- measurement -----------------------------------------------------------------------------


def load_gold(path: Path = GOLD_PATH) -> list[tuple[str, list[str], str]]:
    """(form, acceptable lemmas with the preferred one first, category) per gold row."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        form, gold, category = line.split("\t")
        rows.append((form, gold.split("|"), category))
    return rows


def _spacy_lookup_fn() -> Callable[[str], str] | None:
    try:
        from spacy.lookups import load_lookups

        table = load_lookups("nl", ["lemma_lookup"]).get_table("lemma_lookup")
    except (ImportError, ValueError):
        return None  # spacy-lookups-data not installed
    return lambda form: table.get(form, form)


def compare(path: Path = GOLD_PATH) -> dict[str, dict[str, float]]:
    """Accuracy per lemmatizer on the hand-checked list: overall ("all", any listed lemma counts),
    "strict" (only the preferred lemma counts) and per word category."""
    gold = load_gold(path)
    candidates = {
        "simplemma": simplemma_plain,
        "simplemma+dim+compound": simplemma_lemma,
    }
    lookup = _spacy_lookup_fn()
    if lookup is not None:
        candidates["spacy-lookups-data"] = lookup
    report: dict[str, dict[str, float]] = {}
    for name, fn in candidates.items():
        per_cat: dict[str, list[bool]] = {}
        strict = []
        for form, lemmas, category in gold:
            lemma = fn(form.lower())
            per_cat.setdefault(category, []).append(lemma in lemmas)
            strict.append(lemma == lemmas[0])
        hits = [h for v in per_cat.values() for h in v]
        report[name] = {"all": sum(hits) / len(hits), "strict": sum(strict) / len(strict)}
        report[name].update({c: sum(v) / len(v) for c, v in sorted(per_cat.items())})
        report[name]["n"] = len(hits)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true", help="measure lemmatizers")
    parser.add_argument("--gold", type=Path, default=GOLD_PATH)
    args = parser.parse_args(argv)
    if not args.compare:
        parser.print_help()
        return 0
    report = compare(args.gold)
    cols = [k for k in next(iter(report.values())) if k != "n"]
    print("lemmatizer".ljust(22), *(c[:10].rjust(11) for c in cols))
    for name, row in report.items():
        print(name.ljust(22), *(f"{row[c]:.3f}".rjust(11) for c in cols))
    print(f"n = {int(next(iter(report.values()))['n'])} word forms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
