"""Small synthetic quiz banks matching tests/atlas_factory.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def q(qid: str, qtype: str, **kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": qid,
        "type": qtype,
        "prompt": f"Question {qid}",
        "explanation": "Because of anatomy.",
        "references": ["ref_a"],
    }
    base.update(kw)
    return base


def good_bank() -> dict[str, Any]:
    choices = [{"text": "Nerve A", "correct": True, "item": "nerve_a"}, {"text": "Nerve B"}]
    return {
        "schema_version": 1,
        "bank": {"id": "bank_a", "title": "Bank A"},
        "questions": [
            q("q_locate", "locate", view="view_a", targets=["site_a"]),
            q("q_multi", "multi_site", view="view_a", targets=["site_a", "nerve_a"]),
            q("q_trace", "trace", view="view_a", targets=["nerve_a"]),
            q("q_identify", "identify", view="view_a", targets=["nerve_a"], choices=choices),
            q("q_terr_tap", "territory", view="view_a", targets=["terr_a"], mode="tap"),
            q("q_terr_name", "territory", view="view_a", targets=["terr_a"], mode="name", choices=choices),
            q("q_clinical", "clinical", choices=[{"text": "Yes", "correct": True}, {"text": "No"}]),
            q(
                "q_case",
                "case",
                view="view_a",
                vignette="A patient.",
                steps=[
                    {"type": "identify", "prompt": "Which nerve?", "choices": choices},
                    {"type": "locate", "prompt": "Where?", "targets": ["site_a"]},
                ],
            ),
        ],
    }


def write_bank(folder: Path, bank: dict[str, Any] | str, name: str = "bank_a.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(bank if isinstance(bank, str) else yaml.safe_dump(bank, sort_keys=False))
    return path


def six_step_case(qid: str = "q_case6") -> dict[str, Any]:
    """A full case on the test atlas: placing and choice steps interleaved (issue 12)."""
    nerve = [{"text": "Nerve A", "correct": True, "item": "nerve_a"}, {"text": "Nerve B"}]
    yes_no = [{"text": "Yes", "correct": True}, {"text": "No"}]
    return q(
        qid,
        "case",
        view="view_a",
        vignette="A patient with pain below landmark A.",
        steps=[
            {"type": "identify", "prompt": "Which nerve?", "choices": nerve},
            {"type": "locate", "prompt": "Place landmark A.", "targets": ["lm_a"]},
            {"type": "multi_site", "prompt": "Place the site.", "targets": ["site_a"]},
            {"type": "clinical", "prompt": "Palpate first?", "choices": yes_no},
            {"type": "locate", "prompt": "Mark the vein to avoid.", "targets": ["vein_a"]},
            {"type": "clinical", "prompt": "Review in two weeks?", "choices": yes_no},
        ],
    )
