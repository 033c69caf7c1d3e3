"""Cross-file checks and construction of the frozen :class:`Atlas`.

``check_atlas`` gathers *every* problem (schema, unresolved or duplicate ids, records
citing nothing, views missing their render, points off the skin) so one validator run
tells an author everything; ``load_atlas`` raises :class:`AtlasError` listing them.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from trainer.atlas.assemble import build_atlas
from trainer.atlas.core import Atlas
from trainer.atlas.files import AtlasFiles, read_atlas_files
from trainer.atlas.models import SkinPointModel
from trainer.errors import AtlasError, Problem

DEFAULT_ATLAS_DIR = Path(__file__).resolve().parents[2] / "atlas"


def _atlas_dir() -> Path:
    from trainer.settings import atlas_dir

    return atlas_dir()


def _cross_checks(files: AtlasFiles, atlas: Atlas) -> list[Problem]:
    """Ids that don't resolve, duplicate ids and records that cite nothing."""
    out: list[Problem] = []
    seen: dict[str, str] = {}

    def claim(label: str, item_id: str) -> None:
        if item_id in seen:
            out.append(Problem(label, item_id, "id", f"duplicate id (also defined in {seen[item_id]})"))
        else:
            seen[item_id] = label

    def need_refs(label: str, item_id: str, refs: Iterable[str], field: str = "references") -> None:
        refs = list(refs)
        if not refs:
            out.append(Problem(label, item_id, field, "cites no reference"))
        for r in refs:
            if r not in atlas.references:
                out.append(Problem(label, item_id, field, f"unknown reference '{r}'"))

    def check_point(label: str, item_id: str, field: str, p: SkinPointModel) -> None:
        if p.landmark not in atlas.landmarks:
            out.append(Problem(label, item_id, f"{field}.landmark", f"unknown landmark '{p.landmark}'"))
        if p.along is not None:
            if p.along.to not in atlas.landmarks:
                out.append(Problem(label, item_id, f"{field}.along.to", f"unknown landmark '{p.along.to}'"))
            elif p.along.to == p.landmark:
                out.append(
                    Problem(label, item_id, f"{field}.along.to", "the line must end at another landmark")
                )
        if p.distance_from is not None and p.distance_from.landmark not in atlas.landmarks:
            out.append(
                Problem(
                    label,
                    item_id,
                    f"{field}.distance_from.landmark",
                    f"unknown landmark '{p.distance_from.landmark}'",
                )
            )
        if p.level_of is not None and p.level_of not in atlas.landmarks:
            out.append(Problem(label, item_id, f"{field}.level_of", f"unknown landmark '{p.level_of}'"))
        if p.ref not in atlas.references:
            out.append(Problem(label, item_id, f"{field}.ref", f"unknown reference '{p.ref}'"))

    def check_conditions(label: str, item_id: str, conds: Iterable[str]) -> None:
        for c in conds:
            if c not in atlas.conditions:
                out.append(Problem(label, item_id, "conditions", f"unknown condition '{c}'"))

    refs_list = files.references.references if files.references else []
    for r, ref_label in zip(refs_list, files.labels["references"], strict=False):
        claim(ref_label, r.id)
        if not r.findings:
            out.append(Problem(ref_label, r.id, "findings", "no measured value or finding recorded"))
    conds_list = files.conditions.conditions if files.conditions else []
    for c, cond_label in zip(conds_list, files.labels["conditions"], strict=False):
        claim(cond_label, c.id)
        need_refs(cond_label, c.id, c.references)
    lms_list = files.landmarks.landmarks if files.landmarks else []
    names: dict[str, str] = {}
    for m, lm_label in zip(lms_list, files.labels["landmarks"], strict=False):
        claim(lm_label, m.id)
        # the name is the label drawn on the body: two landmarks sharing one would show a learner
        # two different points under one name (a malleolar tip and its prominence did)
        if m.name in names:
            out.append(Problem(lm_label, m.id, "name", f"same name as landmark '{names[m.name]}'"))
        else:
            names[m.name] = m.id
        need_refs(lm_label, m.id, m.references)
        seed = m.method.landmark
        if seed is not None and (seed not in atlas.landmarks or seed == m.id):
            out.append(
                Problem(lm_label, m.id, "method.landmark", f"unknown or circular seed landmark '{seed}'")
            )
    for label, rf in files.regions.items():
        claim(label, rf.region.id)
        check_conditions(label, rf.region.id, rf.region.conditions)
        for v in rf.views:
            for side in v.sides:
                claim(label, v.id if side == "midline" else f"{v.id}_{side}")
            check_point(label, v.id, "center", v.center)
        for n in rf.nerves:
            claim(label, n.id)
            need_refs(label, n.id, n.references)
            check_conditions(label, n.id, n.conditions)
            if n.parent is not None and n.parent not in atlas.nerves:
                out.append(
                    Problem(
                        label,
                        n.id,
                        "parent",
                        f"unknown nerve '{n.parent}' (use parent_name for a nerve the atlas does not draw)",
                    )
                )
            for i, p in enumerate(n.course):
                check_point(label, n.id, f"course.{i}", p)
        for s in rf.sites:
            claim(label, s.id)
            need_refs(label, s.id, s.references)
            check_conditions(label, s.id, s.conditions)
            if s.nerve not in atlas.nerves:
                out.append(Problem(label, s.id, "nerve", f"unknown nerve '{s.nerve}'"))
            for avoid_id in s.avoid:
                if avoid_id not in atlas.avoid:
                    out.append(Problem(label, s.id, "avoid", f"unknown structure to avoid '{avoid_id}'"))
            check_point(label, s.id, "at", s.at)
        for a in rf.avoid:
            claim(label, a.id)
            need_refs(label, a.id, a.references)
            for i, p in enumerate(a.path):
                check_point(label, a.id, f"path.{i}", p)
        for t in rf.territories:
            claim(label, t.id)
            need_refs(label, t.id, t.references)
            if t.nerve not in atlas.nerves:
                out.append(Problem(label, t.id, "nerve", f"unknown nerve '{t.nerve}'"))
            for i, p in enumerate(t.polygon):
                check_point(label, t.id, f"polygon.{i}", p)
    if files.body_types and files.body_types.default not in atlas.body_types:
        out.append(
            Problem("atlas/body_types.yaml", "", "default", f"unknown body type '{files.body_types.default}'")
        )
    return out


def _content_checks(files: AtlasFiles, atlas: Atlas) -> list[Problem]:
    """Source and technique rules (:mod:`trainer.atlas.content_rules`): doses cite a dose
    source, classic sites are subcutaneous, records cite a source of their own technique, a
    nerve pierces the fascia once, and no text claims a PIT mapping no source gives."""
    from trainer.atlas import content_rules as rules
    from trainer.atlas import tolerance

    out: list[Problem] = []
    refs_list = files.references.references if files.references else []
    for r, ref_label in zip(refs_list, files.labels["references"], strict=False):
        out.extend(
            Problem(ref_label, r.id, f, m) for f, m in rules.reference_problems(r.id, r.technique, r.notes)
        )
    conds_list = files.conditions.conditions if files.conditions else []
    for c, cond_label in zip(conds_list, files.labels["conditions"], strict=False):
        texts = [("summary", c.summary), ("pit_relevance", c.pit_relevance)]
        out.extend(Problem(cond_label, c.id, f, m) for f, m in rules.mapping_claim_problems(texts))
    exits = rules.exit_problems(atlas.sites.values())
    for label, rf in files.regions.items():
        out.extend(
            Problem(label, rf.region.id, f, m)
            for f, m in rules.mapping_claim_problems([("summary", rf.region.summary)])
        )
        for n in rf.nerves:
            out.extend(
                Problem(label, n.id, f, m)
                for f, m in rules.mapping_claim_problems([("description", n.description)])
            )
        for a in rf.avoid:
            out.extend(Problem(label, a.id, f, m) for f, m in rules.mapping_claim_problems([("why", a.why)]))
        for sm in rf.sites:
            site = atlas.sites.get(sm.id)
            if site is None or site.region != rf.region.id:
                continue  # a duplicate id: reported by the cross checks
            found = [
                *rules.dose_problems(site, atlas.references),
                *rules.depth_problems(site),
                *exits.get(site.id, []),
                *tolerance.site_problems(site, atlas.references),
            ]
            found.extend(
                ("references", m)
                for m in rules.technique_source_problems(
                    site.technique,
                    [*site.references, *(site.dose.refs if site.dose else ())],
                    atlas.references,
                )
            )
            found.extend(
                ("references", m)
                for m in rules.foreign_source_problems(site.technique, site.references, atlas.references)
            )
            texts = [
                ("name", sm.name),
                ("teaching", sm.teaching),
                *((f"cautions.{i}", c) for i, c in enumerate(sm.cautions)),
                # The source notes behind a position or a dose are read on the nerve card too.
                ("at.value", site.at.value or ""),
                ("dose.value", site.dose.value if site.dose is not None else ""),
            ]
            found.extend(rules.mapping_claim_problems(texts))
            out.extend(Problem(label, sm.id, f, m) for f, m in found)
    return out


def _text_checks(files: AtlasFiles) -> list[Problem]:
    """Control characters and images in atlas text (names, descriptions, teaching, citations).

    The rule itself lives in :mod:`trainer.safetext`; this only names the file and record.
    """
    from trainer.safetext import field_text_problems

    out: list[Problem] = []

    def check(label: str, records: Iterable[object]) -> None:
        for rec in records:
            out.extend(Problem(label, str(getattr(rec, "id", "")), f, m) for f, m in field_text_problems(rec))

    for attr, key in (("references", "references"), ("conditions", "conditions"), ("landmarks", "landmarks")):
        parsed = getattr(files, attr)
        for rec, label in zip(getattr(parsed, key) if parsed else [], files.labels[key], strict=False):
            check(label, [rec])
    if files.body_types:
        check("atlas/body_types.yaml", files.body_types.body_types)
    for label, rf in files.regions.items():
        check(label, [rf.region, *rf.views, *rf.nerves, *rf.sites, *rf.avoid, *rf.territories])
    return out


def sidecar_key(view_id: str, body_type: str) -> str:
    return f"{view_id}__{body_type}"


def _render_checks(atlas: Atlas) -> list[Problem]:
    """Every view × body type has its PNG, depth map and sidecar; no point is off the skin."""
    out: list[Problem] = []
    images = atlas.root / "images"
    sidecars = atlas.root / "sidecars"
    off_skin_reported: set[tuple[str, int]] = set()
    for view in atlas.views.values():
        label = atlas.region_files.get(view.region, "atlas")
        for bt in atlas.body_types:
            key = sidecar_key(view.id, bt)
            png, depth, meta = images / f"{key}.png", sidecars / f"{key}.depth.png", sidecars / f"{key}.json"
            missing = [p.name for p in (png, depth, meta) if not p.exists()]
            if missing:
                out.append(
                    Problem(
                        label,
                        view.id,
                        "render",
                        f"body type '{bt}': missing {', '.join(missing)} (run python -m trainer.tools.render)",
                    )
                )
                continue
            try:
                data = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                out.append(Problem(label, view.id, "render", f"sidecar {meta.name} unreadable: {exc}"))
                continue
            items = data.get("items", {})
            out.extend(_sites_inside_avoid(atlas, label, view.id, bt, items))
            for item in atlas.region_items(view.region):
                rec = items.get(item.id)
                if rec is None:
                    out.append(Problem(label, item.id, "render", f"not in the sidecar of {key} (re-render)"))
                    continue
                limit = atlas.body_types[bt].off_skin_limit_cm
                for i, snap in enumerate(rec.get("snap_cm", [])):
                    if snap is not None and snap > limit and (item.id, i) not in off_skin_reported:
                        off_skin_reported.add((item.id, i))
                        out.append(
                            Problem(
                                label,
                                item.id,
                                f"point {i}",
                                f"off the skin: {snap:.1f} cm from the surface on '{bt}' (limit {limit:g} cm)",
                            )
                        )
    return out


def _sites_inside_avoid(
    atlas: Atlas, label: str, view_id: str, body_type: str, items: dict[str, Any]
) -> list[Problem]:
    """A PIT site inside a structure-to-avoid radius would teach learners to inject there."""
    import numpy as np

    from trainer.geometry import closest_on_polyline

    out = []
    for site in (s for s in atlas.sites.values() if s.id in items):
        point = np.asarray(items[site.id]["points_cm"], dtype=float).reshape(-1, 3)[:1]
        for avoid in (a for a in atlas.avoid.values() if a.id in items):
            path = np.asarray(items[avoid.id]["points_cm"], dtype=float).reshape(-1, 3)
            d = (
                float(np.linalg.norm(path[0] - point[0]))
                if len(path) == 1
                else float(closest_on_polyline(point, path)[0][0])
            )
            if d <= avoid.safety_radius_cm:
                out.append(
                    Problem(
                        label,
                        site.id,
                        "at",
                        f"lies {d:.2f} cm from '{avoid.id}', inside its {avoid.safety_radius_cm:g} cm safety radius ({view_id}, {body_type})",
                    )
                )
    return out


def _validation_checks(root: Path, atlas: Atlas) -> list[Problem]:
    """The independent validation set (atlas/validation/*.yaml): shape and ids."""
    from trainer.atlas.validation import check_validation, read_validation

    vset, problems = read_validation(root)
    return problems + check_validation(atlas, vset)


def check_atlas(root: Path = DEFAULT_ATLAS_DIR, renders: bool = True) -> tuple[Atlas | None, list[Problem]]:
    """Read, build and cross-check the atlas; return it (if buildable) and every problem."""
    files = read_atlas_files(Path(root))
    problems = list(files.problems)
    atlas = build_atlas(files)
    problems.extend(_cross_checks(files, atlas))
    problems.extend(_validation_checks(files.root, atlas))
    problems.extend(_text_checks(files))
    problems.extend(_content_checks(files, atlas))
    if renders and not problems:
        problems.extend(_render_checks(atlas))
    return atlas, problems


@functools.lru_cache(maxsize=4)
def _load_cached(root: str, mtime_key: float) -> Atlas:
    atlas, problems = check_atlas(Path(root), renders=False)
    if problems or atlas is None:
        raise AtlasError(problems)
    return atlas


def _tree_mtime(root: Path) -> float:
    """Newest YAML time stamp; runs on every page rerun, so it lists only the YAML folders,
    not the hundreds of renders and sidecars beside them."""
    paths = [*root.glob("*.yaml"), *(root / "regions").glob("*.yaml")]
    return max((p.stat().st_mtime for p in paths), default=0.0)


# One loader at a time: when a class of phones connects at once, the first session loads the
# atlas and the others wait for the cached result instead of each loading it again.
_LOAD_LOCK = threading.Lock()


def atlas_stamp(root: Path | None = None) -> tuple[Path, float]:
    """The resolved atlas folder and its newest YAML time stamp (the cache key of the atlas)."""
    root = Path(root if root is not None else _atlas_dir()).resolve()
    return root, _tree_mtime(root)


def load_atlas(root: Path | None = None, stamp: tuple[Path, float] | None = None) -> Atlas:
    """Load the atlas or raise :class:`AtlasError` with every problem; cached by file mtimes.

    ``stamp`` is a recent :func:`atlas_stamp` (a polling page reuses it for a few seconds
    instead of listing the folders on every rerun); without it the folders are checked now.
    """
    root, stamp_s = stamp if stamp is not None else atlas_stamp(root)
    with _LOAD_LOCK:
        return _load_cached(str(root), stamp_s)
