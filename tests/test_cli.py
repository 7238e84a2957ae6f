"""The `vertelpunt` command: the contracts of shared/DESIGN.md."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from vertelpunt.cli import main


def run_cli(*args, stdin: str = "", env=None):
    return subprocess.run(
        [sys.executable, "-m", "vertelpunt", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_migrate_creates_the_database(tmp_path, capsys):
    db = tmp_path / "cli.db"
    assert main(["migrate", "--db", str(db)]) == 0
    assert "schema version" in capsys.readouterr().out
    assert sqlite3.connect(db).execute("SELECT count(*) FROM schema_migrations").fetchone()[0] >= 1


def test_migrate_refuses_a_newer_database_with_exit_code_2(tmp_path, capsys):
    db = tmp_path / "new.db"
    main(["migrate", "--db", str(db)])
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO schema_migrations VALUES (999, 'x', 'y')")
    conn.commit()
    assert main(["migrate", "--db", str(db)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "upgrade Vertelpunt" in err


def test_deidentify_reads_json_lines_and_writes_offsets(warm_deidentifier, capsys, monkeypatch):
    import io

    text = "Ik sprak Jan de Vries, bel 06-12345678."
    monkeypatch.setattr(sys, "stdin", io.StringIO(json.dumps({"id": 7, "text": text}) + "\n"))
    assert main(["deidentify"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert line["id"] == 7
    assert "Jan" not in line["text"] and "06-12345678" not in line["text"]
    for entity in line["entities"]:
        assert set(entity) == {"start", "end", "label"}
    labels = {e["label"] for e in line["entities"]}
    assert {"PERSOON", "TELEFOON"} <= labels
    phone = next(e for e in line["entities"] if e["label"] == "TELEFOON")
    assert text[phone["start"] : phone["end"]] == "06-12345678"


def test_tag_reads_a_file_and_follows_the_contract(tmp_path, capsys):
    path = tmp_path / "in.jsonl"
    text = (
        "Moeder had een grote huurachterstand en schulden bij de energieleverancier. "
        "Via de voedselbank kreeg het gezin elke week een pakket."
    )
    path.write_text(
        json.dumps({"id": "a", "text": text})
        + "\n\n"
        + json.dumps({"id": "b", "text": "Een gewone dag."})
        + "\n"
    )
    assert main(["tag", str(path)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["id"] for line in lines] == ["a", "b"]
    assert set(lines[0]) == {"id", "themes", "lessons"}
    themes = {t["theme"]: t for t in lines[0]["themes"]}
    assert "armoede" in themes
    assert 0 <= themes["armoede"]["score"] <= 1
    for evidence in themes["armoede"]["evidence"]:
        assert text[evidence["start"] : evidence["end"]] == evidence["text"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json\n", "line 1: not valid JSON"),
        ('{"id": 1}\n', 'line 1: expected an object with a "text" string'),
        ('{"id": 1, "text": "ok"}\n[1, 2]\n', "line 2: expected an object"),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, capsys, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    for command in ("tag", "deidentify"):
        assert main([command, str(path)]) == 2
        captured = capsys.readouterr()
        assert message in captured.err and captured.err.count("\n") == 1
        assert captured.out == ""


def test_missing_file_exits_2(tmp_path, capsys):
    assert main(["tag", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_demo_loads_once_and_masks_personal_details(tmp_path):
    db = tmp_path / "demo.db"
    env = {**__import__("os").environ, "VERTELPUNT_DATA_DIR": str(tmp_path / "data")}
    first = run_cli("demo", "--db", str(db), env=env)
    assert first.returncode == 0, first.stderr
    conn = sqlite3.connect(db)
    n = conn.execute("SELECT count(*) FROM stories WHERE status = 'confirmed'").fetchone()[0]
    assert n >= 60
    assert conn.execute("SELECT count(DISTINCT team_id) FROM stories").fetchone()[0] >= 6
    assert (
        conn.execute("SELECT count(*) FROM stories WHERE original_text IS NOT NULL").fetchone()[0]
        == 0
    )
    assert conn.execute("SELECT count(*) FROM stories WHERE nlp_status = 'done'").fetchone()[0] == n
    # Personal details written into the demo stories do not reach the research text.
    texts = " ".join(r[0] for r in conn.execute("SELECT text FROM stories"))
    assert "[PERSOON-1]" in texts
    assert "06-" not in texts.replace("[TELEFOON", "")
    second = run_cli("demo", "--db", str(db), env=env)
    assert second.returncode == 0 and "0 stories added" in second.stdout
    assert conn.execute("SELECT count(*) FROM stories").fetchone()[0] == n


def test_module_and_script_entry_points_agree():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("serve", "migrate", "demo", "tag", "deidentify"):
        assert command in result.stdout
    assert Path(sys.executable).parent.joinpath("vertelpunt").exists()
