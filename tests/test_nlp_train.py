"""Training, thresholds, evaluation, agreement, model versions and promotion."""

import dataclasses
import json
from datetime import UTC, datetime

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from nlp import registry
from nlp import train as nlp_train
from nlp.evaluate import Example, cohen_kappa, evaluate, load_jsonl, scores
from nlp.features import ALL_RULE_FEATURES, RULE_FEATURES
from nlp.model import Model
from nlp.pipeline import Tagger
from nlp.taxonomy import Taxonomy
from nlp.train import (
    DATA_DIR,
    PARAGRAPHS,
    default_examples,
    promote_if_not_worse,
    save,
    split_heldout,
    train,
)

NOW = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


@pytest.fixture(scope="module")
def taxonomy():
    return Taxonomy.load()


@pytest.fixture(scope="module")
def paragraphs():
    return load_jsonl(PARAGRAPHS)[:120]


@pytest.fixture(scope="module")
def model(paragraphs, taxonomy):
    return train(paragraphs, taxonomy, C=4.0, now=NOW)


def test_training_is_deterministic(model, paragraphs, taxonomy):
    again = train(paragraphs, taxonomy, C=4.0, now=NOW)
    assert again.version == model.version == "m-20261123-1030-" + model.version[-6:]
    assert np.array_equal(again.coef, model.coef)
    assert np.array_equal(again.intercept, model.intercept)
    assert again.thresholds == model.thresholds
    assert again.vectorizer.vocab == model.vectorizer.vocab
    assert again.chars.vocab == model.chars.vocab and model.chars.vocab
    assert np.array_equal(again.chars.idf, model.chars.idf)


def test_thresholds_come_from_cross_validation(model, taxonomy):
    assert set(model.thresholds) == set(taxonomy.ids)
    values = {th.classifier for th in model.thresholds.values()}
    assert len(values) > 1, "per-theme thresholds, not one guessed constant"
    assert all(0.1 <= th.classifier <= 0.9 for th in model.thresholds.values())
    meta = model.meta
    assert meta["training_size"] == 120 and meta["taxonomy_version"] == "2026.2"
    assert set(meta["metrics"]["per_theme"]) == set(taxonomy.ids)


def test_save_and_load_keep_everything(model, tmp_path):
    path = save(model, tmp_path)
    assert path == tmp_path / model.version
    loaded = Model.load(path)
    assert loaded.thresholds == model.thresholds
    assert np.array_equal(loaded.coef, model.coef)
    assert loaded.chars.vocab == model.chars.vocab and loaded.rule_groups == RULE_FEATURES
    meta = json.loads((path / "meta.json").read_text())
    assert meta["version"] == model.version and meta["thresholds"]
    (path / "vocab.json").unlink()
    with pytest.raises(FileNotFoundError, match="vocab.json"):
        Model.load(path)


def test_classifier_alone_gives_evidence_by_sentence_contribution(taxonomy):
    tagger = Tagger(taxonomy, train(_pool_examples(), taxonomy, C=4.0))
    text = "We dronken koffie aan tafel. Het zwembad was weer vol. Het regende die ochtend."
    tag = next(t for t in tagger.tag(text).themes if t.theme == "werkdruk")
    assert tag.component == "classifier"
    assert [e.text for e in tag.evidence] == ["Het zwembad was weer vol."]
    assert text[tag.evidence[0].start:tag.evidence[0].end] == tag.evidence[0].text


def _pool_examples():
    """ "zwembad" is in no rule: only the classifier can learn that it signals werkdruk here."""
    filler = ["De dag begon rustig.", "We dronken koffie aan tafel.", "Het regende die ochtend."]
    examples = []
    for i in range(24):
        base = " ".join(filler[(i + k) % 3] for k in range(2))
        examples.append(Example(base + " Het zwembad was weer vol.", frozenset({"werkdruk"})))
        examples.append(Example(base + " De tuin was weer groen.", frozenset()))
    return examples


def test_unseen_compound_counts_through_character_ngrams(taxonomy):
    tagger = Tagger(taxonomy, train(_pool_examples(), taxonomy, C=4.0))
    unseen = "zwembadabonnement"  # never in training: no lemma feature, but " zwemb", "mbad" ...
    assert unseen not in tagger.model.vectorizer.vocab
    text = f"We dronken koffie aan tafel. Het {unseen} was weer verlopen. Het regende die ochtend."
    tag = next(t for t in tagger.tag(text).themes if t.theme == "werkdruk")
    assert tag.component == "classifier"
    assert [e.text for e in tag.evidence] == [f"Het {unseen} was weer verlopen."]
    control = "We dronken koffie aan tafel. Het tuinhekje was weer verlopen."
    assert tagger.tag(control).all_scores["werkdruk"] < 0.5
    # the same model without its n-gram weights does not see it
    model = tagger.model
    start, stop = len(model.vectorizer.vocab), model.rule_offset
    blind = dataclasses.replace(model, coef=model.coef.copy())
    blind.coef[:, start:stop] = 0.0
    assert Tagger(taxonomy, blind).tag(text).all_scores["werkdruk"] < 0.5


def test_evidence_contributions_add_up_to_the_logit(model, paragraphs, taxonomy):
    """The per-sentence contributions that pick classifier evidence are an exact split of the
    linear part of the logit: lemma TF-IDF, character n-grams and rule features."""
    tagger = Tagger(taxonomy, model)
    texts = [e.text for e in paragraphs[:12]] + ["Geen schulden. Wel schulden, schulden!", "x"]
    infos = list(tagger.analyse_many(texts))
    X = model.matrix(infos)
    logits = np.asarray(X @ model.coef.T)
    for i, info in enumerate(infos):
        for row in range(len(model.theme_ids)):
            assert tagger._contributions(info)[:, row].sum() == pytest.approx(
                logits[i, row], abs=1e-9)


def test_models_saved_before_char_ngrams_still_load(model, paragraphs, taxonomy, tmp_path):
    """Old format: vocab.json a plain list of lemmas, no char_idf, three rule features per
    theme, no "rule_features" in meta.json. It must load and tag as before."""
    path = save(model, tmp_path)
    n_vocab, n_themes = len(model.vectorizer.vocab), len(model.theme_ids)
    old_coef = np.hstack([model.coef[:, :n_vocab], model.coef[:, model.rule_offset:],
                          np.full((n_themes, n_themes), 0.5)])  # weights of "relative"
    np.savez_compressed(path / "model.npz", coef=old_coef, intercept=model.intercept,
                        idf=model.vectorizer.idf)
    (path / "vocab.json").write_text(json.dumps(model.vectorizer.vocab))
    meta = json.loads((path / "meta.json").read_text())
    del meta["rule_features"]
    (path / "meta.json").write_text(json.dumps(meta))

    old = Model.load(path)
    assert old.chars is None and old.rule_groups == ALL_RULE_FEATURES
    tagger = Tagger(taxonomy, old)
    texts = [e.text for e in paragraphs[:20]]
    infos = list(tagger.analyse_many(texts))
    for info, result in zip(infos, tagger.tag_many(texts), strict=True):
        rules = info.rule_features(model.theme_ids, ALL_RULE_FEATURES)
        cols, values = old.vectorizer.lemma_values(*np.unique(info.lemmas, return_counts=True))
        z = model.coef[:, cols] @ values + old_coef[:, n_vocab:] @ rules + model.intercept
        assert np.allclose(old.probabilities(old.matrix([info]))[0], 1 / (1 + np.exp(-z)))
        assert {t.theme for t in result.themes} == {
            t for t, s in result.all_scores.items() if s >= 0.5}
        for theme in result.to_dict()["themes"]:
            assert all(info.doc.text[e["start"]:e["end"]] == e["text"]
                       for e in theme["evidence"])


def test_default_examples_take_every_training_file(tmp_path, monkeypatch):
    examples = default_examples()
    sources = {e.source for e in examples}
    assert sources == {"demo"} | {p.stem for p in DATA_DIR.glob("train_*.jsonl")}
    assert {"train_paragraphs", "train_more_a"} <= sources
    assert all(e.weight == nlp_train.DEMO_WEIGHT for e in examples if e.source == "demo")
    # a file added later is picked up without a code change
    (tmp_path / "train_new.jsonl").write_text('{"text": "Nieuw.", "themes": ["wonen"]}\n')
    (tmp_path / "other.jsonl").write_text('{"text": "Niet dit.", "themes": []}\n')
    monkeypatch.setattr(nlp_train, "DATA_DIR", tmp_path)
    assert {e.source for e in default_examples()} == {"demo", "train_new"}


def test_training_refuses_unknown_themes(taxonomy):
    with pytest.raises(ValueError, match="huisdieren"):
        train([("a", {"huisdieren"}), ("b", set())], taxonomy)


def test_scores_and_macro_f1():
    gold = [{"a"}, {"a", "b"}, set(), {"b"}]
    pred = [{"a"}, {"a"}, {"b"}, {"b"}]
    report = scores(gold, pred, ["a", "b", "c"])
    a, b, c = (report["per_theme"][t] for t in "abc")
    assert (a["precision"], a["recall"], a["f1"]) == (1.0, 1.0, 1.0)
    assert b["precision"] == 0.5 and b["recall"] == 0.5 and b["f1"] == 0.5
    assert c["f1"] is None  # never gold, never predicted: left out of the average
    assert report["macro_f1"] == pytest.approx(0.75)


def test_evaluate_on_a_tagger(taxonomy):
    tagger = Tagger(taxonomy)
    examples = [("De deurwaarder kwam voor de schulden.", {"armoede"}),
                ("De buurvrouw en oma helpen mee.", {"informeel-netwerk"})]
    report = evaluate(tagger, examples)
    assert report["per_theme"]["armoede"]["f1"] == 1.0
    assert report["macro_f1_main"] == 1.0
    assert report["model_version"].startswith("rules-only")


def test_cohen_kappa_per_theme():
    a = [{"x"}, {"x"}, set(), {"y"}, set()]
    b = [{"x"}, set(), set(), {"y"}, {"x"}]
    kappa = cohen_kappa(a, b, ["x", "y", "z"])
    assert kappa["x"] == pytest.approx(cohen_kappa_score([1, 1, 0, 0, 0], [1, 0, 0, 0, 1]))
    assert kappa["y"] == pytest.approx(1.0)
    assert kappa["z"] is None
    with pytest.raises(ValueError):
        cohen_kappa(a, b[:2], ["x"])


def test_versions_and_active_pointer(tmp_path):
    assert registry.new_version("x", NOW) == registry.new_version("x", NOW)
    assert registry.is_version(registry.new_version("x", NOW))
    assert registry.resolve(tmp_path) is None
    with pytest.raises(FileNotFoundError):
        registry.set_active(tmp_path, "m-20261123-1030-abcdef")


def test_promotion_only_when_not_worse(model, paragraphs, taxonomy, tmp_path):
    train_set, heldout = split_heldout(paragraphs, 0.25)
    assert len(heldout) == 30 and len(train_set) == 90
    good_dir = save(train(train_set, taxonomy, C=4.0, now=NOW), tmp_path)

    first = promote_if_not_worse(good_dir, None, heldout, taxonomy)
    assert first.promoted and registry.active_version(tmp_path) == good_dir.name

    # labels shuffled between stories: a model that learned nothing useful
    rng = np.random.default_rng(1)
    labels = [e.themes for e in train_set]
    order = rng.permutation(90)
    shuffled = [Example(e.text, labels[j]) for e, j in zip(train_set, order, strict=True)]
    bad_dir = save(train(shuffled, taxonomy, C=4.0, now=NOW), tmp_path)
    worse = promote_if_not_worse(bad_dir, good_dir, heldout, taxonomy)
    assert not worse.promoted and worse.new_macro_f1 < worse.current_macro_f1
    assert registry.active_version(tmp_path) == good_dir.name

    same = promote_if_not_worse(good_dir, good_dir, heldout, taxonomy)
    assert same.promoted  # equal is "not worse"
    assert Tagger.load(tmp_path).model_version == good_dir.name


def test_naive_bayes_weights_favour_features_that_tell_the_classes_apart():
    from scipy import sparse

    # columns: only in positives, in everything, only in negatives, nowhere
    present = sparse.csr_matrix(np.array([[1, 1, 0, 0], [1, 1, 0, 0], [0, 1, 1, 0],
                                          [0, 1, 1, 0], [0, 1, 0, 0]], dtype=float))
    r = nlp_train.nb_ratios(present, np.array([1, 1, 0, 0, 0]))
    assert r[0] > r[1] and r[2] > r[1]  # telling features weigh more than a common one
    assert r[1] < 0.3 and r[3] < 0.3  # both classes alike: near zero
    assert (r >= 0).all()  # a weight, not a direction: the regression keeps the sign
