"""De-identification (nlp.deidentify): every category, the teller's corrections, odd input.

deduce takes seconds to load, so one module-scoped fixture loads it once; the first test
run on a new machine also builds its cache (about a minute; `make` does that at set-up).
The DEV_STORIES at the end are the examples the rules were tuned on; the held-out
evaluation lives in benchmarks/deidentify_quality.py.
"""

from __future__ import annotations

import logging
import re
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import deidentify as deid
from nlp.deidentify import LABELS, Entity, deidentify, find_entities, mask


@pytest.fixture(scope="module", autouse=True)
def loaded():
    """Load deduce once; check that loading leaves logging and warnings as they were."""
    root = logging.getLogger()
    level, handlers, filters = root.level, list(root.handlers), list(warnings.filters)
    seconds = deid.warm()
    assert seconds >= 0
    assert root.level == level
    assert root.handlers == handlers
    assert warnings.filters == filters
    return seconds


def labelled(text: str) -> list[tuple[str, str]]:
    return [(e.label, e.text) for e in find_entities(text)]


def covered(text: str, phrase: str, entities: list[Entity] | None = None) -> bool:
    """Every character of every whole-word occurrence of `phrase` is inside some entity."""
    entities = find_entities(text) if entities is None else entities
    starts = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)]
    assert starts, f"{phrase!r} does not occur in the text"
    return all(
        all(any(e.start <= i < e.end for e in entities) for i in range(s, s + len(phrase)))
        for s in starts
    )


def touched(text: str, phrase: str, entities: list[Entity] | None = None) -> bool:
    """Some occurrence of `phrase` overlaps some entity."""
    entities = find_entities(text) if entities is None else entities
    spans = [(m.start(), m.end()) for m in re.finditer(rf"(?<!\w){re.escape(phrase)}(?!\w)", text)]
    assert spans, f"{phrase!r} does not occur in the text"
    return any(e.start < b and a < e.end for a, b in spans for e in entities)


# --- telephone numbers ----------------------------------------------------------------------

PHONE_NOTATIONS = [
    "06-12345678", "0612345678", "06 - 12 34 56 78", "06 12345678", "06 12 34 56 78",
    "06-1234 5678", "+31 6 1234 5678", "+31 (0)6 1234 5678", "+31612345678", "0031612345678",
    "0031 6 12345678", "+31-6-12345678", "010-1234567", "010 - 123 45 67", "(010) 123 45 67",
    "038 - 421 22 33", "038-4212233", "0384212233", "0800-1234", "0900-1234567",
    "+48 512 345 678",
]  # fmt: skip


@pytest.mark.parametrize("number", PHONE_NOTATIONS)
def test_phone_notations(number):
    text = f"Je kunt moeder bereiken op {number}, ook in het weekend."
    assert labelled(text) == [("TELEFOON", number)]


def test_phone_after_a_date_and_two_numbers_in_a_row():
    text = "Gebeld op 03-07-2016 0612345678 en daarna 06-87654321 / 010-7654321."
    found = labelled(text)
    assert ("TELEFOON", "0612345678") in found
    assert ("TELEFOON", "06-87654321") in found
    assert ("TELEFOON", "010-7654321") in found
    assert ("DATUM", "03-07-2016") in found


@pytest.mark.parametrize(
    "text",
    [
        "Ze heeft 3 kinderen en een schuld van € 1.250.",
        "Het gezin betaalt 650 euro huur per maand.",
        "In 2024 zat Sem in groep 8.",
        "Er staan 12345 mensen op de wachtlijst.",
    ],
)
def test_numbers_that_are_no_phone(text):
    assert [label for label, _ in labelled(text) if label == "TELEFOON"] == []


# --- BSN, IBAN, licence plates, postcodes, e-mail, URL --------------------------------------


@pytest.mark.parametrize("bsn", ["111222333", "123456782", "111.222.333", "111 222 333"])
def test_valid_bsn_is_found_without_context(bsn):
    assert labelled(f"Het nummer {bsn} stond op de brief.") == [("BSN", bsn)]


def test_invalid_bsn_needs_context():
    assert deid.mask  # keep the import used if the module changes
    assert labelled("Het nummer 123456789 stond op de brief.") == [("DOSSIERNUMMER", "123456789")]
    assert labelled("Zijn BSN is 123456789.") == [("BSN", "123456789")]
    assert labelled("Burgerservicenummer: 123.456.789") == [("BSN", "123.456.789")]


def test_amount_is_no_bsn():
    assert not any(label == "BSN" for label, _ in labelled("Een schuld van € 111.222.333 is veel."))


@pytest.mark.parametrize(
    "iban", ["NL91ABNA0417164300", "NL91 ABNA 0417 1643 00", "nl91abna0417164300",
             "BE68539007547034", "DE89 3704 0044 0532 0130 00"],
)  # fmt: skip
def test_valid_iban(iban):
    assert labelled(f"Het geld gaat naar {iban} vanaf volgende maand.") == [("IBAN", iban)]


def test_iban_with_wrong_checksum():
    assert not any(label == "IBAN" for label, _ in labelled("Code NL92ABNA0417164300 is fout."))
    # a typo in a stated account number still identifies the account
    assert ("IBAN", "NL92ABNA0417164300") in labelled("Rekeningnummer NL92ABNA0417164300.")


@pytest.mark.parametrize(
    "plate", ["GH-123-K", "12-ABC-3", "X-999-ZZ", "AB-12-CD", "99-XX-99", "1-ABC-23", "ABC-12-D"]
)
def test_licence_plates(plate):
    assert labelled(f"De auto met {plate} stond voor de deur.") == [("KENTEKEN", plate)]


def test_plate_without_hyphens_needs_context():
    assert ("KENTEKEN", "GH123K") in labelled("Zijn kenteken is GH123K.")
    assert labelled("Ze zaten in groep 8 en 7-B.") == []


@pytest.mark.parametrize("code", ["8017 KB", "8017KB", "1012ab"])
def test_postcodes(code):
    assert ("POSTCODE", code) in labelled(f"Ze woont in {code} Zwolle.")


def test_no_postcode_in_doses_or_years():
    assert labelled("Ze slikt 1000 mg per dag.") == []


def test_email_and_urls():
    text = "Mail naar fatima.amrani@gmail.com of kijk op www.vertelpunt.nl en https://x.nl/a?b=1."
    found = labelled(text)
    assert ("EMAIL", "fatima.amrani@gmail.com") in found
    assert ("URL", "www.vertelpunt.nl") in found
    assert ("URL", "https://x.nl/a?b=1") in found


# --- dates, ages, case numbers --------------------------------------------------------------


@pytest.mark.parametrize(
    "date", ["12 maart 2015", "03-07-2016", "3/7/2016", "14 oktober", "1 mei", "2016-07-03",
             "3.7.2016", "12 mrt. 2015"],
)  # fmt: skip
def test_dates(date):
    assert labelled(f"Sinds {date} is alles anders.") == [("DATUM", date)]


def test_date_of_birth():
    assert ("DATUM", "12-06-1971") in labelled("Hij is geboren op 12-06-1971 in Zwolle.")


@pytest.mark.parametrize(
    "text", ["Sinds maart 2024 gaat het beter.", "Op maandag komt de juf.", "In 2023 en 2024."]
)
def test_month_year_and_weekdays_stay(text):
    assert labelled(text) == []


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("Sem (7) speelt buiten.", "7"),
        ("Noor, 11 jaar, zit in groep 8.", "11 jaar"),
        ("De moeder (34) werkt.", "34"),
        ("Het gaat om een meisje van 12 jaar.", "12 jaar"),
        ("De 15-jarige zoon blowt.", "15-jarige"),
        ("Zahra is 10 jaar oud.", "10 jaar"),
        ("Fatima is 34 en heeft drie kinderen.", "34"),
    ],
)
def test_ages_attached_to_a_person(text, age):
    assert ("LEEFTIJD", age) in labelled(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ze wonen al 3 jaar in Nederland.",
        "De vader is 2 jaar geleden vertrokken.",
        "Er is een wachtlijst van 2 jaar.",
        "Zijn moeder zat 5 jaar lang in de schulden.",
    ],
)
def test_durations_are_no_age(text):
    assert not any(label == "LEEFTIJD" for label, _ in labelled(text))


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("Zie dossier 2024-0456 voor details.", "2024-0456"),
        ("Het zaaknummer Z-2025-1187 staat op de brief.", "Z-2025-1187"),
        ("Cliëntnummer: 55123 bij de bewindvoerder.", "55123"),
        ("Ons kenmerk AB/123/2024.", "AB/123/2024"),
    ],
)
def test_case_numbers(text, number):
    assert ("DOSSIERNUMMER", number) in labelled(text)


def test_dossier_word_without_number_stays():
    assert labelled("Het dossier is dik en de zaak loopt al lang.") == []


# --- addresses and institutions -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("Ze woont aan de Dahliastraat 14b in Zwolle.", "Dahliastraat 14b"),
        ("Het adres is Kerkweg 3-II.", "Kerkweg 3-II"),
        ("Hij woont aan de Burgemeester de Withstraat 5.", "Burgemeester de Withstraat 5"),
        ("Sinds mei op de Lange Nieuwstraat 12 a.", "Lange Nieuwstraat 12 a"),
        ("Ze woont in de Vechtstraat sinds de scheiding.", "Vechtstraat"),
        ("Post naar Postbus 1234 in Zwolle.", "Postbus 1234"),
    ],
)
def test_addresses(text, address):
    assert ("ADRES", address) in labelled(text)


def test_cities_and_plain_squares_stay():
    text = "Ze verhuisde van Zwolle naar Den Haag en woont nu in Almere, vlak bij de Markt."
    assert labelled(text) == []


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Sem zit op basisschool De Regenboog in groep 4.", "De Regenboog"),
        ("De school, OBS De Klimop, belde.", "De Klimop"),
        ("Ze gaat naar het Thorbecke Lyceum.", "Thorbecke Lyceum"),
        ("Hij werkt op zorgboerderij De Hoeve.", "De Hoeve"),
        ("Yonas zit op cbs De Wegwijzer.", "De Wegwijzer"),
        ("De jongste gaat naar de Regenboogschool.", "Regenboogschool"),
    ],
)
def test_schools_and_institutions(text, name):
    assert ("INSTELLING", name) in labelled(text)


# --- persons --------------------------------------------------------------------------------

PERSON_CASES = [
    ("Gisteren sprak ik met Fatima el Amrani over haar zoon.", ["Fatima el Amrani"]),
    ("Daarna kwam J. de Vries van de woningcorporatie.", ["J. de Vries"]),
    ("Juf Annemiek van den Berg-Smit maakt zich zorgen.", ["Annemiek van den Berg-Smit"]),
    ("We spraken met Mehmet Yılmaz en Ayşe Öztürk.", ["Mehmet Yılmaz", "Ayşe Öztürk"]),
    ("Ik belde met Radjesh Ramautar uit Paramaribo.", ["Radjesh Ramautar"]),
    (
        "Later kwamen Krzysztof Nowak en Agnieszka Wiśniewska.",
        ["Krzysztof Nowak", "Agnieszka Wiśniewska"],
    ),  # noqa: E501
    ("Het gezin van Khaled Al-Hassan komt uit Syrië.", ["Khaled Al-Hassan"]),
    ("Ook Tesfay Haile en zijn zus Semhar waren er.", ["Tesfay Haile", "Semhar"]),
    ("De vader, Ahmad Rahimi, kwam uit Afghanistan.", ["Ahmad Rahimi"]),
    ("Oksana Kovalenko vluchtte met haar dochter Olha.", ["Oksana Kovalenko", "Olha"]),
    ("De buurvrouw van Jack Smith belde ons.", ["Jack Smith"]),
    ("Mevrouw Yilmaz belde met Veilig Thuis.", ["Yilmaz"]),
    ("Haar zoon Adam en dochter Sara zijn 6 en 8.", ["Adam", "Sara"]),
    ("Pieter Post en Kees de Jong waren er ook.", ["Pieter Post", "Kees de Jong"]),
    ("ik heb met fatima gebeld over de huur.", ["fatima"]),
    ("de moeder van noor belde, noor is ziek.", ["noor"]),
    ("Buurvrouw Ans kwam met een pan soep.", ["Ans"]),
    ("Mevr. A. Tesfay kwam met haar dochter.", ["A. Tesfay"]),
]


@pytest.mark.parametrize(("text", "names"), PERSON_CASES)
def test_person_names(text, names):
    entities = find_entities(text)
    for name in names:
        assert covered(text, name, entities), f"{name!r} not masked in {text!r}"


def test_a_name_found_once_is_masked_everywhere():
    text = "Ik sprak Semhar in de gang. Semhar huilde. Later belde semhar nog."
    entities = find_entities(text)
    assert [e.text for e in entities] == ["Semhar", "Semhar", "semhar"]


def test_titles_and_roles_stay_visible():
    result = deidentify("Mevrouw Yilmaz en juf Marieke spraken met dokter Verhoeven.")
    assert result.text == "Mevrouw [PERSOON-1] en juf [PERSOON-2] spraken met dokter [PERSOON-3]."


KEEP_TEXT = (
    "Moeder belde. Vader kwam later. Oma past op. Buurman hielp met de verhuizing. De huisarts "
    "verwees door. De juf en de wijkagent kwamen langs. Veilig Thuis werd ingeschakeld. De "
    "voedselbank helpt. Schuldhulpverlening startte in maart 2024. Groep 8 is druk. De "
    "mantelzorger is moe. De jeugdarts keek mee. De woningcorporatie stuurde een brief. GGD, CJG "
    "en UWV. De Raad voor de Kinderbescherming. Zwolle, Amsterdam, Den Haag, Deventer, Kampen. "
    "Maandag en dinsdag. Het kostte € 1.250 en ze heeft 3 kinderen. Zorg is nodig. Mevrouw was "
    "boos. Meneer zei niets. Hoop doet leven. Rust is nodig. Vrede. Advocaat. Bewindvoerder. "
    "Wij spraken met Bureau Jeugdzorg en de Belastingdienst. Leger des Heils, Humanitas, "
    "Stichting Leergeld. Later kwamen de Wmo en de Participatiewet ter sprake. Kerst, Ramadan. "
    "Albert Heijn, WhatsApp, Facebook. Lente, Zomer. Anyway, helaas kwam de Ggz te laat. Ze "
    "vluchtte via Turkije naar Nederland en spreekt Tigrinya en Arabisch."
)
KEEP_WORDS = [
    "Moeder", "Vader", "Oma", "Buurman", "huisarts", "juf", "wijkagent", "Veilig Thuis",
    "voedselbank", "Schuldhulpverlening", "maart 2024", "Groep 8", "mantelzorger", "jeugdarts",
    "woningcorporatie", "GGD", "CJG", "UWV", "Raad voor de Kinderbescherming", "Zwolle",
    "Den Haag", "Kampen", "Maandag", "€ 1.250", "3 kinderen", "Zorg", "Mevrouw", "Meneer",
    "Hoop", "Vrede", "Advocaat", "Bewindvoerder", "Bureau Jeugdzorg", "Belastingdienst",
    "Leger des Heils", "Humanitas", "Stichting Leergeld", "Wmo", "Participatiewet", "Ramadan",
    "Albert Heijn", "WhatsApp", "Lente", "Anyway", "helaas", "Ggz", "Turkije", "Tigrinya",
]  # fmt: skip


def test_role_and_domain_words_stay():
    entities = find_entities(KEEP_TEXT)
    assert [e.text for e in entities] == []
    for word in KEEP_WORDS:
        assert not touched(KEEP_TEXT, word, entities), word


# --- placeholders and the teller's corrections ----------------------------------------------


def test_numbering_is_consistent_per_label():
    text = (
        "Fatima el Amrani belde. Sem (7) was ziek. Later belde fatima opnieuw over Sem. "
        "Mevrouw El Amrani gaf 06-12345678 en +31 6 1234 5678 en 06 - 87 65 43 21."
    )
    result = deidentify(text)
    assert result.text == (
        "[PERSOON-1] belde. [PERSOON-2] ([LEEFTIJD-1]) was ziek. Later belde [PERSOON-1] opnieuw "
        "over [PERSOON-2]. Mevrouw [PERSOON-1] gaf [TELEFOON-1] en [TELEFOON-1] en [TELEFOON-2]."
    )


def test_first_name_before_full_name_shares_the_number():
    text = "Fatima belde. Fatima el Amrani is de moeder van Sem el Amrani."
    masked = mask(text, find_entities(text))
    assert masked == "[PERSOON-1] belde. [PERSOON-1] is de moeder van [PERSOON-2]."


def test_mask_accepts_the_tellers_list_in_any_order():
    text = "Tante Roos woont in de Dahliastraat."
    entities = [Entity(23, 35, "ADRES", "Dahliastraat"), Entity(6, 10, "PERSOON", "Roos")]
    assert mask(text, entities) == "Tante [PERSOON-1] woont in de [ADRES-1]."
    assert mask(text, []) == text


@pytest.mark.parametrize(
    ("entities", "message"),
    [
        ([Entity(-1, 3, "PERSOON", "Tan")], "outside the text"),
        ([Entity(30, 99, "PERSOON", "x")], "outside the text"),
        ([Entity(3, 3, "PERSOON", "")], "empty"),
        ([Entity(0, 5, "NAAM", "Tante")], "unknown label"),
        ([Entity(0, 5, "PERSOON", "Oom R")], "does not match"),
        ([Entity(0, 10, "PERSOON", "Tante Roos"), Entity(6, 10, "PERSOON", "Roos")], "overlap"),
        (["Roos"], "not an Entity"),
        ([Entity(0.0, 5, "PERSOON", "Tante")], "integers"),
    ],
)
def test_mask_rejects_bad_entities(entities, message):
    with pytest.raises(ValueError, match=message):
        mask("Tante Roos woont in de Dahliastraat.", entities)


# --- odd input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀🙈👍" * 50,
        "مرحبا فاطمة، كيف حالك؟",
        "Merhaba Ayşe, nasılsın? Şükrü'nün",
        "<script>alert('Fatima')</script><b>Sem</b> &amp; &lt;",
        "\x00\x1e\u200b\ufeff",
        "-" * 500,
        "(((((",
        "06-",
        "+31",
        "NL",
        "12 maart",
        "0" * 300,
        "Ĳsselmeer ĳs",
        "a\nb\r\nc",
    ],
)
def test_odd_input_does_not_crash(text):
    result = deidentify(text)
    assert isinstance(result.text, str)
    for entity in result.entities:
        assert text[entity.start : entity.end] == entity.text


def test_html_is_plain_text():
    text = "<p>Fatima el Amrani</p><script>Sem</script>"
    result = deidentify(text)
    assert result.text == "<p>[PERSOON-1]</p><script>[PERSOON-2]</script>"


def test_long_text():
    text = ("Fatima el Amrani belt 06-12345678 over Sem (7). De juf helpt. " * 160)[:10_000]
    entities = find_entities(text)
    assert len(entities) > 400
    assert all(e.text == text[e.start : e.end] for e in entities)


def test_entities_never_cross_lines():
    text = "Titel over Fatima\n\x1e\nel Amrani woont hier.\n\x1e\nles"
    assert all("\n" not in e.text and "\x1e" not in e.text for e in find_entities(text))


def test_threads_get_the_same_answers():
    from concurrent.futures import ThreadPoolExecutor

    texts = [story for story, _, _ in DEV_STORIES] * 3
    expected = [find_entities(text) for text in texts]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(find_entities, texts)) == expected


def test_non_text_is_rejected():
    with pytest.raises(TypeError):
        find_entities(None)  # type: ignore[arg-type]


def test_warm_is_idempotent_and_cli_reports():
    assert deid.is_ready()
    assert deid.warm() < 1.0


def test_cli_warm(capsys):
    assert deid.main(["--warm"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"ready in [\d.]+ s, peak RSS \d+ MB", out)


# --- cases added after the first evaluation run (own examples of the failure kinds seen) -----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # BSN context anywhere earlier in the same sentence, not only just before the number
        ("Zijn BSN kennen we niet zeker, volgens de oude brief van de gemeente was het "
         "123 456 789.", ("BSN", "123 456 789")),
        ("Uitbetaling t.n.v. K.B. Ait Haddou op de rekening.", ("PERSOON", "K.B. Ait Haddou")),
        ("Meneer van Dijk van de GGD belde.", ("PERSOON", "van Dijk")),
        ("Familie de Wit vroeg om hulp.", ("PERSOON", "de Wit")),
        ("ik heb met sanne de vries gebeld over de huur.", ("PERSOON", "sanne de vries")),
        ("Ze staat geregistreerd onder nummer AB-23-4410.", ("DOSSIERNUMMER", "AB-23-4410")),
        ("Zij is inmiddels 79.", ("LEEFTIJD", "79")),
        ("Volgende afspraak: 4-11 om 9 uur.", ("DATUM", "4-11")),
        ("Het huisbezoek is op dinsdag 5 november.", ("DATUM", "dinsdag 5 november")),
        ("Jayden (1,5 jaar) slaapt slecht.", ("LEEFTIJD", "1,5 jaar")),
    ],
)  # fmt: skip
def test_after_first_evaluation(text, expected):
    assert expected in labelled(text)


@pytest.mark.parametrize(
    "text",
    [
        "Ze werkt 3-4 dagen per week.",
        "Het Rode Kruis zocht haar broer; een voogd van Nidos begeleidt hem.",
        "Volgens de Bank is de schuld afbetaald.",
        "She said no, en dat was dat.",
        "Klantnr. staat op de brief.",
        "Casemanager. Kinderen. School.",
    ],
)
def test_stays_after_first_evaluation(text):
    assert labelled(text) == []


def test_institution_name_stops_before_the_place():
    found = labelled("Hij gaat naar kinderopvang De Zonnebloem in Deventer.")
    assert found == [("INSTELLING", "De Zonnebloem")]


# --- properties -----------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "Fatima", "el", "Amrani", "Sem", "Noor", "moeder", "Veilig", "Thuis", "de", "het", "en",
        "06-12345678", "Dahliastraat", "14b", "8017", "KB", "(7)", "12", "maart", "2015",
        "Zwolle", "juf", "GGD", "bsn", "111222333", "NL91ABNA0417164300", "GH-123-K", ".", ",",
        "\n", "!", "?", "Tesfay", "Kerkweg", "3-II", "www.x.nl", "a@b.nl", "3", "jaar", "€",
        "1.250", "ümlaut", "😀", "<b>", "&",
    ]
)  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.one_of(WORDS, st.text(max_size=6)), max_size=40).map(" ".join),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS)
def test_entities_are_sound_and_masking_keeps_the_rest(text):
    entities = find_entities(text)
    previous_end = 0
    for entity in entities:
        assert previous_end <= entity.start < entity.end <= len(text)  # sorted, no overlap
        assert entity.label in LABELS
        assert entity.text == text[entity.start : entity.end]
        assert entity.text == entity.text.strip() and "\n" not in entity.text
        previous_end = entity.end
    masked = mask(text, entities)
    # What is not masked survives unchanged, in order; every entity became a placeholder.
    pattern = ""
    cursor = 0
    for entity in entities:
        pattern += re.escape(text[cursor : entity.start]) + rf"\[{entity.label}-\d+\]"
        cursor = entity.end
    pattern += re.escape(text[cursor:])
    assert re.fullmatch(pattern, masked, flags=re.DOTALL)
    # A name masked once is masked wherever it recurs as a whole word.
    kept = re.sub(r"\[[A-Z]+-\d+\]", " ", masked)
    for entity in entities:
        if entity.label == "PERSOON" and len(entity.text) > 2:
            assert not re.search(rf"(?<!\w){re.escape(entity.text)}(?!\w)", kept), entity


# --- development stories --------------------------------------------------------------------
# (text, must be masked, must stay). Written for tuning; the evaluation set is held out.

DEV_STORIES = [
    (
        "Semhar (15) en haar broertje Yonas (9) wonen sinds 2019 in Kampen. Hun moeder, Senait "
        "Tesfamariam, spreekt weinig Nederlands. De school van Yonas, cbs De Wegwijzer, belde ons "
        "omdat hij vaak te laat kwam. Senait werkt 's nachts als schoonmaakster.",
        ["Semhar", "15", "Yonas", "9", "Senait Tesfamariam", "De Wegwijzer", "Senait"],
        ["broertje", "Kampen", "moeder", "Nederlands", "school", "2019"],
    ),
    (
        "Ik ben op huisbezoek geweest bij de familie Kovalenko aan de Vechtstraat 112. Oksana "
        "Kovalenko en haar dochter Olha (6) kwamen in 2022 uit Charkiv. Oksana wil graag werken "
        "maar de kinderopvang is te duur. Bel haar op 06 - 41 22 87 90.",
        ["Kovalenko", "Vechtstraat 112", "Oksana Kovalenko", "Olha", "6", "06 - 41 22 87 90"],
        ["familie", "dochter", "Charkiv", "kinderopvang"],
    ),
    (
        "Meneer Ramdin (68) is mantelzorger voor zijn vrouw Sharmila. Zijn dochter Anjali "
        "Jagroep-Ramdin woont in Almere en komt elk weekend. De huisarts, dokter Verhoeven, maakt "
        "zich zorgen over meneer.",
        ["Ramdin", "68", "Sharmila", "Anjali Jagroep-Ramdin", "Verhoeven"],
        ["Meneer", "mantelzorger", "vrouw", "Almere", "huisarts", "dokter"],
    ),
    (
        "Mohamed Bouzid heeft schulden bij de Belastingdienst. Zijn bewindvoerder vroeg om zijn "
        "BSN: 111222333. Zijn rekeningnummer NL20INGB0001234567 staat in het dossier.",
        ["Mohamed Bouzid", "111222333", "NL20INGB0001234567"],
        ["Belastingdienst", "bewindvoerder", "BSN", "dossier"],
    ),
    (
        "Tijdens het gesprek met Ahmad Rahimi bleek dat zijn zoon Farid (12) al weken niet naar "
        "het Thorbecke College gaat. Leerplicht is ingeschakeld. Ahmad vroeg of de GGD kan helpen.",
        ["Ahmad Rahimi", "Farid", "12", "Thorbecke College", "Ahmad"],
        ["zoon", "Leerplicht", "GGD"],
    ),
    (
        "Gisteren sprak ik Krzysztof Nowak. Hij woont met vijf andere Polen aan de Kerkweg 3-II "
        "in Naaldwijk. Zijn kenteken is 45-ZTL-8. Krzysztof zegt dat de huisbaas hem bedreigt.",
        ["Krzysztof Nowak", "Kerkweg 3-II", "45-ZTL-8", "Krzysztof"],
        ["Polen", "Naaldwijk", "kenteken", "huisbaas"],
    ),
    (
        "Fatima el Amrani kwam op het spreekuur. Fatima is 34 en heeft drie kinderen: Ilias, Nora "
        "en Amira. Mevrouw El Amrani vertelde dat haar ex-man Youssef haar via WhatsApp "
        "lastigvalt. We hebben Veilig Thuis gebeld.",
        ["Fatima el Amrani", "Fatima", "34", "Ilias", "Nora", "Amira", "El Amrani", "Youssef"],
        ["spreekuur", "drie kinderen", "Mevrouw", "ex-man", "WhatsApp", "Veilig Thuis"],
    ),
    (
        "De buurvrouw van Jack Smith belde omdat ze hem al dagen niet had gezien. Jack (81) woont "
        "alleen aan de Lindelaan 7. Zijn zoon woont in Engeland. Via de Wmo kreeg hij thuiszorg "
        "van Buurtzorg.",
        ["Jack Smith", "Jack", "81", "Lindelaan 7"],
        ["buurvrouw", "zoon", "Engeland", "Wmo", "thuiszorg", "Buurtzorg"],
    ),
    (
        "Emre Yılmaz is 17 en is gestopt met zijn opleiding op het ROC. Zijn moeder, mevrouw "
        "Yılmaz-Öztürk, is ten einde raad. Emre's vader zit in Turkije.",
        ["Emre Yılmaz", "17", "Yılmaz-Öztürk", "Emre"],
        ["ROC", "moeder", "mevrouw", "vader", "Turkije"],
    ),
    (
        "Op 3 februari had ik een gesprek met Bohdan en zijn vrouw Iryna. Ze wonen in een "
        "noodopvang in Deventer. Iryna is zwanger; de verloskundige verwacht de baby rond 14 "
        "oktober. Bohdan heeft contact met het UWV.",
        ["3 februari", "Bohdan", "Iryna", "14 oktober"],
        ["vrouw", "noodopvang", "Deventer", "verloskundige", "baby", "UWV"],
    ),
    (
        "Dossier 2023-1187: Kees de Jong (52), alleenstaand. Kees woont in een kamer boven café De "
        "Zwaan. Contact via e-mail: kdejong1971@hotmail.com. Hij is geboren op 12-06-1971.",
        [
            "2023-1187",
            "Kees de Jong",
            "52",
            "Kees",
            "De Zwaan",
            "kdejong1971@hotmail.com",
            "12-06-1971",
        ],
        ["Dossier", "alleenstaand", "café"],
    ),
    (
        "Tijdens de Ramadan was mevrouw Hosseini erg moe. Haar dochters Zahra en Maryam gaan naar "
        "basisschool Het Kompas. Zahra is 10 jaar oud. De juf van Zahra, juf Ingrid, merkte dat "
        "Zahra vaak honger heeft.",
        ["Hosseini", "Zahra", "Maryam", "Het Kompas", "10 jaar", "Ingrid"],
        ["Ramadan", "mevrouw", "dochters", "basisschool", "juf"],
    ),
    (
        "Ik heb met Piet Bakker gesproken, de vader van Lisa (4). De jeugdarts van het CJG zag dat "
        "Lisa een taalachterstand heeft. Piet woont op de Dorpsstraat 22a in Heino, postcode "
        "8141 AB.",
        ["Piet Bakker", "Lisa", "4", "Dorpsstraat 22a", "8141 AB", "Piet"],
        ["vader", "jeugdarts", "CJG", "Heino"],
    ),
    (
        "mam van noor belde, ze is boos op school. noor is 8 en zit in groep 5. ik heb met juf "
        "sanne gebeld. sanne zei dat noor gepest wordt door twee jongens uit groep 6.",
        ["noor", "8", "sanne"],
        ["mam", "school", "groep 5", "juf", "jongens", "groep 6"],
    ),
    (
        "Radjesh Ramautar (45) is taxichauffeur. Zijn vrouw Sunita overleed vorig jaar. Zijn "
        "telefoonnummer is 0031 6 11 22 33 44. De jongste, Rishi, gaat naar peuterspeelzaal De "
        "Kikker.",
        ["Radjesh Ramautar", "45", "Sunita", "0031 6 11 22 33 44", "Rishi", "De Kikker"],
        ["taxichauffeur", "vrouw", "jongste", "peuterspeelzaal"],
    ),
    (
        "Khaled Al-Hassan en zijn vrouw Rania kwamen in 2016 uit Aleppo. Khaled is arts maar zijn "
        "diploma wordt niet erkend. Hun zoon Majd heeft ADHD.",
        ["Khaled Al-Hassan", "Rania", "Khaled", "Majd"],
        ["vrouw", "Aleppo", "arts", "zoon", "ADHD"],
    ),
    (
        "Het wijkteam kreeg een melding via Veilig Thuis over het gezin van Dewi Kartosen. Dewi "
        "woont met haar nieuwe vriend Rinaldo in een flat aan het Wilhelminaplein 45.",
        ["Dewi Kartosen", "Dewi", "Rinaldo", "Wilhelminaplein 45"],
        ["wijkteam", "Veilig Thuis", "gezin", "vriend"],
    ),
    (
        "De heer Van der Meulen (79) woont aan de Burgemeester de Withstraat 5. Zijn dochter "
        "Marjolein belt hem elke dag. Telefoon: 038-4651234.",
        ["Van der Meulen", "79", "Burgemeester de Withstraat 5", "Marjolein", "038-4651234"],
        ["De heer", "dochter", "Telefoon"],
    ),
    (
        "Bij de voedselbank ontmoette ik Ayşe. Ayşe en haar man Murat hebben vier kinderen. Murat "
        "werkt bij PostNL. Door een fout van de Belastingdienst moeten ze €14.000 terugbetalen.",
        ["Ayşe", "Murat"],
        ["voedselbank", "man", "vier kinderen", "PostNL", "Belastingdienst", "€14.000"],
    ),
    (
        "Sinds de scheiding woont Daan (10) om de week bij zijn vader in Zwolle-Zuid. Zijn moeder "
        "Roos werkt bij de thuiszorg. Daan zit op de Regenboogschool en voetbalt bij PEC.",
        ["Daan", "10", "Roos", "Regenboogschool"],
        ["scheiding", "vader", "Zwolle-Zuid", "moeder", "thuiszorg"],
    ),
]


@pytest.mark.parametrize(("text", "mask_these", "keep_these"), DEV_STORIES)
def test_dev_story(text, mask_these, keep_these):
    entities = find_entities(text)
    missed = [p for p in mask_these if not covered(text, p, entities)]
    removed = [p for p in keep_these if touched(text, p, entities)]
    assert (missed, removed) == ([], [])
