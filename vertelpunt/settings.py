"""All settings in one place, read from the environment.

Each setting has a name, a default and one line of help; the README's settings table is
checked against SETTINGS by a test, so a new setting cannot go undocumented.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path


def _setting(env: str, default, help: str):
    return field(default=default, metadata={"env": env, "help": help})


@dataclass(frozen=True)
class Settings:
    db_path: Path = _setting(
        "VERTELPUNT_DB", Path("vertelpunt.db"), "Path of the SQLite database file."
    )
    data_dir: Path = _setting(
        "VERTELPUNT_DATA_DIR",
        Path("data"),
        "Folder for trained models and other generated files.",
    )
    secret_key: str = _setting(
        "VERTELPUNT_SECRET_KEY",
        "",
        "Key for signing tokens; empty means a random key is made and kept in the data folder.",
    )
    load_demo: bool = _setting(
        "VERTELPUNT_DEMO", False, "Load the demo stories at start-up (once; `make run` sets it)."
    )
    readers: int = _setting("VERTELPUNT_READERS", 4, "Number of read-only database connections.")
    query_time_limit_ms: int = _setting(
        "VERTELPUNT_QUERY_TIME_LIMIT_MS",
        2000,
        "Time limit for one analytical query; it is stopped after this.",
    )
    max_body_bytes: int = _setting(
        "VERTELPUNT_MAX_BODY_BYTES", 2_000_000, "Largest request body accepted (forms, API)."
    )
    worker: bool = _setting(
        "VERTELPUNT_WORKER", True, "Run the background worker (de-identification, tagging)."
    )
    https: bool = _setting("VERTELPUNT_HTTPS", False, "Served over https: secure cookies and HSTS.")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides) -> Settings:
        env = os.environ if env is None else env
        values = {}
        for f in fields(cls):
            if f.name in overrides:
                values[f.name] = overrides[f.name]
            elif f.metadata["env"] in env:
                values[f.name] = _convert(f.default, env[f.metadata["env"]], f.metadata["env"])
        return cls(**values)


def _convert(default, raw: str, name: str):
    if isinstance(default, bool):
        if raw.lower() in {"1", "true", "yes", "ja", "on"}:
            return True
        if raw.lower() in {"0", "false", "no", "nee", "off", ""}:
            return False
        raise ValueError(f"{name} must be true or false, not {raw!r}")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{name} must be a whole number, not {raw!r}") from None
    if isinstance(default, Path):
        return Path(raw)
    return raw


SETTINGS = [(f.metadata["env"], f.default, f.metadata["help"]) for f in fields(Settings)]
