"""The independent validation set: published measurements the atlas was not placed from.

``atlas/validation/*.yaml`` holds one file per region group. Each check names a published
measurement (source, method, n, mean with SD or range, the source's exact landmark
definitions) and a *compute spec* that says how to measure the same quantity on the resolved
3D body (``trainer.tools.anatomy_check`` evaluates it). See ``docs/atlas-validation.md``.

This module only reads and checks the files: the pydantic models check the shape of one
file, :func:`check_validation` checks ids against the atlas (regions, references, landmarks,
items) and that a check is independent of the item it measures.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from trainer.atlas.core import Atlas
from trainer.atlas.files import read_yaml, validate_model
from trainer.errors import Problem

SEGMENTS = ("trunk", "head", "neck", "arm", "forearm", "hand", "thigh", "leg", "foot")
DIRECTIONS = ("proximal", "distal", "lateral", "medial", "anterior", "posterior")
_AXIS_PATTERN = rf"^({'|'.join(SEGMENTS)})\.({'|'.join(DIRECTIONS)})$"
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"

Method = Literal["cadaver", "ultrasound", "mri", "ct", "intraoperative", "in_vivo", "dry_bone"]
Read = Literal["abstract", "full_text", "table", "secondary"]
Unit = Literal["cm", "ratio"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _exactly_one(model: BaseModel, names: Iterable[str], what: str) -> None:
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) != 1:
        raise ValueError(
            f"a {what} needs exactly one of {', '.join(names)} (got {', '.join(given) or 'none'})"
        )


class LineAxis(_Strict):
    """A direction given by two points (unit vector ``from`` -> ``to``)."""

    from_: PointSpec = Field(alias="from")
    to: PointSpec


Axis = str | LineAxis


def _check_axis(value: Axis) -> Axis:
    if isinstance(value, str) and not re.match(_AXIS_PATTERN, value):
        raise ValueError(f"axis {value!r} must be segment.direction, e.g. leg.proximal, or {{from, to}}")
    return value


class PlaneSpec(_Strict):
    """The plane perpendicular to ``axis`` through ``point`` moved ``offset_cm`` along ``axis``."""

    point: PointSpec
    axis: Axis
    offset_cm: float = 0.0
    which: Literal["first", "last"] = "first"

    @field_validator("axis")
    @classmethod
    def _axis(cls, v: Axis) -> Axis:
        return _check_axis(v)


class CourseSpec(_Strict):
    """A point derived from an item's resolved polyline (a nerve course, an avoid path, or a
    territory outline); ``farthest`` is the point reaching furthest along an axis (the edge of
    a territory, the lowest point of a course)."""

    item: str = Field(pattern=_ID_PATTERN)
    crossing: PlaneSpec | None = None
    nearest_to: PointSpec | None = None
    nearest_to_line: tuple[PointSpec, PointSpec] | None = None
    # the same two points joined by a line drawn on the skin (the straight chord carried out onto
    # the surface), for a source that measured against a skin incision or a line drawn on the body
    nearest_to_skin_line: tuple[PointSpec, PointSpec] | None = None
    nearest_to_item: str | None = Field(default=None, pattern=_ID_PATTERN)
    end: Literal["first", "last"] | None = None
    farthest: Axis | None = None

    @field_validator("farthest")
    @classmethod
    def _axis(cls, v: Axis | None) -> Axis | None:
        return None if v is None else _check_axis(v)

    @model_validator(mode="after")
    def _one(self) -> CourseSpec:
        _exactly_one(
            self,
            (
                "crossing",
                "nearest_to",
                "nearest_to_line",
                "nearest_to_skin_line",
                "nearest_to_item",
                "end",
                "farthest",
            ),
            "course point",
        )
        return self


class BetweenSpec(_Strict):
    """The point a ``fraction`` of the way from ``from`` to ``to`` (0.5 = midpoint)."""

    from_: PointSpec = Field(alias="from")
    to: PointSpec
    fraction: float = Field(default=0.5, ge=0.0, le=1.0)


class PointSpec(_Strict):
    """One 3D point on the resolved body: exactly one of the fields."""

    landmark: str | None = Field(default=None, pattern=_ID_PATTERN)
    site: str | None = Field(default=None, pattern=_ID_PATTERN)
    joint: str | None = None
    course: CourseSpec | None = None
    between: BetweenSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> PointSpec:
        _exactly_one(self, ("landmark", "site", "joint", "course", "between"), "point")
        return self


class VectorSpec(_Strict):
    """``to - from`` measured along (component) or across (perpendicular) ``axis``.

    ``drop`` removes a second direction as well, so the quantity is measured within a plane:
    across a line drawn on the front of a limb, ``drop: thigh.anterior`` keeps the side-to-side
    distance a dissector measures and ignores the limb's depth; along a line drawn on the sole,
    ``drop: foot.proximal`` keeps a plane coordinate on the sole and ignores the arch's height.
    """

    from_: PointSpec = Field(alias="from")
    to: PointSpec
    axis: Axis
    drop: Axis | None = None

    @field_validator("axis")
    @classmethod
    def _axis(cls, v: Axis) -> Axis:
        return _check_axis(v)

    @field_validator("drop")
    @classmethod
    def _drop(cls, v: Axis | None) -> Axis | None:
        return None if v is None else _check_axis(v)


class Quantity(_Strict):
    """What is measured: exactly one kind.

    * ``distance``: straight 3D distance between two points, cm;
    * ``skin_distance``: length along the skin between two points, cm;
    * ``component``: signed component of ``to - from`` along an axis (with ``drop``: both the
      vector and the axis first projected onto the plane square to ``drop``), cm;
    * ``perpendicular``: length of ``to - from`` with its component along the axis (and along
      ``drop``, if given) removed, cm;
    * ``ratio``: one quantity divided by another.
    """

    distance: tuple[PointSpec, PointSpec] | None = None
    skin_distance: tuple[PointSpec, PointSpec] | None = None
    component: VectorSpec | None = None
    perpendicular: VectorSpec | None = None
    ratio: tuple[Quantity, Quantity] | None = None

    @model_validator(mode="after")
    def _one(self) -> Quantity:
        _exactly_one(self, ("distance", "skin_distance", "component", "perpendicular", "ratio"), "quantity")
        return self


class Expected(_Strict):
    """The published value: mean with SD, or a range (with or without a mean)."""

    mean: float | None = None
    sd: float | None = Field(default=None, gt=0)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _spread(self) -> Expected:
        if self.sd is not None and self.mean is None:
            raise ValueError("sd without a mean")
        if (self.min is None) != (self.max is None):
            raise ValueError("give both min and max, or neither")
        if self.sd is None and self.min is None:
            raise ValueError("give a spread: sd (with the mean) or min and max")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min is larger than max")
        return self

    def interval(self) -> tuple[float, float]:
        """mean ± 2 SD where an SD is published, else the reported range."""
        if self.sd is not None and self.mean is not None:
            return (self.mean - 2 * self.sd, self.mean + 2 * self.sd)
        assert self.min is not None and self.max is not None
        return (self.min, self.max)


class CheckModel(_Strict):
    id: str = Field(pattern=_ID_PATTERN)
    region: str = Field(pattern=_ID_PATTERN)
    ref: str = Field(pattern=_ID_PATTERN)
    read: Read
    measured: str = Field(
        min_length=10, description="what was measured, with the source's landmark definitions"
    )
    method: Method
    n: int | None = Field(default=None, ge=1)
    n_note: str | None = None
    source_value: str = Field(min_length=3, description="the value in the source's words")
    expected: Expected
    unit: Unit
    compute: Quantity
    independence: str = Field(min_length=5, description="which sources the measured items were placed from")
    same_source: bool = False
    needs: list[str] = Field(default_factory=list)
    bodies: list[str] | None = None
    notes: str | None = None


class ValidationFile(_Strict):
    schema_version: Literal[1]
    checks: list[CheckModel] = Field(min_length=1)


LineAxis.model_rebuild()
PlaneSpec.model_rebuild()
CourseSpec.model_rebuild()
BetweenSpec.model_rebuild()
PointSpec.model_rebuild()
VectorSpec.model_rebuild()
Quantity.model_rebuild()


@dataclass(frozen=True)
class ValidationSet:
    """Every check, with the file each came from."""

    checks: tuple[CheckModel, ...]
    files: dict[str, str]  # check id -> file label


def read_validation(atlas_root: Path) -> tuple[ValidationSet, list[Problem]]:
    """Read ``<atlas>/validation/*.yaml``; shape problems are returned, never raised."""
    root = Path(atlas_root)
    problems: list[Problem] = []
    checks: list[CheckModel] = []
    files: dict[str, str] = {}
    folder = root / "validation"
    for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        try:
            label = str(path.relative_to(root.parent))
        except ValueError:
            label = str(path)
        parsed = validate_model(ValidationFile, read_yaml(path, label, problems), label, problems)
        if parsed is None:
            continue
        for check in parsed.checks:
            if check.id in files:
                problems.append(
                    Problem(label, check.id, "id", f"duplicate check id (also in {files[check.id]})")
                )
                continue
            files[check.id] = label
            checks.append(check)
    return ValidationSet(tuple(checks), files), problems


# --- walking a check's points -------------------------------------------------------------


def _axis_points(axis: Axis) -> Iterator[PointSpec]:
    if isinstance(axis, LineAxis):
        yield axis.from_
        yield axis.to


def iter_points(q: Quantity) -> Iterator[PointSpec]:
    """Every point spec in a quantity, nested ones included."""
    stack: list[PointSpec] = []
    if q.distance:
        stack.extend(q.distance)
    if q.skin_distance:
        stack.extend(q.skin_distance)
    for v in (q.component, q.perpendicular):
        if v is not None:
            stack.extend((v.from_, v.to, *_axis_points(v.axis)))
            if v.drop is not None:
                stack.extend(_axis_points(v.drop))
    if q.ratio:
        for sub in q.ratio:
            yield from iter_points(sub)
    while stack:
        p = stack.pop()
        yield p
        if p.course is not None:
            c = p.course
            if c.crossing is not None:
                stack.append(c.crossing.point)
                stack.extend(_axis_points(c.crossing.axis))
            if c.nearest_to is not None:
                stack.append(c.nearest_to)
            if c.nearest_to_line is not None:
                stack.extend(c.nearest_to_line)
            if c.nearest_to_skin_line is not None:
                stack.extend(c.nearest_to_skin_line)
            if c.farthest is not None:
                stack.extend(_axis_points(c.farthest))
        if p.between is not None:
            stack.extend((p.between.from_, p.between.to))


def measured_items(check: CheckModel) -> set[str]:
    """Ids of the atlas items (sites, courses, avoid paths) a check measures."""
    out: set[str] = set()
    for p in iter_points(check.compute):
        if p.site:
            out.add(p.site)
        if p.course:
            out.add(p.course.item)
            if p.course.nearest_to_item:
                out.add(p.course.nearest_to_item)
    return out


def _placement_refs(atlas: Atlas, item_id: str) -> set[str]:
    item = atlas.item(item_id)
    if item is None:
        return set()
    points = {"nerve": "course", "site": "at", "avoid": "path", "territory": "polygon"}[item.kind]
    value = getattr(item, points)
    return {p.ref for p in (value if isinstance(value, tuple) else (value,))}


def check_validation(atlas: Atlas, vset: ValidationSet) -> list[Problem]:
    """Ids that don't resolve, and checks measured from the source their item was placed from."""
    out: list[Problem] = []
    for c in vset.checks:
        label = vset.files[c.id]
        if c.region not in atlas.regions:
            out.append(Problem(label, c.id, "region", f"unknown region '{c.region}'"))
        if c.ref not in atlas.references:
            out.append(
                Problem(
                    label,
                    c.id,
                    "ref",
                    f"unknown reference '{c.ref}' (add it to atlas/references_validation.yaml)",
                )
            )
        for b in c.bodies or []:
            if b not in atlas.body_types:
                out.append(Problem(label, c.id, "bodies", f"unknown body type '{b}'"))
        for need in c.needs:
            if need in atlas.landmarks:
                out.append(
                    Problem(label, c.id, "needs", f"landmark '{need}' exists now; remove it from needs")
                )
        for p in iter_points(c.compute):
            if p.landmark and p.landmark not in atlas.landmarks and p.landmark not in c.needs:
                out.append(
                    Problem(
                        label,
                        c.id,
                        "compute",
                        f"unknown landmark '{p.landmark}' (list it under needs if the atlas lacks it)",
                    )
                )
            if p.site and p.site not in atlas.sites:
                out.append(Problem(label, c.id, "compute", f"unknown site '{p.site}'"))
            for ref_item in [p.course.item, p.course.nearest_to_item] if p.course else []:
                if ref_item and not any(
                    ref_item in t for t in (atlas.nerves, atlas.avoid, atlas.territories)
                ):
                    out.append(
                        Problem(
                            label,
                            c.id,
                            "compute",
                            f"unknown nerve, structure to avoid or territory '{ref_item}'",
                        )
                    )
        if not c.same_source:
            for item_id in sorted(measured_items(c)):
                if c.ref in _placement_refs(atlas, item_id):
                    out.append(
                        Problem(
                            label,
                            c.id,
                            "ref",
                            f"'{item_id}' was placed from '{c.ref}': not an independent check "
                            "(set same_source: true only for a different quantity of that study)",
                        )
                    )
    return out
