"""Person names: deduce's findings, cleaned up, plus rules for what its Dutch lists miss.

The steps, each a function below:

1. deduce's person spans lose leading titles and role words ("Mevrouw", "juf") and any part
   that is a keep-term ("Veilig Thuis"); a lone sentence-initial surname that is also a plain
   Dutch word ("Vrede.", "Advocaat.") is dropped.
2. Our own candidates: names from extra lists (Eritrean, Afghan, Ukrainian ...); capitalised
   words inside a sentence that are no Dutch word, place or keep-term; a capitalised word
   after a role ("buurvrouw Ans", "haar zoon Adam"); initials with a surname ("J. de Vries");
   lowercase first names in informal text ("met fatima gebeld").
3. Every candidate grows over neighbouring name parts ("Tesfay" + "Haile", "el Amrani").
4. Every part of every name found is masked wherever else it occurs in the story, so that a
   name found once mid-sentence is also masked at the start of the next sentence.
"""

from __future__ import annotations

import bisect
import re

from .engine import DeduceFindings, Engine
from .lexicon import (
    EXTRA_FIRST_NAMES,
    EXTRA_SURNAMES,
    KEEP_TERMS,
    LOWERCASE_NAMES,
    LOWERCASE_NOT_NAMES,
    NAME_PARTICLES,
    PERSON_CUES,
    TITLES,
    is_dutch_word,
    words,
)
from .spans import RANK_NAME, Span
from .tokens import WORD_RE, Token, covered_by

Keep = tuple[set[int], list[tuple[int, int]]]

_ROLE_WORDS = PERSON_CUES | TITLES
_ABBREVIATED_TITLES = words("mevr mw mej dhr hr dr drs ir ing mr prof ds fam mnr")
_CUE_GAPS = (" ", ". ", ", ", ": ", "\u00a0")
_PLACE_PREPOSITIONS = words("in uit naar te richting rond nabij omgeving vanuit")
_PLACE_PARTS = words("noord oost zuid west centrum midden binnenstad stad dorp")
# "komt uit Nigeria", "woont in Tilburg", "verhuisd naar Gent": a place follows.
_PLACE_VERBS = words(
    "komt kwam kwamen komen afkomstig gevlucht vluchtte vluchtten woont wonen woonde woonden"
    " geboren getrouwd opgegroeid verblijft verblijven verhuisd verhuisde verhuisden verhuist"
    " teruggekeerd terug reist reisde reizen vakantie familie"
)
_INITIALS_RE = re.compile(
    r"(?<![\w.])(?:[A-Z]\.[ \u00a0]?){1,4}"
    r"(?:(?i:van|de|der|den|ter|ten|te|het|'t|in|op|el|al|ait|ben|bin|abu|ibn|ou|da|dos|di|du"
    r"|la|le|von)[ \u00a0]+){0,3}"
    r"[A-Z][^\W\d_]+(?:-[A-Za-z][^\W\d_]+)?"
)
_TITLE_INITIALS_RE = re.compile(
    r"(?i:\b(?:mevrouw|mevr\.?|mw\.?|meneer|dhr\.?|de heer|juf|meester|familie|fam\.?))"
    r"[ \u00a0]+((?:[A-Z]\.){1,3})"
)


class _Story:
    """The tokens of one story with cached facts about them."""

    def __init__(
        self, text: str, tokens: list[Token], engine: Engine, keep: Keep, not_names: list
    ) -> None:
        self.text, self.tokens, self.engine = text, tokens, engine
        self.keep_tokens, self.keep = keep
        self.starts = [t.start for t in tokens]
        self.places = self._place_tokens()
        self.not_names = {i for a, b in not_names for i in self.tokens_in(a, b)}

    def _place_tokens(self) -> set[int]:
        words = [t.text for t in self.tokens]
        places: set[int] = set()
        for index, token in enumerate(self.tokens):
            if token.capitalised and index not in places:
                length = self.engine.place_length(words, index)
                if not length and "-" in token.text and self._hyphenated_place(token.text):
                    length = 1
                places.update(range(index, index + length))
        return places

    def _hyphenated_place(self, word: str) -> bool:
        """ "Zuid-Holland", "Zwolle-Zuid", "Nieuw-Vennep"; not "Boer-Kok"."""
        if self.engine.is_place(" ".join(re.split(r"(-)", word))):
            return True
        first, _, rest = word.partition("-")
        return rest.lower() in _PLACE_PARTS and self.engine.is_place(first)

    def index_at(self, char: int) -> int:
        """Index of the first token starting at or after `char`."""
        return bisect.bisect_left(self.starts, char)

    def tokens_in(self, start: int, end: int) -> list[int]:
        """Tokens overlapping start-end (deduce splits "Jan-Willem" where we do not)."""
        index = self.index_at(start)
        if index > 0 and self.tokens[index - 1].end > start:
            index -= 1
        found = []
        while index < len(self.tokens) and self.tokens[index].start < end:
            found.append(index)
            index += 1
        return found

    def gap(self, left: int, right: int) -> str:
        return self.text[self.tokens[left].end : self.tokens[right].start]

    def is_keep(self, index: int) -> bool:
        return index in self.keep_tokens or index in self.not_names

    def is_known_name(self, token: Token) -> bool:
        parts = token.text.split("-") if "-" in token.text else [token.text]
        return any(self._known_name_part(part) for part in parts if len(part) > 2)

    def _known_name_part(self, part: str) -> bool:
        word = part if part[:1].isupper() else part.capitalize()
        lower = part.lower()
        return (
            lower in EXTRA_FIRST_NAMES
            or lower in EXTRA_SURNAMES
            or self.engine.is_first_name(word)
            or self.engine.is_surname(word)
        )

    def after_place_verb(self, index: int) -> bool:
        """The word follows "komt uit", "woont in", "verhuisd naar" and the like."""
        if index < 2:
            return False
        preposition, verb = self.tokens[index - 1].lower, self.tokens[index - 2].lower
        return preposition in _PLACE_PREPOSITIONS and verb in _PLACE_VERBS

    def is_first_name(self, token: Token) -> bool:
        """A first name, also a double one ("Jan-Willem", "anna-sophie")."""
        parts = token.text.split("-") if "-" in token.text else [token.text]
        return all(
            part.lower() in EXTRA_FIRST_NAMES or self.engine.is_first_name(part.capitalize())
            for part in parts
        )

    def unusable(self, index: int) -> bool:
        """Never part of a name: keep-terms, places, role words."""
        return (
            self.is_keep(index) or index in self.places or self.tokens[index].lower in _ROLE_WORDS
        )

    def name_like(self, index: int) -> bool:
        """A capitalised word that can be part of a name next to another name part."""
        token = self.tokens[index]
        if not token.name_shaped or self.unusable(index):
            return False
        if token.sentence_start and is_dutch_word(token.lower) and not self.is_known_name(token):
            return False
        return self.is_known_name(token) or not is_dutch_word(token.lower)


def find_persons(
    text: str, tokens: list[Token], engine: Engine, findings: DeduceFindings, keep: Keep
) -> list[Span]:
    """Person spans; `keep` is tokens.keep_matches() of the story."""
    story = _Story(text, tokens, engine, keep, findings.not_names)
    ranges: set[tuple[int, int]] = set()
    for start, end in findings.persons:
        ranges.update(_clean_deduce_person(story, start, end))
    ranges.update(_own_candidates(story))
    grown = _grow_all(story, ranges)
    grown |= _propagate(story, grown)
    return [
        Span(tokens[first].start, tokens[last].end, "PERSOON", RANK_NAME)
        for first, last in sorted(grown)
    ] + _initials(story)


def strip_particles(span: Span, text: str) -> Span | None:
    """ "Visser van het" (cut off before "Deltion College"): drop trailing particles."""
    words = list(WORD_RE.finditer(text, span.start, span.end))
    while words and words[-1].group().lower() in NAME_PARTICLES and len(words) > 1:
        words.pop()
    if not words:
        return None
    return span._replace(end=words[-1].end())


def is_remnant(surface: str) -> bool:
    """A person span left with only particles or keep-terms (after an overlap was cut off)."""
    words = [w.lower() for w in WORD_RE.findall(surface)]
    return all(w in NAME_PARTICLES or w in KEEP_TERMS for w in words)


# --- 1. deduce's findings ---------------------------------------------------------------------


def _clean_deduce_person(story: _Story, start: int, end: int) -> list[tuple[int, int]]:
    indexes = story.tokens_in(start, end)
    # Titles and role words in front are no name ("Mevrouw Yilmaz", "juf Marieke").
    introduced = (
        bool(indexes) and indexes[0] > 0 and story.tokens[indexes[0] - 1].lower in _ROLE_WORDS
    )
    while indexes:
        first = story.tokens[indexes[0]].lower
        second = story.tokens[indexes[1]].lower if len(indexes) > 1 else ""
        if first in _ROLE_WORDS:
            introduced = True
        elif not (first in ("de", "het") and second in _ROLE_WORDS):  # "de heer"
            break
        indexes = indexes[1:]
    pieces, current = [], []
    for index in indexes:  # keep-terms inside split the span ("Fatima Veilig Thuis")
        if story.is_keep(index) or story.tokens[index].lower in _ROLE_WORDS:
            pieces.append(current)
            current = []
        else:
            current.append(index)
    pieces.append(current)
    result = []
    for piece in pieces:
        while piece and story.tokens[piece[-1]].lower in NAME_PARTICLES:
            piece = piece[:-1]
        # A particle in front stays: "mevrouw van Dam", "familie de Graaf".
        if all(story.tokens[i].lower in NAME_PARTICLES for i in piece):
            piece = []
        if not piece or _is_false_alarm(story, piece):
            continue
        if not introduced and all(index in story.places for index in piece):
            continue  # "Zwolle, Den Haag, Kampen": places, unless "mevrouw Kampen"
        result.append((piece[0], piece[-1]))
    return result


def _is_false_alarm(story: _Story, piece: list[int]) -> bool:
    core = [i for i in piece if len(story.tokens[i].text) > 1]
    if len(core) == 1 and len(piece) > 1 and len(story.tokens[piece[0]].text) == 1:
        # "GH-123-K. Zaaknummer": an initial before an everyday word is a sentence boundary
        token = story.tokens[core[0]]
        return is_dutch_word(token.lower) and not story.is_known_name(token)
    if len(piece) != 1:
        return False
    index = piece[0]
    token = story.tokens[index]
    if len(token.text) < 2:
        return True
    # "Vrede." "Advocaat.": a sentence-initial surname that is an everyday word too.
    if (
        token.sentence_start
        and is_dutch_word(token.lower)
        and not story.is_first_name(token)
        and token.lower not in EXTRA_SURNAMES
    ):
        return True
    # "woont in Kampen": a place after a preposition is the place, not Mr Kampen.
    if index in story.places and index > 0:
        return story.tokens[index - 1].lower in _PLACE_PREPOSITIONS
    return False


# --- 2. our own candidates ------------------------------------------------------------------


def _own_candidates(story: _Story) -> list[tuple[int, int]]:
    found = []
    tokens = story.tokens
    for index, token in enumerate(tokens):
        if story.unusable(index):
            pass
        elif (token.name_shaped and _capitalised_name(story, index)) or (
            token.text.islower() and _lowercase_name(story, token)
        ):
            found.append((index, index))
        if token.lower in _ROLE_WORDS and index + 1 < len(tokens):
            after = index + 1
            if tokens[after].lower == "van" and after + 1 < len(tokens):
                after += 1  # "de moeder van sem"
            gap = story.gap(after - 1, after)
            if gap.startswith(".") and token.lower not in _ABBREVIATED_TITLES:
                continue  # "Casemanager. Kinderen.": a full stop after a word ends a sentence
            if gap in _CUE_GAPS and _after_cue(story, after):
                found.append((after, after))
    return found


def _capitalised_name(story: _Story, index: int) -> bool:
    token = story.tokens[index]
    if "-" in token.text and _is_compound_noun(token.text):
        return False
    if token.lower in EXTRA_FIRST_NAMES or token.lower in EXTRA_SURNAMES:
        return not (token.sentence_start and is_dutch_word(token.lower))
    if len(token.text) < 3 or is_dutch_word(token.lower) or story.engine.is_common(token.lower):
        return False
    if story.after_place_verb(index):
        return False  # "komt uit Nigeria"
    if not token.sentence_start:
        return True
    # An unknown word opening a sentence: a name ("Semhar belde"), unless short or followed
    # by a comma ("Anyway, ...").
    after = story.text[token.end : token.end + 1]
    return len(token.text) >= 4 and after != ","


def _is_compound_noun(word: str) -> bool:
    """ "Wsnp-aanvraag", "GGZ-instelling": a lowercase part after the hyphen (not "Mulder-de")."""
    rest = word.split("-")[1:]
    return any(part[:1].islower() and part not in NAME_PARTICLES for part in rest)


def _lowercase_name(story: _Story, token: Token) -> bool:
    if len(token.text) < 3 or token.lower in LOWERCASE_NOT_NAMES:
        return False
    if token.lower in LOWERCASE_NAMES:
        return True
    return not is_dutch_word(token.lower) and story.is_first_name(token)


def _after_cue(story: _Story, index: int) -> bool:
    """The word after a role word: "buurvrouw Ans", "oma fatma", "haar zoon Adam"."""
    token = story.tokens[index]
    if story.unusable(index) or len(token.text) < 2:
        return False
    if token.name_shaped:  # "juf Roos", not "bewindvoerder Stichting ..."
        return story.is_known_name(token) or not is_dutch_word(token.lower)
    if token.text.islower() and len(token.text) >= 3 and token.lower not in LOWERCASE_NOT_NAMES:
        return story.is_first_name(token) or not is_dutch_word(token.lower)
    return False


def _initials(story: _Story) -> list[Span]:
    spans = []
    for match in _INITIALS_RE.finditer(story.text):
        surname = match.group().split()[-1]
        if surname.lower() in KEEP_TERMS or covered_by(story.keep, match.end() - 1, match.end()):
            continue
        if is_dutch_word(surname) and not story.engine.is_surname(surname):
            continue  # "groep 8 B. Toen ..." is no initial
        spans.append(Span(match.start(), match.end(), "PERSOON", RANK_NAME))
    for match in _TITLE_INITIALS_RE.finditer(story.text):
        spans.append(Span(match.start(1), match.end(1), "PERSOON", RANK_NAME))
    return spans


# --- 3. growing over neighbouring name parts ------------------------------------------------


def _grow(story: _Story, first: int, last: int) -> tuple[int, int]:
    tokens = story.tokens
    while True:  # to the right: "Tesfay Haile", "Fatima el Amrani", "Sem van den Berg"
        nxt, particles = last + 1, 0
        while (
            nxt < len(tokens)
            and tokens[nxt].lower in NAME_PARTICLES
            and story.gap(nxt - 1, nxt) == " "
        ):
            nxt, particles = nxt + 1, particles + 1
        if nxt >= len(tokens) or story.gap(nxt - 1, nxt) not in (" ", "\u00a0"):
            break
        candidate = tokens[nxt]
        if _lowercase_surname(story, last, nxt, particles):  # "sanne de vries"
            last = nxt
            continue
        if candidate.sentence_start or not candidate.name_shaped or story.unusable(nxt):
            break
        after_first_name = story.is_first_name(tokens[last]) and tokens[last].capitalised
        if not (particles or after_first_name or story.name_like(nxt)):
            break  # "Pieter Post": after a first name any capitalised word is the surname
        if particles and _only_first_name(story, candidate):
            break  # "Sara van Fatima" are two people
        last = nxt
    while first > 0:  # to the left: "Tesfay" before "Haile", "De" before "Vries"
        prev = first - 1
        if story.gap(prev, first) not in (" ", "\u00a0"):
            break
        token = tokens[prev]
        particle = token.lower in NAME_PARTICLES and token.capitalised and not token.sentence_start
        if not (particle or story.name_like(prev)):
            break
        first = prev
    return first, last


def _lowercase_surname(story: _Story, last: int, nxt: int, particles: int) -> bool:
    """A lowercase surname after a lowercase name, in informal text: "sanne de vries"."""
    name, candidate = story.tokens[last], story.tokens[nxt]
    if name.capitalised or not candidate.text.islower() or story.unusable(nxt):
        return False
    if len(candidate.text) < 3 or candidate.lower in LOWERCASE_NOT_NAMES:
        return False
    word = candidate.text.capitalize()
    if particles:
        return story.engine.is_surname(word) or story.engine.is_interfix_surname(word)
    return story.engine.is_surname(word) and not is_dutch_word(candidate.lower)


def _only_first_name(story: _Story, token: Token) -> bool:
    return story.is_first_name(token) and not (
        token.lower in EXTRA_SURNAMES or story.engine.is_surname(token.text)
    )


def _grow_all(story: _Story, ranges: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Grow each range, skipping those inside one grown before (keeps long lists linear)."""
    grown: set[tuple[int, int]] = set()
    reach = -1  # last token index covered by the previous grown range
    for first, last in sorted(ranges):
        if last <= reach:
            continue
        first, last = _grow(story, first, last)
        grown.add((first, last))
        reach = max(reach, last)
    return grown


# --- 4. masking a name wherever it recurs ---------------------------------------------------


def _propagate(story: _Story, ranges: set[tuple[int, int]]) -> set[tuple[int, int]]:
    parts: dict[str, bool] = {}  # lowercase part -> may also match in lowercase
    full_names = []
    for first, last in ranges:
        full_names.append(" ".join(t.lower for t in story.tokens[first : last + 1]))
        for index in range(first, last + 1):
            token = story.tokens[index]
            if len(token.text) < 2 or token.lower in NAME_PARTICLES or story.is_keep(index):
                continue
            if token.lower in _ROLE_WORDS or index in story.places:
                continue
            # Lowercase occurrences count too if the word is no Dutch word, or if the story
            # writes this very name in lowercase ("noor is 8").
            for part in {token.lower, *token.lower.split("-")}:  # "Boer-Kok": "Boer" too
                if len(part) > 2 and part not in NAME_PARTICLES and part not in KEEP_TERMS:
                    parts[part] = parts.get(part) or (
                        not token.capitalised or not is_dutch_word(part)
                    )
    hits = set()
    for index, token in enumerate(story.tokens):
        any_case = parts.get(token.lower)
        if any_case is None or (not any_case and not token.capitalised):
            continue
        first = index
        # "mevrouw el Amrani" after "Fatima el Amrani": take the particles along.
        while first > 0 and story.tokens[first - 1].lower in NAME_PARTICLES:
            phrase = " ".join(t.lower for t in story.tokens[first - 1 : index + 1])
            if not any(phrase in name for name in full_names):
                break
            first -= 1
        hits.add((first, index))
    return _grow_all(story, hits)
