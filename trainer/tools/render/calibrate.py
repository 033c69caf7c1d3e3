"""Fit MakeHuman modifier weights so each body type matches its reference population.

``python -m trainer.tools.render calibrate [--write]`` measures every dimension of
``atlas/anthropometry.yaml`` on each body type (the same rules ``body-report`` uses, on the
same smoothed skin the renderer draws), fits the weights of MakeHuman's segment and
measurement modifiers by bounded least squares, and writes them to the ``fitted`` list of
``atlas/body_types.yaml``. The body's shape targets (sex, weight) stay as they are.

A body is ``base + Σ weight × target``, so a dimension is a smooth function of the weights;
each modifier is a decr/incr pair (weight < 0 applies ``decr`` with |weight|, as MakeHuman
does), bounded to [-1, 1]. Residuals are ``(measured - mean) / tolerance`` with the target's
tolerance ``min(5 % of the mean, SD)``, a steep hinge on residuals beyond 0.85 (so a
dimension is not left just outside its band for a closer fit of the others), plus a small pull of every weight towards 0 so that
the fit changes only what it must.

Besides MakeHuman's targets, the fit may use the procedural ``calibration/*`` targets of
:mod:`trainer.tools.render.calib_targets` (smooth local scalings of the heel, forefoot,
waist, iliac-crest flanks and upper thigh) where one MakeHuman target couples two dimensions.

The higher-BMI body is fitted on skeletal dimensions only: its soft tissue comes from its
weight target, and its girths and soft breadths are not meant to match the average woman.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from trainer.atlas.assemble import build_atlas
from trainer.atlas.core import DEFAULT_OFF_SKIN_LIMIT_CM, BodyType, Landmark
from trainer.atlas.files import read_atlas_files
from trainer.errors import AtlasError
from trainer.tools.render.anthropometry import RULES, MeasuredBody
from trainer.tools.render.body_report import (
    Dimension,
    body_has_weight_target,
    dimensions_for,
    load_anthropometry,
)
from trainer.tools.render.inputs import load_inputs
from trainer.tools.render.mesh import (
    CM_PER_MESH_UNIT,
    SkinMesh,
    assemble_skin,
    default_assets_dir,
    joint_centres,
    load_base,
    subdivide,
    target_dm,
)
from trainer.tools.render.picks import landmark_points

FloatArray = NDArray[np.float64]
#: Modifier weights, as a list (body_types.yaml) or as the optimiser's array.
Weights = Sequence[float] | FloatArray
from trainer.settings import REPO_ROOT  # noqa: E402

REGULARISATION = 0.05
#: Extra residual per unit of |r| beyond HINGE_FROM (r = miss / tolerance): keeps every
#: dimension inside its band with a margin rather than most of them close to the mean.
HINGE = 5.0
HINGE_FROM = 0.85


@dataclass(frozen=True)
class Modifier:
    """One MakeHuman modifier: target files for negative and for positive weights."""

    name: str
    decr: tuple[str, ...]
    incr: tuple[str, ...]
    skeletal: bool


def _pair(folder: str, stem: str, skeletal: bool, sided: bool = False) -> Modifier:
    if sided:
        decr = tuple(f"{folder}/{s}-{stem}-decr.target" for s in ("r", "l"))
        incr = tuple(f"{folder}/{s}-{stem}-incr.target" for s in ("r", "l"))
    else:
        decr, incr = (f"{folder}/{stem}-decr.target",), (f"{folder}/{stem}-incr.target",)
    return Modifier(stem, decr, incr, skeletal)


# The free parameters. Paired left/right targets move together (the body stays symmetric).
MODIFIERS: tuple[Modifier, ...] = (
    _pair("measure", "measure-upperarm-length", True),
    _pair("measure", "measure-lowerarm-length", True),
    _pair("measure", "measure-shoulder-dist", True),
    _pair("measure", "measure-upperleg-height", True),
    _pair("measure", "measure-lowerleg-height", True),
    _pair("measure", "measure-napetowaist-dist", True),
    _pair("measure", "measure-waisttohip-dist", True),
    _pair("neck", "neck-scale-vert", True),
    _pair("head", "head-scale-vert", True),
    _pair("head", "head-scale-horiz", True),
    _pair("head", "head-scale-depth", True),
    _pair("chin", "chin-height", True),
    _pair("chin", "chin-width", True),
    _pair("armslegs", "foot-scale-depth", True, sided=True),
    _pair("armslegs", "foot-scale-horiz", True, sided=True),
    _pair("armslegs", "foot-scale-vert", True, sided=True),
    _pair("armslegs", "hand-scale", True, sided=True),
    _pair("armslegs", "hand-fingers-length", True, sided=True),
    _pair("measure", "measure-wrist-circ", True),
    _pair("measure", "measure-ankle-circ", True),  # the only control of ankle (malleolar) breadth
    _pair("measure", "measure-knee-circ", False),
    _pair("hip", "hip-scale-horiz", False),
    _pair("torso", "torso-scale-horiz", True),
    _pair("armslegs", "upperleg-muscle", False, sided=True),
    _pair("measure", "measure-calf-circ", False),
    _pair("measure", "measure-thigh-circ", False),
    _pair("measure", "measure-neck-circ", False),
    _pair("measure", "measure-waist-circ", False),
    _pair("measure", "measure-bust-circ", False),
    _pair("measure", "measure-hips-circ", False),
    # Procedural calibration targets (calib_targets.py) for what MakeHuman's targets couple.
    _pair("calibration", "heel-breadth", True),
    _pair("calibration", "forefoot-breadth", True),
    _pair("calibration", "waist-breadth", False),
    _pair("calibration", "crest-breadth", False),
    _pair("calibration", "upper-thigh-girth", False),
)


class Morpher:
    """A body type's skin as a function of the free modifier weights (fast to evaluate).

    Vertices are linear in the weights, and so is a Catmull-Clark step, so the subdivided
    skin the renderer draws is precomputed per target and summed per evaluation.
    """

    def __init__(
        self,
        assets_dir: Path,
        body_type: str,
        fixed: Sequence[tuple[str, float]],
        modifiers: Sequence[Modifier],
        subdivisions: int = 1,
    ):
        base = load_base(str(assets_dir))
        n = len(base.vertices_dm)
        self.assets_dir = str(assets_dir)
        self.body_type = body_type
        self.base = base
        self.modifiers = tuple(modifiers)
        self.subdivisions = subdivisions
        self.n_skin = int(base.body_quads.max()) + 1
        self.fixed = tuple((str(f), float(w)) for f, w in fixed)

        def dense(name: str) -> FloatArray:
            return target_dm(str(assets_dir), name, n) * CM_PER_MESH_UNIT

        v0 = base.vertices_dm * CM_PER_MESH_UNIT
        for name, w in fixed:
            v0 = v0 + w * dense(name)
        self.v0 = v0
        self.s0, self.tris, self.eye_tris = subdivide(base, v0, subdivisions)

        def summed(names: Sequence[str]) -> FloatArray:
            out = np.zeros_like(v0)
            for name in names:
                out = out + dense(name)
            return out

        self.decr = [summed(m.decr) for m in self.modifiers]
        self.incr = [summed(m.incr) for m in self.modifiers]
        self.decr_s = [subdivide(base, d, subdivisions)[0] for d in self.decr]
        self.incr_s = [subdivide(base, d, subdivisions)[0] for d in self.incr]
        self.base_triangles = np.concatenate([base.body_quads[:, [0, 1, 2]], base.body_quads[:, [0, 2, 3]]])

    def skin(self, weights: Weights) -> SkinMesh:
        """The subdivided, unposed skin for one set of weights."""
        v, s = self.v0.copy(), self.s0.copy()
        for w, d, i, ds, is_ in zip(weights, self.decr, self.incr, self.decr_s, self.incr_s, strict=True):
            if w < 0:
                v -= w * d
                s -= w * ds
            elif w > 0:
                v += w * i
                s += w * is_
        joints = joint_centres(self.base, v)
        definition = self.fixed + tuple(self.fitted_targets(weights))
        return assemble_skin(
            self.assets_dir,
            self.body_type,
            definition,
            s,
            self.tris,
            self.eye_tris,
            joints,
            self.subdivisions,
        )

    def body(self, weights: Weights, landmarks: Sequence[Landmark]) -> MeasuredBody:
        """What the body report measures: base-resolution rows of the subdivided skin, and
        the landmarks resolved on the subdivided skin (as atlas/resolved holds them)."""
        skin = self.skin(weights)
        return measured_body(skin, landmark_points(skin, landmarks), self.base_triangles, self.n_skin)

    def fitted_targets(self, weights: Weights, ndigits: int = 3) -> list[tuple[str, float]]:
        """``[(target file, |weight|)]`` for the non-zero weights, as body_types.yaml lists them."""
        out = []
        for m, w in zip(self.modifiers, weights, strict=True):
            w = round(float(w), ndigits)
            if w == 0:
                continue
            for f in m.decr if w < 0 else m.incr:
                out.append((f, abs(w)))
        return out


def measured_body(
    skin: SkinMesh, landmarks_cm: Mapping[str, FloatArray], base_triangles: NDArray[np.int64], n_skin: int
) -> MeasuredBody:
    """The measurement view of a skin: its first ``n_skin`` rows (the base vertices, moved
    onto the subdivided surface) with the base triangles, plus landmarks and joints."""
    return MeasuredBody(
        vertices_cm=skin.vertices_cm[:n_skin],
        triangles=base_triangles,
        landmarks_cm=dict(landmarks_cm),
        joints_cm=dict(skin.joints_cm),
    )


def measure_dims(body: MeasuredBody, dims: Sequence[Dimension]) -> dict[str, float]:
    out = {}
    for d in dims:
        try:
            out[d.id] = float(RULES[d.rule](body))
        except (ValueError, KeyError, IndexError) as exc:
            raise AtlasError(f"cannot measure {d.id}: {exc}") from exc
    return out


def fit(
    morpher: Morpher,
    dims: Sequence[Dimension],
    landmarks: Sequence[Landmark],
    start: Sequence[float] | None = None,
    prior: Sequence[float] | None = None,
) -> tuple[FloatArray, dict[str, float]]:
    """Least-squares weights in [-1, 1] and the dimensions they give; each weight is pulled
    gently towards its ``prior`` (default 0)."""
    from scipy.optimize import least_squares

    tol = np.array([d.tolerance_cm for d in dims])
    mean = np.array([d.mean_cm for d in dims])

    def residuals(w: FloatArray) -> FloatArray:
        m = measure_dims(morpher.body(w, landmarks), dims)
        r = (np.array([m[d.id] for d in dims]) - mean) / tol
        # Least squares alone trades a small miss on one dimension for a closer fit of the
        # others; the hinge makes leaving the target band (|r| > 1) much dearer than moving
        # within it.
        hinge = HINGE * np.maximum(np.abs(r) - HINGE_FROM, 0.0)
        return np.concatenate([r, hinge, REGULARISATION * (np.asarray(w) - p0)])

    p0 = np.zeros(len(morpher.modifiers)) if prior is None else np.asarray(prior, dtype=float)
    x0 = p0.copy() if start is None else np.clip(np.asarray(start, float), -1, 1)
    # Steps of 0.05 in weight: the rules pick vertices and cut sections, so a tiny step
    # would measure the mesh's discreteness rather than the slope.
    res = least_squares(residuals, x0, bounds=(-1.0, 1.0), diff_step=0.05, x_scale=1.0, max_nfev=600)
    w = np.round(res.x, 3)
    return w, measure_dims(morpher.body(w, landmarks), dims)


def read_body_types(atlas_dir: Path) -> tuple[list[BodyType], str]:
    """The body types and the default one, read as the app reads them."""
    files = read_atlas_files(Path(atlas_dir), ("body_types",))
    if files.problems:
        raise AtlasError(files.problems)
    atlas = build_atlas(files)
    return list(atlas.body_types.values()), atlas.default_body_type


def current_weights(body: BodyType, modifiers: Sequence[Modifier]) -> list[float]:
    """The modifier weights a body type's ``fitted`` list encodes."""
    fitted = {name: weight for name, weight in body.fitted}
    out = []
    for m in modifiers:
        if m.incr[0] in fitted:
            out.append(fitted[m.incr[0]])
        elif m.decr[0] in fitted:
            out.append(-fitted[m.decr[0]])
        else:
            out.append(0.0)
    return out


def body_weight_modifier(sex: str) -> Modifier:
    """MakeHuman's own body-weight macro for one sex: from average towards its minimum
    (negative weights) or maximum (positive) weight target, at average muscle."""
    stem = f"universal-{sex}-young-averagemuscle"
    return Modifier("body-weight", (f"{stem}-minweight.target",), (f"{stem}-maxweight.target",), False)


def free_modifiers(body: BodyType) -> tuple[Modifier, ...]:
    """All modifiers (with the sex's body-weight macro), or only the skeletal ones for a body
    with its own weight target."""
    if body_has_weight_target(body):
        return tuple(m for m in MODIFIERS if m.skeletal)
    return (*MODIFIERS, body_weight_modifier(body.reference or "female"))


HEADER = """\
# Body types rendered for every view. Targets are MakeHuman CC0 files read from the asset
# folder at render time (never copied here); weights follow MakeHuman's scheme.
#   targets:   the shape targets (sex, weight), chosen by hand;
#   reference: the population the body is compared with (atlas/anthropometry.yaml);
#   off_skin_limit_cm: how far a YAML point may snap to this body's skin (default 1.5; the
#              higher-BMI body's fat layer puts its skin up to ~3 cm further out);
#   fitted:    modifier weights written by `python -m trainer.tools.render calibrate --write`,
#              which fits them so the body's dimensions match the reference means
#              (see docs/body-report.md). Do not edit them by hand: re-run calibrate.
#              calibration/*.target are not files: they are smooth local scalings computed
#              from the base mesh (trainer/tools/render/calib_targets.py) for what
#              MakeHuman's targets couple (heel and forefoot, waist and hips, upper thigh).
"""


def dump_body_types(body_types: Sequence[BodyType], default: str) -> str:
    """body_types.yaml text in a fixed layout (one target per line)."""
    lines = [HEADER.rstrip("\n"), "schema_version: 1", "body_types:"]
    for b in body_types:
        lines.append(f"  - id: {b.id}")
        lines.append(f"    name: {b.name}")
        if b.reference:
            lines.append(f"    reference: {b.reference}")
        if b.off_skin_limit_cm != DEFAULT_OFF_SKIN_LIMIT_CM:
            lines.append(f"    off_skin_limit_cm: {b.off_skin_limit_cm:g}")
        lines.append("    targets:")
        lines += [f"      - [{name}, {weight:g}]" for name, weight in b.targets]
        if b.fitted:
            lines.append("    fitted:")
            lines += [f"      - [{name}, {weight:g}]" for name, weight in b.fitted]
    lines.append(f"default: {default}")
    return "\n".join(lines) + "\n"


def calibrate(atlas_dir: Path, assets_dir: Path, bodies: Sequence[str] | None, write: bool) -> int:
    bt_path = Path(atlas_dir) / "body_types.yaml"
    body_types, default = read_body_types(Path(atlas_dir))
    landmarks = load_inputs(Path(atlas_dir)).landmarks
    anthro = load_anthropometry(Path(atlas_dir) / "anthropometry.yaml")
    worst = 0
    for i, body in enumerate(body_types):
        if bodies and body.id not in bodies:
            continue
        mods = free_modifiers(body)
        morpher = Morpher(assets_dir, body.id, list(body.targets), mods)
        dims = dimensions_for(anthro, body)
        prior = None
        if body_has_weight_target(body):
            # A body with its own weight target keeps the skeleton of the average body of its
            # sex unless its own (skeletal) dimensions ask otherwise: its weights are pulled
            # towards that body's, not towards 0 (e.g. the wrist, which no skeletal dimension pins).
            average = next(
                (b for b in body_types if b.reference == body.reference and not body_has_weight_target(b)),
                None,
            )
            prior = current_weights(average, mods) if average else None
        start = current_weights(body, mods) if body.fitted else prior
        before = measure_dims(morpher.body(current_weights(body, mods), landmarks), dims)
        weights, after = fit(morpher, dims, landmarks, start, prior)
        body_types[i] = replace(body, fitted=tuple(morpher.fitted_targets(weights)))
        print(
            f"{body.id} ({body.reference}, {len(dims)} dimensions, {len(mods)} modifiers)",
            flush=True,
        )
        outside = 0
        for d in dims:
            ok = abs(after[d.id] - d.mean_cm) <= d.tolerance_cm
            outside += not ok
            print(
                f"  {d.id:36s} before {before[d.id]:7.2f}  after {after[d.id]:7.2f}  "
                f"mean {d.mean_cm:7.2f} ± {d.tolerance_cm:4.2f}  {'ok' if ok else 'OUTSIDE'}"
            )
        for m, w in zip(mods, weights, strict=True):
            if w:
                print(f"    {m.name:32s} {w:+.3f}")
        worst = max(worst, outside)
        if write:  # after each body, so a long run keeps what it has fitted
            bt_path.write_text(dump_body_types(body_types, default), encoding="utf-8")
            print(f"wrote {bt_path}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m trainer.tools.render calibrate", description=__doc__)
    p.add_argument("--assets", type=Path, default=default_assets_dir())
    p.add_argument("--atlas", type=Path, default=REPO_ROOT / "atlas")
    p.add_argument("--bodies", nargs="*", default=None)
    p.add_argument("--write", action="store_true", help="write the fitted weights to atlas/body_types.yaml")
    args = p.parse_args(argv)
    if not (Path(args.assets) / "base.obj").is_file():
        print(f"error: MakeHuman assets not found at {args.assets}", file=sys.stderr)
        return 2
    try:
        return calibrate(args.atlas, args.assets, args.bodies, args.write)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
