"""Pydantic models of the atlas YAML files (schema_version 1).

These models only check the *shape* of one file. Cross-file rules (ids that resolve,
duplicates, references, rendered views) live in :mod:`trainer.atlas.validate`.
See ``docs/atlas-format.md`` for the format in prose.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SCHEMA_VERSION = 1

Id = str
Segment = Literal["trunk", "head", "neck", "arm", "forearm", "hand", "thigh", "leg", "foot"]
#: What an injection (or a source, a site, a question) is about. ``classic_pit``: palpation-guided
#: subcutaneous 5% dextrose along superficial nerves; ``ultrasound_hydrodissection``: one
#: perineural dose at a named, usually deep, nerve; ``neurofascial_prolotherapy``: the subcutaneous
#: method with hypertonic dextrose; ``conventional_prolotherapy``: dextrose of any strength into or
#: at a ligament, tendon, enthesis, fascia or joint. ``anatomy`` and ``general`` are no technique.
Technique = Literal[
    "anatomy",
    "classic_pit",
    "ultrasound_hydrodissection",
    "neurofascial_prolotherapy",
    "conventional_prolotherapy",
    "general",
]
#: The techniques that inject something (a source filed under one of them reports what was done).
TREATMENT_TECHNIQUES: tuple[str, ...] = (
    "classic_pit",
    "ultrasound_hydrodissection",
    "neurofascial_prolotherapy",
    "conventional_prolotherapy",
)
LookFrom = Literal[
    "anterior",
    "posterior",
    "lateral",
    "medial",
    "anteromedial",
    "anterolateral",
    "posteromedial",
    "posterolateral",
    "inferior",
    "superior",
    "anterosuperior",  # above and in front at once: the dorsum of the foot without the leg end-on
    "inferomedial",  # below and medial at once: the medial heel and the sole's medial border face-on
]

#: Views whose direction has no "toward the back" round the limb (straight front or back, or
#: along the limb): ``turn_posterior_deg`` is refused on them.
TURN_UNDEFINED = frozenset({"anterior", "posterior", "superior", "inferior", "anterosuperior"})

_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    """Base: unknown keys are errors, objects are frozen once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class AlongModel(Strict):
    """A point on the straight line from a point's landmark to a second landmark: a fraction of
    the line, or a distance along it.

    Sources that give a position as a share of a segment ("0.35 of the posterior border of
    sternocleidomastoid from the mastoid") travel across bodies of different size this way; a
    source that measured along a line it defines by two landmarks ("where the branch met the line
    from the inferior pole of the patella to the tibial tuberosity, 15.92 mm below the pole") gives
    ``distance_cm`` instead.
    """

    to: Id
    fraction: float | None = Field(default=None, ge=0.0, le=1.0)
    distance_cm: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _fraction_or_distance(self) -> AlongModel:
        if (self.fraction is None) == (self.distance_cm is None):
            raise ValueError("give along.fraction or along.distance_cm (one of them)")
        return self


class DistanceFromModel(Strict):
    """A straight-line distance from a second landmark that fixes one of the point's offsets.

    Sources that place a point by two distances ("45.2 mm from the PSIS and 65.3 mm from the
    midline") give no rise of their own: the rise follows from both distances on each body.
    ``going`` names the axis and the way the point is moved (usually along the long axis; also
    forwards or backwards, where a source fixes the level and a distance, not the depth offset).
    """

    landmark: Id
    distance_cm: float = Field(gt=0)
    going: Literal["proximal", "distal", "anterior", "posterior"]


SkinDirection = Literal["proximal", "distal", "lateral", "medial", "anterior", "posterior"]


class SkinPointModel(Strict):
    """An offset in cm from a landmark (or from a fraction of the way to a second landmark,
    ``along``), along the landmark's segment's anatomical axes.

    ``onto_skin`` names the direction the skin faces at the point (``posterior`` on the back of
    the neck): the in-plane offsets are kept exactly and the point is carried along that axis to
    where the skin is, so no depth number has to be written. Sources give a position seen on
    the surface ("2 cm below and 4 cm lateral"); the depth to the skin is the body's, not theirs.

    ``level_of`` names a second landmark whose level (along that landmark's own segment's long
    axis) the point takes instead of a written proximal/distal offset: sources say "at the level of
    the patellar apex, 7.7 mm behind the adductor tubercle", and the drop between the two is the
    body's.
    """

    landmark: Id
    along: AlongModel | None = None
    proximal_cm: float | None = None
    distal_cm: float | None = None
    lateral_cm: float | None = None
    medial_cm: float | None = None
    anterior_cm: float | None = None
    posterior_cm: float | None = None
    ref: Id
    value: str | None = None
    tolerance_cm: float = Field(default=1.0, gt=0)
    onto_skin: SkinDirection | None = None
    distance_from: DistanceFromModel | None = None
    level_of: Id | None = None

    @model_validator(mode="after")
    def _one_of_each_pair(self) -> SkinPointModel:
        if self.level_of is not None:
            if self.proximal_cm is not None or self.distal_cm is not None:
                raise ValueError("level_of sets the point's level; give no proximal_cm or distal_cm")
            if self.onto_skin in ("proximal", "distal"):
                raise ValueError("level_of sets the point's level; onto_skin must be another axis")
            if self.distance_from is not None and self.distance_from.going in ("proximal", "distal"):
                raise ValueError(
                    "level_of and distance_from going proximal/distal both set the level; give one"
                )
            if self.level_of == self.landmark:
                raise ValueError("level_of must name another landmark")
        if self.distance_from is not None:
            pair = (
                ("proximal", "distal")
                if self.distance_from.going in ("proximal", "distal")
                else ("anterior", "posterior")
            )
            if any(getattr(self, f"{d}_cm") is not None for d in pair):
                raise ValueError(
                    f"distance_from solves the {'/'.join(pair)} offset; give no {pair[0]}_cm or {pair[1]}_cm"
                )
            if self.onto_skin in pair:
                raise ValueError(
                    f"distance_from moves the point {'/'.join(pair)}; onto_skin must be another axis"
                )
            if self.distance_from.landmark == self.landmark:
                raise ValueError("distance_from must name another landmark")
        for a, b in (
            ("proximal_cm", "distal_cm"),
            ("lateral_cm", "medial_cm"),
            ("anterior_cm", "posterior_cm"),
        ):
            if getattr(self, a) is not None and getattr(self, b) is not None:
                raise ValueError(f"give {a} or {b}, not both")
            if self.onto_skin in (a[:-3], b[:-3]) and (
                getattr(self, a) is not None or getattr(self, b) is not None
            ):
                raise ValueError(
                    f"onto_skin: {self.onto_skin} finds the depth on the skin; give no {a} or {b}"
                )
        return self

    def offsets_cm(self) -> tuple[float, float, float]:
        """(proximal, lateral, anterior) with distal/medial/posterior as negatives."""
        prox = self.proximal_cm if self.proximal_cm is not None else -(self.distal_cm or 0.0)
        lat = self.lateral_cm if self.lateral_cm is not None else -(self.medial_cm or 0.0)
        ant = self.anterior_cm if self.anterior_cm is not None else -(self.posterior_cm or 0.0)
        return (float(prox), float(lat), float(ant))


class Record(Strict):
    """Every atlas record carries an id, its references and a verified flag."""

    id: Id = Field(pattern=_ID_PATTERN)
    references: list[Id] = Field(default_factory=list)
    verified: bool = False


class ReferenceModel(Strict):
    id: Id = Field(pattern=_ID_PATTERN)
    kind: Literal["paper", "textbook", "guideline", "review", "web"]
    citation: str = Field(min_length=5)
    doi: str | None = None
    url: str | None = None
    pmid: str | None = None
    technique: Technique = "anatomy"
    findings: list[str] = Field(default_factory=list)
    verified: bool = False
    notes: str | None = None


class ReferencesFile(Strict):
    schema_version: Literal[1]
    references: list[ReferenceModel]


class ConditionModel(Record):
    name: str
    synonyms: list[str] = Field(default_factory=list)
    summary: str = ""
    pit_relevance: str = ""
    # The techniques a learner meets this condition under (what the course's sources did);
    # "general" where no injection technique applies (e.g. a red flag or a non-PIT practice).
    techniques: list[Technique] = Field(default_factory=list)


class ConditionsFile(Strict):
    schema_version: Literal[1]
    conditions: list[ConditionModel]


FrameComponent = Literal["proximal", "lateral", "anterior"]


class LandmarkMethodModel(Strict):
    """How a landmark's vertex was found, so the pick can be re-made and reviewed.

    ``joint_offset``: a seed at ``offset_cm`` from a joint centre (or another landmark) along
    the segment frame; the pick is the skin vertex nearest the seed or, with ``toward``, where
    a ray from the seed in that direction leaves the skin. ``relief``: the most prominent skin
    point (farthest along ``toward``) within ``within_cm`` of the seed. ``vertex_pick``: chosen
    by eye on renders; ``rule`` says what was looked for.
    """

    kind: Literal["joint_offset", "relief", "vertex_pick"]
    rule: str = Field(min_length=10)
    joint: str | None = None
    landmark: Id | None = None
    frame: Segment | None = None
    offset_cm: dict[FrameComponent, float] = Field(default_factory=dict)
    toward: dict[FrameComponent, float] | None = None
    within_cm: float | None = Field(default=None, gt=0, le=10)

    @model_validator(mode="after")
    def _complete(self) -> LandmarkMethodModel:
        if self.kind == "vertex_pick":
            if self.joint or self.landmark or self.offset_cm or self.toward or self.within_cm:
                raise ValueError(
                    "a vertex_pick has only a rule (no joint, landmark, offset_cm, toward or within_cm)"
                )
            return self
        if (self.joint is None) == (self.landmark is None):
            raise ValueError(f"a {self.kind} method starts from exactly one of joint or landmark")
        if self.kind == "relief" and (not self.toward or self.within_cm is None):
            raise ValueError("a relief method needs toward and within_cm")
        if self.toward is not None and not any(self.toward.values()):
            raise ValueError("toward must not be the zero vector")
        return self


class LandmarkModel(Record):
    name: str
    segment: Segment
    vertex: int = Field(ge=0)
    palpation: str = ""
    # What bony point this is (tip or most prominent point, edge or angle), how its vertex
    # was found, and how far the pick may lie from the true point on a real body.
    definition: str = Field(min_length=10)
    method: LandmarkMethodModel
    expected_error_cm: float = Field(gt=0, le=5)


class LandmarksFile(Strict):
    schema_version: Literal[1]
    landmarks: list[LandmarkModel]


class RegionModel(Strict):
    id: Id = Field(pattern=_ID_PATTERN)
    name: str
    segment: Segment
    conditions: list[Id] = Field(default_factory=list)
    summary: str = ""


ViewSide = Literal["right", "left", "midline"]


def _both_sides() -> list[ViewSide]:
    return ["right", "left"]


class ViewModel(Strict):
    id: Id = Field(pattern=_ID_PATTERN)
    look_from: LookFrom
    center: SkinPointModel
    extent_cm: float = Field(gt=1, le=200)
    up: Literal["proximal", "anterior", "distal"] = "proximal"
    sides: list[ViewSide] = Field(default_factory=_both_sides)
    # Forearm rotation from the mesh's A-pose towards anatomical position (90 = palm forward).
    supination_deg: float | None = Field(default=None, ge=0, le=180)
    # Straighten the A-pose's slightly flexed elbows (the lateral elbow view in anatomical position).
    elbow_extended: bool = False
    # Turn the camera round the limb's long axis toward the back (anteromedial turned 20 = 65
    # degrees from the front): one view that faces two sites too far apart for the named ones.
    turn_posterior_deg: float = Field(default=0.0, ge=-45, le=45)

    @model_validator(mode="after")
    def _turn(self) -> ViewModel:
        if self.turn_posterior_deg and self.look_from in TURN_UNDEFINED:
            raise ValueError(f"a view from {self.look_from} cannot be turned toward the back")
        return self

    @field_validator("sides")
    @classmethod
    def _sides(cls, v: list[str]) -> list[str]:
        if not v:
            raise ValueError("at least one side")
        if "midline" in v and len(v) > 1:
            raise ValueError("a midline view has only the side 'midline'")
        if len(set(v)) != len(v):
            raise ValueError("duplicate side")
        return v


class NerveModel(Record):
    name: str
    synonyms: list[str] = Field(default_factory=list)
    parent: Id | None = None
    parent_name: str | None = None
    roots: list[str] = Field(default_factory=list)
    course: list[SkinPointModel] = Field(min_length=2)
    description: str = Field(min_length=10)
    conditions: list[Id] = Field(default_factory=list)


class DoseModel(Strict):
    """Volume per point, needle and depth, with the sources that give them.

    ``refs`` name the references whose findings state the volume (and the needle and depth);
    ``value`` says what they give, in their words. ``example_only`` marks a volume no study at
    this nerve used (technique-2 sites): the app shows it as "example, not validated".
    """

    volume_ml: tuple[float, float]
    needle: str | None = None
    depth: str | None = None
    refs: list[Id] = Field(min_length=1)
    value: str = Field(min_length=5)
    example_only: bool = False

    @field_validator("volume_ml")
    @classmethod
    def _volume(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not (0 < v[0] <= v[1] <= 20):
            raise ValueError("volume_ml must be [low, high] with 0 < low <= high <= 20")
        return v


class SpreadModel(Strict):
    """The published SD of a site's position (the larger axis where two are given), with its source."""

    sd_cm: float = Field(gt=0, le=10)
    ref: Id
    value: str = Field(min_length=5, description="the SD in the source's words: axis, n, landmark")


class SiteModel(Record):
    name: str
    nerve: Id
    kind: Literal["fascial_piercing", "injection", "tunnel", "bony_edge"]
    at: SkinPointModel
    # Full-credit tolerance = max(1.0 cm, the published SD of the position) (issue 14):
    # ``spread`` gives that SD and its source; without one, ``tolerance_reason`` says why
    # (no SD published, a textbook placement) and what the tolerance rests on.
    spread: SpreadModel | None = None
    tolerance_reason: str | None = None
    depth: str = "subcutaneous"
    dose: DoseModel | None = None
    technique: Technique = "classic_pit"
    # A nerve leaves the deep fascia once: a second fascial_piercing site on the same nerve is
    # the same exit placed from another study, and says so by naming the first.
    same_exit_as: Id | None = None
    conditions: list[Id] = Field(default_factory=list)
    cautions: list[str] = Field(default_factory=list)
    avoid: list[Id] = Field(default_factory=list)
    teaching: str = ""


class AvoidModel(Record):
    name: str
    kind: Literal["vein", "artery", "nerve", "tendon", "bursa", "other"]
    path: list[SkinPointModel] = Field(min_length=1)
    safety_radius_cm: float = Field(gt=0, le=5)
    why: str = ""


class TerritoryModel(Record):
    nerve: Id
    name: str | None = None
    polygon: list[SkinPointModel] = Field(min_length=3)


class RegionFile(Strict):
    schema_version: Literal[1]
    region: RegionModel
    views: list[ViewModel] = Field(min_length=1)
    nerves: list[NerveModel] = Field(default_factory=list)
    sites: list[SiteModel] = Field(default_factory=list)
    avoid: list[AvoidModel] = Field(default_factory=list)
    territories: list[TerritoryModel] = Field(default_factory=list)
