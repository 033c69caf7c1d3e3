"""``python -m trainer body-report [--json]``: each body's dimensions against anthropometry.

For every body type the report measures the dimensions listed in ``atlas/anthropometry.yaml``
on the committed artifacts (``atlas/meshes/<body>.npz`` and ``atlas/resolved/<body>.json``),
the same way the survey defines them (see :mod:`trainer.tools.render.anthropometry`), and compares
each with its reference mean: *within* when ``|rendered - mean| <= min(5 % of the mean, SD)``.
It needs no MakeHuman assets, so it runs in CI; ``python -m trainer.tools.render calibrate`` is
what makes the bodies match.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from trainer.atlas.assemble import build_atlas
from trainer.atlas.core import BodyType
from trainer.atlas.files import read_atlas_files, read_yaml, validate_model
from trainer.errors import AtlasError, Problem
from trainer.tools.render.anthropometry import RULES, MeasuredBody


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ReferenceValue(_Strict):
    mean_cm: float = Field(gt=0)
    sd_cm: float = Field(gt=0)
    n: int = Field(ge=1)
    source: str | None = None  # overrides the dimension's source (e.g. a body's own population)


class DimensionModel(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    rule: str
    tissue: Literal["skeletal", "soft"]
    definition: str = Field(min_length=10)
    source: str
    source_dimension: str | None = None
    value: str | None = None  # the measured value in the source's words (non-ANSUR sources)
    female: ReferenceValue | None = None
    male: ReferenceValue | None = None
    bodies: dict[str, ReferenceValue] = Field(default_factory=dict)


class SourceModel(_Strict):
    id: str
    short: str = Field(min_length=3)  # e.g. "ANSUR II (Gordon et al. 2014)", for report tables
    citation: str = Field(min_length=10)
    method: str = ""
    notes: str = ""
    doi: str | None = None
    url: str | None = None
    verified: bool = True


class KnownOutside(_Strict):
    """A dimension a body is known to miss, and why (the test lets this list only shrink)."""

    body: str
    dimension: str
    reason: str = Field(min_length=20)


class AnthropometryFile(_Strict):
    schema_version: Literal[1]
    sources: list[SourceModel]
    dimensions: list[DimensionModel]
    known_outside: list[KnownOutside] = Field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class Dimension:
    """One dimension as one body is compared on it."""

    id: str
    name: str
    rule: str
    tissue: str
    definition: str
    source: str
    mean_cm: float
    sd_cm: float
    n: int

    @property
    def tolerance_cm(self) -> float:
        """Within 5 % of the mean, or within 1 SD where the SD is smaller."""
        return min(0.05 * self.mean_cm, self.sd_cm)

    def within(self, value_cm: float) -> bool:
        return abs(value_cm - self.mean_cm) <= self.tolerance_cm + 1e-9


def load_anthropometry(path: Path) -> AnthropometryFile:
    """Read and validate ``atlas/anthropometry.yaml``; every rule must exist."""
    problems: list[Problem] = []
    parsed = validate_model(
        AnthropometryFile, read_yaml(Path(path), str(path), problems), str(path), problems
    )
    if parsed is None:
        raise AtlasError(problems)
    dims = {d.id for d in parsed.dimensions}
    for k in parsed.known_outside:
        if k.dimension not in dims:
            raise AtlasError(f"{path}: known_outside: {k.body}: unknown dimension {k.dimension!r}")
    sources = {s.id for s in parsed.sources}
    for d in parsed.dimensions:
        if d.rule not in RULES:
            raise AtlasError(f"{path}: {d.id}: rule: unknown measurement rule {d.rule!r}")
        if d.source not in sources or any(v.source and v.source not in sources for v in d.bodies.values()):
            raise AtlasError(f"{path}: {d.id}: source: unknown source")
    return parsed


def body_has_weight_target(body: BodyType) -> bool:
    """A body shaped by a (non-average) weight target: its soft tissue is its own."""
    return any("weight" in name and "averageweight" not in name for name, _ in body.targets)


def dimensions_for(anthro: AnthropometryFile, body: BodyType) -> list[Dimension]:
    """What one body is compared with: its reference sex's values (or the body's own
    population where a dimension gives one); soft-tissue dimensions of a body with its own
    weight target only where the body has its own values."""
    body_id = body.id
    sex = body.reference or "female"
    own_weight = body_has_weight_target(body)
    out = []
    for d in anthro.dimensions:
        value = d.bodies.get(body_id)
        source = (value.source if value and value.source else None) or d.source
        if value is None:
            if own_weight and d.tissue == "soft":
                continue
            value = getattr(d, sex)
        if value is None:
            continue
        out.append(
            Dimension(
                id=d.id,
                name=d.name,
                rule=d.rule,
                tissue=d.tissue,
                definition=d.definition,
                source=source,
                mean_cm=value.mean_cm,
                sd_cm=value.sd_cm,
                n=value.n,
            )
        )
    return out


def load_measured_body(atlas_dir: Path, body_type: str) -> MeasuredBody:
    """The committed artifacts of one body as a :class:`MeasuredBody`."""
    rp = Path(atlas_dir) / "resolved" / f"{body_type}.json"
    mp = Path(atlas_dir) / "meshes" / f"{body_type}.npz"
    if not rp.is_file() or not mp.is_file():
        raise AtlasError(f"missing {rp.name} or {mp.name}: run python -m trainer.tools.render artifacts")
    doc = json.loads(rp.read_text(encoding="utf-8"))
    with np.load(mp) as z:
        v = z["vertices_cm"].astype(np.float64)
        t = z["triangles"].astype(np.int64)
    lms = {k: np.asarray(x["point_cm"], dtype=np.float64) for k, x in doc["landmarks"].items()}
    joints = {k: np.asarray(x, dtype=np.float64) for k, x in doc["joints_cm"].items()}
    return MeasuredBody(vertices_cm=v, triangles=t, landmarks_cm=lms, joints_cm=joints)


def source_label(anthro: AnthropometryFile, source_id: str, sex: str, n: int) -> str:
    short = next(s.short for s in anthro.sources if s.id == source_id)
    return f"{short}, {'women' if sex == 'female' else 'men'}, n={n}"


def body_report(atlas_dir: Path, bodies: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"bodies": {BODY: {"dimensions": [...], "within": n, "total": n}}}``."""
    atlas_dir = Path(atlas_dir)
    anthro = load_anthropometry(atlas_dir / "anthropometry.yaml")
    files = read_atlas_files(atlas_dir, ("body_types",))
    if files.problems:
        raise AtlasError(files.problems)
    out: dict[str, Any] = {}
    for body in build_atlas(files).body_types.values():
        if bodies and body.id not in bodies:
            continue
        mb = load_measured_body(atlas_dir, body.id)
        sex = body.reference or "female"
        rows = []
        for d in dimensions_for(anthro, body):
            try:
                value = float(RULES[d.rule](mb))
            except (ValueError, KeyError, IndexError) as exc:
                raise AtlasError(f"{body.id}: cannot measure {d.id}: {exc}") from exc
            rows.append(
                {
                    "name": d.name,
                    "rendered_cm": round(value, 2),
                    "mean_cm": d.mean_cm,
                    "sd_cm": d.sd_cm,
                    "source": source_label(anthro, d.source, sex, d.n),
                    "within": d.within(value),
                }
            )
        out[body.id] = {
            "dimensions": rows,
            "within": sum(1 for r in rows if r["within"]),
            "total": len(rows),
        }
    return {"bodies": out}


def report_markdown(report: Mapping[str, Any], anthro: AnthropometryFile | None = None) -> str:
    """The report as Markdown tables, one per body, with the documented reasons for misses."""
    lines = [
        "# Body report",
        "",
        "Generated by `python -m trainer body-report --output docs/body-report.md`. Each body's dimensions",
        "are measured on the committed artifacts (`atlas/meshes`, `atlas/resolved`) the way the source",
        "defines them and compared with the reference mean: *within* means within 5 % of the mean, or",
        "within 1 SD where the SD is smaller. Sources and definitions: `atlas/anthropometry.yaml`.",
        "",
    ]
    for body, r in report["bodies"].items():
        lines += [
            f"## {body}: {r['within']} of {r['total']} within",
            "",
            "| dimension | rendered cm | mean cm | SD cm | within | source |",
            "|---|---|---|---|---|---|",
        ]
        for d in r["dimensions"]:
            mark = "yes" if d["within"] else "**no**"
            lines.append(
                f"| {d['name']} | {d['rendered_cm']:.2f} | {d['mean_cm']:.2f} | {d['sd_cm']:.2f} | {mark} | {d['source']} |"
            )
        lines.append("")
        misses = [k for k in (anthro.known_outside if anthro else []) if k.body == body]
        if misses:
            names = {d.id: d.name for d in anthro.dimensions} if anthro else {}
            lines += ["Outside target, and why:", ""]
            lines += [f"- **{names.get(k.dimension, k.dimension)}**: {k.reason}" for k in misses]
            lines.append("")
    return "\n".join(lines)
