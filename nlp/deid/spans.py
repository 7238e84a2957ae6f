"""Candidate spans from all detectors, and how overlapping candidates become one answer.

Overlaps are resolved by rank (how specific the detector is), then length. The loser is not
dropped but trimmed to the part the winner does not cover: a name that a detector glued to an
address keeps its own mask. So resolving never un-masks a character that some detector
flagged.
"""

from __future__ import annotations

from typing import NamedTuple

# How much a detector's label is to be trusted when two detectors disagree about a span.
RANK_STRUCTURED = 40  # validated shapes: e-mail, URL, IBAN, phone, BSN, postcode, licence plate
RANK_CONTEXT = 30  # dates, case numbers, addresses
RANK_NAME = 20  # persons and institutions (+1 for an institution after a type word)
RANK_WEAK = 10  # ages, bare long numbers

_EDGE_CHARS = ' \t\r\n\u00a0,;:!?()[]{}"“”‘’«»*•'


class Span(NamedTuple):
    start: int
    end: int
    label: str
    rank: int


def resolve(spans: list[Span], text: str) -> list[Span]:
    """Non-overlapping spans, sorted by start; see the module docstring for the rule."""
    accepted: list[Span] = []
    for span in sorted(spans, key=lambda s: (-s.rank, s.start - s.end, s.start)):
        pieces = [(span.start, span.end)]
        for other in accepted:
            if other.start < span.end and span.start < other.end:
                pieces = _subtract(pieces, other.start, other.end)
        for start, end in pieces:
            trimmed = trim(text, start, end)
            if trimmed:
                accepted.append(Span(trimmed[0], trimmed[1], span.label, span.rank))
    return sorted(accepted)


def _subtract(pieces: list[tuple[int, int]], start: int, end: int) -> list[tuple[int, int]]:
    result = []
    for a, b in pieces:
        if end <= a or b <= start:
            result.append((a, b))
            continue
        if a < start:
            result.append((a, start))
        if end < b:
            result.append((end, b))
    return result


def trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span without surrounding spaces and punctuation; None if nothing is left to mask."""
    while start < end and text[start] in _EDGE_CHARS + "." and not _opens(text, start, end):
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARS + "-" and not _closes(text, start, end):
        end -= 1
    if not any(ch.isalnum() for ch in text[start:end]):
        return None
    return start, end


def _opens(text: str, start: int, end: int) -> bool:
    """A bracket that the span closes again, as in "(010) 123 45 67"."""
    return text[start] == "(" and text.count(")", start, end) > text.count("(", start + 1, end)


def _closes(text: str, start: int, end: int) -> bool:
    return text[end - 1] == ")" and text.count("(", start, end) > text.count(")", start, end - 1)


def split_lines(spans: list[Span], text: str) -> list[Span]:
    """No span crosses a line break: the app joins a story's fields with line breaks."""
    result = []
    for span in spans:
        piece_start = span.start
        for index in range(span.start, span.end + 1):
            if index == span.end or text[index] in "\n\r\x1e\x1d\x1c\x0b\x0c\u2028\u2029":
                trimmed = trim(text, piece_start, index)
                if trimmed:
                    result.append(Span(trimmed[0], trimmed[1], span.label, span.rank))
                piece_start = index + 1
    return result


def merge_adjacent(spans: list[Span], text: str, label: str) -> list[Span]:
    """Join sorted spans of `label` that only a space or hyphen separates ("Fatima" "el Amrani")."""
    merged: list[Span] = []
    for span in spans:
        if merged:
            last = merged[-1]
            gap = text[last.end : span.start]
            if last.label == label == span.label and gap in (" ", "-", "\u00a0"):
                merged[-1] = Span(last.start, span.end, label, max(last.rank, span.rank))
                continue
        merged.append(span)
    return merged
