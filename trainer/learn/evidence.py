"""The evidence map (``atlas/evidence_map.yaml``): its model, its checks, and the page model.

One record per study of dextrose injected at or near nerves, and of the hypertonic and
conventional prolotherapy trials taught under the same names, filed by what the study did.
The page's lesson is the control arm: in controlled trials the comparison group often
improved too, which is why an uncontrolled PIT series cannot show that PIT works.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field

from trainer.atlas.core import Atlas
from trainer.atlas.files import read_yaml, validate_model
from trainer.atlas.models import Strict
from trainer.errors import Problem

EVIDENCE_FILE = "evidence_map.yaml"

EvidenceTechnique = Literal[
    "classic_pit",
    "neurofascial_prolotherapy",
    "ultrasound_hydrodissection",
    "conventional_prolotherapy",
    "other_route",
    "unclear",
]
Design = Literal[
    "rct",
    "controlled_trial",
    "controlled_non_randomised",
    "cohort",
    "case_series",
    "case_report",
    "systematic_review",
    "meta_analysis",
    "narrative_review",
]
Direction = Literal[
    "favours_dextrose",
    "no_difference",
    "favours_comparator",
    "mixed",
    "improved_no_control",
    "not_read",
    "not_applicable",
]
ControlImproved = Literal["yes", "no", "not_reported", "no_control", "not_applicable"]

TECHNIQUE_LABELS: dict[str, str] = {
    "classic_pit": "Classic PIT (subcutaneous 5%, palpation)",
    "neurofascial_prolotherapy": "Neurofascial prolotherapy (hypertonic, subcutaneous)",
    "ultrasound_hydrodissection": "Ultrasound-guided perineural (hydrodissection)",
    "conventional_prolotherapy": "Conventional prolotherapy (ligament, tendon, joint)",
    "other_route": "Other route (e.g. epidural)",
    "unclear": "Unclear from the part read",
}
DESIGN_LABELS: dict[str, str] = {
    "rct": "Randomised trial",
    "controlled_trial": "Controlled trial",
    "controlled_non_randomised": "Controlled, not randomised",
    "cohort": "Cohort",
    "case_series": "Case series",
    "case_report": "Case report",
    "systematic_review": "Systematic review",
    "meta_analysis": "Meta-analysis",
    "narrative_review": "Narrative review",
}
DIRECTION_LABELS: dict[str, str] = {
    "favours_dextrose": "Favours dextrose",
    "no_difference": "No difference",
    "favours_comparator": "Favours the comparator",
    "mixed": "Mixed",
    "improved_no_control": "Improved (no control group)",
    "not_read": "Result not read",
    "not_applicable": "Not applicable",
}
CONTROL_LABELS: dict[str, str] = {
    "yes": "Yes: the control arm improved too",
    "no": "No",
    "not_reported": "Not reported",
    "no_control": "No control arm",
    "not_applicable": "Not applicable",
}
CONTROL_LESSON = (
    "In these controlled trials the comparison group got better as well: with saline, a different "
    "volume, exercise or time alone. An uncontrolled series in which patients improve after PIT "
    "cannot tell that improvement apart from this: only a comparison group can."
)
NO_EVIDENCE = "The evidence map file is missing or has problems: run `python -m trainer validate`."


class Arm(Strict):
    label: str
    n: int | None = None
    treatment: str


class Study(Strict):
    id: str = Field(pattern=r"^em_[a-z0-9_]+$")
    reference: str
    year: int | None
    conditions: list[str] = Field(min_length=1)
    technique: EvidenceTechnique
    technique_note: str
    guidance: Literal["palpation", "ultrasound", "epidurogram", "not_stated"]
    route: Literal[
        "subcutaneous",
        "intradermal",
        "perineural",
        "intratendinous",
        "enthesis",
        "fascia",
        "intra_articular",
        "periarticular",
        "epidural",
        "mixed",
        "not_stated",
    ]
    design: Design
    n: int | None
    n_unit: Literal["patients", "wrists", "knees", "tendons", "joints", "studies"]
    arms: list[Arm]
    comparator: str | None
    dextrose: str
    volume: str
    sessions: str
    follow_up: str | None
    primary_outcome: str
    direction: Direction
    control_improved: ControlImproved
    control_change: str | None
    result: str
    counts_for_classic_pit: bool
    read: Literal[
        "abstract", "abstract_partial", "full_text_excerpt", "title_only", "registry", "secondary_summary"
    ]
    verified: bool
    notes: str | None = None


class EvidenceMap(Strict):
    schema_version: Literal[1]
    condition_labels: dict[str, str] = Field(default_factory=dict)
    studies: list[Study]


def read_evidence_map(atlas_root: Path, problems: list[Problem]) -> EvidenceMap | None:
    """The parsed map (None when missing or malformed; the problems say why)."""
    path = Path(atlas_root) / EVIDENCE_FILE
    label = f"atlas/{EVIDENCE_FILE}"
    if not path.is_file():
        return None
    return validate_model(EvidenceMap, read_yaml(path, label, problems), label, problems)


def evidence_problems(atlas: Atlas, emap: EvidenceMap) -> list[Problem]:
    """Ids that do not resolve, duplicates, and a "control arm improved" without its numbers."""
    label = f"atlas/{EVIDENCE_FILE}"
    out: list[Problem] = []
    seen: set[str] = set()
    for s in emap.studies:
        if s.id in seen:
            out.append(Problem(label, s.id, "id", "duplicate study id"))
        seen.add(s.id)
        if s.reference not in atlas.references:
            out.append(Problem(label, s.id, "reference", f"unknown reference '{s.reference}'"))
        for c in s.conditions:
            if c not in atlas.conditions and c not in emap.condition_labels:
                out.append(
                    Problem(
                        label,
                        s.id,
                        "conditions",
                        f"unknown condition '{c}' (not in the atlas or condition_labels)",
                    )
                )
        if s.control_improved == "yes" and not s.control_change:
            out.append(Problem(label, s.id, "control_change", "the control arm improved: say by how much"))
        if s.counts_for_classic_pit and s.technique != "classic_pit":
            out.append(
                Problem(
                    label, s.id, "counts_for_classic_pit", "only a classic_pit study counts for classic PIT"
                )
            )
    return out


def check_evidence_map(atlas: Atlas) -> list[Problem]:
    problems: list[Problem] = []
    emap = read_evidence_map(atlas.root, problems)
    if emap is not None:
        problems.extend(evidence_problems(atlas, emap))
    return problems


# ---------------------------------------------------------------- page model


@dataclass(frozen=True)
class Row:
    """One study as the table shows it (plain text; the page escapes nothing, it is a dataframe)."""

    study: str
    year: str
    conditions: str
    technique: str
    design: str
    n: str
    direction: str
    control_improved: str
    control_change: str
    result: str
    classic_pit: str
    verified: str


@dataclass(frozen=True)
class Filters:
    conditions: tuple[str, ...] = ()
    techniques: tuple[str, ...] = ()
    designs: tuple[str, ...] = ()
    control_improved_only: bool = False


def condition_name(atlas: Atlas, emap: EvidenceMap, key: str) -> str:
    if key in emap.condition_labels:
        return emap.condition_labels[key]
    return atlas.conditions[key].name if key in atlas.conditions else key.replace("_", " ")


def condition_options(emap: EvidenceMap) -> list[str]:
    """Every condition key in the map, in first-seen order."""
    return list(dict.fromkeys(c for s in emap.studies for c in s.conditions))


def matches(s: Study, f: Filters) -> bool:
    return (
        (not f.conditions or any(c in f.conditions for c in s.conditions))
        and (not f.techniques or s.technique in f.techniques)
        and (not f.designs or s.design in f.designs)
        and (not f.control_improved_only or s.control_improved == "yes")
    )


def _study_name(atlas: Atlas, s: Study) -> str:
    """A short name for the table: "First author et al.", else the citation's start.

    >>> from types import SimpleNamespace as NS
    >>> atlas = NS(references={"r": NS(citation="Oh MW, Park JI, Kong HH. Comparative efficacy. 2025.")})
    >>> _study_name(atlas, NS(reference="r"))  # type: ignore[arg-type]
    'Oh MW et al.'
    """
    ref = atlas.references.get(s.reference)
    citation = ref.citation if ref is not None else s.reference
    authors = citation.split(". ")[0]
    if "," in authors and len(authors.split(",")[0]) <= 40:
        return authors.split(",")[0].strip() + " et al."
    return citation if len(citation) <= 60 else citation[:57].rstrip() + "…"


def rows(atlas: Atlas, emap: EvidenceMap, f: Filters) -> list[Row]:
    """The table's rows for the filters, newest first."""
    chosen = [s for s in emap.studies if matches(s, f)]
    chosen.sort(key=lambda s: -(s.year or 0))
    return [
        Row(
            study=_study_name(atlas, s),
            year="" if s.year is None else str(s.year),
            conditions=", ".join(condition_name(atlas, emap, c) for c in s.conditions),
            technique=TECHNIQUE_LABELS[s.technique],
            design=DESIGN_LABELS[s.design],
            n="not read" if s.n is None else f"{s.n} {s.n_unit}",
            direction=DIRECTION_LABELS[s.direction],
            control_improved=CONTROL_LABELS[s.control_improved],
            control_change=s.control_change or "",
            result=s.result,
            classic_pit="yes" if s.counts_for_classic_pit else "no",
            verified="yes" if s.verified else "no",
        )
        for s in chosen
    ]


def control_arm_lessons(atlas: Atlas, emap: EvidenceMap) -> list[tuple[str, str]]:
    """(study, how much its control arm improved) for every controlled study whose control improved."""
    return [
        (_study_name(atlas, s), s.control_change or "") for s in emap.studies if s.control_improved == "yes"
    ]


def counts(emap: EvidenceMap, shown: Sequence[Row]) -> str:
    n_classic = sum(1 for s in emap.studies if s.counts_for_classic_pit)
    return (
        f"{len(shown)} of {len(emap.studies)} studies shown. {n_classic} of the {len(emap.studies)} test classic PIT "
        "(subcutaneous 5% dextrose along superficial nerves); the rest must not be pooled with it."
    )
