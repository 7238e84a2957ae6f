"""Where people live and go, and how old they are: addresses, schools and institutions, ages.

Addresses come from deduce's street list (streets followed by a house number) and from a
street-suffix rule of our own ("...straat 14b", "...weg 3-II"). A street without a number is
masked only after "woont in de", "aan de" and the like. Schools and institutions are masked
when a type word introduces them ("basisschool De Regenboog") or ends them ("Thorbecke
Lyceum"); national and generic organisations (lexicon.KEEP_TERMS) stay. Ages are masked only
where they are attached to a person: "Sem (7)", "Noor, 11 jaar", "een meisje van 12 jaar".
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .engine import DeduceFindings
from .lexicon import KEEP_TERMS, PERSON_CUES, is_dutch_word, words
from .spans import RANK_CONTEXT, RANK_NAME, RANK_WEAK, Span
from .tokens import Token, covered_by, starts_sentence

# --- addresses ------------------------------------------------------------------------------

# Street words end in one of these; with a house number after them they are an address.
_STREET_SUFFIXES = tuple(
    words(
        "straat str laan ln weg plein pln gracht kade singel dijk dreef hof park pad steeg markt"
        " baan dam plantsoen erf wal haven ring lei hage oord veld burg berg weide poort brink"
        " boulevard allee promenade passage hoek stede hout bos tuin tuinen akker kamp gaarde"
        " horst donk heuvel zoom wijk vaart polder kwartier rade hoeve meent"
    )
)
# Without a house number only unmistakable street words count ("-berg", "-wijk" end places).
_BARE_STREET_SUFFIXES = tuple(
    words(
        "straat laan weg plein gracht kade singel dijk dreef steeg hof pad park markt plantsoen"
        " boulevard allee promenade"
    )
)
_HOUSE_NUMBER = (
    r"\d{1,5}(?:[ \u00a0]?[A-Za-z](?![\w]))?"
    r"(?:[ \u00a0]?-[ \u00a0]?(?:\d{1,4}|[IVX]{1,4}|[A-Za-z])(?![\w]))?"
    r"(?:[ \u00a0](?:hs|bis|zw|rd|[IVX]{1,4}|huis|boven)(?![\w]))?"
)
HOUSE_NUMBER_RE = re.compile(
    rf"\.?[ \u00a0]*(?:(?:nr\.?|nummer|no\.?)[ \u00a0]*)?{_HOUSE_NUMBER}(?![\d.,:-]\d)"
)
_STREET_PARTICLES = words("van de der den het ter ten 't la le du")
# Capitalised words that start a sentence or a place phrase, not a street name.
_NOT_IN_STREET = words("in op aan bij naar uit via langs tot met voor en of ook zij hij ze")
LIVES_ON_RE = re.compile(
    r"(?i)(?:\b(?:woont|wonen|woonde|woonden|verhuisd|verhuist|verhuizen|adres|ligt|staat)"
    r"[ \u00a0]+(?:nu[ \u00a0]+|nog[ \u00a0]+)?(?:in|aan|op|naar)|\b(?:in|aan|op|naar|via|langs"
    r"|vanaf|richting|bij|uit|hoek)[ \u00a0]+(?:de|het))[ \u00a0]+$"
)
POSTBUS_RE = re.compile(r"(?i)\bpostbus[ \u00a0]+\d{1,6}\b")


def find_addresses(
    text: str,
    tokens: list[Token],
    findings: DeduceFindings,
    keep: list,
    is_place: Callable[[str], bool],
) -> list[Span]:
    spans = []
    for index, token in enumerate(tokens):
        if not token.lower.endswith(_STREET_SUFFIXES):
            continue
        number = HOUSE_NUMBER_RE.match(text, token.end)
        if number and number.end() > token.end and text[token.end] in " \u00a0.":
            if token.capitalised or (
                len(token.text) >= 8 and token.lower.endswith(_BARE_STREET_SUFFIXES)
            ):  # "dahliastraat 14" in informal text too
                start = _street_start(text, tokens, index)
                spans.append(Span(start, number.end(), "ADRES", RANK_CONTEXT))
        elif token.capitalised and _lives_on(text, token.start, token.end, keep, is_place):
            spans.append(Span(token.start, token.end, "ADRES", RANK_CONTEXT))
    for start, end, has_number in findings.streets:
        number = HOUSE_NUMBER_RE.match(text, end)
        if number and number.end() > end and text[end] in " \u00a0-":
            # deduce stops at "3" in "Kerkweg 3-II"; or found the street but not the number
            spans.append(Span(start, number.end(), "ADRES", RANK_CONTEXT))
        elif has_number or _lives_on(text, start, end, keep, is_place):
            spans.append(Span(start, end, "ADRES", RANK_CONTEXT))
    if "postbus" in text.lower():
        for match in POSTBUS_RE.finditer(text):
            spans.append(Span(match.start(), match.end(), "ADRES", RANK_CONTEXT))
    return spans


def _street_start(text: str, tokens: list[Token], index: int) -> int:
    """ "Burgemeester de Withstraat 5", "Lange Nieuwstraat 12": take the leading words along."""
    first = index
    for before in range(index - 1, max(-1, index - 5), -1):
        word = tokens[before]
        if text[word.end : tokens[before + 1].start] not in (" ", "\u00a0"):
            break
        if word.lower in _STREET_PARTICLES or (
            word.capitalised and word.lower not in _NOT_IN_STREET
        ):
            first = before
        else:
            break
    while first < index and not tokens[first].capitalised:  # "de Kerkweg 3" -> "Kerkweg 3"
        first += 1
    return tokens[first].start


def _lives_on(text: str, start: int, end: int, keep: list, is_place: Callable[[str], bool]) -> bool:
    """A bare street name in "woont in de Dahliastraat", not a place or street-like word."""
    word = text[start:end]
    if not word[:1].isupper() or covered_by(keep, start, end) or word.lower() in KEEP_TERMS:
        return False
    suffix = next((s for s in _BARE_STREET_SUFFIXES if word.lower().endswith(s)), None)
    if suffix is None or is_place(word):
        return False
    if " " not in word and len(word) <= len(suffix) + 1:
        return False  # "de Markt", "het Plein": the word itself, not a named street
    return LIVES_ON_RE.search(text[max(0, start - 40) : start]) is not None


# --- schools and institutions ---------------------------------------------------------------

_TYPE_WORDS = words(
    "basisschool school kindcentrum lyceum college gymnasium scholengemeenschap praktijkschool"
    " montessorischool daltonschool jenaplanschool kinderopvang kinderdagverblijf"
    " peuterspeelzaal peuteropvang peuterschool zorgboerderij dagbesteding woongroep"
    " woonvoorziening verpleeghuis verzorgingshuis woonzorgcentrum zorgcentrum gezinshuis"
    " buurthuis wijkcentrum buurtcentrum jongerencentrum inloophuis speeltuin moskee kerk"
    " parochie sportclub voetbalclub voetbalvereniging vereniging stichting huisartsenpraktijk"
    " gezondheidscentrum praktijk apotheek ziekenhuis kliniek opvang vrouwenopvang"
    " daklozenopvang hospice revalidatiecentrum zorginstelling instelling internaat leefgroep"
    " crisisopvang werkplaats bibliotheek sportschool dansschool muziekschool woningcorporatie"
    " woningbouwvereniging corporatie zorgaanbieder thuiszorgorganisatie café cafe restaurant"
    " snackbar hotel pension camping bedrijf fabriek winkel"
)
_TYPE_ABBREVIATIONS = words("obs cbs pcbs rkbs kbs ikc sbo vso kdv bso azc roc mbo vmbo isk")
_TYPE_SUFFIX_WORDS = words(
    "Lyceum College Gymnasium Scholengemeenschap Atheneum Academie School Basisschool"
    " Kindcentrum Kliniek Ziekenhuis Instituut"
)
INSTITUTION_NAME_RE = re.compile(
    r"[ \u00a0]+(?P<name>(?:(?:De|Het|Den|'t|de|het)[ \u00a0]+)?[A-ZÀ-Ý][\w'’&-]*"
    r"(?:[ \u00a0]+(?:[A-ZÀ-Ý][\w'’&-]*|van|de|der|den|het|'t|en|&)){0,4})"
)
# First parts of compounds that name a kind of school, not one school.
_GENERIC_SCHOOL_PARTS = words(
    "basis montessori dalton jenaplan muziek dans rij zwem sport taal hoge middelbare lagere"
    " vak brede vrije speciale praktijk nacht zomer kook kleuter zondags koran weekend bijles"
    " huiswerk avond volks"
)
_LOWERCASE_TAIL_RE = re.compile(r"(?:[ \u00a0]+(?:van|de|der|den|het|op|aan|in|'t|en|&))+$")


def find_institutions(
    text: str, tokens: list[Token], findings: DeduceFindings, keep: list
) -> list[Span]:
    spans: list[Span] = []
    for index, token in enumerate(tokens):
        lower = token.lower
        if lower in _TYPE_WORDS or (
            lower in _TYPE_ABBREVIATIONS or token.text == "SO"
        ):  # "basisschool De Regenboog", "OBS De Klimop"
            match = INSTITUTION_NAME_RE.match(text, token.end)
            if match:
                name = _LOWERCASE_TAIL_RE.sub("", match.group("name"))
                start = match.start("name")
                _add_institution(spans, text, start, start + len(name), keep, RANK_NAME + 1)
        if token.text in _TYPE_SUFFIX_WORDS and index > 0:  # "het Thorbecke Lyceum"
            first = _capitalised_run_start(text, tokens, index)
            if first < index:
                if tokens[first].lower in ("het", "de") and tokens[first].sentence_start:
                    first += 1
                if first < index:
                    _add_institution(
                        spans, text, tokens[first].start, token.end, keep, RANK_NAME + 1
                    )
        elif (
            token.capitalised
            and not token.sentence_start
            and lower.endswith(("school", "college", "lyceum"))
        ):  # "de Regenboogschool"
            stem = re.sub(r"(school|college|lyceum)$", "", lower)
            if stem and stem not in _GENERIC_SCHOOL_PARTS:
                _add_institution(spans, text, token.start, token.end, keep)
    for start, end in findings.institutions:
        word = text[start:end]
        if " " not in word and starts_sentence(text, start) and is_dutch_word(word):
            continue  # "Karakter is ..." at the start of a sentence is the word
        _add_institution(spans, text, start, end, keep)
    return spans


def _capitalised_run_start(text: str, tokens: list[Token], index: int) -> int:
    first = index
    for before in range(index - 1, max(-1, index - 4), -1):
        if text[tokens[before].end : tokens[before + 1].start] not in (" ", "\u00a0"):
            break
        if not tokens[before].capitalised:
            break
        first = before
    return first


def _add_institution(
    spans: list[Span], text: str, start: int, end: int, keep: list, rank: int = RANK_NAME
) -> None:
    name = text[start:end]
    if name.lower() in KEEP_TERMS or covered_by(keep, start, end):
        return
    if name.lower() in PERSON_CUES:
        return
    spans.append(Span(start, end, "INSTELLING", rank))


# --- ages -----------------------------------------------------------------------------------

_NUMBER = r"\d{1,3}(?:[.,]5|½)?"  # "2,5 jaar", "1½"
_AGE_IN_BRACKETS_RE = re.compile(
    rf"\((?P<inside>[ \u00a0]*{_NUMBER}(?:[ \u00a0]*(?:,|en|&|/)[ \u00a0]*{_NUMBER})*"
    r"(?:[ \u00a0]*(?:jaar|jr\.?|maanden|mnd\.?))?[ \u00a0]*)\)"
)
_AGE_RE = re.compile(
    rf"(?<![\w.,-])(?P<age>{_NUMBER}(?:[ \u00a0-](?:jaar|jr\.?)|-?jarige?|[ \u00a0]jarige?))"
    r"(?P<old>[ \u00a0]+oud)?(?![\w])"
    # "2 jaar geleden", "3 jaar lang": a duration, not an age
    r"(?![ \u00a0]+(?:geleden|lang|later|eerder|terug|getrouwd|samen|gewerkt|gewoond|na\b|in\b"
    r"|op\b|bij\b|niet|geen|weg|nadien|daarna|voor\b|hier|daar|wachten|wachttijd))"
)
_BARE_AGE_RE = re.compile(r"(?P<age>\d{1,3})(?=[ \u00a0]*(?:[.,;!?)]|$|en\b|of\b))")
_ROLE_BEFORE_RE = re.compile(
    rf"(?i)\b(?:{'|'.join(sorted((re.escape(c) for c in PERSON_CUES), key=len, reverse=True))})"
    r"(?:[ \u00a0]*,[ \u00a0]*|[ \u00a0]+van[ \u00a0]+|[ \u00a0]*)$"
)
_VERB_BEFORE_RE = re.compile(
    r"(?i)[ \u00a0]*,?[ \u00a0]+(?:is|was|wordt|werd|word|ben|zijn|waren)"
    r"(?:[ \u00a0]+(?:nu|pas|bijna|net|inmiddels|ongeveer|ruim|intussen))?[ \u00a0]+$"
)
_ROLE_OF_RE = re.compile(
    r"(?i)\b(?:jongen|meisje|kind|zoon|dochter|man|vrouw|broer|zus|baby|puber|tiener)"
    r"(?:tje|je)?[ \u00a0]+van[ \u00a0]+$"
)
# "hij is zelf ook al 81." — a bare number closing a sentence about a person.
_PRONOUN_IS_RE = re.compile(
    r"(?i)\b(?:hij|zij|ze|ik)[ \u00a0]+(?:is|was|wordt|werd|ben)"
    r"(?:[ \u00a0]+(?:zelf|ook|al|pas|nu|bijna|net|inmiddels|ongeveer|ruim|intussen)){0,3}"
    r"[ \u00a0]+$"
)
_COMMA_BEFORE_RE = re.compile(r"[ \u00a0]*,[ \u00a0]*$")
_AGE_WORD_RE = re.compile(r"(?i)\bleeftijd(?:[ \u00a0]+van)?[ \u00a0]*:?[ \u00a0]*$")


def find_ages(text: str, persons: list[Span]) -> list[Span]:
    person_ends = {span.end for span in persons}
    spans = []
    for match in _AGE_IN_BRACKETS_RE.finditer(text):
        if _attached(text, match.start(), person_ends, allow_space=True):
            spans.extend(_numbers_in_brackets(match))
    for match in _AGE_RE.finditer(text):
        start, end = match.span("age")
        unit = match.group("age")
        if match.group("old") or "jarig" in unit or _attached(text, start, person_ends):
            spans.append(Span(start, end, "LEEFTIJD", RANK_WEAK + 5))
    for match in _BARE_AGE_RE.finditer(text):  # "Sem is 7.", "een jongen van 16."
        start = match.start()
        if int(match.group()) > 120 or (start > 0 and text[start - 1] in "€$.,-/"):
            continue
        before = text[max(0, start - 30) : start]
        verb = _VERB_BEFORE_RE.search(before)
        if (
            (verb and (start - len(verb.group())) in person_ends)
            or _ROLE_OF_RE.search(before)
            or _PRONOUN_IS_RE.search(before)
        ):
            spans.append(Span(start, match.end(), "LEEFTIJD", RANK_WEAK + 5))
    return spans


def _attached(text: str, start: int, person_ends: set[int], allow_space: bool = False) -> bool:
    """Whether the age at `start` belongs to a person named or mentioned just before it."""
    before = text[max(0, start - 40) : start]
    offset = start - len(before)
    for regex in (_COMMA_BEFORE_RE, _VERB_BEFORE_RE):
        found = regex.search(before)
        if found and offset + found.start() in person_ends:
            return True
    if allow_space and offset + len(before.rstrip(" \u00a0")) in person_ends:
        return True
    if _AGE_WORD_RE.search(before):
        return True
    return _ROLE_BEFORE_RE.search(before) is not None


def _numbers_in_brackets(match: re.Match[str]) -> list[Span]:
    inside, base = match.group("inside"), match.start("inside")
    numbers = list(re.finditer(_NUMBER, inside))
    if any(int(re.match(r"\d+", n.group()).group()) > 120 for n in numbers):
        return []
    unit = re.search(r"(?:jaar|jr\.?|maanden|mnd\.?)", inside)
    spans = []
    for number in numbers:
        end = unit.end() if unit and len(numbers) == 1 else number.end()
        spans.append(Span(base + number.start(), base + end, "LEEFTIJD", RANK_WEAK + 5))
    return spans
