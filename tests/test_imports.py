"""Importing story files: good, malformed, huge, wrong encoding, duplicates; nothing half."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from conftest import login, post_form, run_worker
from openpyxl import Workbook

from vertelpunt import imports
from vertelpunt.cli import main
from vertelpunt.events import CLI
from vertelpunt.imports import ImportRefused, import_file, read_rows

DATA = Path(__file__).parent / "data"
TEXT = ("Het gezin had schulden bij de energieleverancier en kon de huur niet meer betalen."
        " Samen met de buurvrouw maakten we een plan.")


def story(n: int, **fields) -> dict:
    return {"title": f"Verhaal nummer {n}", "text": f"{TEXT} Dit is verhaal {n}.",
            "month": "2025-03", "role": "wijkcoach", **fields}


def jsonl(*records) -> bytes:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode("utf-8")


def do_import(client, name: str, data: bytes, **kwargs):
    return client.portal.call(
        lambda: import_file(client.app.state.db, name, data, "Wijkteam Noord", CLI, **kwargs)
    )


def count(client, where: str = "1") -> int:
    rows = client.portal.call(
        client.app.state.db.fetchall, f"SELECT count(*) FROM stories WHERE {where}"
    )
    return rows[0][0]


def test_a_good_file_is_imported_masked_and_tagged(anonymous):
    client = anonymous
    report = do_import(client, "stories.jsonl", (DATA / "stories.jsonl").read_bytes())
    assert report.imported == 9 and report.refused == 0
    assert [r.row for r in report.rows] == list(range(1, 10))
    db = client.app.state.db
    rows = client.portal.call(db.fetchall, "SELECT * FROM stories ORDER BY id")
    assert {r["status"] for r in rows} == {"confirmed"}
    assert {r["origin"] for r in rows} == {"import"}
    assert all(r["original_text"] is None and r["teller_id"] is None for r in rows)
    everything = json.dumps([dict(r) for r in rows], ensure_ascii=False, default=str)
    assert "Jan de Vries" not in everything and "06-12345678" not in everything
    assert "[PERSOON-1]" in rows[-1]["title"]
    teller_themes = client.portal.call(
        db.fetchall, "SELECT theme FROM story_themes WHERE story_id = ? AND source = 'teller'",
        (rows[0]["id"],))
    assert {r["theme"] for r in teller_themes} == {"armoede", "informeel-netwerk"}
    assert run_worker(client) == 9
    assert count(client, "nlp_status = 'done'") == 9
    events = client.portal.call(
        db.fetchall, "SELECT action, detail FROM events WHERE action GLOB '*import*'")
    assert [e["action"] for e in events].count("story.import") == 9
    assert json.loads(events[-1]["detail"]) == {"file": "stories.jsonl", "imported": 9}


def test_csv_with_dutch_columns_and_xlsx(anonymous):
    client = anonymous
    report = do_import(client, "stories_nl.csv", (DATA / "stories_nl.csv").read_bytes())
    assert (report.imported, report.refused) == (2, 0)
    themes = client.portal.call(client.app.state.db.fetchall,
                                "SELECT theme FROM story_themes ORDER BY story_id")
    assert [t["theme"] for t in themes] == ["armoede", "opvoeding"]  # a label became its id

    import datetime as dt

    wb = Workbook()
    ws = wb.active
    ws.append(["Titel", "Tekst", "Maand", "Rol", "Thema's"])
    ws.append(["Uit Excel", TEXT + " Uit een spreadsheet.", dt.datetime(2025, 2, 1),
               "wijkcoach", "armoede; wonen"])
    ws.append(["Te kort", "Kort.", "2025-02", "wijkcoach", ""])
    buffer = io.BytesIO()
    wb.save(buffer)
    report = do_import(client, "verhalen.xlsx", buffer.getvalue())
    assert [(r.row, r.status) for r in report.rows] == [(2, "imported"), (3, "refused")]
    assert "text" in report.rows[1].reason and "minstens" in report.rows[1].reason
    month = client.portal.call(client.app.state.db.fetchall,
                               "SELECT month FROM stories WHERE text LIKE '%spreadsheet.'")
    assert month[0][0] == "2025-02"


def test_rows_are_refused_one_by_one_with_a_reason(anonymous):
    client = anonymous
    data = jsonl(
        story(1),
        story(2, text=""),
        story(3, month="2025-13"),
        story(4, themes=["onbekend"]),
        story(1),  # the same text as row 1
        story(6, title="x"),
    )
    report = do_import(client, "rijen.jsonl", data)
    reasons = {r.row: (r.status, r.reason) for r in report.rows}
    assert reasons[1][0] == "imported"
    assert reasons[2] == ("refused", "De tekst van het verhaal ontbreekt.")
    assert reasons[3][0] == "refused" and reasons[3][1].startswith("month:")
    assert reasons[4][0] == "refused" and "Onbekend thema: onbekend" in reasons[4][1]
    assert reasons[5] == (
        "refused", "Dubbel: dit verhaal staat al eerder in het bestand (regel 1)."
    )
    assert reasons[6][0] == "refused" and reasons[6][1].startswith("title:")
    assert count(client) == 1
    again = do_import(client, "rijen.jsonl", jsonl(story(1)))
    assert again.rows[0].reason == "Dubbel: dit verhaal staat al in Vertelpunt."
    assert count(client) == 1


def test_all_or_nothing(anonymous):
    client = anonymous
    report = do_import(client, "x.jsonl", jsonl(story(1), story(2, month="")),
                       all_or_nothing=True)
    assert [r.status for r in report.rows] == ["not_imported", "refused"]
    assert count(client) == 0


def test_wrong_encoding(anonymous):
    client = anonymous
    good = "title,text,month,role\n" + f"Goed,{TEXT},2025-01,wijkcoach\n"
    bad_row = f"Café de hoek,{TEXT} Een café.,2025-01,wijkcoach\n"
    data = good.encode("utf-8") + bad_row.encode("cp1252")
    report = do_import(client, "latin.csv", data)
    assert [(r.row, r.status) for r in report.rows] == [(2, "imported"), (3, "refused")]
    assert "UTF-8" in report.rows[1].reason
    with pytest.raises(ImportRefused, match="UTF-8"):
        read_rows("utf16.csv", good.encode("utf-16"))


@pytest.mark.parametrize("name, data, message", [
    ("kapot.jsonl", jsonl(story(1)) + b"{niet af\n", "Regel 2 is geen geldige JSON"),
    ("lijst.jsonl", b"[1, 2]\n", "geen JSON-object"),
    ("kolommen.csv", b"naam,inhoud\nA,B\n", "ontbreken: title, text, month, role"),
    ("quote.csv", b'title,text,month,role\n"open,tekst,2025-01,rol\n', "CSV-bestand klopt niet"),
    ("nep.xlsx", b"PK\x03\x04 geen echte zip", "Excel-bestand kan niet worden gelezen"),
    ("leeg.csv", b"", "leeg"),
    ("alleen-kop.csv", b"title,text,month,role\n", "geen verhalen"),
    ("plaatje.png", b"\x89PNG", "bestandstype"),
])
def test_a_malformed_file_is_refused_whole(anonymous, name, data, message):
    client = anonymous
    with pytest.raises(ImportRefused, match=message) as refused:
        do_import(client, name, data)
    assert "niets geïmporteerd" in str(refused.value) or "bestandstype" in message
    assert count(client) == 0


def test_a_huge_file_is_refused_whole(anonymous, monkeypatch):
    client = anonymous
    with pytest.raises(ImportRefused, match="te groot"):
        read_rows("groot.csv", b"x" * (imports.MAX_IMPORT_BYTES + 1))
    monkeypatch.setattr(imports, "MAX_IMPORT_ROWS", 3)
    with pytest.raises(ImportRefused, match="meer dan 3 verhalen"):
        do_import(client, "veel.jsonl", jsonl(*(story(i) for i in range(5))))
    assert count(client) == 0


def test_nothing_half_when_storing_fails(anonymous, monkeypatch):
    client = anonymous
    calls = []

    async def failing_log_event(conn, actor, action, subject=None, **detail):
        calls.append(action)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "log_event", failing_log_event)
    with pytest.raises(RuntimeError, match="disk full"):
        do_import(client, "x.jsonl", jsonl(story(1), story(2), story(3)))
    assert count(client) == 0  # the first row was inserted, then rolled back with the rest


def test_admin_upload_page(anonymous):
    client = anonymous
    login(client, "admin")
    page = client.get("/beheer/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    team = str(client.teams["Wijkteam Noord"])
    refused = post_form(client, "/beheer/import", {"team": team},
                        files={"file": ("kapot.jsonl", b"{niet af\n", "application/json")})
    assert refused.status_code == 422
    assert "Regel 1 is geen geldige JSON" in refused.text and "niets geïmporteerd" in refused.text
    huge = post_form(client, "/beheer/import", {"team": team},
                     files={"file": ("groot.csv", b"x" * (imports.MAX_IMPORT_BYTES + 10))})
    assert huge.status_code == 422 and "te groot" in huge.text
    data = jsonl(story(1), story(2, month="later"))
    response = post_form(client, "/beheer/import", {"team": team},
                         files={"file": ("twee.jsonl", data, "application/json")})
    assert response.status_code == 303
    client.portal.call(client.app.state.jobs.wait)
    report = client.get("/beheer/import")
    assert "twee.jsonl voor Wijkteam Noord" in report.text
    assert "<strong>1</strong> geïmporteerd" in report.text
    assert "month: Kies de maand" in report.text
    assert count(client) == 1


def test_cli_import(tmp_path, capsys):
    db = ["--db", str(tmp_path / "cli.db")]
    assert main(["team", "add", "Wijkteam Noord", "--municipality", "Zwolle", *db]) == 0
    good = tmp_path / "goed.jsonl"
    good.write_bytes(jsonl(story(1), story(2, month="")))
    capsys.readouterr()
    assert main(["import", str(good), "--team", "Wijkteam Noord", "--no-tag", *db]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["row"], r["status"]) for r in lines] == [(1, "imported"), (2, "refused")]
    bad = tmp_path / "kapot.jsonl"
    bad.write_bytes(b"{niet af\n")
    for args in ([str(bad), "--team", "Wijkteam Noord"],
                 [str(good), "--team", "Onbekend team"],
                 [str(tmp_path / "bestaat-niet.csv"), "--team", "Wijkteam Noord"]):
        assert main(["import", *args, *db]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("vertelpunt: ")
