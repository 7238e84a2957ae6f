"""Telling a story through the web form: validation, the masked preview, confirmation."""

from __future__ import annotations

import re

import pytest
from conftest import STORY_TEXT, login, post_form, run_worker, story_form

from vertelpunt.stories import TEXT_MAX
from vertelpunt.taxonomy import active_taxonomy


def submit(client, **overrides):
    return post_form(client, "/vertel", story_form(client, **overrides))


def test_form_shows_every_field_with_a_dutch_label(client):
    page = client.get("/vertel")
    assert page.status_code == 200
    for label in (
        "Titel",
        "Je verhaal",
        "Team",
        "Maand waarin het gebeurde",
        "Je rol",
        "Wat is de les?",
        "Wie maakte het verschil?",
        "Hoe liep het af?",
    ):
        assert label in page.text
    # A teller chooses among their own teams only; with one team it is chosen already.
    assert re.search(r'<option value="\d+" selected>Wijkteam Noord</option>', page.text)
    assert "Buurtteam Zuid" not in page.text
    assert 'value="informeel-netwerk"' in page.text
    assert 'type="range"' in page.text


def test_happy_path_preview_confirm_and_thanks(client):
    response = submit(client)
    assert response.status_code == 303
    preview_url = response.headers["location"]
    assert preview_url.endswith("/controle")

    preview = client.get(preview_url)
    assert preview.status_code == 200
    # The original is shown to its teller with the masks marked ...
    assert "Fatima el Amrani" in preview.text
    # ... and the masked version that researchers will see.
    assert "[PERSOON-1]" in preview.text and "[TELEFOON-1]" in preview.text

    thanks = post_form(
        client, preview_url, {"action": "confirm", "mask": [str(i) for i in range(50)]}
    )
    assert thanks.status_code == 200
    assert "Bedankt voor je verhaal" in thanks.text
    code = re.search(r'id="intrekcode">([A-Z0-9-]+)<', thanks.text).group(1)
    assert len(code) == 14

    story_id = int(preview_url.split("/")[-2])
    detail = client.get(f"/verhalen/{story_id}")
    assert detail.status_code == 200
    assert "Fatima" not in detail.text and "06-12345678" not in detail.text
    assert "[PERSOON-1]" in detail.text
    assert "buurvrouw" in detail.text  # role words stay


def test_confirmed_story_drops_the_original_text(client):
    preview_url = submit(client).headers["location"]
    post_form(client, preview_url, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    story_id = int(preview_url.split("/")[-2])
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT status, original_text, text, proposed_entities FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["status"] == "confirmed"
    assert row["original_text"] is None and row["proposed_entities"] is None
    assert "Fatima" not in row["text"]


def test_teller_can_undo_a_mask_and_mask_more(client):
    preview_url = submit(client).headers["location"]
    page = client.get(preview_url).text
    boxes = re.findall(r'name="mask" value="(\d+)"', page)
    labels = re.findall(r"Verberg “([^”]+)”", page)
    kept = [i for i, text in zip(boxes, labels, strict=True) if text != "Kastanjelaan 12"]
    assert len(kept) == len(boxes) - 1, labels

    updated = post_form(
        client,
        preview_url,
        {
            "action": "update",
            "mask": kept,
            "extra": "deurwaarder",
            "extra_label": "INSTELLING",
        },
    )
    assert updated.status_code == 200
    masked = updated.text.split("Wat onderzoekers zien")[1]
    assert "Kastanjelaan 12" in masked
    assert "deurwaarder" not in masked.split("Wat we weghalen")[0]
    assert "[INSTELLING-1]" in masked

    # The correction is kept: confirming with the same choices gives that text.
    boxes = re.findall(r'name="mask" value="(\d+)"', updated.text)
    post_form(client, preview_url, {"action": "confirm", "mask": boxes})
    story_id = int(preview_url.split("/")[-2])
    text = client.portal.call(
        client.app.state.db.fetchone, "SELECT text FROM stories WHERE id = ?", (story_id,)
    )["text"]
    assert "Kastanjelaan 12" in text and "deurwaarder" not in text


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "Geef je verhaal een titel."),
        ("title", "ab", "Maak de titel wat langer"),
        ("title", "x" * 201, "Maak de titel korter"),
        ("text", "", "dit veld is nog leeg"),
        ("text", "Te kort verhaal.", "Je verhaal is nog kort (16 tekens)"),
        ("text", "a" * (TEXT_MAX + 1), "Je verhaal is te lang"),
        ("text", "😀 " * 40, "Je verhaal bevat geen woorden"),
        ("team", "", "Kies het team waarin je werkt."),
        ("team", "999", "Kies het team waarin je werkt."),
        ("month", "maart", "Kies de maand waarin het gebeurde"),
        ("month", "2025-13", "Kies de maand waarin het gebeurde"),
        ("month", "1999-05", "Kies een maand vanaf het jaar 2000."),
        ("month", "2999-01", "Die maand ligt in de toekomst."),
        ("role", "", "Vul je rol in"),
        ("role", "r" * 81, "Houd je rol kort"),
        ("lesson", "l" * 2001, "Houd de les korter"),
        ("themes", ["armoede", "ruimtevaart"], "Onbekend thema: ruimtevaart."),
        ("signifier_difference", "150", "Kies een waarde op de schuifbalk"),
        ("signifier_outcome", "veel", "Kies een waarde op de schuifbalk"),
    ],
)
def test_every_validation_error_is_shown_in_dutch_and_keeps_the_input(
    client, field, value, message
):
    response = submit(client, **{field: value})
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}-fout"' in response.text or field == "themes"
    assert "punt om te verbeteren" in response.text
    if field != "text":
        # What the person typed is still in the form.
        assert "Ik kwam bij Fatima el Amrani thuis" in response.text
    count = client.portal.call(client.app.state.db.fetchone, "SELECT count(*) AS n FROM stories")
    assert count["n"] == 0


def test_html_in_a_story_is_shown_as_text_never_run(client):
    text = STORY_TEXT + ' <script>alert("x")</script> <b>vet</b>'
    preview_url = submit(client, text=text, title="<img src=x onerror=alert(1)>").headers[
        "location"
    ]
    page = client.get(preview_url).text
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_story_is_kept_for_its_teller_when_deidentification_fails(client, monkeypatch):
    from nlp import deidentify as deid

    def broken(text):
        raise RuntimeError("model not loaded")

    monkeypatch.setattr(deid, "find_entities", broken)
    preview_url = submit(client).headers["location"]
    page = client.get(preview_url)
    assert "veilig opgeslagen" in page.text
    assert "lukte niet meteen; we proberen het automatisch opnieuw" in page.text
    story_id = int(preview_url.split("/")[-2])
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT status, original_text, text, deid_attempts FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["status"] == "pending" and row["text"] is None
    assert row["original_text"].startswith("Ik kwam bij Fatima")
    # Not visible for research while pending.
    assert client.get(f"/verhalen/{story_id}").status_code == 404
    assert "Fatima" not in client.get("/verhalen").text

    monkeypatch.undo()
    assert run_worker(client) >= 1
    assert "[PERSOON-1]" in client.get(preview_url).text


def test_confirmed_story_is_tagged_by_the_worker(client):
    preview_url = submit(client).headers["location"]
    post_form(client, preview_url, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    story_id = int(preview_url.split("/")[-2])
    run_worker(client)
    rows = client.portal.call(
        client.app.state.db.fetchall,
        "SELECT theme, source, score, evidence FROM story_themes WHERE story_id = ?",
        (story_id,),
    )
    sources = {row["source"].split(":")[0] for row in rows}
    assert {"teller", "nlp"} <= sources
    status = client.portal.call(
        client.app.state.db.fetchone, "SELECT nlp_status FROM stories WHERE id = ?", (story_id,)
    )
    assert status["nlp_status"] == "done"


def test_tagging_failure_keeps_the_story_and_retries(client, monkeypatch):
    preview_url = submit(client).headers["location"]
    post_form(client, preview_url, {"action": "confirm", "mask": [str(i) for i in range(50)]})
    story_id = int(preview_url.split("/")[-2])
    taxonomy = client.portal.call(active_taxonomy, client.app.state.db)
    tagger = client.app.state.tagging.tagger_for(taxonomy)

    def broken(text):
        raise RuntimeError("boom")

    monkeypatch.setattr(tagger, "tag", broken)
    run_worker(client)
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT status, nlp_status, nlp_attempts, nlp_error, text FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["status"] == "confirmed" and row["text"]
    assert row["nlp_status"] == "waiting" and row["nlp_attempts"] == 1
    assert "boom" in row["nlp_error"]
    monkeypatch.undo()
    run_worker(client)
    row = client.portal.call(
        client.app.state.db.fetchone, "SELECT nlp_status FROM stories WHERE id = ?", (story_id,)
    )
    assert row["nlp_status"] == "done"


def test_stories_survive_reopening_the_database(client, settings):
    from starlette.testclient import TestClient

    from vertelpunt.app import create_app

    preview_url = submit(client).headers["location"]
    post_form(client, preview_url, {"action": "confirm", "mask": ["0"]})
    story_id = int(preview_url.split("/")[-2])

    # A second app process on the same database file sees the committed story.
    with TestClient(create_app(settings), follow_redirects=False) as reopened:
        login(reopened, "researcher")
        detail = reopened.get(f"/verhalen/{story_id}")
        assert detail.status_code == 200
        assert "Een plan met de buurvrouw" in detail.text
