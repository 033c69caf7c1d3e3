"""Build the frozen domain objects (:mod:`trainer.atlas.core`) from shape-checked files.

The one step from file models to domain objects, used by the app (``load_atlas``), the
validator (``check_atlas``) and the render tool alike. Every object is built by keyword.
Cross-file rules (ids that resolve, duplicates) are not checked here: see
:mod:`trainer.atlas.build`.
"""

from __future__ import annotations

from trainer.atlas.core import (
    Along,
    Atlas,
    Avoid,
    BodyType,
    Condition,
    DistanceFrom,
    Dose,
    Landmark,
    LandmarkMethod,
    Nerve,
    Reference,
    Region,
    Site,
    SkinPoint,
    Spread,
    Territory,
    View,
)
from trainer.atlas.files import AtlasFiles, BodyTypeModel
from trainer.atlas.models import (
    AvoidModel,
    ConditionModel,
    DoseModel,
    LandmarkModel,
    NerveModel,
    ReferenceModel,
    SiteModel,
    SkinPointModel,
    TerritoryModel,
    ViewModel,
)


def skin_point(m: SkinPointModel) -> SkinPoint:
    return SkinPoint(
        landmark=m.landmark,
        offsets_cm=m.offsets_cm(),
        ref=m.ref,
        value=m.value,
        tolerance_cm=m.tolerance_cm,
        along=None
        if m.along is None
        else Along(
            to=m.along.to,
            fraction=None if m.along.fraction is None else float(m.along.fraction),
            distance_cm=None if m.along.distance_cm is None else float(m.along.distance_cm),
        ),
        onto_skin=m.onto_skin,
        distance_from=None
        if m.distance_from is None
        else DistanceFrom(
            landmark=m.distance_from.landmark,
            distance_cm=float(m.distance_from.distance_cm),
            going=m.distance_from.going,
        ),
        level_of=m.level_of,
    )


def reference(r: ReferenceModel) -> Reference:
    return Reference(
        id=r.id,
        kind=r.kind,
        citation=r.citation,
        doi=r.doi,
        url=r.url,
        pmid=r.pmid,
        technique=r.technique,
        findings=tuple(r.findings),
        verified=r.verified,
        notes=r.notes,
    )


def condition(c: ConditionModel) -> Condition:
    return Condition(
        id=c.id,
        name=c.name,
        synonyms=tuple(c.synonyms),
        summary=c.summary,
        pit_relevance=c.pit_relevance,
        references=tuple(c.references),
        verified=c.verified,
        techniques=tuple(c.techniques),
    )


def landmark(m: LandmarkModel) -> Landmark:
    meth = m.method
    return Landmark(
        id=m.id,
        name=m.name,
        segment=m.segment,
        vertex=m.vertex,
        palpation=m.palpation,
        references=tuple(m.references),
        verified=m.verified,
        definition=m.definition,
        rule=LandmarkMethod(
            kind=meth.kind,
            rule=meth.rule,
            joint=meth.joint,
            landmark=meth.landmark,
            frame=meth.frame,
            offset_cm={str(k): float(v) for k, v in meth.offset_cm.items()},
            toward=None if meth.toward is None else {str(k): float(v) for k, v in meth.toward.items()},
            within_cm=meth.within_cm,
        ),
        expected_error_cm=m.expected_error_cm,
    )


def views(v: ViewModel, region_id: str) -> list[View]:
    """One view per side: ``<id>_<side>``, or the bare id for a midline view."""
    return [
        View(
            id=v.id if side == "midline" else f"{v.id}_{side}",
            base_id=v.id,
            region=region_id,
            side=side,
            look_from=v.look_from,
            center=skin_point(v.center),
            extent_cm=v.extent_cm,
            up=v.up,
            supination_deg=v.supination_deg,
            elbow_extended=v.elbow_extended,
            turn_posterior_deg=v.turn_posterior_deg,
        )
        for side in v.sides
    ]


def nerve(n: NerveModel, region_id: str) -> Nerve:
    return Nerve(
        id=n.id,
        region=region_id,
        name=n.name,
        synonyms=tuple(n.synonyms),
        parent=n.parent,
        parent_name=n.parent_name,
        roots=tuple(n.roots),
        course=tuple(skin_point(p) for p in n.course),
        description=n.description,
        conditions=tuple(n.conditions),
        references=tuple(n.references),
        verified=n.verified,
    )


def dose(d: DoseModel) -> Dose:
    return Dose(
        volume_ml=d.volume_ml,
        needle=d.needle,
        depth=d.depth,
        refs=tuple(d.refs),
        value=d.value,
        example_only=d.example_only,
    )


def site(s: SiteModel, region_id: str) -> Site:
    return Site(
        id=s.id,
        region=region_id,
        name=s.name,
        nerve=s.nerve,
        site_kind=s.kind,
        at=skin_point(s.at),
        depth=s.depth,
        dose=None if s.dose is None else dose(s.dose),
        technique=s.technique,
        conditions=tuple(s.conditions),
        cautions=tuple(s.cautions),
        avoid=tuple(s.avoid),
        teaching=s.teaching,
        references=tuple(s.references),
        verified=s.verified,
        same_exit_as=s.same_exit_as,
        spread=None
        if s.spread is None
        else Spread(sd_cm=s.spread.sd_cm, ref=s.spread.ref, value=s.spread.value),
        tolerance_reason=s.tolerance_reason,
    )


def avoid(a: AvoidModel, region_id: str) -> Avoid:
    return Avoid(
        id=a.id,
        region=region_id,
        name=a.name,
        structure_kind=a.kind,
        path=tuple(skin_point(p) for p in a.path),
        safety_radius_cm=a.safety_radius_cm,
        why=a.why,
        references=tuple(a.references),
        verified=a.verified,
    )


def territory(t: TerritoryModel, region_id: str) -> Territory:
    return Territory(
        id=t.id,
        region=region_id,
        nerve=t.nerve,
        name=t.name,
        polygon=tuple(skin_point(p) for p in t.polygon),
        references=tuple(t.references),
        verified=t.verified,
    )


def body_type(b: BodyTypeModel) -> BodyType:
    return BodyType(
        id=b.id,
        name=b.name,
        off_skin_limit_cm=b.off_skin_limit_cm,
        targets=tuple((str(n), float(w)) for n, w in b.targets),
        fitted=tuple((str(n), float(w)) for n, w in b.fitted),
        reference=b.reference,
    )


def build_atlas(files: AtlasFiles) -> Atlas:
    """Assemble the atlas from shape-valid files (cross-references not yet checked).

    Dicts keep the files' order: region files sorted by name, records in file order. A
    duplicate id keeps the last record (the cross checks report it).
    """
    regions: dict[str, Region] = {}
    all_views: dict[str, View] = {}
    nerves: dict[str, Nerve] = {}
    sites: dict[str, Site] = {}
    avoids: dict[str, Avoid] = {}
    terrs: dict[str, Territory] = {}
    region_files: dict[str, str] = {}
    for label, rf in files.regions.items():
        r = rf.region
        regions[r.id] = Region(
            id=r.id,
            name=r.name,
            segment=r.segment,
            conditions=tuple(r.conditions),
            summary=r.summary,
            file=label,
        )
        region_files[r.id] = label
        for vm in rf.views:
            all_views.update((v.id, v) for v in views(vm, r.id))
        nerves.update((n.id, nerve(n, r.id)) for n in rf.nerves)
        sites.update((s.id, site(s, r.id)) for s in rf.sites)
        avoids.update((a.id, avoid(a, r.id)) for a in rf.avoid)
        terrs.update((t.id, territory(t, r.id)) for t in rf.territories)
    bts = files.body_types
    return Atlas(
        root=files.root,
        references={r.id: reference(r) for r in (files.references.references if files.references else [])},
        conditions={c.id: condition(c) for c in (files.conditions.conditions if files.conditions else [])},
        landmarks={m.id: landmark(m) for m in (files.landmarks.landmarks if files.landmarks else [])},
        regions=regions,
        views=all_views,
        nerves=nerves,
        sites=sites,
        avoid=avoids,
        territories=terrs,
        body_types={b.id: body_type(b) for b in (bts.body_types if bts else [])},
        default_body_type=bts.default if bts else "female",
        region_files=region_files,
    )
