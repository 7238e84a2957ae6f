"""Review: the queue of least certain tags, one-click decisions stored with provenance and
audited, their effect on effective themes, and agreement (Cohen's kappa) per theme."""

from __future__ import annotations

import json

from conftest import login, post_form
from test_browse import FILLER, as_researcher, seed, sql

from vertelpunt import review


def queue_corpus(client) -> list[int]:
    return seed(
        client,
        [
            {"title": "Zeker", "nlp": {"armoede": 0.97}},
            {
                "title": "Twijfel",
                "nlp": {"armoede": 0.52, "wonen": 0.9},
                "text": "De huur was te hoog. Er was ook ruzie." + FILLER,
                "evidence": {"armoede": [{"start": 0, "end": 20}]},
            },
            {"title": "Midden", "nlp": {"opvoeding": 0.7}},
            {"title": "Verteller", "teller": ["gezondheid"]},
        ],
    )


def test_queue_puts_the_least_certain_tags_first(anonymous):
    ids = queue_corpus(anonymous)
    client = as_researcher(anonymous)
    data = client.get("/review.json").json()
    order = [(q["story_id"], q["theme"]) for q in data["queue"]]
    assert order[0] == (ids[1], "armoede")
    assert order[1] == (ids[2], "opvoeding")
    assert order[-1] == (ids[0], "armoede")
    assert data["queue"][0]["evidence"] == ["De huur was te hoog."]
    assert (ids[3], "gezondheid") not in order  # teller tags are not the tagger's
    page = client.get("/review")
    assert page.status_code == 200 and "Twijfel" in page.text
    assert 'name="csrf_token"' in page.text and 'value="accept"' in page.text


def test_decisions_are_stored_audited_and_change_effective_themes(anonymous):
    ids = queue_corpus(anonymous)
    client = as_researcher(anonymous)
    researcher = client.user_ids["researcher"]
    response = post_form(
        client,
        f"/review/{ids[1]}",
        {"theme": "armoede", "decision": "reject", "reason": "Gaat over ruzie."},
    )
    assert response.status_code == 303
    post_form(client, f"/review/{ids[2]}", {"theme": "opvoeding", "decision": "accept"})
    post_form(client, f"/review/{ids[2]}", {"theme": "veiligheid", "decision": "add"})
    rows = sql(
        client,
        "SELECT story_id, theme, source, decision, reason, created_at"
        " FROM story_themes WHERE source GLOB 'human:*' ORDER BY id",
    )
    assert [(r["story_id"], r["theme"], r["source"], r["decision"], r["reason"]) for r in rows] == [
        (ids[1], "armoede", f"human:{researcher}", "reject", "Gaat over ruzie."),
        (ids[2], "opvoeding", f"human:{researcher}", "accept", None),
        (ids[2], "veiligheid", f"human:{researcher}", "add", None),
    ]
    assert all(r["created_at"] for r in rows)
    events = sql(client, "SELECT subject, detail FROM events WHERE action = 'review.decide'")
    assert [(e["subject"], json.loads(e["detail"])["decision"]) for e in events] == [
        (f"story:{ids[1]}", "reject"),
        (f"story:{ids[2]}", "accept"),
        (f"story:{ids[2]}", "add"),
    ]
    assert all("ruzie" not in e["detail"] for e in events)  # no free text in the audit log
    # The reject takes the theme away everywhere; the add gives one.
    armoede = client.get("/verhalen.json?theme=armoede").json()
    assert ids[1] not in {s["id"] for s in armoede["stories"]}
    assert {s["id"] for s in client.get("/verhalen.json?theme=veiligheid").json()["stories"]} == {
        ids[2]
    }
    assert client.get("/verhalen.json?bron=reviewed").json()["total"] == 1
    # Reviewed tags leave the queue.
    queued = [(q["story_id"], q["theme"]) for q in client.get("/review.json").json()["queue"]]
    assert (ids[1], "armoede") not in queued and (ids[2], "opvoeding") not in queued
    # A second decision by the same reviewer replaces the first.
    post_form(client, f"/review/{ids[1]}", {"theme": "armoede", "decision": "accept"})
    decision = sql(
        client,
        "SELECT decision FROM story_themes WHERE story_id = ? AND theme ="
        " 'armoede' AND source GLOB 'human:*'",
        (ids[1],),
    )
    assert [d["decision"] for d in decision] == ["accept"]


def test_bad_decisions_are_refused(anonymous):
    ids = queue_corpus(anonymous)
    client = as_researcher(anonymous)
    assert (
        post_form(
            client, f"/review/{ids[1]}", {"theme": "armoede", "decision": "maybe"}
        ).status_code
        == 422
    )
    assert (
        post_form(client, f"/review/{ids[1]}", {"theme": "onbekend", "decision": "add"}).status_code
        == 422
    )
    assert (
        post_form(client, "/review/9999", {"theme": "armoede", "decision": "add"}).status_code
        == 404
    )
    client.cookies.clear()
    login(client, "teller")
    assert (
        post_form(
            client, f"/review/{ids[1]}", {"theme": "armoede", "decision": "reject"}
        ).status_code
        == 403
    )


def test_agreement_counts_and_kappa(anonymous):
    ids = seed(
        anonymous,
        [
            {"nlp": {"armoede": 0.9}},
            {"nlp": {"armoede": 0.8}},
            {"nlp": {"armoede": 0.6}},
            {"nlp": {"wonen": 0.7}},
        ],
    )
    client = as_researcher(anonymous)
    for story_id, decision, theme in [
        (ids[0], "accept", "armoede"),
        (ids[1], "accept", "armoede"),
        (ids[2], "reject", "armoede"),
        (ids[3], "add", "armoede"),
    ]:
        post_form(client, f"/review/{story_id}", {"theme": theme, "decision": decision})
    data = client.get("/review.json").json()["agreement"]
    assert data["reviewed_stories"] == 4
    armoede = next(t for t in data["themes"] if t["theme"] == "armoede")
    assert (
        armoede["both"],
        armoede["tagger_only"],
        armoede["reviewer_only"],
        armoede["neither"],
    ) == (2, 1, 1, 0)
    assert armoede["decisions"] == {"accept": 2, "reject": 1, "add": 1}
    # tagger [1,1,1,0], reviewers [1,1,0,1]: po = 0.5, pe = 0.625 -> kappa = -1/3
    assert armoede["kappa"] == round(-1 / 3, 3)
    wonen = next(t for t in data["themes"] if t["theme"] == "wonen")
    assert wonen["kappa"] == 1.0 and wonen["both"] == 1
    veiligheid = next(t for t in data["themes"] if t["theme"] == "veiligheid")
    assert veiligheid["kappa"] is None  # nobody ever said yes: undefined
    page = client.get("/review").text
    assert "n.v.t." in page and "-0.33" in page


def test_kappa_helper():
    assert review.kappa([], []) is None
    assert review.kappa([1, 1], [1, 1]) is None
    assert review.kappa([1, 0, 1, 0], [1, 0, 1, 0]) == 1.0
