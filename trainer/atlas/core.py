"""Plain frozen atlas objects, built from validated files.

The rest of the trainer (scoring, quizzes, UI) and the tools (validator, render tool,
anatomy check) work with these objects only; they hold no pydantic, no YAML and no file
handles. Every class is keyword-only: a record with a dozen string fields cannot be built
with two of them swapped. :func:`trainer.atlas.assemble.build_atlas` builds them from the
files :func:`trainer.atlas.files.read_atlas_files` read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Side = Literal["right", "left", "midline"]
ItemKind = Literal["landmark", "nerve", "site", "avoid", "territory"]
#: How far a YAML point may lie from a body's skin when its body type says nothing.
DEFAULT_OFF_SKIN_LIMIT_CM = 1.5


@dataclass(frozen=True, kw_only=True)
class Along:
    """A point on the straight line from a skin point's landmark to the landmark ``to``: its
    ``fraction``, or ``distance_cm`` along it from the landmark (exactly one is given)."""

    to: str
    fraction: float | None = None
    distance_cm: float | None = None

    def share(self, line_length_cm: float) -> float:
        """The fraction of a line of this length at which the point lies."""
        if self.fraction is not None:
            return self.fraction
        assert self.distance_cm is not None
        return self.distance_cm / line_length_cm

    def words(self, start: str, end: str) -> str:
        """ "0.35 of the way from A to B" or "1.59 cm along the line from A to B"."""
        if self.fraction is not None:
            return f"{self.fraction:g} of the way from the {start} to the {end}"
        return f"{self.distance_cm:g} cm along the line from the {start} to the {end}"


@dataclass(frozen=True, kw_only=True)
class DistanceFrom:
    """The point lies ``distance_cm`` in a straight line from the landmark ``landmark``, reached by
    moving along the segment's long axis (``going`` proximal or distal) or its front-back axis
    (``going`` anterior or posterior) instead of a written offset."""

    landmark: str
    distance_cm: float
    going: str  # "proximal", "distal", "anterior" or "posterior"


@dataclass(frozen=True, kw_only=True)
class SkinPoint:
    landmark: str
    offsets_cm: tuple[float, float, float]  # proximal, lateral, anterior
    ref: str
    value: str | None
    tolerance_cm: float
    # Where given, the offsets start from landmark + fraction * (to - landmark), not the landmark.
    along: Along | None = None
    # Where given, the point is carried along this direction to the skin (no depth offset).
    onto_skin: str | None = None
    # Where given, the long-axis offset is not written: it is solved on each body so that the point
    # lies distance_from.distance_cm from a second landmark (a source that gives two distances).
    distance_from: DistanceFrom | None = None
    # Where given, the long-axis offset is not written: the point takes the level of this second
    # landmark (a source that says "at the level of X, so far from Y").
    level_of: str | None = None

    @property
    def landmark_ids(self) -> tuple[str, ...]:
        """Every landmark the point is measured from (its landmark, ``along.to``, ``distance_from``,
        ``level_of``)."""
        ids = (self.landmark,) if self.along is None else (self.landmark, self.along.to)
        ids = ids if self.distance_from is None else (*ids, self.distance_from.landmark)
        return ids if self.level_of is None else (*ids, self.level_of)


@dataclass(frozen=True, kw_only=True)
class Spread:
    """The published SD of a site's position and its source (see :mod:`trainer.atlas.tolerance`)."""

    sd_cm: float
    ref: str
    value: str


@dataclass(frozen=True, kw_only=True)
class Reference:
    id: str
    kind: str
    citation: str
    doi: str | None
    url: str | None
    pmid: str | None
    technique: str
    findings: tuple[str, ...]
    verified: bool
    notes: str | None = None


@dataclass(frozen=True, kw_only=True)
class Condition:
    id: str
    name: str
    synonyms: tuple[str, ...]
    summary: str
    pit_relevance: str
    references: tuple[str, ...]
    verified: bool
    techniques: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class LandmarkMethod:
    """How a landmark's point is found on a body (docs/atlas-format.md "Landmarks").

    ``joint_offset`` and ``relief`` are executable rules the render tool re-runs on every
    body; ``vertex_pick`` is the picked vertex itself, the rule is prose only.
    """

    kind: str  # joint_offset | relief | vertex_pick
    rule: str
    joint: str | None = None
    landmark: str | None = None
    frame: str | None = None
    offset_cm: Mapping[str, float] = field(default_factory=dict)
    toward: Mapping[str, float] | None = None
    within_cm: float | None = None

    @property
    def executable(self) -> bool:
        """Whether the point comes from the rule (not from a hand-picked vertex)."""
        return self.kind in ("joint_offset", "relief")


@dataclass(frozen=True, kw_only=True)
class Landmark:
    id: str
    name: str
    segment: str
    vertex: int
    palpation: str
    references: tuple[str, ...]
    verified: bool
    definition: str = ""  # the bony point: tip or most prominent point, edge or angle
    rule: LandmarkMethod | None = None  # how it is found on the body
    expected_error_cm: float = 0.0  # how far the pick may be from the true point

    @property
    def method(self) -> str:
        """The method's kind: joint_offset | relief | vertex_pick ("" when none is given)."""
        return self.rule.kind if self.rule else ""

    @property
    def method_rule(self) -> str:
        """The method's rule, in words."""
        return self.rule.rule if self.rule else ""


@dataclass(frozen=True, kw_only=True)
class Region:
    id: str
    name: str
    segment: str
    conditions: tuple[str, ...]
    summary: str
    file: str


@dataclass(frozen=True, kw_only=True)
class View:
    """One side of a view definition, e.g. ``knee_anteromedial_right``."""

    id: str
    base_id: str
    region: str
    side: Side
    look_from: str
    center: SkinPoint
    extent_cm: float
    up: str
    supination_deg: float | None = None  # forearm turned from the A-pose (90 = palm forward)
    elbow_extended: bool = False  # the A-pose's flexed elbows straightened
    turn_posterior_deg: float = 0.0  # camera turned round the limb toward the back


@dataclass(frozen=True, kw_only=True)
class Nerve:
    id: str
    region: str
    name: str
    synonyms: tuple[str, ...]
    parent: str | None
    parent_name: str | None
    roots: tuple[str, ...]
    course: tuple[SkinPoint, ...]
    description: str
    conditions: tuple[str, ...]
    references: tuple[str, ...]
    verified: bool
    kind: ItemKind = "nerve"


@dataclass(frozen=True, kw_only=True)
class Dose:
    """Volume per point, needle and depth with the references that give them."""

    volume_ml: tuple[float, float]
    needle: str | None
    depth: str | None
    refs: tuple[str, ...]
    value: str
    example_only: bool


@dataclass(frozen=True, kw_only=True)
class Site:
    id: str
    region: str
    name: str
    nerve: str
    site_kind: str
    at: SkinPoint
    depth: str
    dose: Dose | None
    technique: str
    conditions: tuple[str, ...]
    cautions: tuple[str, ...]
    avoid: tuple[str, ...]
    teaching: str
    references: tuple[str, ...]
    verified: bool
    same_exit_as: str | None = None
    kind: ItemKind = "site"
    spread: Spread | None = None
    tolerance_reason: str | None = None

    @property
    def volume_ml(self) -> tuple[float, float] | None:
        """The dose's volume per point (None when the site states no dose)."""
        return self.dose.volume_ml if self.dose else None

    @property
    def needle(self) -> str | None:
        return self.dose.needle if self.dose else None


@dataclass(frozen=True, kw_only=True)
class Avoid:
    id: str
    region: str
    name: str
    structure_kind: str
    path: tuple[SkinPoint, ...]
    safety_radius_cm: float
    why: str
    references: tuple[str, ...]
    verified: bool
    kind: ItemKind = "avoid"


@dataclass(frozen=True, kw_only=True)
class Territory:
    id: str
    region: str
    nerve: str
    name: str | None
    polygon: tuple[SkinPoint, ...]
    references: tuple[str, ...]
    verified: bool
    kind: ItemKind = "territory"


@dataclass(frozen=True, kw_only=True)
class BodyType:
    id: str
    name: str
    off_skin_limit_cm: float = DEFAULT_OFF_SKIN_LIMIT_CM
    # MakeHuman shape targets (sex, weight), then the fitted modifier weights; both summed.
    targets: tuple[tuple[str, float], ...] = ()
    fitted: tuple[tuple[str, float], ...] = ()
    reference: str | None = None  # the population the body was fitted to

    @property
    def definition(self) -> tuple[tuple[str, float], ...]:
        """``(target file, weight)`` pairs the render tool morphs the base mesh with."""
        return self.targets + self.fitted


AtlasItem = Nerve | Site | Avoid | Territory


def skin_points(item: AtlasItem) -> tuple[SkinPoint, ...]:
    """An item's skin points in order: a course, a site's one point, a path or a polygon."""
    if isinstance(item, Nerve):
        return item.course
    if isinstance(item, Site):
        return (item.at,)
    if isinstance(item, Avoid):
        return item.path
    return item.polygon


@dataclass(frozen=True, kw_only=True)
class Atlas:
    """The whole atlas, indexed by id. Dicts are insertion-ordered as in the files."""

    root: Path
    references: dict[str, Reference]
    conditions: dict[str, Condition]
    landmarks: dict[str, Landmark]
    regions: dict[str, Region]
    views: dict[str, View]
    nerves: dict[str, Nerve]
    sites: dict[str, Site]
    avoid: dict[str, Avoid]
    territories: dict[str, Territory]
    body_types: dict[str, BodyType]
    default_body_type: str
    region_files: dict[str, str] = field(default_factory=dict)  # region id -> file label

    def item(self, item_id: str) -> AtlasItem | None:
        """Look up a nerve, site, structure to avoid or territory by id."""
        for table in (self.nerves, self.sites, self.avoid, self.territories):
            found = table.get(item_id)
            if found is not None:
                return found
        return None

    def name_of(self, item_id: str) -> str:
        """Human name for any id (falls back to the id itself)."""
        thing = self.item(item_id) or self.landmarks.get(item_id) or self.conditions.get(item_id)
        name = getattr(thing, "name", None)
        return name if isinstance(name, str) and name else item_id.replace("_", " ")

    def views_of_region(self, region_id: str) -> list[View]:
        return [v for v in self.views.values() if v.region == region_id]

    def region_items(self, region_id: str) -> list[AtlasItem]:
        out: list[AtlasItem] = []
        for table in (self.nerves, self.sites, self.avoid, self.territories):
            out.extend(x for x in table.values() if x.region == region_id)
        return out

    def region_landmarks(self, region_id: str) -> list[str]:
        """Landmarks the region's items and views are measured from (the ones worth showing)."""
        ids = [i for item in self.region_items(region_id) for p in skin_points(item) for i in p.landmark_ids]
        ids.extend(i for v in self.views_of_region(region_id) for i in v.center.landmark_ids)
        return [i for i in dict.fromkeys(ids) if i in self.landmarks]

    def sites_of_nerve(self, nerve_id: str) -> list[Site]:
        return [s for s in self.sites.values() if s.nerve == nerve_id]

    def nerves_for_condition(self, condition_id: str) -> list[Nerve]:
        ids = {s.nerve for s in self.sites.values() if condition_id in s.conditions}
        return [n for n in self.nerves.values() if condition_id in n.conditions or n.id in ids]
