"""The JSON API: status codes and shapes, per the contract in shared/DESIGN.md."""

from __future__ import annotations

import pytest
from conftest import STORY_TEXT, api_token, login


@pytest.fixture
def client(anonymous):
    """A script using the API with a teller's API token (no cookies, no CSRF token needed)."""
    anonymous.headers.update(api_token(anonymous, "teller"))
    return anonymous


def story_json(client, **overrides) -> dict:
    body = {
        "title": "Via de API",
        "text": STORY_TEXT,
        "team": "Wijkteam Noord",
        "month": "2025-04",
        "role": "gezinscoach",
        "themes": ["armoede"],
        "signifier_difference": 40,
        "signifier_outcome": 70,
    }
    body.update(overrides)
    return body


def test_post_story_returns_the_masked_preview_then_confirm(client):
    response = client.post("/api/v1/stories", json=story_json(client))
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "preview"
    assert "Fatima" not in body["preview"]["text"]
    assert "[PERSOON-1]" in body["preview"]["text"]
    assert {"start", "end", "label", "text"} <= set(body["entities"][0])

    confirmed = client.post(body["confirm_url"], json={})
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "confirmed"
    assert len(confirmed.json()["withdrawal_code"]) == 14
    again = client.post(body["confirm_url"], json={})
    assert again.status_code == 409

    story = client.get(f"/api/v1/stories/{body['id']}").json()
    assert story["title"] == "Via de API"
    assert "Fatima" not in story["text"]
    assert "original_text" not in story
    assert story["team"] == "Wijkteam Noord" and story["municipality"] == "Zwolle"
    assert [t["theme"] for t in story["themes"] if t["source"] == "teller"] == ["armoede"]

    listed = client.get("/api/v1/stories").json()["stories"]
    assert [s["id"] for s in listed] == [body["id"]]


def test_confirm_with_corrected_entities(client):
    body = client.post("/api/v1/stories", json=story_json(client)).json()
    kept = [e for e in body["entities"] if e["label"] != "TELEFOON"]
    response = client.post(body["confirm_url"], json={"entities": kept})
    assert response.status_code == 200
    story = client.get(f"/api/v1/stories/{body['id']}").json()
    assert "06-12345678" in story["text"]


def test_confirm_rejects_entities_out_of_bounds(client):
    body = client.post("/api/v1/stories", json=story_json(client)).json()
    bad = [{"start": 0, "end": 10**6, "label": "PERSOON", "text": "x"}]
    response = client.post(body["confirm_url"], json={"entities": bad})
    assert response.status_code == 422
    assert "klopt niet" in response.json()["error"]


def test_bad_input_gets_422_with_a_message_per_field(client):
    response = client.post(
        "/api/v1/stories",
        json={
            "title": 5,
            "text": "kort",
            "team": "Onbekend",
            "month": "2025-3",
            "themes": "armoede",
            "signifier_outcome": True,
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["error"]
    assert set(body["fields"]) >= {"text", "team", "month", "role", "signifier_outcome"}
    count = client.portal.call(client.app.state.db.fetchone, "SELECT count(*) AS n FROM stories")
    assert count["n"] == 0


def test_invalid_json_and_wrong_shapes(client):
    response = client.post(
        "/api/v1/stories", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "De inhoud is geen geldige JSON."}
    response = client.post("/api/v1/stories", json=[1, 2])
    assert response.status_code == 422
    assert "JSON-object" in response.json()["error"]


def test_unknown_story_is_404_json(client):
    response = client.get("/api/v1/stories/4242")
    assert response.status_code == 404
    assert response.json() == {"error": "Dit verhaal bestaat niet."}


def test_themes_lists_the_default_taxonomy(client):
    body = client.get("/api/v1/themes").json()
    ids = [t["id"] for t in body["themes"]]
    assert ids[:3] == ["veiligheid", "armoede", "informeel-netwerk"]
    assert len(ids) == 10
    assert body["version"]
    assert all(t["label_nl"] and t["definition"] for t in body["themes"])


def test_api_as_researcher_reads_but_cannot_post(anonymous):
    teller = dict(api_token(anonymous, "teller"))
    researcher = dict(api_token(anonymous, "researcher"))
    body = anonymous.post("/api/v1/stories", json=story_json(anonymous), headers=teller).json()
    anonymous.post(body["confirm_url"], json={}, headers=teller)
    assert (
        anonymous.post(
            "/api/v1/stories", json=story_json(anonymous), headers=researcher
        ).status_code
        == 403
    )
    assert anonymous.get(f"/api/v1/stories/{body['id']}", headers=researcher).status_code == 200


def test_api_with_a_session_cookie_needs_the_csrf_header(anonymous):
    login(anonymous, "teller")
    response = anonymous.post("/api/v1/stories", json=story_json(anonymous))
    assert response.status_code == 403
    response = anonymous.post(
        "/api/v1/stories",
        json=story_json(anonymous),
        headers={"x-csrf-token": anonymous.csrf_token},
    )
    assert response.status_code == 201


def test_api_for_another_team_is_refused(client):
    response = client.post("/api/v1/stories", json=story_json(client, team="Buurtteam Zuid"))
    assert response.status_code == 422
    assert "team" in response.json()["fields"]
