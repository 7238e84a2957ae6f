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
    return parser


def settings_from(args) -> Settings:
    return Settings.from_env(**({"db_path": args.db} if args.db else {}))


# --- the app and its database --------------------------------------------------------------


def cmd_serve(args) -> int:
    import uvicorn

    from .app import create_app

    settings = settings_from(args)
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
                db, taxonomy, settings.data_dir / "models", settings.data_dir / "retag",
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
