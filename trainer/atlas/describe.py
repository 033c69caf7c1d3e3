"""Words for atlas geometry: "2.5 cm distal and 1.0 cm medial to the apex of the patella"."""

from __future__ import annotations

from trainer.atlas.core import Atlas, Site, SkinPoint

_PAIRS = (("proximal", "distal"), ("lateral", "medial"), ("anterior", "posterior"))


def _landmark_name(atlas: Atlas, landmark_id: str) -> str:
    lm = atlas.landmarks.get(landmark_id)
    return lm.name[0].lower() + lm.name[1:] if lm is not None else landmark_id.replace("_", " ")


def offset_words(point: SkinPoint, atlas: Atlas) -> str:
    """Describe a skin point the way anatomy papers do, from the landmark outwards.

    >>> from trainer.atlas.core import Along, DistanceFrom, SkinPoint
    >>> class A:  # a stand-in atlas with two landmark names
    ...     def name_of(self, i): return i
    ...     landmarks = {"mm": type("L", (), {"name": "Medial malleolus"})(),
    ...                  "tt": type("L", (), {"name": "Tibial tuberosity"})()}
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(4.0, 0.0, -1.5), ref="r", value=None, tolerance_cm=1.0), A())
    '4.0 cm proximal and 1.5 cm posterior to the medial malleolus'
    >>> along = Along(to="tt", fraction=0.25)
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(0.0, 0.0, -1.5), ref="r", value=None,
    ...                        tolerance_cm=1.0, along=along), A())
    '1.5 cm posterior to the point 0.25 of the way from the medial malleolus to the tibial tuberosity'
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(0.0, 0.0, 0.0), ref="r", value=None,
    ...                        tolerance_cm=1.0, along=Along(to="tt", distance_cm=1.59)), A())
    'at 1.59 cm along the line from the medial malleolus to the tibial tuberosity'
    >>> reach = DistanceFrom(landmark="tt", distance_cm=4.52, going="proximal")
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(0.0, 6.53, 0.0), ref="r", value=None,
    ...                        tolerance_cm=1.0, distance_from=reach), A())
    '4.52 cm from the tibial tuberosity, proximal to the point 6.5 cm lateral to the medial malleolus'
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(0.0, 0.0, -0.77), ref="r", value=None,
    ...                        tolerance_cm=1.0, level_of="tt"), A())
    'at the level of the tibial tuberosity, 0.8 cm posterior to the medial malleolus'
    >>> across = DistanceFrom(landmark="tt", distance_cm=3.0, going="anterior")
    >>> offset_words(SkinPoint(landmark="mm", offsets_cm=(0.0, 1.0, 0.0), ref="r", value=None,
    ...                        tolerance_cm=1.0, level_of="tt", distance_from=across), A())
    'at the level of the tibial tuberosity, 3 cm from the tibial tuberosity, anterior to the point 1.0 cm lateral to the medial malleolus'
    """
    parts = []
    for (pos, neg), value in zip(_PAIRS, point.offsets_cm, strict=True):
        if abs(value) >= 0.05:
            parts.append(f"{abs(value):.1f} cm {pos if value > 0 else neg}")
    name = _landmark_name(atlas, point.landmark)
    # Where the written offsets start: the landmark, or a point on the line to a second landmark.
    line = None if point.along is None else point.along.words(name, _landmark_name(atlas, point.along.to))
    anchor = f"the {name}" if line is None else f"the point {line}"
    if point.distance_from is not None:
        spec = point.distance_from
        start = f"{' and '.join(parts)} to {anchor}" if parts else anchor
        reach = f"{spec.distance_cm:g} cm from the {_landmark_name(atlas, spec.landmark)}, {spec.going} to the point {start}"
        if point.level_of is not None:  # the two forms combine (distance_from then goes across the limb)
            return f"at the level of the {_landmark_name(atlas, point.level_of)}, {reach}"
        return reach
    if point.level_of is not None:
        level = f"at the level of the {_landmark_name(atlas, point.level_of)}"
        return f"{level}, {' and '.join(parts)} to {anchor}" if parts else f"{level}, in line with {anchor}"
    if line is not None:
        return f"{' and '.join(parts)} to the point {line}" if parts else f"at {line}"
    if not parts:
        return f"at the {name}"
    return f"{' and '.join(parts)} to the {name}"


def dose_words(site: Site) -> str:
    """The site's dose in a line: volume per point, needle and depth, or "example, not
    validated" for a technique-2 volume no study at this nerve used. Where it comes from is
    ``site.dose.value`` (in words) and ``site.dose.refs``.

    >>> from trainer.atlas.core import Dose
    >>> def dose(low, high, needle, depth, example_only):
    ...     return Dose(volume_ml=(low, high), needle=needle, depth=depth, refs=("a source",),
    ...                 value="what it gives", example_only=example_only)
    >>> site = type("S", (), {"dose": dose(0.2, 1.0, "27G 13 mm", "subcutaneous", False)})()
    >>> dose_words(site)
    '0.2–1 mL per point · 27G 13 mm · subcutaneous'
    >>> site.dose = dose(2.0, 5.0, None, None, True)
    >>> dose_words(site)
    '2–5 mL (example, not validated)'
    >>> site.dose = None
    >>> dose_words(site)
    'no dose given'
    """
    dose = site.dose
    if dose is None:
        return "no dose given"
    low, high = dose.volume_ml
    volume = f"{low:g} mL" if low == high else f"{low:g}–{high:g} mL"
    if dose.example_only:
        return f"{volume} (example, not validated)"
    return " · ".join([f"{volume} per point", *(x for x in (dose.needle, dose.depth) if x)])
