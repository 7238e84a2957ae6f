"""Exports: every format opened back, the same stories as the screen, formula and
small-number safety, verbatim quotes, the audit log, and who may export."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import uuid
import zipfile
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from conftest import USERS, api_token, login
from export_fixtures import research_db, research_settings  # noqa: F401 (fixtures)
from lxml import etree
from openpyxl import load_workbook
from pypdf import PdfReader

from vertelpunt import taxonomy as taxonomy_store
from vertelpunt.cli import main
from vertelpunt.events import Actor
from vertelpunt.exports import story_text_chunks, tables
from vertelpunt.exports.common import model_quality, neutralise
from vertelpunt.exports.summary import theme_summary, verified_quote
from vertelpunt.filters import StoryFilter
from vertelpunt.observations import add_observation, mark_significant

SCHEMA = etree.XMLSchema(
    etree.parse(str(Path(__file__).parent.parent / "vertelpunt" / "schemas" / "Project.xsd"))
)
QDA = "{urn:QDA-XML:project:1.0}"


@pytest.fixture
def settings(research_settings):  # noqa: F811 - the app runs on a copy of the research db
    return research_settings


@pytest.fixture
def researcher(anonymous):
    login(anonymous, "researcher")
    return anonymous


def call(client, fn, *args):
    return client.portal.call(fn, client.app.state.db, *args)


def sql(client, query, params=()):
    return call(client, lambda db: db.fetchall(query, params))


def read_csv(response) -> list[dict]:
    assert response.status_code == 200, response.text
    assert response.content.startswith("\ufeff".encode())  # Excel reads UTF-8 with a BOM
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def with_theme(client, theme: str, since: str = "0000-00") -> int:
    return sql(client, "SELECT count(*) FROM story_effective_themes e JOIN stories s"
                       " ON s.id = e.story_id WHERE e.theme = ? AND s.month >= ?",
               (theme, since))[0][0]


def stored_texts(client) -> dict[int, str]:
    return {r["id"]: r["text"] for r in sql(client, "SELECT id, text FROM stories")}


# --- the theme summary ---------------------------------------------------------------------


def test_summary_as_csv_json_and_xlsx(researcher):
    client = researcher
    rows = read_csv(client.get("/export/samenvatting.csv?theme=armoede"))
    by_theme = {r["theme"]: r for r in rows}
    n = with_theme(client, "armoede")
    assert n >= 5
    assert by_theme["armoede"]["stories"] == str(n)  # every story in the selection has it
    assert by_theme["armoede"]["share"] == "1.0"
    assert by_theme["armoede"]["filter"] == "theme=armoede"
    assert "Geen getraind model" in by_theme["armoede"]["quality_source"]

    body = client.get("/export/samenvatting.json?theme=armoede").json()
    assert body["filter"]["query"] == "theme=armoede"
    assert body["k"] == 2 and body["total"] == n
    armoede = next(t for t in body["themes"] if t["theme"] == "armoede")
    assert armoede["definition"] and len(armoede["trend"]) == len(body["periods"])
    assert 3 <= len(armoede["quotes"]) <= 5
    assert armoede["lessons"] and armoede["cooccurring"]

    response = client.get("/export/samenvatting.xlsx?theme=armoede")
    assert response.headers["content-disposition"].startswith("attachment;")
    wb = load_workbook(io.BytesIO(response.content))
    assert wb.sheetnames[:6] == [
        "Samenvatting", "Trend", "Samen voorkomend", "Kenmerkende woorden", "Lessen", "Citaten"
    ]
    summary_sheet = list(wb["Samenvatting"].values)
    assert summary_sheet[0][0] == "theme"
    assert {r[0] for r in summary_sheet[1:]} == {t["theme"] for t in body["themes"]}
    quotes = list(wb["Citaten"].values)[1:]
    assert len(quotes) == sum(len(t["quotes"]) for t in body["themes"])


def test_printable_report_and_pdf(researcher):
    client = researcher
    page = client.get("/export/rapport?theme=armoede")
    assert page.status_code == 200
    assert '<link rel="stylesheet" href="/static/report.css">' in page.text
    assert 'href="/export/samenvatting.pdf?theme=armoede"' in page.text
    assert client.get("/static/report.css").text.count("@media print") == 1

    pdf = client.get("/export/samenvatting.pdf?theme=armoede")
    assert pdf.headers["content-type"] == "application/pdf"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Thema-overzicht" in text
    assert "Armoede en bestaanszekerheid" in text
    assert "thema's: armoede" in text


def test_quotes_are_verbatim_substrings_of_the_stored_masked_text(researcher):
    client = researcher
    summary = call(client, theme_summary, StoryFilter(), None)
    texts = stored_texts(client)
    quotes = [q for t in summary["themes"] for q in t["quotes"]]
    assert len(quotes) >= 3
    for quote in quotes:
        stored = texts[quote["story_id"]]
        assert quote["text"] in stored
        assert stored[quote["start"] : quote["end"]] == quote["text"]
    assert "Jan de Vries" not in json.dumps(summary, ensure_ascii=False)
    # The check itself: spans outside the text, or untrimmed, are never used as quotes.
    text = "Een zin die lang genoeg is om als citaat te dienen, met schulden erin."
    assert verified_quote(text, 0, len(text)) == text
    assert verified_quote(text, 0, len(text) + 5) is None
    assert verified_quote(text, 3, 2) is None
    assert verified_quote(" " + text, 0, len(text) + 1) is None
    assert verified_quote(None, 0, 10) is None


def test_small_numbers_are_suppressed(researcher):
    client = researcher

    async def set_k(db, k):
        async with db.write() as conn:
            await conn.execute("UPDATE app_settings SET value = ? WHERE key = 'min_cell'", (k,))

    call(client, set_k, "5")
    body = client.get("/export/samenvatting.json").json()
    assert body["k"] == 5 and body["total"] == 11
    for theme in body["themes"]:
        if theme["suppressed"]:
            assert theme["stories"] == "< 5" and theme["share"] == "< 5"
            assert theme["quotes"] == theme["lessons"] == theme["terms"] == []
            assert theme["cooccurring"] == [] and theme["significant"] == []
        else:
            assert isinstance(theme["stories"], int) and theme["stories"] >= 5
            assert all(p["stories"] >= 5 for p in theme["cooccurring"])
        for cell in theme["trend"]:
            assert cell["stories"] in (0, "< 5") or cell["stories"] >= 5
    assert any(t["suppressed"] for t in body["themes"])
    rows = read_csv(client.get("/export/samenvatting.csv"))
    assert any(r["stories"] == "< 5" for r in rows)
    # A selection smaller than k shows no number at all.
    small = client.get("/export/samenvatting.json?team=Buurtteam+Zuid").json()
    assert small["total"] == "< 5"
    assert all(t["stories"] == "< 5" and not t["quotes"] for t in small["themes"])


def test_observations_significant_stories_and_quality_in_the_summary(researcher, tmp_path):
    client = researcher
    actor = Actor(USERS["researcher"][0], client.user_ids["researcher"])
    armoede_story = sql(client, "SELECT story_id FROM story_effective_themes"
                                " WHERE theme = 'armoede' ORDER BY story_id LIMIT 1")[0][0]
    call(client, mark_significant, actor, armoede_story, "armoede", "Laat zien wat werkt.")
    call(client, add_observation, actor, "Schulden en netwerk gaan samen.", "theme=armoede",
         ["Netwerk helpt", "Of: toeval"])
    models = tmp_path / "models"
    (models / "m-20261123-1003-2837b7").mkdir(parents=True)
    (models / "m-20261123-1003-2837b7" / "meta.json").write_text(json.dumps({
        "version": "m-20261123-1003-2837b7", "training_size": 290, "created": "2026-11-23",
        "metrics": {"note": "out-of-fold", "macro_f1": 0.71, "per_theme": {
            "armoede": {"precision": 0.87, "recall": 0.82, "f1": 0.84, "support": 49}}},
    }))
    (models / "active").write_text("m-20261123-1003-2837b7\n")
    summary = call(client, theme_summary, StoryFilter(), models)
    armoede = next(t for t in summary["themes"] if t["theme"] == "armoede")
    assert armoede["significant"][0]["story_id"] == armoede_story
    assert armoede["significant"][0]["reason"] == "Laat zien wat werkt."
    assert armoede["observations"][0]["interpretations"] == ["Netwerk helpt", "Of: toeval"]
    assert armoede["quality"] == {"precision": 0.87, "recall": 0.82, "f1": 0.84, "support": 49}
    assert "meta.json van model m-20261123-1003-2837b7" in summary["quality"]["source"]
    assert model_quality(tmp_path / "nothing")["model_version"] is None


# --- story data ----------------------------------------------------------------------------


def test_story_data_formats(researcher):
    client = researcher
    texts = stored_texts(client)
    effective = sql(client, "SELECT story_id, theme FROM story_effective_themes")

    long_rows = read_csv(client.get("/export/verhalen.csv"))
    assert {(int(r["story_id"]), r["theme"]) for r in long_rows} == {tuple(e) for e in effective}
    for row in long_rows:
        for span in filter(None, row["evidence_offsets"].split(";")):
            start, end = map(int, span.split("-"))
            assert texts[int(row["story_id"])][start:end] in row["evidence"]

    wide = read_csv(client.get("/export/verhalen.breed.csv"))
    assert [int(r["story_id"]) for r in wide] == sorted(texts)
    theme_columns = [c for c in wide[0] if c not in tables.WIDE_FIXED]
    assert {(int(r["story_id"]), t) for r in wide for t in theme_columns if r[t] == "1"} == {
        tuple(e) for e in effective
    }

    wb = load_workbook(io.BytesIO(client.get("/export/verhalen.xlsx").content))
    sheet = list(wb["Verhalen"].values)
    assert sheet[0][:3] == ("story_id", "title", "month") and len(sheet) == len(texts) + 1

    lines = client.get("/export/verhalen.jsonl").text.splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == sorted(texts)
    for record in records:
        assert record["taxonomy_version"] == "2026.2"
        assert record["text"] == texts[record["id"]]
        for theme in record["themes"]:
            for e in theme["evidence"]:
                assert record["text"][e["start"] : e["end"]] == e["text"]
    everything = "\n".join(lines) + json.dumps(long_rows, ensure_ascii=False)
    assert "Jan de Vries" not in everything and "06-12345678" not in everything
    assert "teller_id" not in everything and "original_text" not in everything


def test_qdpx_is_a_valid_refi_qda_project(researcher):
    client = researcher
    response = client.get("/export/verhalen.qdpx?theme=armoede")
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    project = etree.fromstring(archive.read("project.qde"))
    assert SCHEMA.validate(project), SCHEMA.error_log
    assert project.tag == f"{QDA}Project"
    guids = [e.get("guid") for e in project.iter() if e.get("guid")]
    assert len(guids) == len(set(guids)) and all(uuid.UUID(g) for g in guids)
    codes = {c.get("guid"): c for c in project.iter(f"{QDA}Code")}
    assert "Armoede en bestaanszekerheid" in {c.get("name") for c in codes.values()}
    assert all(c.find(f"{QDA}Description").text for c in codes.values())
    users = {u.get("guid") for u in project.iter(f"{QDA}User")}
    sources = list(project.iter(f"{QDA}TextSource"))
    assert len(sources) == int(response.headers["x-vertelpunt-stories"])
    assert len(sources) == with_theme(client, "armoede")
    texts = stored_texts(client)
    for source in sources:
        path = source.get("plainTextPath")
        assert path == f"internal://{source.get('guid')}.txt"
        text = archive.read(f"Sources/{path.removeprefix('internal://')}").decode("utf-8")
        assert text in texts.values()
        selections = list(source.iter(f"{QDA}PlainTextSelection"))
        assert selections
        for selection in selections:
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            assert 0 <= start < end <= len(text)
            coding = selection.find(f"{QDA}Coding")
            assert coding.find(f"{QDA}CodeRef").get("targetGUID") in codes
            assert coding.get("creatingUser") in users
    # An empty selection is still a valid project.
    empty = client.get("/export/verhalen.qdpx?theme=armoede&from=1999-01&to=1999-02")
    project = etree.fromstring(zipfile.ZipFile(io.BytesIO(empty.content)).read("project.qde"))
    assert SCHEMA.validate(project), SCHEMA.error_log


@pytest.mark.parametrize("query", [
    "theme=armoede",
    "theme=armoede&theme=informeel-netwerk",
    "team=Buurtteam+Zuid",
    "municipality=Zwolle&from=2025-03&to=2025-05",
    "q=schulden",
    "bron=teller&role=wijkcoach",
])
def test_an_export_holds_exactly_the_stories_on_screen(researcher, query):
    client = researcher
    screen = client.get(f"/verhalen.json?{query}").json()
    on_screen = sorted(s["id"] for s in screen["stories"])
    assert screen["total"] == len(on_screen)  # one page: the fixture is small
    wide = read_csv(client.get(f"/export/verhalen.breed.csv?{query}"))
    assert [int(r["story_id"]) for r in wide] == on_screen
    jsonl = client.get(f"/api/v1/export/stories.jsonl?{query}").text.splitlines()
    assert [json.loads(line)["id"] for line in jsonl] == on_screen
    flt = StoryFilter.from_params(parse_qs(query))
    assert call(client, tables.story_ids, flt) == on_screen
    summary = client.get(f"/api/v1/themes/summary?{query}").json()
    assert summary["total"] in (len(on_screen), "< 2")


def test_story_data_streams_in_batches(researcher, monkeypatch):
    client = researcher
    monkeypatch.setattr(tables, "BATCH_SIZE", 3)
    monkeypatch.setattr(tables.story_batches, "__defaults__", (3,))
    taxonomy = call(client, taxonomy_store.active_taxonomy)

    async def collect(db):
        return [chunk async for chunk in story_text_chunks(db, StoryFilter(), "long-csv",
                                                          taxonomy)]

    chunks = call(client, collect)
    assert len(chunks) == 4  # 11 stories in batches of 3
    assert b"story_id,month" in chunks[0] and all(b"story_id" not in c for c in chunks[1:])
    response = client.get("/export/verhalen.csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["x-vertelpunt-stories"] == "11"


# --- safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+31 6", "'+31 6"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tstart", "'\tstart"), ("\rstart", "'\rstart"), ("gewoon", "gewoon"), ("", ""),
    (-2, -2), (3.5, 3.5), (None, None), ("a=b", "a=b"),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_no_cell_can_run_as_a_formula(researcher):
    client = researcher
    for url in ("/export/verhalen.breed.csv", "/export/samenvatting.csv"):
        for row in csv.reader(io.StringIO(client.get(url).content.decode("utf-8-sig"))):
            for cell in row:
                assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), (url, cell)
    wide = read_csv(client.get("/export/verhalen.breed.csv"))
    assert any(r["title"].startswith("'=HYPERLINK(") for r in wide)
    assert any(r["text"].startswith("'- eerst bellen") for r in wide)
    assert any(r["lesson"].startswith("'@iedereen") for r in wide)
    for url in ("/export/verhalen.xlsx", "/export/samenvatting.xlsx"):
        wb = load_workbook(io.BytesIO(client.get(url).content))
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (url, ws.title, cell.value)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith(("=", "+", "-", "@")), cell.value


# --- audit and access ----------------------------------------------------------------------


def test_every_export_is_audited_with_its_filter(researcher):
    client = researcher
    client.get("/export/verhalen.csv?theme=armoede&from=2025-01")
    client.get("/export/samenvatting.json?team=Wijkteam+Noord")
    client.get("/api/v1/themes/summary?theme=wonen")
    events = sql(client, "SELECT actor, action, detail FROM events WHERE action GLOB 'export.*'"
                         " ORDER BY id")
    details = [(e["actor"], e["action"], json.loads(e["detail"])) for e in events]
    assert [(a, act, d["format"], d["filter"]["query"]) for a, act, d in details] == [
        (USERS["researcher"][0], "export.stories", "long-csv", "theme=armoede&from=2025-01"),
        (USERS["researcher"][0], "export.summary", "json", "team=Wijkteam+Noord"),
        (USERS["researcher"][0], "export.summary", "json", "theme=wonen"),
    ]
    assert details[0][2]["stories"] == with_theme(client, "armoede", "2025-01")
    assert details[0][2]["via"] == "web"
    assert details[0][2]["filter"]["params"] == {"theme": ["armoede"], "from": ["2025-01"]}


def test_only_researchers_may_export(anonymous):
    client = anonymous
    for who in ("teller", "admin"):
        client.cookies.clear()
        login(client, who)
        for url in ("/export", "/export/verhalen.csv", "/export/samenvatting.pdf",
                    "/export/rapport", "/api/v1/themes/summary"):
            assert client.get(url).status_code == 403, (who, url)
        assert client.get("/api/v1/export/stories.csv",
                          headers=api_token(client, who)).status_code == 403
    client.cookies.clear()
    assert client.get("/api/v1/export/stories.csv").status_code == 401
    headers = api_token(client, "researcher")
    response = client.get("/api/v1/export/stories.csv?theme=wonen", headers=headers)
    assert response.status_code == 200 and read_csv(response)
    assert client.get("/api/v1/export/stories.docx", headers=headers).status_code == 404
    assert sql(client, "SELECT count(*) FROM events WHERE action GLOB 'export.*'")[0][0] == 1


def test_export_page_links_carry_the_filter(researcher):
    client = researcher
    page = client.get("/export?theme=armoede&from=2025-01")
    assert page.status_code == 200
    for fmt in ("csv", "breed.csv", "xlsx", "jsonl", "qdpx"):
        assert f'href="/export/verhalen.{fmt}?theme=armoede&amp;from=2025-01"' in page.text
    assert 'href="/export/rapport?theme=armoede&amp;from=2025-01"' in page.text
    assert f"{with_theme(client, 'armoede', '2025-01')} verhalen" in page.text
    # The browse and patterns pages link to it for the filter they show.
    link = 'href="/export?theme=armoede&amp;from=2025-01"'
    assert link in client.get("/verhalen?theme=armoede&from=2025-01").text
    patterns = client.get("/patronen?theme=armoede&from=2025-01").text
    assert link in patterns and 'href="/export/rapport?theme=armoede&amp;from=2025-01"' in patterns


# --- the command line ----------------------------------------------------------------------


def test_cli_exports(settings, tmp_path, capsys):
    db = ["--db", str(settings.db_path)]
    n = sqlite3.connect(settings.db_path).execute(
        "SELECT count(*) FROM story_effective_themes WHERE theme = 'armoede'").fetchone()[0]
    out = tmp_path / "verhalen.csv"
    assert main(["export", "stories", "--format", "csv", "--theme", "armoede",
                 "--from", "2025-01", "-o", str(out), *db]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert {r["theme"] for r in rows} >= {"armoede"} and len({r["story_id"] for r in rows}) == n
    pdf = tmp_path / "rapport.pdf"
    assert main(["export", "summary", "--format", "pdf", "-o", str(pdf), *db]) == 0
    assert "Thema-overzicht" in PdfReader(pdf).pages[0].extract_text()
    qdpx = tmp_path / "project.qdpx"
    assert main(["export", "stories", "--format", "qdpx", "-o", str(qdpx), *db]) == 0
    assert SCHEMA.validate(etree.fromstring(zipfile.ZipFile(qdpx).read("project.qde")))
    capsys.readouterr()
    for bad in (["export", "stories", "--format", "docx"],
                ["export", "summary", "--format", "xlsx"],  # binary to stdout
                ["export", "summary", "--format", "csv", "--from", "2025-13"],
                ["export", "summary", "--format", "csv", "--theme", "onbekend"]):
        assert main([*bad, *db]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("vertelpunt: ")
    assert not list(tmp_path.glob(".vertelpunt-*"))  # no half files left behind
    events = sqlite3.connect(settings.db_path).execute(
        "SELECT actor, action FROM events WHERE action GLOB 'export.*'").fetchall()
    assert events == [("cli", "export.stories"), ("cli", "export.summary"),
                      ("cli", "export.stories")]
