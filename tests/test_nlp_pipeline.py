"""The tagger: sentences, lemmas, negation, exact evidence offsets, output shape, bad input."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp import registry
from nlp.evaluate import load_jsonl
from nlp.features import CharVectorizer, feature_matrix
from nlp.lemmas import compare, simplemma_lemma
from nlp.lessons import find_lessons
from nlp.pipeline import Tagger
from nlp.taxonomy import Taxonomy
from nlp.text import make_nlp, sentence_spans
from nlp.train import PARAGRAPHS, save, train

STORY = (
    "Moeder heeft al jaren schulden en de deurwaarder staat regelmatig op de stoep. "
    "Ze durft de post niet meer open te maken.\r\n\r\n"
    "Wat we geregeld hebben:\n"
    "- een betalingsregeling met de energieleverancier;\n"
    "• een aanmelding bij de schuldhulpverlening.\n\n"
    "Er zijn geen zorgen over de veiligheid van de kinderen. <b>Oma</b> past op & helpt mee 😀.\n"
    "Wat ik heb geleerd is dat je snel moet zijn."
)


@pytest.fixture(scope="module")
def rules_only():
    return Tagger(Taxonomy.load())


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("models")
    model = train(load_jsonl(PARAGRAPHS), Taxonomy.load(), C=4.0)
    save(model, directory)
    registry.set_active(directory, model.version)
    return directory


@pytest.fixture(scope="module")
def tagger(models_dir):
    return Tagger.load(models_dir)


def assert_exact(text, spans):
    for span in spans:
        assert text[span["start"]:span["end"]] == span["text"]
        assert span["text"] == span["text"].strip() and span["text"]


# --- language --------------------------------------------------------------------------------

@pytest.mark.parametrize("form, lemma", [
    ("kinderen", "kind"), ("gezinnen", "gezin"), ("schulden", "schuld"), ("buren", "buur"),
    ("kindjes", "kind"), ("huisje", "huis"), ("meisjes", "meisje"), ("liep", "lopen"),
    ("gesproken", "spreken"), ("grote", "groot"), ("energierekeningen", "energierekening"),
    ("wachtlijsten", "wachtlijst"), ("niet", "niet"), ("geen", "geen"),
])
def test_lemmas(form, lemma):
    assert simplemma_lemma(form) == lemma


def test_lemmas_on_tokens_are_lower_case_and_keep_stop_words():
    doc = make_nlp()("Kinderen van de Buren hadden geen schulden, niet zonder hulp.")
    assert [t.lemma_ for t in doc] == ["kind", "van", "de", "buur", "hebben", "geen", "schuld",
                                       ",", "niet", "zonder", "hulp", "."]


def test_chosen_lemmatizer_wins_the_measurement():
    report = compare()
    assert report["simplemma+dim+compound"]["all"] >= 0.95
    for name, row in report.items():
        assert row["all"] <= report["simplemma+dim+compound"]["all"], name


def test_sentences_split_on_punctuation_newlines_and_bullets():
    text = ("Eerste zin, bijv. met een afkorting. Tweede zin!\nDerde regel zonder punt\n"
            "- bullet een\n* bullet twee\n• bullet drie\n1. genummerd\n2) ook genummerd")
    spans = sentence_spans(text)
    assert [s.text for s in spans] == [
        "Eerste zin, bijv. met een afkorting.", "Tweede zin!", "Derde regel zonder punt",
        "bullet een", "bullet twee", "bullet drie", "genummerd", "ook genummerd"]
    assert all(text[s.start:s.end] == s.text for s in spans)
    doc = make_nlp()(text)
    assert len(list(doc.sents)) == 8


# --- tagging ---------------------------------------------------------------------------------

def test_result_shape_and_exact_offsets(tagger):
    result = tagger.tag(STORY)
    data = result.to_dict()
    assert set(data) == {"themes", "lessons"}
    assert data["themes"], "a story about debts gets a theme"
    assert data["themes"][0]["theme"] == "armoede"
    scores = [t["score"] for t in data["themes"]]
    assert scores == sorted(scores, reverse=True)
    for theme in data["themes"]:
        assert set(theme) == {"theme", "score", "component", "evidence"}
        assert theme["component"] in {"rules", "classifier", "rules+classifier"}
        assert 0.5 <= theme["score"] <= 1.0 and theme["evidence"]
        assert_exact(STORY, theme["evidence"])
    assert_exact(STORY, data["lessons"])
    assert [x["text"] for x in data["lessons"]] == ["Wat ik heb geleerd is dat je snel moet zijn."]
    assert set(result.all_scores) == set(Taxonomy.load().ids)
    assert all(0.0 <= s <= 1.0 for s in result.all_scores.values())
    applied = {t["theme"] for t in data["themes"]}
    assert applied == {t for t, s in result.all_scores.items() if s >= 0.5}
    json.dumps(data)


def test_evidence_of_rules_points_at_the_matching_sentences(rules_only):
    result = rules_only.tag(STORY).to_dict()
    armoede = next(t for t in result["themes"] if t["theme"] == "armoede")
    assert armoede["component"] == "rules"
    assert any("deurwaarder" in e["text"] for e in armoede["evidence"])
    assert all("veiligheid" not in e["text"] for e in armoede["evidence"])


def test_negated_safety_is_not_a_safety_tag(rules_only, tagger):
    negated = "Er zijn geen zorgen over de veiligheid van de kinderen."
    positive = "Er zijn ernstige zorgen over de veiligheid van de kinderen: er is huiselijk geweld."
    for t in (rules_only, tagger):
        assert t.tag(negated).all_scores["veiligheid"] < t.tag(positive).all_scores["veiligheid"]
    assert "veiligheid" not in {x.theme for x in rules_only.tag(negated).themes}
    assert "veiligheid" in {x.theme for x in rules_only.tag(positive).themes}


@pytest.mark.parametrize("text", ["", "   \n\n ", "😀😀😀", "<p></p>", "- \n* \n1. "])
def test_empty_and_odd_input(tagger, text):
    result = tagger.tag(text)
    assert result.to_dict() == {"themes": [], "lessons": []}


def test_html_and_long_input_keep_exact_offsets(tagger):
    html = "<div><p>Moeder heeft <b>schulden</b> bij de deurwaarder.</p><br/>" \
           "<p>De huurachterstand loopt op &amp; er dreigt een huisuitzetting.</p></div>"
    for theme in tagger.tag(html).to_dict()["themes"]:
        assert_exact(html, theme["evidence"])
    long_text = (STORY + "\n") * (10_000 // len(STORY) + 1)
    assert len(long_text) >= 10_000
    data = tagger.tag(long_text).to_dict()
    assert data["themes"] and len(data["lessons"]) > 5
    for theme in data["themes"]:
        assert len(theme["evidence"]) <= 3
        assert_exact(long_text, theme["evidence"])


def test_non_string_input_is_refused(tagger):
    with pytest.raises(TypeError, match="str"):
        tagger.tag(None)


def test_tag_many_matches_tag_in_order(tagger):
    texts = [STORY, "", "De buurvrouw haalt de kinderen uit school.", STORY[:80]] * 3
    many = [r.to_dict() for r in tagger.tag_many(texts, batch_size=5)]
    assert many == [tagger.tag(t).to_dict() for t in texts]


def test_char_ngram_cache_grows_without_changing_feature_rows(tagger):
    """The n-grams of every lemma met are cached in flat arrays that grow as new words come in;
    rows built while it grows equal rows from a fresh cache."""
    parts = ["schuld", "huur", "zorg", "buurt", "werk", "kind", "geld", "hulp", "school", "huis"]
    words = [a + b + c for a in parts for b in parts for c in ("en", "berg", "plan", "ing")]
    texts = [" ".join(words[i:i + 37]) + "." for i in range(0, len(words), 37)]
    chars = tagger.model.chars
    infos = []
    for k in range(0, len(texts), 3):  # batches, each bringing new lemmas
        batch = list(tagger.analyse_many(texts[k:k + 3]))
        infos += batch
        tagger.model.matrix(batch)
    assert chars._size > 4096  # past the first capacity
    grown = tagger.model.matrix(infos)
    fresh = CharVectorizer(chars.vocab, chars.idf, chars.low, chars.high)
    fresh.bind(tagger.nlp)
    assert abs(grown - feature_matrix(infos, tagger.model.vectorizer, tagger.model.theme_ids,
                                      fresh, tagger.model.rule_groups)).max() < 1e-12


def test_classifier_evidence_follows_its_sentences(tagger):
    """Each sentence's contribution to the logits stays with that sentence when the story's
    sentences are put in another order (the story's features do not depend on the order)."""
    sentences = ["Moeder heeft al jaren schulden en durft de post niet open te maken.",
                 "De buurvrouw haalt de kinderen twee keer per week uit school.",
                 "De wachtlijst voor jeugdhulp was ruim een half jaar.",
                 "Vader drinkt te veel en is dan onvoorspelbaar."]
    order = [2, 0, 3, 1]
    first, second = tagger.analyse_many(["\n".join(sentences),
                                         "\n".join(sentences[k] for k in order)])
    assert tagger._contributions(second) == pytest.approx(tagger._contributions(first)[order])


def test_lessons_through_the_tagger_equal_find_lessons(tagger):
    texts = [STORY, "Les voor mezelf: luisteren.\n- Voortaan bel ik eerst.\nDe les begon.",
             "In İzmir.\nHet belangrijkste inzicht was haar plan. VOLGENDE KEER vraag ik door."]
    for text in texts:
        assert tagger.tag(text).lessons == find_lessons(text)


def test_evidence_is_capped_at_max_evidence(models_dir):
    one = Tagger.load(models_dir)
    one.max_evidence = 1
    tags = one.tag(STORY).themes
    assert tags and all(len(t.evidence) == 1 for t in tags)
    with pytest.raises(ValueError):
        Tagger(Taxonomy.load(), max_evidence=0)


# --- loading ---------------------------------------------------------------------------------

def test_versions_and_thresholds_from_the_model(tagger, models_dir):
    assert registry.is_version(tagger.model_version)
    assert tagger.model_version == registry.active_version(models_dir)
    assert tagger.taxonomy.version == "2026.2"
    meta = json.loads((models_dir / tagger.model_version / "meta.json").read_text())
    for theme, th in meta["thresholds"].items():
        assert tagger.model.thresholds[theme].classifier == pytest.approx(th["classifier"])
        assert tagger.model.thresholds[theme].rules == pytest.approx(th["rules"])


def test_no_model_means_rules_only_with_a_clear_version(tmp_path, monkeypatch):
    monkeypatch.setenv("VERTELPUNT_MODELS_DIR", str(tmp_path / "nothing-here"))
    tagger = Tagger.load()
    assert tagger.model is None
    assert tagger.model_version == "rules-only+taxonomy-2026.2"
    assert "armoede" in {t.theme for t in tagger.tag(STORY).themes}


def test_default_models_dir_from_environment(models_dir, monkeypatch):
    monkeypatch.setenv("VERTELPUNT_MODELS_DIR", str(models_dir))
    assert Tagger.load().model_version == registry.active_version(models_dir)


def test_edited_taxonomy_object_is_used(models_dir):
    text = Taxonomy.load().to_toml().replace('version = "2026.2"', 'version = "2026.2-edit"')
    text += ('\n[[themes]]\nid = "huisdieren"\nlabel_nl = "Huisdieren"\nlabel_en = "Pets"\n'
             'definition = "Pets in the family."\n[themes.terms]\nhond = 2.5\nkat = 2.5\n')
    edited = Taxonomy.from_toml(text)
    tagger = Tagger.load(models_dir, taxonomy=edited)
    assert tagger.taxonomy.version == "2026.2-edit"
    result = tagger.tag("De hond en de kat liepen door de kamer. De hond blafte.")
    pets = [t for t in result.themes if t.theme == "huisdieren"]
    assert pets and pets[0].component == "rules"
    assert "huisdieren" in result.all_scores


WORDS = ["schulden", "deurwaarder", "geen", "niet", "veiligheid", "buurvrouw", "Voortaan",
         "huisarts", "wachtlijst", ".", "!", "?", ",", "\n", "- ", "• ", "1. ", "😀", "<b>",
         "&amp;", "\r\n", "  ", "bijv.", "Wat ik heb geleerd", "é", "\t"]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=6)), max_size=60))
def test_offsets_are_exact_for_any_text(rules_only, parts):
    text = " ".join(parts)
    data = rules_only.tag(text).to_dict()
    for theme in data["themes"]:
        assert_exact(text, theme["evidence"])
    assert_exact(text, data["lessons"])
