"""Where trained models live: `<models_dir>/<version>/` directories plus an `active` pointer.

    <models_dir>/
        active                      one line: the version the tagger loads by default
        m-20261123-1030-ab12cd/     model.npz, vocab.json, meta.json (see nlp/model.py)

The default models dir is $VERTELPUNT_MODELS_DIR, else $VERTELPUNT_DATA_DIR/models, else
./data/models (the web app's data folder). The pointer is replaced atomically, so a tagger that
loads while a new model is promoted sees either the old or the new version, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import UTC, datetime
from pathlib import Path

ACTIVE_FILE = "active"
_VERSION = re.compile(r"m-\d{8}-\d{4}-[0-9a-f]{6}")


def default_models_dir() -> Path:
    if os.environ.get("VERTELPUNT_MODELS_DIR"):
        return Path(os.environ["VERTELPUNT_MODELS_DIR"])
    return Path(os.environ.get("VERTELPUNT_DATA_DIR") or "data") / "models"


def new_version(fingerprint: str, now: datetime | None = None) -> str:
    """A version like "m-20261123-1030-ab12cd": training time (UTC) plus a hash of the inputs."""
    now = now or datetime.now(UTC)
    digest = hashlib.sha256(fingerprint.encode("utf-8")).hexdigest()[:6]
    return f"m-{now:%Y%m%d-%H%M}-{digest}"


def is_version(name: str) -> bool:
    return bool(_VERSION.fullmatch(name))


def active_version(models_dir: str | Path) -> str | None:
    pointer = Path(models_dir) / ACTIVE_FILE
    if not pointer.is_file():
        return None
    version = pointer.read_text(encoding="utf-8").strip()
    return version or None


def set_active(models_dir: str | Path, version: str) -> None:
    models_dir = Path(models_dir)
    if not (models_dir / version).is_dir():
        raise FileNotFoundError(f"no model {version} in {models_dir}")
    tmp = models_dir / f".{ACTIVE_FILE}.tmp"
    tmp.write_text(version + "\n", encoding="utf-8")
    os.replace(tmp, models_dir / ACTIVE_FILE)


def list_versions(models_dir: str | Path) -> list[str]:
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    return sorted(p.name for p in models_dir.iterdir() if p.is_dir() and is_version(p.name))


def resolve(model_dir: str | Path | None) -> Path | None:
    """The model version directory to load, or None when there is none (rules only).

    `model_dir` may be a version directory itself or a models dir with an `active` pointer.
    """
    base = Path(model_dir) if model_dir is not None else default_models_dir()
    if (base / "meta.json").is_file():
        return base
    version = active_version(base)
    if version is None:
        return None
    target = base / version
    if not (target / "meta.json").is_file():
        raise FileNotFoundError(f"{base / ACTIVE_FILE} points to {version}, which is not a model")
    return target
