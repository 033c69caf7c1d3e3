"""Calibration targets: smooth, local scalings of one body part, computed from the base mesh.

Some of MakeHuman's targets couple two dimensions the reference population separates: the
foot-breadth target widens heel and forefoot together, the waist targets widen the hips as
much as the waist, and the thigh-girth target tops out short of ANSUR II's upper thigh.
These procedural targets add the missing degrees of freedom. Each is a displacement field
on the base mesh, like a ``.target`` file, so it sums with weights like one and the fit
(``python -m trainer.tools.render calibrate``) treats it as one more modifier:

    displacement(v) = gain × mask(v) × (v - centre(v)) on the scaled axes,

a scaling about a fixed centre (the foot's heel line, the body's midline, the thigh's axis) on one or two axes, weighted by a mask that is a product of smooth windows (quintic
smoothstep, so the surface stays C2 where the weight falls off) and, where a region must
exclude the arms, of the CC0 rig's skinning weights (rigs/default_weights.mhw). A weight of
1 scales the masked part by ``1 + gain``; the fit bounds weights to [-1, 1].

Names look like target files, ``calibration/<name>-incr.target`` and ``-decr.target`` (the
decr field is the incr field negated), so atlas/body_types.yaml lists them with the others.
Levels are those of named base-mesh vertices (the umbilicus, the iliac-crest tubercle, the
crotch), so a window follows the part it is meant for whatever the body's proportions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from trainer.errors import AtlasError

FloatArray = NDArray[np.float64]

PREFIX = "calibration/"
VERSION = 2  # bump when a field below changes: it is part of the render fingerprint

# Base-mesh vertices whose heights place the windows (found on the committed female body
# as the vertices the landmarks resolve to: umbilicus 4121, iliac_crest_tubercle 4396).
UMBILICUS_VERTEX = 4121
ILIAC_CREST_VERTEX = 4396


def smoothstep(t: FloatArray) -> FloatArray:
    """Quintic smoothstep: 0 below 0, 1 above 1, zero first and second derivative at both ends.

    >>> smoothstep(np.array([-1.0, 0.0, 0.5, 1.0, 2.0])).tolist()
    [0.0, 0.0, 0.5, 1.0, 1.0]
    """
    t = np.clip(t, 0.0, 1.0)
    return np.asarray(t * t * t * (t * (6.0 * t - 15.0) + 10.0), dtype=np.float64)


def window(x: FloatArray, lo0: float, lo1: float, hi1: float, hi0: float) -> FloatArray:
    """A smooth plateau: 0 below ``lo0``, rising to 1 at ``lo1``, 1 up to ``hi1``, 0 from ``hi0``.

    >>> window(np.array([0.0, 1.0, 2.0, 3.0, 4.0]), 0.0, 1.0, 3.0, 4.0).tolist()
    [0.0, 1.0, 1.0, 1.0, 0.0]
    """
    return smoothstep((x - lo0) / (lo1 - lo0)) * (1.0 - smoothstep((x - hi1) / (hi0 - hi1)))


@lru_cache(maxsize=2)
def _rig_weights(assets_dir: str) -> dict[str, tuple[NDArray[np.int64], FloatArray]]:
    path = Path(assets_dir) / "rigs" / "default_weights.mhw"
    if not path.is_file():
        raise AtlasError(f"MakeHuman rig weights not found: {path}")
    data = json.loads(path.read_text(encoding="utf-8"))["weights"]
    return {
        bone: (
            np.asarray([i for i, _ in rows], dtype=np.int64),
            np.asarray([w for _, w in rows], dtype=np.float64),
        )
        for bone, rows in data.items()
    }


def bone_mask(assets_dir: str, n: int, bones: tuple[str, ...]) -> FloatArray:
    """Sum of the rig's skinning weights of ``bones`` per vertex (0 where none), at most 1."""
    out = np.zeros(n)
    weights = _rig_weights(assets_dir)
    for bone in bones:
        idx, w = weights[bone]
        keep = idx < n
        np.add.at(out, idx[keep], w[keep])
    return np.minimum(out, 1.0)


TRUNK_BONES = ("root", "spine01", "spine02", "spine03", "spine04", "spine05", "pelvis.L", "pelvis.R")


def _heel_breadth(v: FloatArray, assets_dir: str) -> FloatArray:
    """The heel widened across the foot about its own midline: the back of the foot (behind
    the ankle) in its lower few cm, fading out before the malleoli and the metatarsals."""
    floor = float(v[:, 1].min())
    out = np.zeros_like(v)
    for sign in (-1.0, 1.0):
        side = (sign * v[:, 0] > 10.0) & (v[:, 1] < floor + 12.0)
        mask = side * window(v[:, 1], floor - 1.0, floor - 0.5, floor + 3.5, floor + 6.5)
        mask = mask * (1.0 - smoothstep((v[:, 2] + 1.5) / 4.5))  # full behind z=-1.5, 0 from z=3
        heel = mask > 0.99
        centre_x = float(v[heel, 0].mean())
        out[:, 0] += mask * (v[:, 0] - centre_x)
    return out


def _forefoot_breadth(v: FloatArray, assets_dir: str) -> FloatArray:
    """The forefoot (metatarsals and toes, in front of the ankle) widened across the foot
    about its own midline; the heel and the malleoli stay as they are."""
    out = np.zeros_like(v)
    for sign in (-1.0, 1.0):
        side = (sign * v[:, 0] > 10.0) & (v[:, 1] < float(v[:, 1].min()) + 12.0)
        mask = side * smoothstep((v[:, 2] - 3.0) / 5.0)  # 0 behind z=3 (the ankle), 1 from z=8
        fore = mask > 0.99
        centre_x = float(v[fore, 0].mean())
        out[:, 0] += mask * (v[:, 0] - centre_x)
    return out


def _trunk_x_scale(
    levels: Callable[[float, float], tuple[float, float, float, float]],
) -> Callable[[FloatArray, str], FloatArray]:
    """The trunk widened left-right about the midline in a band of heights, given as the
    window's ``(lo0, lo1, hi1, hi0)`` from the base heights of the iliac-crest tubercle and
    the umbilicus; arms and thighs are masked out by the rig's weights."""

    def field(v: FloatArray, assets_dir: str) -> FloatArray:
        lo0, lo1, hi1, hi0 = levels(float(v[ILIAC_CREST_VERTEX, 1]), float(v[UMBILICUS_VERTEX, 1]))
        mask = bone_mask(assets_dir, len(v), TRUNK_BONES) * window(v[:, 1], lo0, lo1, hi1, hi0)
        out = np.zeros_like(v)
        out[:, 0] = mask * v[:, 0]
        return out

    return field


# The two trunk bands meet in one smooth S between the crest and the umbilicus (each is full
# where the other is zero), so the fit can widen the waist and narrow the crest without a
# bump at either: the waist band is full from the umbilicus to 5 cm above it and fades out
# towards the lower ribs; the crest band is full from 4 cm below the crest up to it and fades
# out towards the greater trochanter. The crest band's gain is kept small (3 %): a deeper
# narrowing below a widened waist turns the flank into a ledge (see known_outside and
# docs/atlas-format.md on why ANSUR II's bicristal and waist breadths pull apart on the skin).
WAIST_BAND = _trunk_x_scale(lambda crest, navel: (crest, navel, navel + 5.0, navel + 13.0))
CREST_BAND = _trunk_x_scale(lambda crest, navel: (crest - 10.0, crest - 4.0, crest, navel))


def _crotch_y(v: FloatArray, skin: NDArray[np.int64]) -> float:
    s = v[skin]
    near = (np.abs(s[:, 0]) < 1.0) & (np.abs(s[:, 2]) < 8.0) & (s[:, 1] < float(np.median(s[:, 1])))
    return float(s[near, 1].min())


def _upper_thigh(v: FloatArray, assets_dir: str, skin: NDArray[np.int64]) -> FloatArray:
    """The upper thigh widened front to back and outwards (its lateral half only, with a
    smooth ramp across the thigh's axis, so the inner thighs and the crotch stay where they
    are): full from 2 cm below the crotch to 12 cm below it, fading to nothing 1 cm above
    the crotch (where the hips are measured) and 25 cm below it (above the knee)."""
    crotch = _crotch_y(v, skin)
    out = np.zeros_like(v)
    for sign, suffix in ((-1.0, "R"), (1.0, "L")):
        mask = bone_mask(assets_dir, len(v), (f"upperleg01.{suffix}", f"upperleg02.{suffix}"))
        mask = mask * smoothstep((sign * v[:, 0] - 2.0) / 3.0)  # 0 within 2 cm of the midline
        mask = mask * window(v[:, 1], crotch - 25.0, crotch - 12.0, crotch - 0.5, crotch + 2.5)
        thigh = mask > 0.99
        axis_x = float(v[thigh, 0].mean())
        axis_z = float(v[thigh, 2].mean())
        lateral = smoothstep((sign * (v[:, 0] - axis_x) + 2.0) / 4.0)  # 0 medially, 1 laterally
        out[:, 0] += mask * lateral * (v[:, 0] - axis_x)
        out[:, 2] += mask * (v[:, 2] - axis_z)
    return out


# name -> (gain: relative scale at weight 1, field of unit gain)
FIELDS: dict[str, tuple[float, str]] = {
    "heel-breadth": (0.25, "heel"),
    "forefoot-breadth": (0.10, "forefoot"),
    "waist-breadth": (0.10, "waist"),
    "crest-breadth": (0.03, "crest"),
    "upper-thigh-girth": (0.20, "thigh"),
}


def _unit_field(kind: str, v: FloatArray, assets_dir: str, skin: NDArray[np.int64]) -> FloatArray:
    if kind == "heel":
        return _heel_breadth(v, assets_dir)
    if kind == "forefoot":
        return _forefoot_breadth(v, assets_dir)
    if kind == "waist":
        return WAIST_BAND(v, assets_dir)
    if kind == "crest":
        return CREST_BAND(v, assets_dir)
    if kind == "thigh":
        return _upper_thigh(v, assets_dir, skin)
    raise AtlasError(f"unknown calibration field {kind!r}")


def is_calibration_target(name: str) -> bool:
    return name.startswith(PREFIX)


def _parse(name: str) -> tuple[str, float]:
    stem = name[len(PREFIX) :].removesuffix(".target")
    for suffix, sign in (("-incr", 1.0), ("-decr", -1.0)):
        if stem.endswith(suffix) and stem[: -len(suffix)] in FIELDS:
            return stem[: -len(suffix)], sign
    raise AtlasError(f"unknown calibration target {name!r} (known: {', '.join(sorted(FIELDS))})")


@lru_cache(maxsize=16)
def calibration_target(assets_dir: str, name: str, n_vertices: int) -> FloatArray:
    """The (V, 3) displacement in dm (the unit of ``.target`` files) of one calibration target."""
    from trainer.tools.render.mesh import CM_PER_MESH_UNIT, load_base

    field_name, sign = _parse(name)
    gain, kind = FIELDS[field_name]
    base = load_base(assets_dir)
    v_cm = base.vertices_dm * CM_PER_MESH_UNIT
    d_cm = _unit_field(kind, v_cm, assets_dir, np.unique(base.body_quads))
    out = np.zeros((n_vertices, 3))
    out[: len(d_cm)] = sign * gain * d_cm / CM_PER_MESH_UNIT
    return out


def fingerprint(name: str) -> str:
    """A stable hash standing in for a target file's sha256: the field's name, gain, sign and
    this module's version (the rig weights' own hash is added by the caller)."""
    field_name, sign = _parse(name)
    text = json.dumps({"version": VERSION, "field": field_name, "gain": FIELDS[field_name][0], "sign": sign})
    return hashlib.sha256(text.encode()).hexdigest()
