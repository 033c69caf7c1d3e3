"""Body dimensions measured on a skin mesh the way anthropometric surveys define them.

ANSUR II (Gordon et al. 2014) measures between *surface* landmarks (acromion, radiale,
stylion, trochanterion, ...), heights from the standing surface, breadths with calipers and
girths with a tape. This module does the same on a body given as skin vertices, triangles,
landmark points and joint centres, so it runs on the committed artifacts
(``atlas/meshes/<body>.npz`` + ``atlas/resolved/<body>.json``) without the MakeHuman assets:

* a **height** is the landmark's ``y`` above the lowest skin point (the sole);
* a **length** is the straight distance between two surface points;
* a **breadth** is the extent of the skin along the body's left-right axis (a caliper), in a
  slab or at a landmark pair;
* a **girth** is the perimeter of the convex hull of a plane section of one limb or of the
  trunk (a tape bridges the hollows of the section);
* an **arc** is the length of a section's curve between two points (bitragion chin arc).

Each dimension's definition, reference values and source are data in
``atlas/anthropometry.yaml``; the ``how`` key there names one of the measurement rules
below. Axes follow MakeHuman: +x is the body's left, +y up, +z anterior; cm.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
from numpy.typing import NDArray

from trainer.tools.render.sections import (
    FloatArray,
    MeasuredBody,
    extent,
    hull_perimeter,
    plane_section,
    section_around,
    unit,
)

__all__ = ["RULES", "MeasuredBody", "extent", "hull_perimeter", "measure", "plane_section", "section_around"]

MIRROR = np.array([-1.0, 1.0, 1.0])


# --- the measurement rules ----------------------------------------------------------------

X = np.array([1.0, 0.0, 0.0])
Y = np.array([0.0, 1.0, 0.0])
Z = np.array([0.0, 0.0, 1.0])


def _height(lm: str) -> Callable[[MeasuredBody], float]:
    def f(b: MeasuredBody) -> float:
        return float(b.lm(lm)[1]) - b.floor_y

    return f


def _distance(a: str, c: str) -> Callable[[MeasuredBody], float]:
    def f(b: MeasuredBody) -> float:
        return float(np.linalg.norm(b.lm(a) - b.lm(c)))

    return f


def _bilateral(lm: str) -> Callable[[MeasuredBody], float]:
    """Right landmark to its mirror image on the left (the mesh is symmetric)."""

    def f(b: MeasuredBody) -> float:
        p = b.lm(lm)
        return float(np.linalg.norm(p - p * MIRROR))

    return f


def stature(b: MeasuredBody) -> float:
    v = b.used_vertices
    return float(v[:, 1].max() - v[:, 1].min())


def _right_leg(b: MeasuredBody) -> NDArray[np.bool_]:
    return b.vertices_cm[:, 0] < -1.0


def _foot_vertices(b: MeasuredBody) -> FloatArray:
    """Right foot: skin below the ankle joint centre."""
    v = b.used_vertices
    ankle = b.joint("r-ankle")
    keep = (v[:, 0] < -1.0) & (v[:, 1] < ankle[1]) & (np.abs(v[:, 0] - ankle[0]) < 10.0)
    return np.asarray(v[keep], dtype=np.float64)


def _foot_axes(b: MeasuredBody) -> tuple[FloatArray, FloatArray]:
    """The foot's long axis (heel to toes, horizontal) and the horizontal axis across it.

    The A-pose turns the feet out a little, so lengths and breadths are measured along and
    across the foot (as ANSUR II does), not along the body's axes."""
    toes = np.mean(
        [b.joint(f"r-toe-{k}-1") for k in (1, 2, 3, 4, 5) if f"r-toe-{k}-1" in b.joints_cm], axis=0
    )
    d = toes - b.joint("r-ankle")
    long_axis = unit(np.array([d[0], 0.0, d[2]]))
    return long_axis, np.cross(Y, long_axis)


def foot_length(b: MeasuredBody) -> float:
    """Heel (pternion) to the tip of the longest toe, along the foot's long axis."""
    return extent(_foot_vertices(b), _foot_axes(b)[0])


def ball_of_foot_length(b: MeasuredBody) -> float:
    """Heel to the first metatarsal head, along the foot's long axis."""
    axis = _foot_axes(b)[0]
    heel = float((_foot_vertices(b) @ axis).min())
    return float(b.lm("first_metatarsal_head") @ axis) - heel


def foot_breadth(b: MeasuredBody) -> float:
    """Greatest horizontal breadth of the foot across its long axis, at the metatarsal heads
    (from 3 cm behind to 1 cm in front of the first metatarsal head; not the splayed toes)."""
    v = _foot_vertices(b)
    along, across = _foot_axes(b)
    s = v @ along
    mt1 = float(b.lm("first_metatarsal_head") @ along)
    return extent(v[(s > mt1 - 3.0) & (s < mt1 + 1.0)], across)


def heel_breadth(b: MeasuredBody) -> float:
    """Greatest breadth of the heel across the foot, in its back 5 cm and lower 4 cm."""
    v = _foot_vertices(b)
    along, across = _foot_axes(b)
    s = v @ along
    behind = float(b.lm("medial_malleolus") @ along) - 1.0
    keep = (s < min(float(s.min()) + 5.0, behind)) & (v[:, 1] < b.floor_y + 4.0)
    return extent(v[keep], across)


def bimalleolar_breadth(b: MeasuredBody) -> float:
    """Caliper across the most prominent points of the malleoli: the ankle's greatest
    left-right breadth between the heights of the two malleolar prominences (± 1 cm)."""
    v = b.used_vertices
    lo = min(b.lm("lateral_malleolus")[1], b.lm("medial_malleolus")[1]) - 1.0
    hi = max(b.lm("lateral_malleolus")[1], b.lm("medial_malleolus")[1]) + 1.0
    ankle = b.joint("r-ankle")
    keep = (v[:, 1] >= lo) & (v[:, 1] <= hi) & (np.abs(v[:, 0] - ankle[0]) < 6.0)
    keep &= np.abs(v[:, 2] - ankle[2]) < 4.0
    return extent(v[keep], X)


def heel_ankle_circumference(b: MeasuredBody) -> float:
    """Tape over the front of the ankle (``ankle_anterior_midpoint``) and round the back of the heel.

    The tape lies in a plane through the front point that contains the foot's transverse axis; the
    plane is tilted down towards each point of the heel's back curve (within 0.6 cm either side of
    pternion's sagittal line) and the largest convex loop is kept, the one that passes under the
    heel's back corner, so the tape cannot slip off the heel. The loop through pternion itself is
    1.5-2 cm shorter on the bodies (docs/research/ankle_front_h7.md, section 5)."""
    along, across = _foot_axes(b)
    front = b.lm("ankle_anterior_midpoint")
    v = _foot_vertices(b)
    s = v @ along
    pternion = v[int(np.argmin(s))]
    heel = v[(s < float(s.min()) + 4.0) & (np.abs((v - pternion) @ across) < 0.6)]
    best = 0.0
    for p in heel:
        normal = unit(np.cross(across, p - front))
        loop = hull_perimeter(section_around(b, (front + p) / 2.0, normal), normal)
        best = max(best, loop)
    return best


def _limb_girth(top: str, bottom: str, t: float, shift_cm: float = 0.0) -> Callable[[MeasuredBody], float]:
    """Girth perpendicular to a limb axis at fraction ``t`` from joint ``top`` to ``bottom``."""

    def f(b: MeasuredBody) -> float:
        a, c = b.joint(top), b.joint(bottom)
        axis = unit(a - c)
        o = a + t * (c - a) + shift_cm * axis
        return hull_perimeter(section_around(b, o, axis), axis)

    return f


def _max_limb_girth(top: str, bottom: str, t0: float, t1: float) -> Callable[[MeasuredBody], float]:
    def f(b: MeasuredBody) -> float:
        return max(_limb_girth(top, bottom, t)(b) for t in np.linspace(t0, t1, 9))

    return f


def _min_limb_girth(top: str, bottom: str, t0: float, t1: float) -> Callable[[MeasuredBody], float]:
    def f(b: MeasuredBody) -> float:
        return min(_limb_girth(top, bottom, t)(b) for t in np.linspace(t0, t1, 9))

    return f


def ankle_circumference(b: MeasuredBody) -> float:
    """Smallest girth of the leg above the malleoli (between them and mid-calf)."""
    knee, ankle = b.joint("r-knee"), b.joint("r-ankle")
    top = float(max(b.lm("lateral_malleolus")[1], b.lm("medial_malleolus")[1])) + 1.5
    t0 = (knee[1] - top) / (knee[1] - ankle[1])
    return _min_limb_girth("r-knee", "r-ankle", 0.55, float(t0))(b)


def lower_thigh_circumference(b: MeasuredBody) -> float:
    """Thigh girth just above the patella (its base), perpendicular to the thigh."""
    hip, knee = b.joint("r-upper-leg"), b.joint("r-knee")
    axis = unit(hip - knee)
    o = b.lm("patella_base") + 1.0 * axis
    o = knee + ((o - knee) @ axis) * axis  # on the thigh axis, at that level
    return hull_perimeter(section_around(b, o, axis), axis)


def thigh_circumference(b: MeasuredBody) -> float:
    """Upper thigh girth just below the buttock (gluteal) fold, horizontal."""
    crotch = _crotch_y(b)
    knee = b.joint("r-knee")
    hip = b.joint("r-upper-leg")
    o = np.array([0.5 * (hip[0] + knee[0]), crotch - 1.0, 0.5 * (hip[2] + knee[2])])
    pts = section_around(b, o, Y, centre=np.array([hip[0], crotch - 1.0, hip[2]]))
    return hull_perimeter(pts, Y)


def _crotch_y(b: MeasuredBody) -> float:
    """Height (y) of the crotch: the lowest skin point near the midline between the legs."""
    v = b.used_vertices
    pelvis = b.joint("pelvis")
    near = (np.abs(v[:, 0]) < 1.0) & (v[:, 1] < pelvis[1]) & (np.abs(v[:, 2] - pelvis[2]) < 8.0)
    return float(v[near, 1].min())


def crotch_height(b: MeasuredBody) -> float:
    return _crotch_y(b) - b.floor_y


def wrist_circumference(b: MeasuredBody) -> float:
    """Wrist girth at the styloid processes, perpendicular to the forearm."""
    el, wr = b.joint("r-elbow"), b.joint("r-hand")
    axis = unit(el - wr)
    mid = 0.5 * (b.lm("radial_styloid") + b.lm("ulnar_styloid"))
    o = wr + ((mid - wr) @ axis) * axis
    return hull_perimeter(section_around(b, o, axis), axis)


def _trunk_section(b: MeasuredBody, y: float) -> FloatArray:
    """Horizontal trunk section at height ``y`` (the curve round the body's midline)."""
    centre = np.array([0.0, y, float(b.joint("spine-3")[2])])
    return section_around(b, centre, Y, centre=centre)


def waist_breadth(b: MeasuredBody) -> float:
    return extent(_trunk_section(b, float(b.lm("umbilicus")[1])), X)


def chest_breadth(b: MeasuredBody) -> float:
    """Horizontal breadth at bust-point level (the most anterior point of the chest)."""
    v = b.used_vertices
    notch, navel = b.lm("sternal_notch"), b.lm("umbilicus")
    chest = (v[:, 1] < notch[1] - 5.0) & (v[:, 1] > navel[1] + 8.0) & (np.abs(v[:, 0]) < 15.0)
    bust_y = float(v[chest][np.argmax(v[chest][:, 2]), 1])
    pts = _trunk_section(b, bust_y)
    return extent(pts, X)


def hip_breadth(b: MeasuredBody) -> float:
    """Greatest breadth of the hips and buttocks: trunk sections from the crotch to the
    iliac crest (each section may hold both thighs and the trunk; arms are excluded)."""
    lo = _crotch_y(b) + 1.0
    hi = float(b.lm("iliac_crest_tubercle")[1])
    best = 0.0
    for y in np.linspace(lo, hi, 12):
        curves = plane_section(b.vertices_cm, b.triangles, np.array([0.0, y, 0.0]), Y)
        hand_x = abs(float(b.joint("r-hand")[0]))
        pts = [c for c in curves if np.abs(c[:, 0]).max() < hand_x - 6.0 and len(c) >= 6]
        if pts:
            best = max(best, extent(np.concatenate(pts), X))
    return best


def bicristal_breadth(b: MeasuredBody) -> float:
    """Breadth across the iliac crests at the crest tubercles: the trunk's left-right extent
    at the height of the crest (caliper pressed on the bone; skin over the crest is thin)."""
    return extent(_trunk_section(b, float(b.lm("iliac_crest_tubercle")[1])), X)


def _head_vertices(b: MeasuredBody) -> FloatArray:
    v = b.used_vertices
    return np.asarray(v[(v[:, 1] > b.joint("neck")[1] + 4.0) & (np.abs(v[:, 0]) < 12.0)], dtype=np.float64)


def head_length(b: MeasuredBody) -> float:
    """Glabella to the farthest point at the back of the head (opisthocranion), midline."""
    v = _head_vertices(b)
    brow = b.lm("supraorbital_notch")
    mid = v[np.abs(v[:, 0]) < 1.0]
    glabella_band = mid[np.abs(mid[:, 1] - brow[1]) < 1.5]
    glabella = glabella_band[np.argmax(glabella_band[:, 2])]
    # The back of the skull near the glabella's level (the calipers stay roughly level; the
    # neck below the occiput is not head).
    level = np.abs(mid[:, 1] - glabella[1] - 0.5) < 4.0
    back = mid[level & (mid[:, 2] < glabella[2] - 5.0)]
    return float(np.linalg.norm(back - glabella, axis=1).max())


def head_breadth(b: MeasuredBody) -> float:
    """Greatest breadth of the head above the ears (above the top of the auricle)."""
    v = _head_vertices(b)
    tragus = b.lm("tragus")
    return extent(v[v[:, 1] > tragus[1] + 3.5], X)


def head_circumference(b: MeasuredBody) -> float:
    """Tape just above the brow ridges, round the back of the head through its farthest point."""
    v = _head_vertices(b)
    brow = b.lm("supraorbital_notch")
    front = np.array([0.0, float(brow[1]) + 1.0, 0.0])
    mid = v[np.abs(v[:, 0]) < 1.0]
    front[2] = float(mid[np.abs(mid[:, 1] - front[1]) < 1.0][:, 2].max())
    best = 0.0
    for tilt in np.linspace(-0.35, 0.35, 15):  # the tape is moved to the largest girth
        n = unit(np.array([0.0, 1.0, tilt]))
        pts = section_around(b, front, n, centre=front - np.array([0.0, 0.0, 9.0]))
        best = max(best, hull_perimeter(pts, n))
    return best


def tragion_to_top_of_head(b: MeasuredBody) -> float:
    return float(b.used_vertices[:, 1].max() - b.lm("tragion")[1])


def bizygomatic_breadth(b: MeasuredBody) -> float:
    """Greatest breadth across the zygomatic arches: face width between the eyes' level and
    the tragus level, in front of the ears."""
    v = _head_vertices(b)
    tragus, orbit = b.lm("tragus"), b.lm("infraorbital_margin")
    keep = (v[:, 1] > tragus[1] - 1.0) & (v[:, 1] < orbit[1] + 1.0) & (v[:, 2] > tragus[2] + 1.0)
    return extent(v[keep], X)


def _menton(b: MeasuredBody) -> FloatArray:
    """The lowest midline point of the front of the chin (not the throat behind it)."""
    v = b.used_vertices
    jaw = b.joint("jaw")
    mid = v[(np.abs(v[:, 0]) < 0.8) & (v[:, 2] > b.joint("neck")[2])]
    chin = mid[(mid[:, 1] < jaw[1] + 3.0) & (mid[:, 1] > jaw[1] - 6.0)]
    front = chin[chin[:, 2] > chin[:, 2].max() - 2.0]
    return np.asarray(front[np.argmin(front[:, 1])], dtype=np.float64)


def menton_sellion_length(b: MeasuredBody) -> float:
    """Chin bottom (menton) to the deepest point of the nasal root (sellion), midline."""
    v = _head_vertices(b)
    mid = v[np.abs(v[:, 0]) < 0.35]
    brow = b.lm("supraorbital_notch")
    orbit = b.lm("infraorbital_margin")
    band = mid[(mid[:, 1] < brow[1]) & (mid[:, 1] > orbit[1]) & (mid[:, 2] > brow[2] - 3.0)]
    sellion = band[np.argmin(band[:, 2])]
    return float(np.linalg.norm(sellion - _menton(b)))


def bitragion_chin_arc(b: MeasuredBody) -> float:
    """Tape from tragion to tragion over the chin: in the plane through both tragia and
    menton, the convex hull of the section in front of the tragia, less the chord between
    the tragia (a tape bridges the hollows under the jaw)."""
    tr = b.lm("tragion")
    tl = tr * MIRROR
    menton = _menton(b)
    n = unit(np.cross(tl - tr, menton - tr))
    mid = 0.5 * (tr + tl)
    forward = unit(menton - mid - ((menton - mid) @ unit(tl - tr)) * unit(tl - tr))
    curves = plane_section(b.vertices_cm, b.triangles, tr, n)
    pts = np.concatenate(curves) if curves else np.zeros((0, 3))
    keep = ((pts - mid) @ forward > 0) & (np.abs(pts[:, 0]) <= abs(float(tr[0])) + 0.3)
    ring = np.concatenate([pts[keep], tr[None, :], tl[None, :]])
    return hull_perimeter(ring, n) - float(np.linalg.norm(tl - tr))


def neck_circumference(b: MeasuredBody) -> float:
    """Neck girth just below the larynx, perpendicular to the neck's axis."""
    neck, head = b.joint("neck"), b.joint("head")
    axis = unit(head - neck)
    o = neck + 0.35 * (head - neck)
    return hull_perimeter(section_around(b, o, axis), axis)


def neck_base_circumference(b: MeasuredBody) -> float:
    """Girth at the base of the neck through C7 and just above the suprasternal notch. The
    tape stays on the neck: section points more than 1.5 cm outside the neck's half-width
    (measured just below the larynx) lie on the slope of the shoulders and are left out."""
    neck, head = b.joint("neck"), b.joint("head")
    n_axis = unit(head - neck)
    upper = section_around(b, neck + 0.35 * (head - neck), n_axis)
    half_width = float(np.abs(upper[:, 0]).max())
    c7, notch = b.lm("c7_spinous"), b.lm("sternal_notch")
    front = notch + np.array([0.0, 0.5, 0.0])
    d = unit(front - c7)
    n = unit(np.cross(d, X))
    if n[1] < 0:
        n = -n
    pts = section_around(b, 0.5 * (front + c7), n)
    return hull_perimeter(pts[np.abs(pts[:, 0]) <= half_width + 1.5], n)


def hand_length(b: MeasuredBody) -> float:
    """Wrist crease (palmar, midline) to the tip of the middle finger."""
    crease = b.lm("palmar_wrist_crease_mid")
    tip = _middle_fingertip(b)
    return float(np.linalg.norm(tip - crease))


def _middle_fingertip(b: MeasuredBody) -> FloatArray:
    """Dactylion: the skin point of the middle finger farthest from the wrist joint."""
    wrist = b.joint("r-hand")
    last = b.joint("r-finger-3-4") if "r-finger-3-4" in b.joints_cm else b.joint("r-finger-3-3")
    v = b.used_vertices
    near = v[np.linalg.norm(v - last, axis=1) < 2.0]
    return np.asarray(near[np.argmax(np.linalg.norm(near - wrist, axis=1))], dtype=np.float64)


def hand_breadth(b: MeasuredBody) -> float:
    """Caliper across the 2nd-5th metacarpal heads (knuckles): skin within 0.8 cm of the
    plane through the index and little-finger MCP joints (across the hand), near that line
    of knuckles, the thumb left out."""
    i2, i5 = b.joint("r-finger-2-1"), b.joint("r-finger-5-1")
    axis = unit(i2 - i5)
    mid = 0.5 * (i2 + i5)
    hand_axis = unit(b.joint("r-hand") - mid)
    v = b.used_vertices
    rel = v - mid
    along = rel @ axis
    half = 0.5 * float(np.linalg.norm(i2 - i5))
    off_line = np.linalg.norm(rel - along[:, None] * axis, axis=1)
    thumb = np.min([np.linalg.norm(v - b.joint(f"r-finger-1-{k}"), axis=1) for k in (1, 2, 3)], axis=0)
    near = (np.abs(rel @ hand_axis) < 0.8) & (np.abs(along) < half + 2.5) & (off_line < 2.5) & (thumb > 2.0)
    return extent(v[near], axis)


def _lateral_pair_breadth(
    lateral: str, medial: str, axis_from: str, axis_to: str
) -> Callable[[MeasuredBody], float]:
    """Caliper between two bony points, along the segment's transverse axis."""

    def f(b: MeasuredBody) -> float:
        d = b.lm(lateral) - b.lm(medial)
        long_axis = unit(b.joint(axis_from) - b.joint(axis_to))
        return float(np.linalg.norm(d - (d @ long_axis) * long_axis))

    return f


def eop_above_mastoid(b: MeasuredBody) -> float:
    return float(b.lm("eop")[1] - b.lm("mastoid_tip")[1])


RULES: dict[str, Callable[[MeasuredBody], float]] = {
    "stature": stature,
    "cervicale_height": _height("c7_spinous"),
    "suprasternale_height": _height("sternal_notch"),
    "acromial_height": _height("acromion"),
    "iliocristale_height": _height("iliac_crest_tubercle"),
    "trochanterion_height": _height("trochanterion"),
    "crotch_height": crotch_height,
    "lateral_femoral_epicondyle_height": _height("lateral_femoral_epicondyle"),
    "tibiale_height": _height("medial_joint_line"),
    "lateral_malleolus_height": _height("lateral_malleolus"),
    "waist_height_omphalion": _height("umbilicus"),
    "thigh_link": lambda b: _height("trochanterion")(b) - _height("lateral_femoral_epicondyle")(b),
    "calf_link": lambda b: _height("lateral_femoral_epicondyle")(b) - _height("lateral_malleolus")(b),
    "acromion_radiale": _distance("acromion", "radiale"),
    "radiale_stylion": _distance("radiale", "radial_styloid"),
    "hand_length": hand_length,
    "hand_breadth": hand_breadth,
    "foot_length": foot_length,
    "ball_of_foot_length": ball_of_foot_length,
    "foot_breadth": foot_breadth,
    "heel_breadth": heel_breadth,
    "heel_ankle_circumference": heel_ankle_circumference,
    "bimalleolar_breadth": bimalleolar_breadth,
    "biacromial_breadth": _bilateral("acromion"),
    "bicristal_breadth": bicristal_breadth,
    "hip_breadth": hip_breadth,
    "waist_breadth": waist_breadth,
    "chest_breadth": chest_breadth,
    "head_length": head_length,
    "head_breadth": head_breadth,
    "head_circumference": head_circumference,
    "tragion_to_top_of_head": tragion_to_top_of_head,
    "bizygomatic_breadth": bizygomatic_breadth,
    "menton_sellion_length": menton_sellion_length,
    "bitragion_chin_arc": bitragion_chin_arc,
    "neck_circumference": neck_circumference,
    "neck_base_circumference": neck_base_circumference,
    "wrist_circumference": wrist_circumference,
    "ankle_circumference": ankle_circumference,
    "calf_circumference": _max_limb_girth("r-knee", "r-ankle", 0.15, 0.55),
    "lower_thigh_circumference": lower_thigh_circumference,
    "thigh_circumference": thigh_circumference,
    "clavicle_length": _distance("sternoclavicular_joint", "acromioclavicular_joint"),
    "mastoid_to_mandible_angle": _distance("mastoid_tip", "mandible_angle"),
    "eop_above_mastoid_tip": eop_above_mastoid,
    "wrist_breadth": _lateral_pair_breadth("radial_styloid", "ulnar_styloid", "r-elbow", "r-hand"),
    "elbow_breadth": _lateral_pair_breadth(
        "lateral_epicondyle_humerus", "medial_epicondyle_humerus", "r-shoulder", "r-elbow"
    ),
    "knee_breadth": _lateral_pair_breadth(
        "lateral_femoral_epicondyle", "medial_femoral_epicondyle", "r-upper-leg", "r-knee"
    ),
}


def measure(body: MeasuredBody, rules: Mapping[str, str] | None = None) -> dict[str, float]:
    """Every rule (or the named ``{dimension: rule}`` subset) measured on one body, in cm."""
    wanted = rules or {k: k for k in RULES}
    return {dim: float(RULES[rule](body)) for dim, rule in wanted.items()}
