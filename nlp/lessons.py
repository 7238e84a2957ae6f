"""Lessons: the sentences in which a teller states what they learned or would pass on.

A sentence counts when it holds a lesson cue ("wat ik heb geleerd", "voortaan", "het verschil
maakte", "mijn tip", "volgende keer", "les voor mezelf", "ik neem mee", "wat werkte", ...).
"Achteraf" is a weaker cue: "achteraf bleek de huur al betaald" tells what happened, not what was
learned, so it counts only together with a first person or a modal verb in the same sentence.
Cues work on the sentence text itself (lower-cased), so they keep "niet", "geen" and "zonder"
(spaCy's stop words).

The teller's own answer to "Wat is de les?" is a lesson by definition: `story_lessons()` adds it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from nlp.text import sentence_starts, trim

# Strong cues, grouped by a keyword that every match contains: a sentence is only searched with
# the patterns whose keyword it holds (one big alternation took ~25 us per sentence). Patterns
# work on lower-cased text.
_STRONG: dict[str, list[str]] = {
    "geleerd": [
        r"(wat )?ik (heb )?(hiervan |ervan |daarvan |hier |daar |er |van [\w ]{1,30}? )?(heb )?"
        r"geleerd",
        r"(heb|hebben) (ik|we|wij) (hiervan |ervan |daarvan |hier |daar )?geleerd",
        r"geleerd dat", r"\bles geleerd\b",
    ],
    "les": [
        r"\bles(sen)? (voor mezelf|voor mijzelf|voor ons|voor collega|die ik|van dit)",
        r"^les\s*[:\-]", r"\b(mijn|belangrijkste|grootste|eerste) les\b",
        r"\bde les (is|was|hier(van)?|die ik)\b",
    ],
    "inzicht": [
        r"\b(mijn|belangrijkste|grootste|eerste) inzicht\b",
        r"\bhet (belangrijkste )?inzicht (is|was)\b",
    ],
    "voortaan": [r"\bvoortaan\b"],
    "verschil": [r"\bhet verschil (maakte|maakt|werd gemaakt)",
                 r"\bmaakte (echt |juist )?het verschil"],
    "tip": [r"\bmijn tip\b", r"^tip\b", r"\btip (voor|aan) "],
    "volgende keer": [r"\b(de |een )?volgende keer\b"],
    "mee": [r"\bik neem (hier(uit|van)? |daar(uit|van)? |dit |het )?mee\b", r"\bneem ik mee\b",
            r"\bwat ik meeneem\b"],
    "werkte": [r"\bwat (goed |echt |wel |het best )?werkte\b", r"\bwerkte het best\b"],
    "realiseer": [r"\bik realiseer(de)? me\b"],
    "besef": [r"\bik besef(te)?\b"],
    "anders": [r"\bwat ik (anders|nu anders) (zou|had)"],
    "zou ik": [r"\bzou ik (nu |voortaan )?(eerder|anders|meteen|sneller)\b"],
    "had ik": [r"\bhad ik (eerder|beter|meteen|sneller)\b"],
}
_WEAK_KEYWORDS = ("achteraf", "terugkijk")
_WEAK = r"\bachteraf\b|\bterugkijkend\b|\bals ik terugkijk\b"
_WEAK_SUPPORT = r"\b(ik|we|wij|je|mij|me|had|hadden|zou|zouden|moet|moeten|moest|besef|zie)\b"

_STRONG_BY_KEYWORD = [(keyword, re.compile("|".join(f"(?:{p})" for p in patterns)))
                      for keyword, patterns in _STRONG.items()]
_WEAK_RE = re.compile(_WEAK)
_WEAK_SUPPORT_RE = re.compile(_WEAK_SUPPORT)
# Any keyword: the sentences without one (most of them) are not looked at further.
_CUES = "|".join(re.escape(k) for k in [*_STRONG, *_WEAK_KEYWORDS])
_CUE_RE = re.compile(_CUES)  # on lower-cased text: 8x faster than an IGNORECASE scan
_CUE_RE_ANY_CASE = re.compile(_CUES, re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Lesson:
    """A lesson; `source` "story" means offsets into the story text, "teller" into the field."""

    start: int
    end: int
    text: str
    source: str = "story"

    def to_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text}


def is_lesson(sentence: str) -> bool:
    # "İ".lower() is "i" plus a combining dot: drop the dot, so that "İK" still reads "ik".
    lowered = sentence.lower().replace("\u0307", "")
    for keyword, pattern in _STRONG_BY_KEYWORD:
        if keyword in lowered and pattern.search(lowered):
            return True
    return any(k in lowered for k in _WEAK_KEYWORDS) and bool(
        _WEAK_RE.search(lowered) and _WEAK_SUPPORT_RE.search(lowered))


def find_lessons(text: str, starts: list[int] | None = None) -> list[Lesson]:
    """Lesson sentences in the text, with offsets into it. starts: where its sentences start
    (nlp.text.sentence_starts(), the default; the tagger passes its doc's sentences)."""
    lowered = text.lower()
    # Lower-casing can change the length (a few non-Latin letters), and with it the offsets:
    # then the slower scan of the text itself.
    cue, haystack = (_CUE_RE, lowered) if len(lowered) == len(text) else (_CUE_RE_ANY_CASE, text)
    match = cue.search(haystack)
    if match is None:  # most texts without a lesson stop here
        return []
    if starts is None:
        starts = sentence_starts(text)
    lessons = []
    while match is not None:
        # The sentence the cue is in is checked once; the scan goes on at the next sentence.
        i = bisect_right(starts, match.start()) - 1
        if i >= 0:
            span = trim(text, starts[i], starts[i + 1] if i + 1 < len(starts) else len(text))
            if span is not None and is_lesson(span.text):
                lessons.append(Lesson(span.start, span.end, span.text))
        if i + 1 == len(starts):
            break
        match = cue.search(haystack, starts[i + 1])
    return lessons


def teller_lesson(field: str | None) -> Lesson | None:
    """The teller's own "Wat is de les?" answer as a lesson (offsets into the field)."""
    if not field or not field.strip():
        return None
    start = len(field) - len(field.lstrip())
    end = len(field.rstrip())
    return Lesson(start, end, field[start:end], source="teller")


def story_lessons(text: str, lesson_field: str | None = None) -> list[Lesson]:
    """The teller's stated lesson first (if any), then the lesson sentences found in the text."""
    own = teller_lesson(lesson_field)
    return ([own] if own else []) + find_lessons(text)
