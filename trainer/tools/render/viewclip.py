"""Which part of the skin a view draws: the cuts that keep one limb clear of the rest.

Each view of a limb cuts away what would hide or clutter it (the trunk behind an arm, the
other leg, the hands hanging beside the hips); :func:`trainer.tools.render.clip.clip_mesh`
makes each cut cleanly through the triangles.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.camera import Camera
from trainer.tools.render.clip import clip_mesh
from trainer.tools.render.mesh import SkinMesh
from trainer.tools.render.resolve import outward_x

FloatArray = NDArray[np.float64]

LIMB_SEGMENTS = frozenset({"arm", "forearm", "hand", "thigh", "leg", "foot"})
ARM_SEGMENTS = frozenset({"arm", "forearm", "hand"})
ARM_REACH_CM = 10.0
TRUNK_MARGIN_CM = 2.5


def distance_to_polyline(points_cm: FloatArray, path_cm: FloatArray) -> FloatArray:
    """Distance from each point to a polyline.

    >>> distance_to_polyline(np.array([[1.0, 1.0, 0.0]]), np.array([[0.0, 0, 0], [2.0, 0, 0]])).tolist()
    [1.0]
    """
    best = np.full(len(points_cm), np.inf)
    for a, b in zip(path_cm[:-1], path_cm[1:], strict=True):
        ab = b - a
        t = np.clip(((points_cm - a) @ ab) / max(float(ab @ ab), 1e-12), 0.0, 1.0)
        d = np.linalg.norm(points_cm - (a + t[:, None] * ab), axis=1)
        best = np.minimum(best, d)
    return best


FieldFn = Callable[[FloatArray], FloatArray]


def clip_fields(
    skin: SkinMesh, segment: str, side: str, look_from: str, camera: Camera, extent_cm: float
) -> list[FieldFn]:
    """Fields of body points whose ``<= 0`` part of the skin a view of ``segment`` keeps;
    each cut is made cleanly through the triangles (:func:`trainer.tools.render.clip.clip_mesh`).

    * arm views keep the skin within reach of the arm's bones (in the A-pose the trunk sits
      right behind or in front of the elbow and wrist), cut along a smooth capsule;
    * leg and foot views leave out the other leg; thigh views do so only when looking from
      medial, and only below the groin;
    * lower-limb views leave out the forearms and hands that hang beside the hips;
    * limb views drop what lies far in front of the view centre (a hand in front of a hip),
      and a view from below keeps only the foot (the leg stands behind the sole);
    * trunk, head and neck views keep everything.
    """
    if segment not in LIMB_SEGMENTS or side == "midline":
        return []
    j = skin.joints_cm
    p = "l-" if side == "left" else "r-"
    centre, direction = np.asarray(camera.center_cm), np.asarray(camera.direction)
    fields: list[FieldFn] = []
    near = near_clip_cm(segment, extent_cm)
    if near is not None:
        fields.append(lambda v: near - (v - centre) @ direction)
    if look_from == "inferior":
        fields.append(lambda v: (v - centre) @ direction - FAR_CLIP_FROM_BELOW_CM)
    if segment in ARM_SEGMENTS:
        chain = _arm_chain(j, p)
        fields.append(lambda v: distance_to_polyline(v, chain) - ARM_REACH_CM)
        # ... and nothing more than a few cm medial to the shoulder joint: the trunk left
        # inside the capsule would otherwise show as a shell seen edge-on.
        shoulder_x = float(j[p + "shoulder"][0])
        out = outward_x(side)
        fields.append(lambda v: (shoulder_x - v[:, 0]) * out - TRUNK_MARGIN_CM)
        return fields
    out = outward_x(side)
    if segment in ("leg", "foot"):
        fields.append(lambda v: -(v[:, 0] * out) - 1.0)  # > 0 on the other leg
    elif segment == "thigh" and "medial" in look_from:
        groin_y = float(j[p + "upper-leg"][1]) - 3.0
        fields.append(lambda v: np.minimum(-(v[:, 0] * out) - 1.0, groin_y - v[:, 1]))
    forearms = [_arm_chain(j, q)[1:] for q in ("r-", "l-")]
    fields.append(
        lambda v: np.maximum(
            ARM_REACH_CM - distance_to_polyline(v, forearms[0]),
            ARM_REACH_CM - distance_to_polyline(v, forearms[1]),
        )
    )
    return fields


def view_mesh(
    skin: SkinMesh, segment: str, side: str, look_from: str, camera: Camera, extent_cm: float
) -> tuple[FloatArray, FloatArray, NDArray[np.int64]]:
    """``(vertices, normals, triangles)`` a view draws: skin and eyes, cut by its clip fields."""
    verts, normals = skin.vertices_cm, skin.normals
    drawn = np.concatenate([skin.triangles, skin.eye_triangles])
    for field in clip_fields(skin, segment, side, look_from, camera, extent_cm):
        verts, normals, drawn = clip_mesh(verts, normals, drawn, field(verts))
    return verts, normals, drawn


def _arm_chain(joints: Mapping[str, FloatArray], prefix: str) -> FloatArray:
    """Shoulder, elbow, wrist and middle-finger joints of one arm (cm)."""
    chain = [joints[prefix + "shoulder"], joints[prefix + "elbow"], joints[prefix + "hand"]]
    chain += [joints[f"{prefix}finger-3-{k}"] for k in (1, 2, 3, 4) if f"{prefix}finger-3-{k}" in joints]
    return np.stack(chain)


# Seen from below, the whole leg and pelvis stand behind the sole; keep only the foot.
FAR_CLIP_FROM_BELOW_CM = 12.0


def near_clip_cm(segment: str, extent_cm: float) -> float | None:
    """Arm views drop geometry this far in front of the view centre (the trunk or the other
    arm between the camera and the arm); other views clip nothing in front (the other leg and
    the hanging hands are cut out by their own fields, and a depth cut would slice the toes)."""
    if segment not in ARM_SEGMENTS:
        return None
    return -max(15.0, 0.75 * extent_cm)
