"""The project's promises to a new user: the README's two commands, CI, settings, licence."""

from __future__ import annotations

import re
from pathlib import Path

from vertelpunt.settings import SETTINGS, Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_the_two_commands_and_ci_runs_the_test_one():
    assert re.search(r"^\s*make run\s*$", README, re.M)
    assert re.search(r"^\s*make test\s*$", README, re.M)
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: ", makefile, re.M) and re.search(r"^test: ", makefile, re.M)


def test_every_setting_is_documented_in_the_readme():
    for env, _default, help_text in SETTINGS:
        assert f"`{env}`" in README, f"{env} is missing from the README"
        assert help_text


def test_settings_are_read_from_the_environment_with_clear_errors():
    settings = Settings.from_env(
        env={"VERTELPUNT_DB": "/tmp/x.db", "VERTELPUNT_READERS": "2", "VERTELPUNT_DEMO": "ja"}
    )
    assert str(settings.db_path) == "/tmp/x.db" and settings.readers == 2 and settings.load_demo
    import pytest

    with pytest.raises(ValueError, match="VERTELPUNT_READERS must be a whole number"):
        Settings.from_env(env={"VERTELPUNT_READERS": "veel"})


def test_licence_is_eupl():
    assert "EUPL" in (ROOT / "LICENSE").read_text(encoding="utf-8")[:2000]
    assert 'license = { text = "EUPL-1.2" }' in (ROOT / "pyproject.toml").read_text()
