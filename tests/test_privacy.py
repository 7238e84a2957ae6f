"""Privacy in the app: withdrawal codes, and deleted text gone from the database file."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import STORY_TEXT, post_form, story_form

MARKER = "Kwartelkoningweide"  # a made-up word, so finding it in the file means our text


def confirmed_story(client, text: str, extra: str = "") -> tuple[int, str]:
    preview = post_form(client, "/vertel", story_form(client, text=text)).headers["location"]
    page = post_form(
        client,
        preview,
        {"action": "confirm", "mask": [str(i) for i in range(50)], "extra": extra},
    )
    code = re.search(r'id="intrekcode">([A-Z0-9-]+)<', page.text).group(1)
    return int(preview.split("/")[-2]), code


def file_bytes(db_path: Path) -> bytes:
    data = db_path.read_bytes()
    wal = db_path.with_name(db_path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


def test_withdrawn_story_text_is_gone_from_the_database_file(client, settings):
    text = STORY_TEXT + f" We spraken af in de {MARKER} bij het buurthuis."
    story_id, code = confirmed_story(client, text)
    client.portal.call(client.app.state.db.checkpoint)
    assert MARKER.encode() in file_bytes(settings.db_path)  # the check can fail

    page = post_form(client, "/intrekken", {"code": code.lower()})  # case does not matter
    assert page.status_code == 200 and "ingetrokken" in page.text
    assert MARKER.encode() not in file_bytes(settings.db_path)
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT status, text, title FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["status"] == "withdrawn" and row["text"] is None and row["title"] == ""
    assert client.get(f"/verhalen/{story_id}").status_code == 404
    again = post_form(client, "/intrekken", {"code": code})
    assert again.status_code == 422 and "kennen we niet" in again.text


def test_original_text_is_gone_from_the_file_after_confirmation(client, settings):
    text = STORY_TEXT + " Haar buurman Gerrit Kwartelkoningweide hielp mee."
    preview = post_form(client, "/vertel", story_form(client, text=text)).headers["location"]
    client.portal.call(client.app.state.db.checkpoint)
    assert MARKER.encode() in file_bytes(settings.db_path)
    # The teller masks the neighbour's surname by hand, whatever the de-identifier found.
    post_form(
        client,
        preview,
        {
            "action": "confirm",
            "mask": [str(i) for i in range(50)],
            "extra": MARKER,
            "extra_label": "PERSOON",
        },
    )
    client.portal.call(client.app.state.db.checkpoint)
    assert MARKER.encode() not in file_bytes(settings.db_path)


def test_withdrawal_is_audited_without_text(client):
    story_id, code = confirmed_story(client, STORY_TEXT)
    post_form(client, "/intrekken", {"code": code})
    rows = client.portal.call(
        client.app.state.db.fetchall, "SELECT action, subject, detail FROM events"
    )
    assert ("story.withdraw", f"story:{story_id}") in [(r["action"], r["subject"]) for r in rows]
    assert all("Fatima" not in r["detail"] for r in rows)


def test_originals_are_not_kept_by_default(client):
    story_id, _ = confirmed_story(client, STORY_TEXT)
    row = client.portal.call(
        client.app.state.db.fetchone,
        "SELECT original_text, original_encrypted FROM stories WHERE id = ?",
        (story_id,),
    )
    assert row["original_text"] is None and row["original_encrypted"] is None
    assert client.get(f"/mijn-verhalen/{story_id}/origineel").status_code == 404


def test_kept_originals_are_encrypted_readable_by_their_teller_and_purged(anonymous, settings):
    from conftest import login

    from vertelpunt import privacy

    client = anonymous
    login(client, "admin")
    post_form(
        client,
        "/beheer/instellingen",
        {"min_cell": "5", "keep_original": "1", "retention_days": "30"},
    )
    client.cookies.clear()
    login(client, "teller")
    text = STORY_TEXT + f" We spraken af in de {MARKER}."
    story_id, _ = confirmed_story(client, text, extra=MARKER)
    client.portal.call(client.app.state.db.checkpoint)
    assert MARKER.encode() not in file_bytes(settings.db_path)  # encrypted at rest
    page = client.get(f"/mijn-verhalen/{story_id}/origineel")
    assert page.status_code == 200 and MARKER in page.text and "Fatima el Amrani" in page.text
    assert "origineel" in client.get("/mijn-verhalen").text

    # Another teller, even of the same team, cannot read it.
    client.cookies.clear()
    login(client, "teller_b")
    assert client.get(f"/mijn-verhalen/{story_id}/origineel").status_code == 404

    db = client.app.state.db
    client.portal.call(_expire_originals, db)
    assert client.portal.call(privacy.purge_expired_originals, db) == 1
    row = client.portal.call(
        db.fetchone, "SELECT original_encrypted FROM stories WHERE id = ?", (story_id,)
    )
    assert row["original_encrypted"] is None


async def _expire_originals(db):
    async with db.write() as conn:
        await conn.execute("UPDATE stories SET original_delete_after = '2000-01-01T00:00:00Z'")
