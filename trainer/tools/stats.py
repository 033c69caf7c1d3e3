"""Content counts for ``python -m trainer stats``."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Protocol

from trainer.atlas import check_atlas
from trainer.atlas.content_rules import has_dose_source
from trainer.quiz.bank import read_banks
from trainer.quiz.kinds import is_case
from trainer.quiz.models import QUESTION_TYPES


class _Sourced(Protocol):
    """Any atlas record: it cites references and is verified or not."""

    @property
    def references(self) -> tuple[str, ...]: ...
    @property
    def verified(self) -> bool: ...


def atlas_stats(atlas_dir: Path, quiz_dir: Path) -> dict[str, object]:
    """Integer counts of everything in the atlas and the banks (best effort on broken files)."""
    atlas, _ = check_atlas(atlas_dir, renders=False)
    assert atlas is not None
    banks, _ = read_banks([quiz_dir])
    questions = [q for b in banks.values() for q in b.questions]
    by_type: Counter[str] = Counter(q.type for q in questions)
    records: list[_Sourced] = [
        *atlas.landmarks.values(),
        *atlas.nerves.values(),
        *atlas.sites.values(),
        *atlas.avoid.values(),
        *atlas.territories.values(),
        *atlas.conditions.values(),
    ]
    unreferenced = sum(1 for r in records if not r.references) + sum(1 for q in questions if not q.references)
    unverified = sum(1 for r in records if not r.verified)
    # A "full" worked case runs from history to review in at least six steps (issue 16).
    cases_full = sum(1 for q in questions if is_case(q) and len(q.steps) >= 6)
    return {
        "regions": len(atlas.regions),
        "views": len(atlas.views),
        "nerves": len(atlas.nerves),
        "landmarks": len(atlas.landmarks),
        "sites": len(atlas.sites),
        "territories": len(atlas.territories),
        "avoid": len(atlas.avoid),
        "references": len(atlas.references),
        "conditions": len(atlas.conditions),
        "questions": len(questions),
        "cases_full": cases_full,
        "sites_with_dose_source": sum(
            1 for s in atlas.sites.values() if has_dose_source(s, atlas.references)
        ),
        "questions_by_type": {t: by_type.get(t, 0) for t in QUESTION_TYPES},
        "unreferenced": unreferenced,
        "unverified": unverified,
    }
