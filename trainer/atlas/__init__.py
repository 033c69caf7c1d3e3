"""The atlas: landmarks, nerves, sites, structures to avoid and territories, in cm on the body."""

from trainer.atlas.build import DEFAULT_ATLAS_DIR, atlas_stamp, check_atlas, load_atlas, sidecar_key
from trainer.atlas.core import (
    Atlas,
    AtlasItem,
    Avoid,
    BodyType,
    Condition,
    Dose,
    Landmark,
    Nerve,
    Reference,
    Region,
    Site,
    SkinPoint,
    Territory,
    View,
)

__all__ = [
    "DEFAULT_ATLAS_DIR",
    "Atlas",
    "AtlasItem",
    "Avoid",
    "BodyType",
    "Condition",
    "Dose",
    "Landmark",
    "Nerve",
    "Reference",
    "Region",
    "Site",
    "SkinPoint",
    "Territory",
    "View",
    "check_atlas",
    "atlas_stamp",
    "load_atlas",
    "sidecar_key",
]
