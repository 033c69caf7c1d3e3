"""Landmark positions from their written rules, so every pick can be re-made and checked.

A landmark in ``atlas/landmarks*.yaml`` names one skin vertex of the base mesh and a
``method`` that says how it is found on a body:

* ``joint_offset`` — a seed at a documented offset from a joint centre (or from another
  landmark) along a segment frame; the landmark is the skin point nearest the seed or, with
  ``toward``, where a ray from the seed in that direction leaves the skin;
* ``relief`` — the most prominent skin point of a bony prominence: among the skin vertices
  within ``within_cm`` of the seed, the one farthest along ``toward``;
* ``vertex_pick`` — a vertex chosen by eye on renders; the rule is prose only.

Rule landmarks are resolved from their rule on every body, side and pose (so they follow
the body's own joints); their ``vertex`` is the base vertex nearest the rule's point on all
body types together, kept for reference and checked by ``python -m trainer.tools.render pick``.
Vertex-pick landmarks are that vertex (its mirror partner on the left).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.core import Landmark, LandmarkMethod
from trainer.errors import AtlasError
from trainer.settings import REPO_ROOT
from trainer.tools.render.mesh import SkinMesh
from trainer.tools.render.resolve import Frame, line_crossings, segment_frame

FloatArray = NDArray[np.float64]

SIDED_JOINTS = (
    "shoulder",
    "elbow",
    "hand",
    "upper-leg",
    "knee",
    "ankle",
    "clavicle",
    "scapula",
    "foot-",
    "finger-",
    "toe-",
    "eye",
)


def joint_name(name: str, side: str = "right") -> str:
    """The joint name on ``side`` for a side-less name (``elbow`` -> ``r-elbow``).

    >>> joint_name("elbow"), joint_name("neck"), joint_name("finger-3-1", "left")
    ('r-elbow', 'neck', 'l-finger-3-1')
    """
    if not name.startswith(SIDED_JOINTS):
        return name
    return ("l-" if side == "left" else "r-") + name


def frame_vector(frame: Frame, components: Mapping[str, float] | None) -> FloatArray:
    """A body vector from ``{proximal, lateral, anterior}`` components (negatives allowed)."""
    comp = dict(components or {})
    unknown = set(comp) - {"proximal", "lateral", "anterior"}
    if unknown:
        raise AtlasError(f"unknown frame component(s) {sorted(unknown)}; use proximal, lateral, anterior")
    return (
        float(comp.get("proximal", 0.0)) * frame.proximal
        + float(comp.get("lateral", 0.0)) * frame.lateral
        + float(comp.get("anterior", 0.0)) * frame.anterior
    )


def is_rule(lm: Landmark) -> bool:
    """Whether a landmark's position comes from its rule (not from a hand-picked vertex)."""
    return lm.rule is not None and lm.rule.executable


def _side_vertices(skin: SkinMesh, side: str) -> NDArray[np.int64]:
    ids = skin.skin_vertex_ids
    x = skin.vertices_cm[ids, 0]
    return np.asarray(ids[x >= -0.5] if side == "left" else ids[x <= 0.5], dtype=np.int64)


def rule_point(
    skin: SkinMesh,
    method: LandmarkMethod,
    segment: str,
    landmarks_cm: Mapping[str, FloatArray],
    side: str = "right",
    snapper: Any = None,
) -> FloatArray:
    """The skin point a ``joint_offset`` or ``relief`` method gives on one side of one body."""
    kind = method.kind
    if not method.executable:
        raise AtlasError(f"method kind {kind!r} has no executable rule")
    frame = segment_frame(skin, method.frame or segment, side, landmarks_cm)
    if method.landmark:
        if method.landmark not in landmarks_cm:
            raise AtlasError(f"unknown seed landmark {method.landmark!r}")
        origin = np.asarray(landmarks_cm[method.landmark], dtype=np.float64)
    else:
        jname = joint_name(str(method.joint), side)
        if jname not in skin.joints_cm:
            raise AtlasError(f"unknown joint {method.joint!r}")
        origin = skin.joints_cm[jname]
    seed = origin + frame_vector(frame, method.offset_cm)
    toward = method.toward
    if kind == "relief":
        ids = _side_vertices(skin, side)
        v = skin.vertices_cm[ids]
        within = float(method.within_cm or 2.0)
        near = np.linalg.norm(v - seed, axis=1) <= within
        if not near.any():
            raise AtlasError(f"no skin within {within} cm of the seed")
        d = frame_vector(frame, toward)
        score = v[near] @ (d / np.linalg.norm(d))
        return np.array(v[near][int(np.argmax(score))], dtype=np.float64)
    if toward:
        d = frame_vector(frame, toward)
        return ray_exit(skin, seed, d / np.linalg.norm(d))
    if snapper is None:
        from trainer.tools.render.resolve import SkinSnapper

        snapper = SkinSnapper(skin)
    return np.asarray(snapper.snap(seed[None, :])[0][0], dtype=np.float64)


def ray_exit(skin: SkinMesh, origin: FloatArray, direction: FloatArray) -> FloatArray:
    """Where a ray from ``origin`` first crosses the skin."""
    ahead = line_crossings(skin, origin, direction)
    ahead = ahead[ahead > 1e-6]
    if len(ahead) == 0:
        raise AtlasError("the ray from the seed meets no skin")
    return origin + float(ahead[0]) * direction


def _seed(lm: Landmark) -> str | None:
    """The landmark a rule starts from (None for a joint or a vertex pick)."""
    return lm.rule.landmark if lm.rule is not None and is_rule(lm) else None


def seed_order(landmarks: Sequence[Landmark]) -> list[int]:
    """Indices of ``landmarks`` ordered so that every seed landmark comes before its users."""
    ids = [lm.id for lm in landmarks]
    pending = list(range(len(landmarks)))
    order: list[int] = []
    while pending:
        done = {ids[i] for i in order}
        ready = [i for i in pending if _seed(landmarks[i]) in (None, *done) or _seed(landmarks[i]) not in ids]
        if not ready:
            raise AtlasError(f"circular landmark seeds among {[ids[i] for i in pending]}")
        order += ready
        pending = [i for i in pending if i not in ready]
    return order


def landmark_points(
    skin: SkinMesh, landmarks: Sequence[Landmark], side: str = "right", snapper: Any = None
) -> dict[str, FloatArray]:
    """Every landmark's skin point on one side: its vertex (mirrored on the left), or its rule."""
    out: dict[str, FloatArray] = {}
    for i in seed_order(landmarks):
        lm = landmarks[i]
        vertex = lm.vertex
        if vertex < 0 or vertex >= len(skin.mirror) or skin.mirror[vertex] < 0:
            raise AtlasError(f"landmark {lm.id}: vertex {vertex} is not a skin vertex of the base mesh")
        row = int(skin.mirror[vertex]) if side == "left" else vertex
        out[lm.id] = skin.vertices_cm[row].copy()
    for i in seed_order(landmarks):
        lm = landmarks[i]
        if lm.rule is not None and is_rule(lm):
            try:
                if snapper is None and not lm.rule.toward:
                    from trainer.tools.render.resolve import SkinSnapper

                    snapper = SkinSnapper(skin)
                out[lm.id] = rule_point(skin, lm.rule, lm.segment, out, side, snapper)
            except AtlasError as exc:
                raise AtlasError(f"landmark {lm.id}: {exc}") from exc
    return out


def nearest_base_vertex(skin: SkinMesh, point: FloatArray) -> int:
    """The base-mesh skin vertex (right side or midline) nearest a point."""
    ids = np.nonzero(skin.mirror >= 0)[0]
    ids = ids[skin.vertices_cm[ids, 0] <= 0.5]
    return int(ids[int(np.argmin(np.linalg.norm(skin.vertices_cm[ids] - point, axis=1)))])


def pick_vertex(skins: Sequence[SkinMesh], points: Sequence[FloatArray]) -> tuple[int, list[float]]:
    """One base vertex for every body: ``(vertex, distance_cm from each body's rule point)``,
    the candidate (each body's nearest vertex) with the smallest summed distance."""
    own = sorted({nearest_base_vertex(s, p) for s, p in zip(skins, points, strict=True)})
    best, best_cost, best_d = own[0], np.inf, [0.0] * len(skins)
    for c in own:
        d = [float(np.linalg.norm(s.vertices_cm[c] - p)) for s, p in zip(skins, points, strict=True)]
        if sum(d) < best_cost:
            best, best_cost, best_d = c, sum(d), d
    return best, best_d


def repick(atlas_dir: Path, assets_dir: Path, body_types: Sequence[str]) -> list[dict[str, Any]]:
    """Re-make every executable pick on the calibrated bodies (A-pose, one subdivision).

    Landmarks are visited so that a landmark seeded from another one sees that one's new
    vertex. Returns ``[{id, file, old, new, spread_cm}]``.
    """
    from trainer.tools.render.inputs import load_inputs
    from trainer.tools.render.mesh import build_skin

    inputs = load_inputs(Path(atlas_dir))
    skins = [build_skin(str(assets_dir), b, inputs.body_types[b], 1) for b in body_types]
    points = [landmark_points(s, inputs.landmarks) for s in skins]
    out = []
    for lm in inputs.landmarks:
        if not is_rule(lm):
            continue
        new, spread = pick_vertex(skins, [p[lm.id] for p in points])
        out.append(
            {
                "id": lm.id,
                "old": lm.vertex,
                "new": new,
                "spread_cm": max(spread),
                "file": inputs.landmark_files[lm.id],
            }
        )
    return out


def write_vertex(path: Path, landmark_id: str, vertex: int) -> None:
    """Replace the ``vertex:`` line of one landmark record, keeping the file's layout."""
    lines = path.read_text(encoding="utf-8").split("\n")
    inside = False
    for i, line in enumerate(lines):
        if line.startswith("  - id: "):
            inside = line[len("  - id: ") :].strip() == landmark_id
        elif inside and line.startswith("    vertex: "):
            lines[i] = f"    vertex: {vertex}"
            path.write_text("\n".join(lines), encoding="utf-8")
            return
    raise AtlasError(f"{path}: no vertex line for landmark {landmark_id}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m trainer.tools.render pick [--write]``: re-make the executable landmark picks."""
    import argparse
    import sys

    from trainer.tools.render.mesh import DEFAULT_BODY_TYPES, default_assets_dir

    p = argparse.ArgumentParser(prog="python -m trainer.tools.render pick", description=main.__doc__)
    p.add_argument("--assets", type=Path, default=default_assets_dir())
    p.add_argument("--atlas", type=Path, default=REPO_ROOT / "atlas")
    p.add_argument("--body-types", nargs="*", default=[*DEFAULT_BODY_TYPES, "female_high_bmi"])
    p.add_argument("--write", action="store_true", help="write changed vertices into atlas/landmarks*.yaml")
    args = p.parse_args(argv)
    try:
        rows = repick(args.atlas, args.assets, args.body_types)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    changed = 0
    for r in rows:
        flag = "" if r["old"] == r["new"] else f"  (was {r['old']})"
        changed += r["old"] != r["new"]
        print(
            f"{r['id']:32s} nearest vertex {r['new']:6d}, within {r['spread_cm']:.2f} cm of every body's rule point{flag}"
        )
        if args.write and r["old"] != r["new"]:
            write_vertex(r["file"], r["id"], r["new"])
    print(f"{changed} of {len(rows)} picks {'changed' if args.write else 'would change'}")
    return 0
