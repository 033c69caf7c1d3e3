"""Which rendered view a question is shown on: one rule for practice, live classes and exports.

A question names either a base view (``knee_anteromedial``: the side is chosen when it is
asked, so both sides are practised) or a full view id (``knee_anteromedial_right``, or a
midline view, which has no side and serves both).
"""

from __future__ import annotations

import random

from trainer.atlas.core import Atlas

#: Ask for a random side (practice, a live class with mixed sides).
ANY_SIDE = "mixed"


def view_ids_of(atlas: Atlas, view_ref: str | None) -> list[str]:
    """Every full view id a question's view may be shown as, sorted (left before right)."""
    if not view_ref:
        return []
    if view_ref in atlas.views:
        return [view_ref]
    return sorted(v.id for v in atlas.views.values() if v.base_id == view_ref)


def view_id_for(
    atlas: Atlas, view_ref: str | None, side: str | None = ANY_SIDE, rng: random.Random | None = None
) -> str | None:
    """The full view id to show: a full id is itself; a base id gets ``side`` ("right" or
    "left"), or, for :data:`ANY_SIDE` (or None), a side drawn from ``rng``. None when the atlas
    has no such view.
    """
    candidates = view_ids_of(atlas, view_ref)
    if not candidates:
        return None
    if view_ref in atlas.views:
        return candidates[0]
    if side in (None, ANY_SIDE):
        return (rng or random.Random()).choice(candidates)
    wanted = f"{view_ref}_{side}"
    return wanted if wanted in candidates else None


def view_region(atlas: Atlas, view_ref: str | None) -> str | None:
    """The region of a question's view (base or full id)."""
    ids = view_ids_of(atlas, view_ref)
    return atlas.views[ids[0]].region if ids else None


def is_known_view(atlas: Atlas, view_ref: str | None) -> bool:
    return bool(view_ids_of(atlas, view_ref))


def base_views(atlas: Atlas, region_id: str) -> list[str]:
    """The region's views without their side (``knee_anteromedial``), in the order the region's
    file defines them: the first is the region's main view, which the explorer opens on (sorted
    by name, a later side view such as ``front_of_knee`` would have come first)."""
    return list(dict.fromkeys(v.base_id for v in atlas.views_of_region(region_id)))


def view_name(atlas: Atlas, region_id: str, base_id: str) -> str:
    """ "Anterior view", or "Lateral view (supinated)" when a region has several views."""
    v = next(v for v in atlas.views_of_region(region_id) if v.base_id == base_id)
    rest = base_id.replace(region_id, "").strip("_").replace("_", " ")
    return f"{v.look_from.capitalize()} view" + (f" ({rest})" if rest else "")
