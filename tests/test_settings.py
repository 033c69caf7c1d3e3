"""One settings object (trainer/settings.py) is the only reader of the environment.

The rule: no module of ``trainer/`` (nor ``streamlit_app.py``) but ``trainer/settings.py`` reads,
writes or copies ``os.environ`` (``os.getenv``, ``environ.get``, ``from os import environ``...).
Code that needs a setting asks :func:`trainer.settings.current` or takes a ``Settings``; a tool
that starts a child process lets it inherit the environment (``subprocess`` does by default)
instead of copying ``os.environ``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trainer
from trainer.settings import ENV_NAMES, Settings, current, location_key
from trainer.store import default_url, sqlite_url

PACKAGE = Path(trainer.__file__).resolve().parent
ROOT = PACKAGE.parent
ENV_ACCESS = {"environ", "environb", "getenv", "getenvb", "putenv", "unsetenv"}


def environment_reads(source: str) -> list[int]:
    """Line numbers where ``source`` touches the process environment."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ENV_ACCESS:
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module in ("os", "posix", "nt")
            and any(a.name in ENV_ACCESS or a.name == "*" for a in node.names)
        ):
            lines.append(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize(
    "snippet",
    [
        "import os\nx = os.environ.get('TRAINER_HOST_KEY')",
        "import os\nx = os.getenv('PORT', '8501')",
        "import os\nenv = dict(os.environ)",
        "from os import environ\nx = environ['X']",
        "from os import getenv as g\nx = g('X')",
        "import os as o\no.environ['X'] = '1'",
    ],
)
def test_the_check_finds_every_way_of_reading_the_environment(snippet: str) -> None:
    assert environment_reads(snippet)


def test_the_check_lets_other_uses_of_os_pass() -> None:
    assert environment_reads("import os\nos.replace('a', 'b')\nos.getcwd()\nenvironment = 'prod'") == []


def test_only_the_settings_module_reads_the_environment() -> None:
    files = [p for p in PACKAGE.rglob("*.py") if p != PACKAGE / "settings.py"] + [ROOT / "streamlit_app.py"]
    found = {
        str(p.relative_to(ROOT)): lines
        for p in files
        if (lines := environment_reads(p.read_text(encoding="utf-8")))
    }
    assert found == {}, "read settings through trainer.settings.current(), not the environment"
    assert environment_reads((PACKAGE / "settings.py").read_text(encoding="utf-8"))  # it does read it


def test_unset_and_empty_variables_mean_the_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.from_environ({"TRAINER_HOST_KEY": "", "TRAINER_AUTHOR_DIR": ""})
    assert s.data_dir == tmp_path / "data"
    assert s.author_dir == tmp_path / "data" / "banks" and s.photo_dir == tmp_path / "data" / "photos"
    assert s.atlas_dir == ROOT / "atlas" and s.quiz_dir == ROOT / "quizzes"
    assert (s.host_key, s.base_url, s.database_url, s.address) == ("", "", "", "0.0.0.0")


def test_folders_are_resolved_once_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.from_environ(
        {
            "TRAINER_DATA_DIR": "d",
            "TRAINER_AUTHOR_DIR": "../banks",
            "TRAINER_ATLAS_DIR": "a/../atlas2",
            "TRAINER_BASE_URL": " http://10.0.0.2:8501 ",
        }
    )
    assert s.data_dir == tmp_path / "d" and s.author_dir == tmp_path.parent / "banks"
    assert s.atlas_dir == tmp_path / "atlas2" and s.base_url == "http://10.0.0.2:8501"


def test_the_store_finds_its_database_through_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    s = Settings.from_environ({"TRAINER_DATA_DIR": "d"})
    assert default_url(s) == sqlite_url(s.data_dir) == f"sqlite:///{tmp_path / 'd' / 'trainer.sqlite3'}"
    pg = Settings.from_environ(
        {"TRAINER_DATA_DIR": "d", "TRAINER_DATABASE_URL": "postgresql+psycopg://u@h/db"}
    )
    assert default_url(pg) == "postgresql+psycopg://u@h/db"


def test_current_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    before = current()
    assert before is current()  # built once per environment, not on every page run
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "elsewhere"))
    assert current().data_dir == tmp_path / "elsewhere"
    assert default_url() == sqlite_url(tmp_path / "elsewhere")


def test_the_host_key_stays_out_of_cache_keys_and_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRAINER_HOST_KEY", "do-not-log-me")
    assert current().host_key == "do-not-log-me"
    assert "do-not-log-me" not in location_key() and "do-not-log-me" not in repr(current())


def test_every_setting_is_a_field_named_after_its_variable() -> None:
    assert len(ENV_NAMES) == len(set(ENV_NAMES)) == len(Settings.model_fields)
    assert all(name.startswith("TRAINER_") for name in ENV_NAMES)
