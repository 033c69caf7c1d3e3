"""Optional re-posing: turn the A-pose's mid-prone forearms towards anatomical supination.

The hm08 A-pose holds the forearms mid-prone (thumb forward, palm towards the thigh). In
anatomical position the palm faces forward. Every bone below the elbow turns about the same
axis (elbow -> wrist joint centres), so instead of blending rotation matrices (linear blend
skinning, which pinches a twisting forearm) each vertex is turned by its own angle: the
share of its skinning weight on bones below the elbow, times a smooth ramp along the
forearm (the radius turns about the ulna, so skin at the elbow barely moves and skin at
the wrist turns fully). Weights come from ``rigs/default_weights.mhw``, the hierarchy from
``rigs/default.mhskel``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from trainer.errors import AtlasError

FloatArray = NDArray[np.float64]


def rotate_about_axis(
    points: FloatArray, origin: FloatArray, axis: FloatArray, angle_rad: FloatArray
) -> FloatArray:
    """Rotate each point about the line ``origin + t * axis`` by its own angle (Rodrigues).

    >>> rotate_about_axis(np.array([[1.0, 0, 0]]), np.zeros(3), np.array([0, 0, 1.0]), np.array([np.pi / 2])).round(6).tolist()
    [[0.0, 1.0, 0.0]]
    """
    k = axis / np.linalg.norm(axis)
    p = points - origin
    c = np.cos(angle_rad)[:, None]
    s = np.sin(angle_rad)[:, None]
    rotated: FloatArray = origin + p * c + np.cross(k, p) * s + k * (p @ k)[:, None] * (1.0 - c)
    return rotated


@lru_cache(maxsize=2)
def twist_weights(assets_dir: str, n_vertices: int, side_suffix: str) -> FloatArray:
    """Per-vertex share (0..1) of skinning weight on the bones below one elbow."""
    rigs = Path(assets_dir) / "rigs"
    try:
        skel = json.loads((rigs / "default.mhskel").read_text(encoding="utf-8"))
        weights = json.loads((rigs / "default_weights.mhw").read_text(encoding="utf-8"))["weights"]
    except (OSError, ValueError, KeyError) as exc:
        raise AtlasError(f"cannot read the MakeHuman rig in {rigs}: {exc}") from exc
    children: dict[str, list[str]] = {}
    for name, bone in skel["bones"].items():
        children.setdefault(str(bone["parent"]), []).append(name)
    root = "lowerarm01" + side_suffix
    below, stack = [], [root]
    while stack:
        b = stack.pop()
        below.append(b)
        stack.extend(children.get(b, []))
    total = np.zeros(n_vertices)
    share = np.zeros(n_vertices)
    for name, pairs in weights.items():
        arr = np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
        idx = arr[:, 0].astype(np.int64)
        np.add.at(total, idx, arr[:, 1])
        if name in below:
            np.add.at(share, idx, arr[:, 1])
    return np.divide(share, total, out=np.zeros(n_vertices), where=total > 0)


def supinate_forearms(
    vertices_cm: FloatArray, joints_cm: dict[str, FloatArray], assets_dir: str, angle_deg: float
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Turn both forearms by ``angle_deg`` towards supination (palm forward), mirrored."""
    v = vertices_cm.copy()
    joints = dict(joints_cm)
    for prefix, suffix in (("r-", ".R"), ("l-", ".L")):
        elbow, wrist = joints_cm[prefix + "elbow"], joints_cm[prefix + "hand"]
        axis = wrist - elbow
        # Supination turns the thumb outward: positive about elbow->wrist on the right arm,
        # negative on the left one (the two axes are mirror images).
        sign = 1.0 if prefix == "r-" else -1.0
        t = ((v - elbow) @ axis) / float(axis @ axis)
        ramp = np.clip(t, 0.0, 1.0)
        ramp = ramp * ramp * (3.0 - 2.0 * ramp)  # smoothstep: no kink at either end
        frac = twist_weights(assets_dir, len(v), suffix) * ramp
        moving = frac > 0
        v[moving] = rotate_about_axis(v[moving], elbow, axis, np.radians(sign * angle_deg) * frac[moving])
        for name, pos in joints_cm.items():
            if name.startswith(prefix + "finger") or name.startswith(prefix + "hand"):
                joints[name] = rotate_about_axis(
                    pos[None, :], elbow, axis, np.array([np.radians(sign * angle_deg)])
                )[0]
    return v, joints


def elbow_flexion(joints_cm: dict[str, FloatArray], prefix: str) -> tuple[float, FloatArray]:
    """The elbow's flexion angle (rad) and its flexion axis (unit) from the joint centres."""
    s, e, w = joints_cm[prefix + "shoulder"], joints_cm[prefix + "elbow"], joints_cm[prefix + "hand"]
    upper = (e - s) / np.linalg.norm(e - s)
    fore = (w - e) / np.linalg.norm(w - e)
    axis = np.cross(upper, fore)
    return float(np.arccos(np.clip(upper @ fore, -1.0, 1.0))), axis / np.linalg.norm(axis)


def extend_elbows(
    vertices_cm: FloatArray, joints_cm: dict[str, FloatArray], assets_dir: str, fraction: float
) -> tuple[FloatArray, dict[str, FloatArray]]:
    """Straighten both elbows by ``fraction`` of their A-pose flexion (1 = fully extended).

    Each vertex turns about the elbow's flexion axis (through the elbow joint centre) by the
    angle times its share of skinning weight on the bones below the elbow, so the forearm
    and hand move rigidly and the skin over the joint blends between arm and forearm.
    """
    v = vertices_cm.copy()
    joints = dict(joints_cm)
    for prefix, suffix in (("r-", ".R"), ("l-", ".L")):
        angle, axis = elbow_flexion(joints_cm, prefix)
        turn = -fraction * angle
        elbow = joints_cm[prefix + "elbow"]
        share = twist_weights(assets_dir, len(v), suffix)
        moving = share > 0
        v[moving] = rotate_about_axis(v[moving], elbow, axis, turn * share[moving])
        for name, pos in joints_cm.items():
            if name.startswith((prefix + "finger", prefix + "hand")):
                joints[name] = rotate_about_axis(pos[None, :], elbow, axis, np.array([turn]))[0]
    return v, joints
