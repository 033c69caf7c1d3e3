"""Every setting declared in trainer/settings.py is documented in the README (and vice versa)."""

from __future__ import annotations

import re
from pathlib import Path

from trainer.settings import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_in_the_readme() -> None:
    for s in SETTINGS:
        assert f"`{s.name}`" in README, f"{s.name} is not documented in README.md"


def test_the_readme_documents_no_unknown_setting() -> None:
    documented = set(re.findall(r"`(TRAINER_[A-Z_]+)`", README))
    assert documented <= {s.name for s in SETTINGS}


def test_every_variable_the_start_script_reads_is_in_the_readme() -> None:
    script = (Path(__file__).resolve().parents[1] / "scripts" / "start.sh").read_text(encoding="utf-8")
    used = set(re.findall(r"\$\{([A-Z_]+)(?::-[^}]*)?\}", script))
    assert "PORT" in used
    configuration = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    assert {name for name in used if f"| `{name}` |" not in configuration} == set()
