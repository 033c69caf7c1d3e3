"""``python -m trainer offset-consistency``: each YAML offset next to its own result on the mesh.

For every skin point the report gives the offset written in the YAML (in cm), the
straight-line distance from the landmark to the snapped skin point on the rendered default
body, and whether the two agree within the point's ``tolerance_cm``.

This is a *self-consistency* check: it compares an offset with itself after snapping, so it
finds points that snapping moved far (a curved surface, an offset into the body), and
nothing else. It cannot find a wrong offset, a wrong landmark or a wrong body. It is not a
validation of the atlas against anatomy: see ``body-report`` for the body's dimensions and
the anatomy check for independent published measurements.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from trainer.atlas.core import Atlas, SkinPoint
from trainer.atlas.describe import offset_words
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.errors import AtlasError


@dataclass(frozen=True)
class OffsetCheck:
    region: str
    item_id: str
    item_kind: str
    index: int
    point: SkinPoint
    cited_cm: float
    measured_cm: float | None
    view_key: str | None

    @property
    def difference_cm(self) -> float | None:
        return None if self.measured_cm is None else self.measured_cm - self.cited_cm

    @property
    def agrees(self) -> bool | None:
        d = self.difference_cm
        return None if d is None else abs(d) <= self.point.tolerance_cm


def _points(atlas: Atlas) -> Iterator[tuple[str, str, str, int, SkinPoint]]:
    for n in atlas.nerves.values():
        for i, p in enumerate(n.course):
            yield n.region, n.id, "nerve", i, p
    for s in atlas.sites.values():
        yield s.region, s.id, "site", 0, s.at
    for a in atlas.avoid.values():
        for i, p in enumerate(a.path):
            yield a.region, a.id, "avoid", i, p
    for t in atlas.territories.values():
        for i, p in enumerate(t.polygon):
            yield t.region, t.id, "territory", i, p


def _view_for(atlas: Atlas, region: str, item_id: str, body_type: str) -> RenderedView | None:
    for v in atlas.views_of_region(region):
        if v.side not in ("right", "midline"):
            continue
        try:
            rv = load_rendered_view(v.id, body_type, atlas.root)
        except AtlasError:
            continue
        if item_id in rv.items:
            return rv
    return None


def offset_checks(atlas: Atlas, body_type: str | None = None) -> list[OffsetCheck]:
    """Cited vs measured landmark distance for every skin point (default body, right side)."""
    body_type = body_type or atlas.default_body_type
    out: list[OffsetCheck] = []
    views: dict[tuple[str, str], RenderedView | None] = {}
    for region, item_id, kind, i, p in _points(atlas):
        key = (region, item_id)
        if key not in views:
            views[key] = _view_for(atlas, region, item_id, body_type)
        rv = views[key]
        cited = math.sqrt(sum(c * c for c in p.offsets_cm))
        measured = None
        ids = p.landmark_ids
        # A point carried onto the skin along an axis has no written depth, so its straight-line
        # distance is not comparable with its in-plane offsets; the renderer keeps those exactly.
        # A distance_from or level_of point's long-axis offset is solved per body, not written, so
        # it is not compared either.
        if (
            p.onto_skin is None
            and p.distance_from is None
            and p.level_of is None
            and rv is not None
            and all(x in rv.items for x in ids)
            and i < len(rv.items[item_id].anchors_cm)
        ):
            start = rv.items[p.landmark].points_cm[0]
            if p.along is not None:
                # The offsets start from a point on the line to the second landmark on this body.
                end = rv.items[p.along.to].points_cm[0]
                share = p.along.share(math.dist(start, end))
                start = [a + share * (b - a) for a, b in zip(start, end, strict=True)]
            anchor = rv.items[item_id].anchors_cm[i]
            measured = float(math.dist(start, anchor))
        out.append(OffsetCheck(region, item_id, kind, i, p, cited, measured, rv.key if rv else None))
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def offset_consistency_report(atlas: Atlas, body_type: str | None = None) -> str:
    """The Markdown report (one table per region)."""
    checks = offset_checks(atlas, body_type)
    body = body_type or atlas.default_body_type
    n_agree = sum(1 for c in checks if c.agrees)
    n_measured = sum(1 for c in checks if c.measured_cm is not None)
    lines = [
        "# Offset self-consistency (not a validation)",
        "",
        f"Body type: **{atlas.body_types[body].name}** (right side). Generated by `python -m trainer offset-consistency`.",
        "",
        "**What this is:** each offset written in the YAML compared with *itself* after the point was snapped to",
        "the skin of the rendered body. It shows where snapping moved a point (a curved surface, an offset that",
        "ends inside the body). It **cannot** show that an offset, a landmark or the body is anatomically right:",
        "the YAML value is both the question and the answer. For the body's proportions see",
        "[body-report.md](body-report.md); independent validation against published measurements is the",
        "anatomy check.",
        "",
        "*Cited* is the length of the offset written in the YAML (from the source, or our stated placement).",
        "*Measured* is the straight-line distance on the rendered body from the landmark to the point after it",
        "was snapped to the skin. They agree when the difference is within the point's tolerance. For a point",
        "given as a fraction of the way to a second landmark, both start from that point of the line instead.",
        "A point written with `onto_skin` has no depth offset: the renderer keeps its in-plane offsets exactly",
        "and carries it along that axis to the skin, so it is not compared here. Nor is a point written with",
        "`distance_from` or `level_of`: its long-axis offset is solved on each body (from a second distance,",
        "or the level of a second landmark), not written.",
        "",
        f"{n_agree} of {n_measured} snapped points stay within tolerance of their own offset.",
        "",
    ]
    for region in atlas.regions.values():
        rows = [c for c in checks if c.region == region.id]
        if not rows:
            continue
        lines += [
            f"## {region.name}",
            "",
            "| item | point | offset (cited) | cited cm | measured cm | tolerance | agrees | source value |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in rows:
            name = atlas.name_of(c.item_id)
            verified = "" if getattr(atlas.item(c.item_id), "verified", False) else " (unverified)"
            measured = (
                f"— (onto skin, {c.point.onto_skin})"
                if c.point.onto_skin
                else "— (distance_from)"
                if c.point.distance_from
                else "— (level_of)"
                if c.point.level_of
                else "—"
                if c.measured_cm is None
                else f"{c.measured_cm:.1f}"
            )
            agrees = "—" if c.agrees is None else ("yes" if c.agrees else "**no**")
            lines.append(
                f"| {_cell(name)}{verified} ({c.item_kind}) | {c.index + 1} | {_cell(offset_words(c.point, atlas))} | "
                f"{c.cited_cm:.1f} | {measured} | {c.point.tolerance_cm:g} | {agrees} | "
                f"{_cell(c.point.value or '')} [{c.point.ref}] |"
            )
        lines.append("")
    return "\n".join(lines)
