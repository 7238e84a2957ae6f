"""nlp/similarity.py: TF-IDF cosine neighbours, without the web app."""

from __future__ import annotations

from nlp import similarity


def test_top_neighbours_finds_the_closest_other_document():
    docs = [
        "huurachterstand deurwaarder ontruim",
        "deurwaarder huurachterstand brief",
        "tuin vrijwillig buurt",
        "buurt tuin moestuin",
        "school leerplicht verzuim",
    ]
    found = similarity.top_neighbours(docs, k=2, chunk=2)  # chunks smaller than the corpus
    assert [n[0][0] for n in found[:4]] == [1, 0, 3, 2]
    assert all(i not in [j for j, _ in n] for i, n in enumerate(found))  # never itself
    assert all(score >= similarity.MIN_SCORE for n in found for _, score in n)
    scores = [s for _, s in found[0]]
    assert scores == sorted(scores, reverse=True)


def test_degenerate_inputs():
    assert similarity.top_neighbours([]) == []
    assert similarity.top_neighbours(["alleen"]) == [[]]
    assert similarity.top_neighbours(["", ""]) == [[], []]
