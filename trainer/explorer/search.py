"""Search the atlas by nerve name, synonym or condition."""

from __future__ import annotations

from dataclasses import dataclass

from trainer.atlas.core import Atlas


@dataclass(frozen=True)
class Hit:
    kind: str  # "nerve" | "condition" | "site"
    id: str
    name: str
    region: str | None
    why: str


def _norm(s: str) -> str:
    return " ".join(s.lower().replace("-", " ").split())


def search_atlas(atlas: Atlas, query: str, limit: int = 20) -> list[Hit]:
    """Case-insensitive substring search; nerves first, then conditions, then sites."""
    q = _norm(query)
    if len(q) < 2:
        return []
    hits: list[Hit] = []
    for n in atlas.nerves.values():
        names = [n.name, *n.synonyms]
        match = next((x for x in names if q in _norm(x)), None)
        if match:
            hits.append(Hit("nerve", n.id, n.name, n.region, f"matches '{match}'"))
    for c in atlas.conditions.values():
        if any(q in _norm(x) for x in [c.name, *c.synonyms]):
            regions = sorted({r.id for r in atlas.regions.values() if c.id in r.conditions})
            hits.append(
                Hit(
                    "condition",
                    c.id,
                    c.name,
                    regions[0] if regions else None,
                    "regions: " + ", ".join(atlas.regions[r].name for r in regions)
                    if regions
                    else "no region yet",
                )
            )
            for n in atlas.nerves_for_condition(c.id):
                if not any(h.id == n.id for h in hits):
                    hits.append(Hit("nerve", n.id, n.name, n.region, f"relevant to {c.name}"))
    for s in atlas.sites.values():
        if q in _norm(s.name):
            hits.append(Hit("site", s.id, s.name, s.region, f"site on {atlas.name_of(s.nerve)}"))
    return hits[:limit]
