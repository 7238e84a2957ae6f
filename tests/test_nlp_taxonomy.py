"""The theme taxonomy: loading, validation messages, round trip, and the rules it defines."""

import pytest

from nlp.rules import Hit, ThemeRules, _strongest_per_span, theme_weights
from nlp.taxonomy import DEFAULT_PATH, Taxonomy, TaxonomyError
from nlp.text import make_nlp

DEFAULT_IDS = ["veiligheid", "armoede", "informeel-netwerk", "samenwerking", "werkdruk",
               "privacy", "vakmanschap", "wonen", "opvoeding", "gezondheid"]

MINIMAL = """
version = "t-1"
[[themes]]
id = "armoede"
label_nl = "Armoede"
label_en = "Poverty"
definition = "Money trouble."
[themes.terms]
schuld = 1.5
"""


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.load()


@pytest.fixture(scope="module")
def rules(taxonomy):
    nlp = make_nlp()
    return nlp, ThemeRules(nlp, taxonomy)


def test_default_taxonomy_has_the_ten_themes(taxonomy):
    assert taxonomy.version == "2026.2"
    assert taxonomy.ids == DEFAULT_IDS
    theme = taxonomy.theme("armoede")
    assert theme.label_nl and theme.label_en and len(theme.definition) > 40
    assert theme.terms["schuld"] > 0 and theme.examples
    with pytest.raises(KeyError, match="onbekend"):
        taxonomy.theme("onbekend")


def test_load_without_path_is_the_shipped_file(taxonomy):
    assert Taxonomy.from_toml(DEFAULT_PATH.read_text(encoding="utf-8")) == taxonomy


def test_to_toml_round_trips(taxonomy):
    again = Taxonomy.from_toml(taxonomy.to_toml())
    assert again == taxonomy
    assert Taxonomy.from_toml(again.to_toml()).to_toml() == taxonomy.to_toml()


def test_round_trip_keeps_quotes_and_backslashes():
    text = MINIMAL.replace('"Money trouble."', '"Geld \\"op\\" is \\\\ op.\\nNieuwe regel"')
    taxonomy = Taxonomy.from_toml(text)
    assert Taxonomy.from_toml(taxonomy.to_toml()) == taxonomy


@pytest.mark.parametrize("change, message", [
    (("label_nl = \"Armoede\"\n", ""), r"theme 'armoede', field 'label_nl'"),
    (("schuld = 1.5", "schuld = \"veel\""), r"theme 'armoede', field 'terms.schuld'.*weight"),
    (("schuld = 1.5", "schuld = -1"), r"field 'terms.schuld'"),
    (("id = \"armoede\"", "id = \"Armoede!\""), r"theme #1, field 'id'"),
    (("definition = ", "defintion = "), r"theme 'armoede', field 'defintion': unknown field"),
    (("[themes.terms]\nschuld = 1.5", "[themes.phrases]\n\"* geld\" = 1.0"),
     r"field 'phrases.\* geld'.*start or end"),
    (("[themes.terms]\nschuld = 1.5", "[themes.terms]\n\"sch*uld\" = 1.0"),
     r"field 'terms.sch\*uld'"),
    (("[themes.terms]\nschuld = 1.5", ""), r"theme 'armoede', field 'terms'.*at least one"),
    (("version = \"t-1\"", ""), r"'version'"),
    (("version = \"t-1\"", "version = \"t-1\"\n[negation]\nfactor = 2"), r"\[negation\] 'factor'"),
    (("[[themes]]", "[[themes]\n"), r"not valid TOML"),
])
def test_validation_errors_name_theme_and_field(change, message):
    old, new = change
    assert old in MINIMAL
    with pytest.raises(TaxonomyError, match=message):
        Taxonomy.from_toml(MINIMAL.replace(old, new))


def test_duplicate_theme_ids_are_refused():
    with pytest.raises(TaxonomyError, match="theme 'armoede' is defined twice"):
        Taxonomy.from_toml(MINIMAL + MINIMAL.split("\n", 2)[2])


def test_examples_trigger_their_theme_and_counter_examples_stay_weak(taxonomy, rules):
    nlp, matcher = rules
    for theme in taxonomy.themes:
        for sentence in theme.examples:
            weight = theme_weights(matcher.hits(nlp(sentence)), taxonomy.ids)[theme.id]
            assert weight >= 1.0, (theme.id, sentence)
        for sentence in theme.counter_examples:
            weight = theme_weights(matcher.hits(nlp(sentence)), taxonomy.ids)[theme.id]
            assert weight < 1.0, (theme.id, sentence)


def test_negation_weakens_a_term_but_a_phrase_with_negation_counts(taxonomy, rules):
    nlp, matcher = rules

    def weight(text, theme):
        return theme_weights(matcher.hits(nlp(text)), taxonomy.ids)[theme]

    assert weight("Er zijn zorgen over de veiligheid.", "veiligheid") > \
        3 * weight("Er zijn geen zorgen over de veiligheid.", "veiligheid")
    # the clause ends at "maar": the negation does not reach "schulden"
    assert weight("Ze heeft geen werk, maar wel schulden.", "armoede") >= 1.5
    # "geen geld" is itself a poverty phrase
    assert weight("Aan het eind van de maand is er geen geld meer.", "armoede") >= 2.0
    # negation after the term
    assert weight("Van huiselijk geweld is geen sprake.", "veiligheid") < 1.0
    # ... but neither kind reaches past its sentence, its clause or its window
    plain = weight("Huiselijk geweld speelt.", "veiligheid")
    assert weight("Dat wist niemand. Huiselijk geweld speelt.", "veiligheid") == plain
    assert weight("Huiselijk geweld speelt. Geen sprake van.", "veiligheid") == plain
    assert weight("Huiselijk geweld speelt, maar geen sprake van een kras.", "veiligheid") == plain
    assert weight("Niet voor het eerst dat er weer huiselijk geweld speelt.", "veiligheid") == plain
    assert weight("Niet voor het eerst huiselijk geweld.", "veiligheid") < plain
    # the window (4 tokens) is counted exactly
    assert weight("Er waren geen heel erg grote schulden.", "armoede") < 0.5
    assert weight("Er waren geen echt heel erg grote schulden.", "armoede") == \
        weight("Er waren schulden.", "armoede")


def test_a_doc_cut_from_a_span_is_matched_like_any_other(taxonomy, rules):
    """Span.as_doc() can start mid-sentence: its first token still starts a sentence."""
    nlp, matcher = rules
    text = ("Het ging goed met de kinderen en er waren geen schulden. "
            "Ik heb contact met de huisarts.")
    hits = matcher.hits(nlp(text)[3:].as_doc())
    assert [h.negated for h in hits if h.term == "schuld"] == [True]
    assert any(h.theme == "samenwerking" and h.end - h.start == 4 for h in hits)
    alone = matcher.hits(nlp("Toen had ik geen schulden.")[1:].as_doc())  # no sentence start
    assert [(h.term, h.negated) for h in alone] == [("schuld", True)]


def test_overlapping_hits_keep_the_strongest_of_each_run():
    a, b, c = (Hit("armoede", t, s, s + 2, w, False) for t, s, w in
               (("a", 0, 2.0), ("b", 1, 1.0), ("c", 2, 2.0)))  # a-b and b-c overlap, a-c not
    x = Hit("wonen", "x", 1, 2, 1.0, False)  # another theme in between: never in the way
    assert _strongest_per_span([b, x, c, a]) == [a, x, c]
    stronger_b = b._replace(weight=3.0)
    assert _strongest_per_span([a, stronger_b, c, x]) == [stronger_b, x]


def test_compound_wildcards_and_overlap(taxonomy, rules):
    nlp, matcher = rules
    hits = matcher.hits(nlp("Er was sprake van partnergeweld en huiselijk geweld."))
    terms = [h.term for h in hits if h.theme == "veiligheid"]
    assert "*geweld" in terms
    assert "huiselijk geweld" in terms and "geweld" not in terms  # longest, strongest wins
