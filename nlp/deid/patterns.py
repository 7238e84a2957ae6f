"""Identifiers with a fixed shape: found by regular expression, then validated.

Every detector takes the text and yields ``Span`` objects. Validation (11-proef, mod-97,
digit counts, licence-plate sidecodes) keeps numbers that merely look alike (amounts, years,
counts) visible; a context word ("bsn", "iban", "kenteken", "dossier") lets a number through
that fails validation, because a typo in an identifier still identifies.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .spans import RANK_CONTEXT, RANK_STRUCTURED, RANK_WEAK, Span

MONTHS = "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december"
MONTHS_SHORT = "jan|feb|mrt|apr|jun|jul|aug|sept|sep|okt|nov|dec"
_SEP = r"[ \t\u00a0]"  # horizontal whitespace only: an identifier never spans a line break


def _context_before(text: str, start: int, pattern: re.Pattern[str], window: int = 80) -> bool:
    """Whether `pattern` occurs shortly before `start`, in the same sentence."""
    before = text[max(0, start - window) : start]
    before = _SENTENCE_BREAK_RE.split(before)[-1]
    return pattern.search(before) is not None


_SENTENCE_BREAK_RE = re.compile(r"\n|[.!?](?=\s+[A-Z])")


# --- e-mail and URL -------------------------------------------------------------------------

EMAIL_RE = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,24}(?![\w-])")
_TLDS = "nl|com|org|net|eu|be|de|info|io|nu|frl|amsterdam|online|app|co|uk|fr|es|tr|ma|pl|ua|biz"
URL_RE = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]{}]+")
# A bare domain ("vertelpunt.nl/verhalen"); lowercase top-level domain only, so that a
# missing space after a full stop ("thuis.Nu gaat het") is not taken for one.
DOMAIN_RE = re.compile(
    rf"(?<![\w@.-])(?:[A-Za-z0-9-]{{2,63}}\.)+(?:{_TLDS})(?:/[^\s<>\"'()\[\]{{}}]*)?(?![\w@-])"
)


def find_emails(text: str) -> Iterator[Span]:
    for match in EMAIL_RE.finditer(text):
        yield Span(match.start(), match.end(), "EMAIL", RANK_STRUCTURED + 1)


def find_urls(text: str) -> Iterator[Span]:
    for match in (*URL_RE.finditer(text), *DOMAIN_RE.finditer(text)):
        end = match.end()
        while end > match.start() and text[end - 1] in ".,;:!?":
            end -= 1
        if end - match.start() >= 4:
            yield Span(match.start(), end, "URL", RANK_STRUCTURED + 1)


# --- telephone numbers ----------------------------------------------------------------------

# A run of digits and the separators people type between them (spaces, hyphens, dots,
# slashes, brackets). Which prefix of the run is the number is decided by counting digits.
PHONE_RUN_RE = re.compile(r"(?<![\w+])(?<!\d[.,/-])(?:\+|\(\s*0|0)[\d() \t\u00a0.\-–/]*\d")
_DIGIT_GROUP_RE = re.compile(r"\d+")
_SERVICE_PREFIXES = ("0800", "0900", "0906", "0909")


def find_phones(text: str) -> Iterator[Span]:
    for match in PHONE_RUN_RE.finditer(text):
        run, covered = match.group(), 0
        # A run may hold more than one number, or start with a date: try each group start.
        for start in _group_starts(run):
            if start < covered:
                continue
            end = _phone_end(run[start : start + 40])  # no number is longer; keeps it linear
            if end is not None:
                covered = start + end
                yield Span(
                    match.start() + start, match.start() + covered, "TELEFOON", RANK_STRUCTURED
                )


def _group_starts(run: str) -> list[int]:
    later = (m.start() for m in _NEXT_START_RE.finditer(run))
    return [0, *(s for s in later if s > 0)]


_NEXT_START_RE = re.compile(r"(?<=[ \t\u00a0.\-–/])(?:\+|\(|0)")


def _phone_end(run: str) -> int | None:
    """Length of the phone number at the start of `run`, or None if it holds none."""
    groups = [(m.group(), m.end()) for m in _DIGIT_GROUP_RE.finditer(run)]
    if not groups:
        return None
    if run.startswith("+") or run.startswith("00"):
        return _international_end(run, groups)
    digits, found = "", None
    for group, group_end in groups:
        digits += group
        if _is_dutch_number(digits):
            found = group_end
            if not digits.startswith(_SERVICE_PREFIXES):
                return found
        elif len(digits) > 11:
            break
    return found


def _is_dutch_number(digits: str) -> bool:
    """A national number: ten digits from 0 and an area or mobile code; 0800/0900 shorter."""
    if digits.startswith(_SERVICE_PREFIXES):
        return len(digits) in (8, 11)
    return len(digits) == 10 and digits[0] == "0" and digits[1] != "0"


def _international_end(run: str, groups: list[tuple[str, int]]) -> int | None:
    exit_code = 2 if run.startswith("00") else 0  # "0031" = "+31"
    digits, best = "", None
    for group, group_end in groups:
        digits += group
        number = digits[exit_code:]
        if len(number) < 2:
            continue
        if number.startswith("31"):  # Dutch, maybe written "+31 (0)6 ..."
            national = number[2:]
            national = national[1:] if national.startswith("0") else national
            if len(national) == 9 and national[0] != "0":
                return group_end
            if len(national) > 9:
                return None
        elif 9 <= len(number) <= 15:
            best = group_end
        elif len(number) > 15:
            break
    return best


# --- BSN ------------------------------------------------------------------------------------

BSN_RE = re.compile(
    r"(?<![\w.,/-])(\d{9}|\d{3}[ .]\d{3}[ .]\d{3}|\d{4}\.\d{2}\.\d{3}|\d{2}\.\d{3}\.\d{2}\.\d{2}"
    r"|\d{8})(?![\w]|[.,/-]\d)"
)
BSN_CONTEXT_RE = re.compile(
    r"(?i)\b(?:bsn|burger\s?service\s?nummer|sofi(?:nummer|-nummer)?|bsn-nummer)\b", re.IGNORECASE
)
_MONEY_RE = re.compile(r"(?i)(?:€|eur|euro)\s*$")


def is_valid_bsn(digits: str) -> bool:
    """The 11-proef for a nine-digit burgerservicenummer."""
    if len(digits) != 9 or not digits.isdigit() or digits == "000000000":
        return False
    weights = (9, 8, 7, 6, 5, 4, 3, 2, -1)
    return sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11 == 0


def find_bsns(text: str) -> Iterator[Span]:
    for match in BSN_RE.finditer(text):
        digits = re.sub(r"\D", "", match.group())
        if _MONEY_RE.search(text[max(0, match.start() - 6) : match.start()]):
            continue
        in_context = _context_before(text, match.start(), BSN_CONTEXT_RE)
        if (len(digits) == 9 and is_valid_bsn(digits)) or (in_context and len(digits) in (8, 9)):
            yield Span(match.start(), match.end(), "BSN", RANK_STRUCTURED)


# --- IBAN -----------------------------------------------------------------------------------

IBAN_RE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?:[ \u00a0]?[A-Za-z0-9]){10,30}")
IBAN_CONTEXT_RE = re.compile(r"(?i)\b(?:iban|(?:bank)?rekening(?:nummer)?|rek\.?\s?nr)\b")
DUTCH_IBAN_SHAPE_RE = re.compile(r"NL\d{2}[A-Z]{4}\d{10}")
IBAN_LENGTHS = {
    "NL": 18, "BE": 16, "DE": 22, "FR": 27, "GB": 22, "ES": 24, "IT": 27, "PL": 28, "TR": 26,
    "LU": 20, "AT": 20, "CH": 21, "PT": 25, "IE": 22, "DK": 18, "SE": 24, "NO": 15, "FI": 18,
    "UA": 29, "RO": 24, "BG": 22, "HU": 28, "CZ": 24, "SK": 24, "LT": 20, "LV": 21, "EE": 20,
    "GR": 27, "HR": 21, "SI": 19, "MA": 28, "SY": 0,
}  # fmt: skip


def is_valid_iban(iban: str) -> bool:
    """ISO 13616 mod-97 check on a compact IBAN (no spaces)."""
    iban = iban.upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def find_ibans(text: str) -> Iterator[Span]:
    for match in IBAN_RE.finditer(text):
        raw = match.group()
        positions = [i for i, ch in enumerate(raw) if not ch.isspace()]
        compact = "".join(raw[i] for i in positions).upper()
        country = compact[:2]
        lengths = [IBAN_LENGTHS[country]] if IBAN_LENGTHS.get(country) else range(34, 14, -1)
        for length in lengths:
            if length > len(compact):
                continue
            end = positions[length - 1] + 1
            if end < len(raw) and not raw[end].isspace():
                continue  # the IBAN must end where a group ends
            candidate = compact[:length]
            if is_valid_iban(candidate) or (
                DUTCH_IBAN_SHAPE_RE.fullmatch(candidate)
                and _context_before(text, match.start(), IBAN_CONTEXT_RE)
            ):
                yield Span(match.start(), match.start() + end, "IBAN", RANK_STRUCTURED + 1)
                break


# --- postcode, licence plate ----------------------------------------------------------------

# Four digits and two letters; SA, SD and SS are never used; lowercase only when written
# together ("8017kb"), and not a unit ("1000mg").
POSTCODE_RE = re.compile(
    r"(?<![\w.,-])[1-9]\d{3}(?:[ \u00a0]?(?!SA|SD|SS)[A-Z]{2}"
    r"|(?!mg|gr|kg|km|cm|mm|ml|cl|dl|uu)[a-z]{2})(?![\w-])"
)


def find_postcodes(text: str) -> Iterator[Span]:
    for match in POSTCODE_RE.finditer(text):
        yield Span(match.start(), match.end(), "POSTCODE", RANK_STRUCTURED)


# The Dutch sidecodes (1-14): X is a letter, 9 a digit.
_SIDECODES = (
    "XX-99-99", "99-99-XX", "99-XX-99", "XX-99-XX", "XX-XX-99", "99-XX-XX", "99-XXX-9",
    "9-XXX-99", "XX-999-X", "X-999-XX", "XXX-99-X", "X-99-XXX", "9-XX-999", "999-XX-9",
)  # fmt: skip


# Any three groups of letters and digits joined by hyphens; kept if the shape is a sidecode.
PLATE_RE = re.compile(r"(?<![\w-])[A-Za-z0-9]{1,3}-[A-Za-z0-9]{2,3}-[A-Za-z0-9]{1,3}(?![\w-])")
# Without hyphens only after a word such as "kenteken" ("kenteken GH123K", "GH 123 K").
PLATE_SPACED_RE = re.compile(r"(?<![\w-])[A-Z0-9]{1,3}[ ]?[A-Z0-9]{1,3}[ ]?[A-Z0-9]{1,3}(?![\w-])")
PLATE_CONTEXT_RE = re.compile(r"(?i)\b(?:kenteken|nummerbord|auto|scooter|busje|bestelbus)\b")
_SHAPES = frozenset(_SIDECODES)


def _sidecode(plate: str) -> str:
    return "".join("X" if ch.isalpha() else "9" if ch.isdigit() else "-" for ch in plate)


def find_plates(text: str) -> Iterator[Span]:
    for match in PLATE_RE.finditer(text):
        plate = match.group()
        if _sidecode(plate) in _SHAPES and (
            plate.isupper() or _context_before(text, match.start(), PLATE_CONTEXT_RE)
        ):
            yield Span(match.start(), match.end(), "KENTEKEN", RANK_STRUCTURED)
    if not PLATE_CONTEXT_RE.search(text):
        return
    for match in PLATE_SPACED_RE.finditer(text):
        plate = match.group()
        shape = _sidecode(plate.replace(" ", "-") if " " in plate else _hyphenate(plate))
        if shape in _SHAPES and _context_before(text, match.start(), PLATE_CONTEXT_RE):
            yield Span(match.start(), match.end(), "KENTEKEN", RANK_STRUCTURED)


def _hyphenate(plate: str) -> str:
    """ "GH123K" -> "GH-123-K": split where letters and digits meet (sidecodes 1-6 aside)."""
    return re.sub(r"(?<=[A-Z])(?=\d)|(?<=\d)(?=[A-Z])", "-", plate)


# --- dates ----------------------------------------------------------------------------------

DATE_NUMERIC_RE = re.compile(
    r"(?<![\w/.-])(?:0?[1-9]|[12]\d|3[01])(?P<sep>[-/.])(?:0?[1-9]|1[0-2])(?P=sep)"
    r"(?:19|20)?\d{2}(?![\w/]|[.-]\d)"
)
DATE_ISO_RE = re.compile(
    r"(?<![\w/.-])(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?![\w-])"
)
DATE_TEXT_RE = re.compile(
    rf"(?i)(?<![\w.,-])(?:0?[1-9]|[12]\d|3[01])(?:e|ste|de)?[ \u00a0]*"
    rf"(?:{MONTHS}|(?:{MONTHS_SHORT})\.?)(?![\w])(?:[ \u00a0]+(?:(?:19|20)\d{{2}}|'\d{{2}})(?!\w))?"
)


# "12-3" or "12/3" without a year: a date only after a word that announces one.
DATE_SHORT_RE = re.compile(
    r"(?<![\w/.,-])(?:0?[1-9]|[12]\d|3[01])[-/](?:0?[1-9]|1[0-2])(?![\w/]|[.,-]\d)"
    r"(?![ \u00a0]*(?:dag|week|weken|keer|uur|maand|jaar|kind|person|euro|%))"
)
DATE_WORD_RE = re.compile(
    r"(?i)\b(?:op|afspraak|afspraken|vanaf|sinds|tot|t/m|tot en met|datum|d\.d\.|dd"
    r"|gesprek|huisbezoek|overleg|zitting|maandag|dinsdag|woensdag|donderdag|vrijdag"
    r"|zaterdag|zondag|ma|di|wo|do|vr|za|zo)[:.]?[ \u00a0]*$"
)
WEEKDAY_BEFORE_RE = re.compile(
    r"(?i)\b(?:maandag|dinsdag|woensdag|donderdag|vrijdag|zaterdag|zondag)[ \u00a0]+$"
)


def find_dates(text: str) -> Iterator[Span]:
    for regex in (DATE_NUMERIC_RE, DATE_ISO_RE, DATE_TEXT_RE):
        for match in regex.finditer(text):
            yield Span(_with_weekday(text, match.start()), match.end(), "DATUM", RANK_CONTEXT)
    for match in DATE_SHORT_RE.finditer(text):
        if DATE_WORD_RE.search(text[max(0, match.start() - 20) : match.start()]):
            yield Span(_with_weekday(text, match.start()), match.end(), "DATUM", RANK_CONTEXT)


def _with_weekday(text: str, start: int) -> int:
    """A weekday in front belongs to the date: "maandag 14 oktober" is one date."""
    weekday = WEEKDAY_BEFORE_RE.search(text[max(0, start - 12) : start])
    return start - len(weekday.group()) if weekday else start


# --- case and client numbers ----------------------------------------------------------------

DOSSIER_RE = re.compile(
    r"(?i)\b(?:dossier|dossiernummer|dossiernr|zaak|zaaknummer|zaaknr|zaak-id|casus|casusnummer"
    r"|cli[eë]nt|cli[eë]ntnummer|cli[eë]ntnr|klantnummer|klantnr|relatienummer|registratienummer"
    r"|kenmerk|ons kenmerk|uw kenmerk|referentie|referentienummer|polisnummer|debiteurnummer"
    r"|contractnummer|huurcontractnummer|huurdersnummer|dossier-id|id-nummer|meldingsnummer"
    r"|aanvraagnummer|beschikkingsnummer|cjib-nummer|vonnisnummer|parketnummer)"
    r"\.?(?:[ \u00a0]*(?:nr\.?|nummer|no\.?|is|was|:|#))*[ \u00a0]*"
    r"(?P<code>(?=[\w/.-]*\d)[A-Za-z0-9][A-Za-z0-9/.-]*[A-Za-z0-9])"
)
# "Z-2025-1187", "AB-23-4410": letters, a year or number, a serial number.
CODE_RE = re.compile(r"(?<![\w-])[A-Z]{1,4}-?\d{2,4}-\d{2,7}(?![\w-])")
LONG_NUMBER_RE = re.compile(r"(?<![\w.,-])\d{7,}(?![\w]|[.,]\d)")


_DOSSIER_WORDS = (
    "dossier", "zaak", "casus", "client", "cliënt", "klant", "nummer", "kenmerk", "referentie",
)  # fmt: skip


def find_case_numbers(text: str) -> Iterator[Span]:
    lower = text.lower()
    matches = DOSSIER_RE.finditer(text) if any(w in lower for w in _DOSSIER_WORDS) else ()
    for match in matches:
        code = match.group("code")
        digits = sum(ch.isdigit() for ch in code)
        if digits >= 4 or (digits >= 2 and re.search(r"[-/A-Za-z]", code)):
            yield Span(match.start("code"), match.end("code"), "DOSSIERNUMMER", RANK_CONTEXT)
    for match in CODE_RE.finditer(text):
        yield Span(match.start(), match.end(), "DOSSIERNUMMER", RANK_CONTEXT)
    for match in LONG_NUMBER_RE.finditer(text):
        yield Span(match.start(), match.end(), "DOSSIERNUMMER", RANK_WEAK)


DETECTORS = (
    find_emails, find_urls, find_phones, find_bsns, find_ibans, find_postcodes, find_plates,
    find_dates, find_case_numbers,
)  # fmt: skip


def find_patterns(text: str) -> list[Span]:
    return [span for detector in DETECTORS for span in detector(text)]
