"""The `vertelpunt` command (also `python -m vertelpunt`).

Exit codes: 0 on success, 2 on bad input (with a one-line message on stderr).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path

from .settings import Settings


class BadInput(Exception):
    """Input the command cannot use; reported on one line, exit code 2."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args) or 0
    except BadInput as error:
        print(f"vertelpunt: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vertelpunt", description=__doc__.splitlines()[0])
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", type=Path, help="database file (default $VERTELPUNT_DB or ./vertelpunt.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", parents=[common], help="run the web app")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)

    for name, handler, text in (
        ("migrate", cmd_migrate, "apply database migrations"),
        ("demo", cmd_demo, "load the demo stories (once)"),
        ("train", cmd_train, "train a theme model on reviewed stories; promote if not worse"),
    ):
        commands.add_parser(name, parents=[common], help=text).set_defaults(handler=handler)

    retag = commands.add_parser(
        "retag", parents=[common], help="tag every story again with the active taxonomy and model"
    )
    retag.add_argument("--processes", type=int, default=1, help="tagging processes (default 1)")
    retag.set_defaults(handler=cmd_retag)

    backup = commands.add_parser(
        "backup", parents=[common], help="a consistent copy of the database, also while it runs"
    )
    backup.add_argument("path", type=Path, help="backup file, or a folder for a dated file")
    backup.set_defaults(handler=cmd_backup)

    team = commands.add_parser("team", help="manage teams").add_subparsers(
        dest="action", required=True
    )
    team_add = team.add_parser("add", parents=[common], help="add a team")
    team_add.add_argument("name")
    team_add.add_argument("--municipality", required=True)
    team_add.set_defaults(handler=cmd_team_add)

    user = commands.add_parser("user", help="manage users").add_subparsers(
        dest="action", required=True
    )
    user_add = user.add_parser("add", parents=[common], help="add a user")
    user_add.add_argument("email")
    user_add.add_argument(
        "--role", required=True, choices=["verteller", "onderzoeker", "beheerder"]
    )
    user_add.add_argument("--team", action="append", default=[], help="team name (repeatable)")
    user_add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin; otherwise print a link to choose one",
    )
    user_add.set_defaults(handler=cmd_user_add)

    for name, handler, text in (
        ("tag", cmd_tag, "tag JSON lines {id, text} with themes and lessons"),
        ("deidentify", cmd_deidentify, "mask personal data in JSON lines {id, text}"),
    ):
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("file", nargs="?", type=Path, help="JSON Lines file (default: stdin)")
        command.set_defaults(handler=handler)
    add_export_import_commands(commands, common)
    return parser


def settings_from(args) -> Settings:
    return Settings.from_env(**({"db_path": args.db} if args.db else {}))


# --- the app and its database --------------------------------------------------------------


def cmd_serve(args) -> int:
    import uvicorn

    from .app import create_app

    settings = settings_from(args)
    # Threads doing Python work (de-identification, tagging, background refreshes) hold the
    # GIL for up to the switch interval each time the event loop wants it back; a page
    # needs it a few dozen times. 1 ms instead of 5 keeps those waits short.
    sys.setswitchinterval(0.001)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_migrate(args) -> int:
    from .db import DatabaseTooNew, migrate, schema_version

    settings = settings_from(args)
    try:
        applied = migrate(settings.db_path)
    except DatabaseTooNew as error:
        raise BadInput(str(error)) from None
    version = schema_version(settings.db_path)
    print(f"{settings.db_path}: schema version {version} ({len(applied)} migrations applied)")
    return 0


def with_database(settings: Settings, work):
    """Run `work(db)` on an open, migrated database."""
    from . import taxonomy as taxonomy_store
    from .db import Database, migrate

    async def run():
        migrate(settings.db_path)
        db = Database(settings.db_path, readers=1)
        await db.open()
        try:
            await taxonomy_store.ensure_default_taxonomy(db)
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def cmd_demo(args) -> int:
    from .demo import load_demo
    from .tagging import TaggingService
    from .worker import Worker

    settings = settings_from(args)

    async def work(db):
        added = await load_demo(db)
        tagged = await Worker(db, TaggingService(settings.data_dir / "models")).run_once()
        return added, tagged

    added, tagged = with_database(settings, work)
    print(f"demo: {added} stories added, {tagged} stories processed")
    return 0


def cmd_backup(args) -> int:
    from .backup import BackupError, backup

    try:
        report = backup(settings_from(args).db_path, args.path)
    except BackupError as error:
        raise BadInput(str(error)) from None
    print(report.summary())
    return 0


def cmd_team_add(args) -> int:
    from .demo import ensure_team

    team_id = with_database(
        settings_from(args), lambda db: ensure_team(db, args.name, args.municipality)
    )
    print(f"team {args.name} ({args.municipality}): id {team_id}")
    return 0


def cmd_user_add(args) -> int:
    from .accounts import AccountError, create_reset, create_user
    from .events import CLI

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else None

    async def work(db):
        team_ids = []
        for name in args.team:
            row = await db.fetchone("SELECT id FROM teams WHERE name = ?", (name,))
            if row is None:
                raise BadInput(f"unknown team {name!r}: add it with `vertelpunt team add`")
            team_ids.append(row["id"])
        if args.role == "verteller" and not team_ids:
            raise BadInput("a verteller needs --team")
        try:
            user_id = await create_user(db, args.email, args.role, password, team_ids, CLI)
        except AccountError as error:
            raise BadInput(str(error)) from None
        link = None if password else await create_reset(db, args.email, CLI)
        return user_id, link

    user_id, link = with_database(settings_from(args), work)
    print(f"user {args.email} ({args.role}): id {user_id}")
    if link:
        print(f"choose a password within an hour at: /wachtwoord-herstellen/{link}")
    return 0


def cmd_retag(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from . import retag
    from . import taxonomy as taxonomy_store

    settings = settings_from(args)
    if args.processes < 1:
        raise BadInput("--processes must be 1 or more")

    async def work(db):
        taxonomy = await taxonomy_store.active_taxonomy(db)
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=_console()) as progress:
            task = progress.add_task("retag", total=None)
            return await retag.retag(
                db,
                taxonomy,
                settings.data_dir / "models",
                settings.data_dir / "retag",
                on_progress=lambda done, total: progress.update(task, completed=done, total=total),
                processes=args.processes,
            )

    report = with_database(settings, work)
    print(json.dumps(report.summary(), ensure_ascii=False))
    return 0


def cmd_train(args) -> int:
    from rich.table import Table

    from . import taxonomy as taxonomy_store
    from .training import train_from_reviews

    settings = settings_from(args)

    async def work(db):
        taxonomy = await taxonomy_store.active_taxonomy(db)
        return await train_from_reviews(db, taxonomy, settings.data_dir / "models")

    report = with_database(settings, work)
    table = Table(title=f"model {report.new_version} on {report.heldout_size} held-out examples")
    for column in ("theme", "precision", "recall", "F1", "kappa vs reviewers"):
        table.add_column(column)
    for theme, m in report.per_theme.items():
        cells = [m["precision"], m["recall"], m["f1"], report.kappa.get(theme)]
        table.add_row(theme, *("-" if v is None else f"{v:.2f}" for v in cells))
    console = _console()
    console.print(table)
    verdict = "promoted to active" if report.promoted else "NOT promoted (worse than active)"
    console.print(
        f"{verdict}: macro-F1 new {report.new_macro_f1:.3f}"
        + (f", active {report.current_macro_f1:.3f}" if report.current_macro_f1 is not None else "")
        + f"; {report.reviewed_stories} reviewed stories in {report.training_size} examples"
    )
    return 0


def _console():
    from rich.console import Console

    return Console(stderr=True)


# --- the NLP side, no database needed --------------------------------------------------------


def read_json_lines(path: Path | None):
    """Yield (line number, record) from a file or stdin; BadInput on a line that is not usable."""
    try:
        stream = open(path, encoding="utf-8") if path else sys.stdin
    except OSError as error:
        raise BadInput(f"cannot read {path}: {error.strerror}") from None
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise BadInput(f"line {number}: not valid JSON ({error.msg})") from None
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                raise BadInput(f'line {number}: expected an object with a "text" string')
            yield number, record


def write_line(record: dict) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def cmd_tag(args) -> int:
    from nlp.pipeline import Tagger

    records = list(read_json_lines(args.file))  # validate all input before writing anything
    settings = settings_from(args)
    tagger = Tagger.load(model_dir=settings.data_dir / "models")
    results = tagger.tag_many([record["text"] for _, record in records])
    for (_, record), result in zip(records, results, strict=False):
        tags = result.to_dict()
        for theme in tags["themes"]:
            theme.pop("component", None)  # the contract lists theme, score and evidence
        write_line({"id": record.get("id"), **tags})
    return 0


def cmd_deidentify(args) -> int:
    from nlp import deidentify as deid

    records = list(read_json_lines(args.file))
    for _, record in records:
        result = deid.deidentify(record["text"])
        write_line(
            {
                "id": record.get("id"),
                "text": result.text,
                "entities": [
                    {"start": e.start, "end": e.end, "label": e.label} for e in result.entities
                ],
            }
        )
    return 0


# --- exports and imports (issue 7; the work is in vertelpunt/exports/ and imports.py) --------

SUMMARY_FORMATS = ("csv", "json", "xlsx", "html", "pdf")
STORY_FORMATS = ("csv", "wide-csv", "xlsx", "jsonl", "qdpx")
BINARY_FORMATS = ("xlsx", "pdf", "qdpx")


def add_export_import_commands(commands, common) -> None:
    export = commands.add_parser(
        "export", parents=[common], help="export the theme summary or the stories of a selection"
    )
    export.add_argument("what", choices=["summary", "stories"])
    export.add_argument(
        "--format",
        required=True,
        help=f"summary: {', '.join(SUMMARY_FORMATS)}; stories: {', '.join(STORY_FORMATS)}",
    )
    export.add_argument("--theme", action="append", default=[], help="theme id (repeatable)")
    export.add_argument("--team", action="append", default=[], help="team name or id")
    export.add_argument("--municipality", action="append", default=[], help="name or id")
    export.add_argument("--from", dest="start", default="", help="first month, YYYY-MM")
    export.add_argument("--to", dest="end", default="", help="last month, YYYY-MM")
    export.add_argument("--q", default="", help="search words (as on the story list)")
    export.add_argument("--per", choices=["month", "quarter"], default="month")
    export.add_argument("-o", "--output", default="-", help="output file (default: stdout)")
    export.set_defaults(handler=cmd_export)

    load = commands.add_parser(
        "import", parents=[common], help="import stories from a CSV, XLSX or JSON Lines file"
    )
    load.add_argument("file", type=Path)
    load.add_argument("--team", required=True, help="the team these stories belong to")
    load.add_argument(
        "--all-or-nothing", action="store_true", help="import nothing when any row is refused"
    )
    load.add_argument("--no-tag", action="store_true", help="leave tagging to the worker")
    load.set_defaults(handler=cmd_import)


def _cli_filter(args, theme_ids: list[str]):
    import re

    from .filters import StoryFilter

    for name, value in (("--from", args.start), ("--to", args.end)):
        if value and not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", value):
            raise BadInput(f"{name} must be a month as YYYY-MM, not {value!r}")
    unknown = [t for t in args.theme if t not in theme_ids]
    if unknown:
        raise BadInput(f"unknown theme {unknown[0]!r}; themes are: {', '.join(theme_ids)}")
    params = {
        "theme": args.theme,
        "team": args.team,
        "municipality": args.municipality,
        "from": args.start,
        "to": args.end,
        "q": args.q,
        "per": args.per,
    }
    return StoryFilter.from_params({k: v for k, v in params.items() if v})


def _with_export_database(settings: Settings, work):
    """Like with_database, with more readers and a long query time limit: an export on the
    command line is a batch job, not a page someone waits for (the web keeps its limit)."""
    from . import taxonomy as taxonomy_store
    from .db import Database, QueryTooSlow, migrate

    async def run():
        migrate(settings.db_path)
        db = Database(
            settings.db_path,
            readers=4,
            query_time_limit_ms=max(settings.query_time_limit_ms, 600_000),
        )
        await db.open()
        try:
            await taxonomy_store.ensure_default_taxonomy(db)
            return await work(db)
        except QueryTooSlow:
            raise BadInput("the selection took too long to compute; make it smaller") from None
        finally:
            await db.close()

    return asyncio.run(run())


def cmd_export(args) -> int:
    import os
    import tempfile

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from . import exports
    from . import taxonomy as taxonomy_store
    from .events import CLI
    from .exports import summary as summaries
    from .exports.common import log_export
    from .exports.report import render_report, report_pdf

    formats = SUMMARY_FORMATS if args.what == "summary" else STORY_FORMATS
    if args.format not in formats:
        raise BadInput(f"--format for {args.what} must be one of: {', '.join(formats)}")
    to_stdout = args.output in ("-", "")
    if to_stdout and args.format in BINARY_FORMATS:
        raise BadInput(f"--format {args.format} is binary: give an output file with -o FILE")
    output = None if to_stdout else Path(args.output)
    if output is not None and not output.parent.is_dir():
        raise BadInput(f"cannot write {output}: folder {output.parent} does not exist")
    settings = settings_from(args)

    async def work(db):
        taxonomy = await taxonomy_store.active_taxonomy(db)
        flt = _cli_filter(args, taxonomy.ids)
        # Write next to the target and rename at the end: a failed export leaves no half file.
        handle = (
            tempfile.NamedTemporaryFile(dir=output.parent, prefix=".vertelpunt-", delete=False)
            if output
            else sys.stdout.buffer
        )
        try:
            if args.what == "summary":
                summary = await summaries.theme_summary(db, flt, settings.data_dir / "models")
                await log_export(
                    db, CLI, "summary", args.format, flt, "cli", themes=len(summary["themes"])
                )
                if args.format == "xlsx":
                    summaries.summary_xlsx(summary, handle)
                else:
                    handle.write(
                        {
                            "csv": lambda: summaries.summary_csv(summary).encode("utf-8"),
                            "json": lambda: summaries.summary_json(summary).encode("utf-8"),
                            "html": lambda: render_report(summary, None).encode("utf-8"),
                            "pdf": lambda: report_pdf(summary),
                        }[args.format]()
                    )
                count = len(summary["themes"])
            else:
                fmt = exports.story_format(args.format)
                count = await exports.tables.count_stories(db, flt)
                await log_export(db, CLI, "stories", fmt, flt, "cli", stories=count)
                columns = (
                    "{task.description}",
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeRemainingColumn(),
                )
                with Progress(*columns, console=_console(), transient=True) as progress:
                    task = progress.add_task("export", total=count)
                    await exports.write_stories(
                        db,
                        flt,
                        fmt,
                        taxonomy,
                        handle,
                        on_progress=lambda done: progress.update(task, completed=done),
                    )
            handle.flush()
        except BaseException:
            if output:
                handle.close()
                os.unlink(handle.name)
            raise
        if output:
            handle.close()
            os.replace(handle.name, output)
        return count

    count = _with_export_database(settings, work)
    unit = "themes" if args.what == "summary" else "stories"
    where = output or "stdout"
    _console().print(f"export {args.what} ({args.format}): {count} {unit} -> {where}")
    return 0


def cmd_import(args) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from . import imports
    from .events import CLI
    from .tagging import TaggingService
    from .worker import Worker

    try:
        data = args.file.read_bytes()
    except OSError as error:
        raise BadInput(f"cannot read {args.file}: {error.strerror}") from None
    try:
        rows = imports.read_rows(args.file.name, data)
    except imports.ImportRefused as refused:
        raise BadInput(str(refused)) from None
    settings = settings_from(args)

    async def work(db):
        try:
            await imports.resolve_team(db, args.team)
        except imports.ImportRefused as refused:
            raise BadInput(str(refused)) from None
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, console=_console(), transient=True) as progress:
            task = progress.add_task("controleren en anonimiseren", total=len(rows))
            report = await imports.import_rows(
                db,
                args.file.name,
                rows,
                args.team,
                CLI,
                args.all_or_nothing,
                on_progress=lambda done, total: progress.update(task, completed=done),
            )
            tagged = 0
            if report.imported and not args.no_tag:
                worker = Worker(db, TaggingService(settings.data_dir / "models"))
                task = progress.add_task("taggen", total=None)
                while handled := await worker.run_once():
                    tagged += handled
                    progress.update(task, completed=tagged)
        return report, tagged

    report, tagged = with_database(settings, work)
    for row in report.rows:  # one JSON line per row of the file: what happened and why
        write_line(
            {"row": row.row, "status": row.status, "story_id": row.story_id, "reason": row.reason}
        )
    _console().print(
        f"import {args.file.name}: {report.imported} imported, {report.refused} refused,"
        f" {tagged} tagged"
    )
    return 0
