"""Replacing entities by readable, consistent placeholders: "[PERSOON-1]", "[ADRES-1]".

Numbers count per label in order of first appearance. The same thing gets the same number
within one text: the same surface string (ignoring case and spacing), the same phone number
in another notation, and a part of a name seen before ("Fatima" after "Fatima el Amrani",
"mevrouw El Amrani" too).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from .lexicon import NAME_PARTICLES, TITLES
from .tokens import WORD_RE

_COMPACT_LABELS = ("TELEFOON", "BSN", "IBAN", "POSTCODE", "KENTEKEN", "DOSSIERNUMMER")


def validate(text: str, entities: Sequence[Any], labels: Sequence[str]) -> list[Any]:
    """The entities sorted by start; ValueError with a clear message if any is unusable."""
    if not isinstance(text, str):
        raise ValueError(f"text must be a str, not {type(text).__name__}")
    checked = []
    for position, entity in enumerate(entities):
        where = f"entity {position}"
        try:
            start, end, label, surface = entity.start, entity.end, entity.label, entity.text
        except AttributeError:
            raise ValueError(f"{where} is not an Entity: {entity!r}") from None
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (start, end)):
            raise ValueError(f"{where}: start and end must be integers")
        if not 0 <= start < end <= len(text):
            raise ValueError(
                f"{where}: span {start}-{end} is empty or outside the text (length {len(text)})"
            )
        if label not in labels:
            raise ValueError(
                f"{where}: unknown label {label!r}; expected one of {', '.join(labels)}"
            )
        if surface != text[start:end]:
            raise ValueError(
                f"{where}: text {surface!r} does not match the document at {start}-{end} "
                f"({text[start:end]!r})"
            )
        checked.append(entity)
    checked.sort(key=lambda e: (e.start, e.end))
    for before, after in zip(checked, checked[1:], strict=False):
        if after.start < before.end:
            raise ValueError(
                f"entities overlap: {before.text!r} ({before.start}-{before.end}) and "
                f"{after.text!r} ({after.start}-{after.end})"
            )
    return checked


def mask(text: str, entities: list[Any]) -> str:
    """`text` with each entity replaced by its placeholder (entities already validated)."""
    placeholders = number(entities)
    pieces, cursor = [], 0
    for entity, placeholder in zip(entities, placeholders, strict=True):
        pieces.append(text[cursor : entity.start])
        pieces.append(placeholder)
        cursor = entity.end
    pieces.append(text[cursor:])
    return "".join(pieces)


def number(entities: list[Any]) -> list[str]:
    """One placeholder per entity (sorted by start), numbered per label as described above."""
    counters: dict[str, int] = {}
    seen: dict[tuple[str, str], int] = {}
    persons: list[tuple[int, set[str]]] = []  # number, name parts
    result = []
    for entity in entities:
        label = entity.label
        key = _key(label, entity.text)
        found = seen.get((label, key))
        if found is None and label == "PERSOON":
            found = _same_person(persons, _name_parts(entity.text))
        if found is None:
            found = counters[label] = counters.get(label, 0) + 1
            if label == "PERSOON":
                persons.append((found, _name_parts(entity.text)))
        seen[(label, key)] = found
        result.append(f"[{label}-{found}]")
    return result


def _key(label: str, surface: str) -> str:
    key = " ".join(surface.lower().split())
    if label == "TELEFOON":
        return _phone_key(surface)
    if label in _COMPACT_LABELS:
        return re.sub(r"[\s.\-/()]", "", key)
    return key


def _phone_key(surface: str) -> str:
    digits = re.sub(r"\D", "", surface)
    if surface.lstrip().startswith("+"):
        digits = "00" + digits
    if digits.startswith("0031"):
        digits = "0" + digits[4:].lstrip("0")
    return digits


def _name_parts(surface: str) -> set[str]:
    words = [w.lower() for w in WORD_RE.findall(surface)]
    parts = {w for w in words if len(w) > 1 and w not in NAME_PARTICLES and w not in TITLES}
    return parts or {" ".join(surface.lower().split())}


def _same_person(persons: list[tuple[int, set[str]]], parts: set[str]) -> int | None:
    for index, (found, known) in enumerate(persons):
        if parts <= known or known <= parts:
            if known < parts:  # "Fatima" first, "Fatima el Amrani" later: remember the rest
                persons[index] = (found, known | parts)
            return found
    return None
