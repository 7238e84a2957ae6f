"""Observations on patterns (with the filtered view and interpretations) and stories
marked most significant: stored, validated, audited, listed on the patterns page."""

from __future__ import annotations

from conftest import post_form
from test_browse import as_researcher, seed, sql
from test_patterns import set_k

from vertelpunt import observations


def test_an_observation_keeps_its_view_and_interpretations(anonymous):
    seed(anonymous, [{"nlp": {"armoede": 0.9}} for _ in range(3)])
    client = as_researcher(anonymous)
    set_k(client, 1)
    response = post_form(
        client,
        "/observaties",
        {
            "text": "Armoede stijgt in het voorjaar.",
            "query": "theme=armoede&from=2025-01&onzin=1",
            "interpretation": ["Energierekeningen komen in maart.", "", "Of: meer meldingen."],
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/patronen?theme=armoede&from=2025-01#observaties"
    stored = client.portal.call(observations.list_observations, client.app.state.db)
    assert len(stored) == 1
    assert stored[0]["query"] == "theme=armoede&from=2025-01"
    assert stored[0]["interpretations"] == [
        "Energierekeningen komen in maart.",
        "Of: meer meldingen.",
    ]
    assert stored[0]["author"] == "researcher@example.nl"
    page = client.get("/patronen").text
    assert "Armoede stijgt in het voorjaar." in page and "Of: meer meldingen." in page
    assert 'href="/patronen?theme=armoede&amp;from=2025-01"' in page
    events = sql(client, "SELECT action FROM events WHERE action = 'observation.add'")
    assert len(events) == 1
    as_json = client.get("/patronen.json").json()["observations"]
    assert as_json[0]["text"] == "Armoede stijgt in het voorjaar."


def test_an_observation_needs_text_and_an_interpretation(anonymous):
    client = as_researcher(anonymous)
    no_reading = post_form(client, "/observaties", {"text": "Iets", "interpretation": ["  "]})
    assert no_reading.status_code == 422 and "interpretatie" in no_reading.text
    no_text = post_form(client, "/observaties", {"text": "", "interpretation": ["x"]})
    assert no_text.status_code == 422
    assert sql(client, "SELECT count(*) AS n FROM observations")[0]["n"] == 0


def test_significant_stories_are_listed_per_theme_with_k(anonymous):
    ids = seed(anonymous, [{"title": f"V{i}", "nlp": {"armoede": 0.9}} for i in range(3)])
    client = as_researcher(anonymous)
    post_form(
        client,
        f"/verhalen/{ids[0]}/betekenisvol",
        {"theme": "armoede", "reason": "Het keerpunt in het gezin."},
    )
    set_k(client, 3)
    listed = client.get("/patronen.json").json()["significant"]
    assert [(s["story_id"], s["theme"], s["reason"]) for s in listed] == [
        (ids[0], "armoede", "Het keerpunt in het gezin.")
    ]
    assert "Het keerpunt in het gezin." in client.get("/patronen").text
    set_k(client, 4)  # the theme now has fewer than k stories: not shown
    assert client.get("/patronen.json").json()["significant"] == []
    # Plain functions for exports.
    rows = client.portal.call(observations.significant_stories, client.app.state.db)
    assert rows[0]["story_id"] == ids[0]
