"""The MakeHuman hm08 skin mesh as numpy arrays, in body centimetres.

The base mesh and targets are CC0 assets read from an asset folder at render time (never
copied into the repository). Only the ``body`` group is skin; the ``joint-*`` helper cubes
are kept for their centroids, which are the joint centres the segment frames are built from.

Axes follow MakeHuman: +x is the body's LEFT, +y up, +z anterior; 1 mesh unit = 1 dm.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.spatial import cKDTree

from trainer.errors import AtlasError
from trainer.settings import REPO_ROOT, current

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CM_PER_MESH_UNIT = 10.0

# name -> [(target file name in <assets>/targets, weight)]; atlas/body_types.yaml overrides
# these when present, so the lead's file stays the single source of truth for the app.
BODY_TYPES: dict[str, list[tuple[str, float]]] = {
    "female": [("caucasian-female-young.target", 1.0)],
    "male": [("caucasian-male-young.target", 1.0)],
    # maxweight at 1.0 on top of the female shape looked plausible (BMI roughly 30+):
    # thighs and abdomen fill out without the mesh folding at knees or elbows.
    "female_high_bmi": [
        ("caucasian-female-young.target", 1.0),
        ("universal-female-young-averagemuscle-maxweight.target", 1.0),
    ],
}

DEFAULT_BODY_TYPES: tuple[str, ...] = ("female", "male")


@dataclass(frozen=True)
class BaseMesh:
    """The parsed OBJ: every vertex (dm), the skin quads and the joint helper cubes."""

    vertices_dm: FloatArray  # (V, 3) all vertices, helpers included
    body_quads: IntArray  # (Q, 4) 0-based vertex indices of the `body` group
    eye_quads: IntArray  # (E, 4) the eyeball proxies (helper-l-eye, helper-r-eye)
    joint_vertices: dict[str, IntArray]  # joint name without "joint-" -> vertex indices
    sha256: str


@dataclass(frozen=True, eq=False)
class SkinMesh:
    """A posed body for one body type, in cm, ready for rendering and snapping.

    ``vertices_cm`` keeps the base indexing: vertex ``i`` of base.obj is row ``i`` (after a
    subdivision, new edge and face points are appended after the original vertices), so
    landmark vertex picks stay valid whether or not the mesh was subdivided.
    """

    body_type: str
    vertices_cm: FloatArray  # (V', 3)
    triangles: IntArray  # (T, 3) skin triangles, outward-facing counter-clockwise
    eye_triangles: IntArray  # (E, 3) eyeballs: drawn, but never snapped to
    normals: FloatArray  # (V', 3) unit vertex normals
    joints_cm: dict[str, FloatArray]  # joint centre per joint name, e.g. "r-knee"
    mirror: IntArray  # (V,) mirror partner of every base vertex (-1 where not skin)
    skin_vertex_ids: IntArray  # vertex rows used by at least one triangle
    definition: tuple[tuple[str, float], ...]
    subdivisions: int
    _tree: cKDTree = field(repr=False)

    @property
    def tree(self) -> cKDTree:
        """KD-tree over the skin vertices (indices into ``skin_vertex_ids``)."""
        return self._tree


ASSETS_ENV = "TRAINER_MAKEHUMAN_DIR"


def default_assets_dir() -> Path:
    """``$TRAINER_MAKEHUMAN_DIR``, else the first ``shared/assets/makehuman`` found beside the
    repository or one of its parent folders (a git worktree may sit a level deeper)."""
    configured = current().makehuman_dir
    if configured is not None:
        return configured
    repo = REPO_ROOT
    for parent in repo.parents:
        candidate = parent / "shared" / "assets" / "makehuman"
        if (candidate / "base.obj").is_file():
            return candidate
    return repo.parent / "shared" / "assets" / "makehuman"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@lru_cache(maxsize=4)
def load_base(assets_dir: str) -> BaseMesh:
    """Parse base.obj once per process; faces keep only the vertex index of ``v/vt``."""
    path = Path(assets_dir) / "base.obj"
    if not path.is_file():
        raise AtlasError(f"MakeHuman base mesh not found: {path}")
    verts: list[tuple[float, float, float]] = []
    group = ""
    body: list[list[int]] = []
    eyes: list[list[int]] = []
    joint_faces: dict[str, set[int]] = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("v "):
                _, x, y, z = line.split()[:4]
                verts.append((float(x), float(y), float(z)))
            elif line.startswith("f "):
                idx = [int(tok.split("/")[0]) - 1 for tok in line.split()[1:]]
                if group == "body":
                    if len(idx) != 4:
                        raise AtlasError(f"{path}: expected quads in group body, got {len(idx)}-gon")
                    body.append(idx)
                elif group in ("helper-l-eye", "helper-r-eye") and len(idx) == 4:
                    eyes.append(idx)
                elif group.startswith("joint-"):
                    joint_faces.setdefault(group[len("joint-") :], set()).update(idx)
            elif line.startswith("g "):
                group = line.split()[1] if len(line.split()) > 1 else ""
    return BaseMesh(
        vertices_dm=np.asarray(verts, dtype=np.float64),
        body_quads=np.asarray(body, dtype=np.int64),
        eye_quads=np.asarray(eyes, dtype=np.int64).reshape(-1, 4),
        joint_vertices={k: np.asarray(sorted(v), dtype=np.int64) for k, v in sorted(joint_faces.items())},
        sha256=_sha256(path),
    )


@lru_cache(maxsize=32)
def load_target(path: str, n_vertices: int) -> FloatArray:
    """A dense (V, 3) displacement array in dm from a ``.target`` file."""
    p = Path(path)
    if not p.is_file():
        raise AtlasError(f"MakeHuman target not found: {p}")
    rows = []
    for line in p.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        rows.append((int(parts[0]), float(parts[1]), float(parts[2]), float(parts[3])))
    out = np.zeros((n_vertices, 3), dtype=np.float64)
    if rows:
        a = np.asarray(rows, dtype=np.float64)
        out[a[:, 0].astype(np.int64)] = a[:, 1:]
    return out


def target_dm(assets_dir: str, name: str, n_vertices: int) -> FloatArray:
    """A target's dense (V, 3) displacement in dm: a MakeHuman ``.target`` file, or one of
    the procedural calibration targets (:mod:`trainer.tools.render.calib_targets`)."""
    from trainer.tools.render.calib_targets import calibration_target, is_calibration_target

    if is_calibration_target(name):
        return calibration_target(str(assets_dir), name, n_vertices)
    return load_target(str(Path(assets_dir) / "targets" / name), n_vertices)


def _target_sha256(assets_dir: str | Path, name: str) -> str:
    from trainer.tools.render.calib_targets import fingerprint, is_calibration_target

    if is_calibration_target(name):
        rig = _sha256(Path(assets_dir) / "rigs" / "default_weights.mhw")
        return hashlib.sha256((fingerprint(name) + rig).encode()).hexdigest()
    return _sha256(Path(assets_dir) / "targets" / name)


def body_type_fingerprint(assets_dir: str | Path, definition: tuple[tuple[str, float], ...]) -> str:
    """A stable string naming the targets, weights and asset file hashes of a body type."""
    base = load_base(str(assets_dir))
    items = [
        {"target": name, "weight": weight, "sha256": _target_sha256(assets_dir, name)}
        for name, weight in definition
    ]
    return json.dumps({"base_obj": base.sha256, "targets": items}, sort_keys=True)


def vertex_normals(vertices: FloatArray, triangles: IntArray) -> FloatArray:
    """Area-weighted unit vertex normals (zero rows stay zero for unused vertices).

    >>> v = np.array([[0.0, 0, 0], [1, 0, 0], [0, 1, 0]])
    >>> vertex_normals(v, np.array([[0, 1, 2]])).tolist()
    [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    """
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    fn = np.cross(b - a, c - a)  # length = 2 * area, so larger faces weigh more
    n = np.zeros_like(vertices)
    for k in range(3):
        np.add.at(n, triangles[:, k], fn)
    length = np.linalg.norm(n, axis=1, keepdims=True)
    return np.asarray(np.divide(n, length, out=np.zeros_like(n), where=length > 0), dtype=np.float64)


def quads_to_triangles(quads: IntArray) -> IntArray:
    """Split each quad along its 0-2 diagonal, keeping the winding.

    >>> quads_to_triangles(np.array([[0, 1, 2, 3]])).tolist()
    [[0, 1, 2], [0, 2, 3]]
    """
    return np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]], axis=0)


def catmull_clark(vertices: FloatArray, quads: IntArray) -> tuple[FloatArray, IntArray]:
    """One Catmull-Clark step on a quad mesh; original vertex rows keep their index.

    Output rows: the V original (moved) vertices, then one point per edge, then one per
    face. Unused vertex rows are carried through unchanged. Boundary edges use the
    midpoint and boundary vertices the 1-6-1 rule, so holes (eyes, mouth) keep their shape.
    """
    n_v = len(vertices)
    n_q = len(quads)
    face_pts = vertices[quads].mean(axis=1)
    # Edges: (quad, k) -> vertex pair (quads[:, k], quads[:, k+1])
    e_a = quads.reshape(-1)
    e_b = np.roll(quads, -1, axis=1).reshape(-1)
    lo, hi = np.minimum(e_a, e_b), np.maximum(e_a, e_b)
    keys = lo * n_v + hi
    uniq, edge_of_half = np.unique(keys, return_inverse=True)
    n_e = len(uniq)
    e_lo, e_hi = uniq // n_v, uniq % n_v
    face_of_half = np.repeat(np.arange(n_q), 4)
    faces_per_edge = np.bincount(edge_of_half, minlength=n_e)
    face_sum = np.zeros((n_e, 3))
    np.add.at(face_sum, edge_of_half, face_pts[face_of_half])
    boundary_edge = faces_per_edge == 1
    mid = 0.5 * (vertices[e_lo] + vertices[e_hi])
    edge_pts = np.where(
        boundary_edge[:, None],
        mid,
        (vertices[e_lo] + vertices[e_hi] + face_sum) / np.maximum(faces_per_edge + 2, 1)[:, None],
    )

    # Original vertices: V' = (F + 2R + (n - 3) P) / n, with F = mean adjacent face points,
    # R = mean adjacent edge midpoints, n = valence.
    valence = np.zeros(n_v)
    np.add.at(valence, e_lo, 1)
    np.add.at(valence, e_hi, 1)
    r_sum = np.zeros((n_v, 3))
    np.add.at(r_sum, e_lo, mid)
    np.add.at(r_sum, e_hi, mid)
    f_count = np.zeros(n_v)
    f_sum = np.zeros((n_v, 3))
    for k in range(4):
        np.add.at(f_count, quads[:, k], 1)
        np.add.at(f_sum, quads[:, k], face_pts)
    used = valence > 0
    new_v = vertices.copy()
    nv = valence[used][:, None]
    new_v[used] = (
        f_sum[used] / f_count[used][:, None] + 2 * r_sum[used] / nv + (nv - 3) * vertices[used]
    ) / nv
    # Boundary vertices: (e1 + e2 + 6 P) / 8 over the two boundary neighbours.
    b_nb_sum = np.zeros((n_v, 3))
    b_count = np.zeros(n_v)
    np.add.at(b_nb_sum, e_lo[boundary_edge], vertices[e_hi[boundary_edge]])
    np.add.at(b_nb_sum, e_hi[boundary_edge], vertices[e_lo[boundary_edge]])
    np.add.at(b_count, e_lo[boundary_edge], 1)
    np.add.at(b_count, e_hi[boundary_edge], 1)
    on_b = b_count == 2
    new_v[on_b] = (b_nb_sum[on_b] + 6 * vertices[on_b]) / 8.0

    all_v = np.concatenate([new_v, edge_pts, face_pts], axis=0)
    # Each quad (a, b, c, d) with edge points e0..e3 (e_k on edge k -> k+1) and face point f
    # becomes four quads that keep the original winding.
    e_idx = (n_v + edge_of_half).reshape(n_q, 4)
    f_idx = n_v + n_e + np.arange(n_q)
    new_quads = np.empty((n_q, 4, 4), dtype=np.int64)
    for k in range(4):
        new_quads[:, k] = np.stack([quads[:, k], e_idx[:, k], f_idx, e_idx[:, (k - 1) % 4]], axis=1)
    return all_v, new_quads.reshape(-1, 4)


def mirror_map(vertices: FloatArray, candidates: IntArray) -> IntArray:
    """For every vertex row, the candidate nearest to its reflection (-x, y, z); -1 elsewhere.

    >>> v = np.array([[-1.0, 0, 0], [1.0, 0, 0], [0.0, 2, 0]])
    >>> mirror_map(v, np.array([0, 1, 2])).tolist()
    [1, 0, 2]
    """
    out = np.full(len(vertices), -1, dtype=np.int64)
    tree = cKDTree(vertices[candidates])
    reflected = vertices[candidates] * np.array([-1.0, 1.0, 1.0])
    _, nearest = tree.query(reflected)
    out[candidates] = candidates[nearest]
    return out


def morph(
    assets_dir: str, definition: tuple[tuple[str, float], ...]
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """All base-mesh rows (cm) of ``base + Σ weight × target`` and the joint centres."""
    base = load_base(assets_dir)
    n = len(base.vertices_dm)
    v_dm = base.vertices_dm.copy()
    for name, weight in definition:
        v_dm += weight * target_dm(assets_dir, name, n)
    v_cm = v_dm * CM_PER_MESH_UNIT
    return v_cm, joint_centres(base, v_cm)


def joint_centres(base: BaseMesh, v_cm: FloatArray) -> dict[str, FloatArray]:
    """Centroid of every ``joint-*`` helper group."""
    return {name: v_cm[idx].mean(axis=0) for name, idx in base.joint_vertices.items()}


@lru_cache(maxsize=2)
def base_mirror(assets_dir: str) -> IntArray:
    """The mirror map of the base mesh's skin vertices (independent of the body type:
    targets are symmetric, and picking partners once keeps left and right stable)."""
    base = load_base(assets_dir)
    return mirror_map(base.vertices_dm * CM_PER_MESH_UNIT, np.unique(base.body_quads))


def subdivide(base: BaseMesh, v_cm: FloatArray, subdivisions: int) -> tuple[FloatArray, IntArray, IntArray]:
    """``(vertices, skin triangles, eye triangles)`` after ``subdivisions`` Catmull-Clark steps.

    Body and eyes are subdivided together; quad q becomes rows 4q..4q+3, so the body's quads
    stay first and can be split off again afterwards. The step is linear in the vertex
    positions, so it may also be applied to a displacement field (a target).
    """
    quads = np.concatenate([base.body_quads, base.eye_quads])
    n_body = len(base.body_quads)
    verts = v_cm
    for _ in range(subdivisions):
        verts, quads = catmull_clark(verts, quads)
        n_body *= 4
    return verts, quads_to_triangles(quads[:n_body]), quads_to_triangles(quads[n_body:])


def assemble_skin(
    assets_dir: str,
    body_type: str,
    definition: tuple[tuple[str, float], ...],
    vertices_cm: FloatArray,
    triangles: IntArray,
    eye_triangles: IntArray,
    joints_cm: dict[str, FloatArray],
    subdivisions: int,
) -> SkinMesh:
    """A :class:`SkinMesh` from already subdivided vertices (normals, KD-tree, mirror map)."""
    normals = vertex_normals(vertices_cm, np.concatenate([triangles, eye_triangles]))
    skin_ids = np.unique(triangles)
    return SkinMesh(
        body_type=body_type,
        vertices_cm=vertices_cm,
        triangles=triangles,
        eye_triangles=eye_triangles,
        normals=normals,
        joints_cm=joints_cm,
        mirror=base_mirror(assets_dir),
        skin_vertex_ids=skin_ids,
        definition=definition,
        subdivisions=subdivisions,
        _tree=cKDTree(vertices_cm[skin_ids]),
    )


@lru_cache(maxsize=8)
def build_skin(
    assets_dir: str,
    body_type: str,
    definition: tuple[tuple[str, float], ...],
    subdivisions: int = 1,
    supination_deg: float = 0.0,
    elbow_extension_deg: float = 0.0,
) -> SkinMesh:
    """Morph the base mesh into one body type (cm), optionally re-pose and subdivide it.

    ``elbow_extension_deg`` straightens both elbows from the A-pose's slight flexion and
    ``supination_deg`` turns both forearms from the A-pose's mid-prone position towards
    anatomical supination (90 = palm forward); see :mod:`trainer.tools.render.pose`.
    """
    base = load_base(assets_dir)
    v_cm, joints = morph(assets_dir, definition)
    if elbow_extension_deg:
        from trainer.tools.render.pose import extend_elbows

        v_cm, joints = extend_elbows(v_cm, joints, assets_dir, elbow_extension_deg)
    if supination_deg:
        from trainer.tools.render.pose import supinate_forearms

        v_cm, joints = supinate_forearms(v_cm, joints, assets_dir, supination_deg)
    verts, tris, eye_tris = subdivide(base, v_cm, subdivisions)
    return assemble_skin(assets_dir, body_type, definition, verts, tris, eye_tris, joints, subdivisions)
