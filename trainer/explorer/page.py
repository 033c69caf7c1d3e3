"""The Atlas explorer page's decisions, without Streamlit: which view a choice shows, what a
search offers, which nerve a click picks and what a nerve's card says.

The page (``trainer/ui/pages/explorer.py``) lays out widgets and calls these; everything here
is plain data from the atlas, so it is unit-tested without a server.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from trainer.atlas.core import Atlas
from trainer.atlas.describe import dose_words, offset_words
from trainer.explorer.search import search_atlas

#: Layers drawn when the page opens (territories are one click away: they cover the image).
DEFAULT_LAYERS: tuple[str, ...] = ("landmarks", "nerves", "sites", "avoid")
#: Search results shown as buttons.
MAX_HITS = 8
NO_HITS = "No nerve or condition matches that search."


@dataclass(frozen=True)
class SearchButton:
    """One search result: pressing it opens ``region`` and highlights ``nerve`` (if a nerve)."""

    label: str
    region: str | None
    nerve: str | None
    why: str


def search_buttons(atlas: Atlas, query: str) -> list[SearchButton]:
    """The buttons a search shows, best first (empty: say :data:`NO_HITS`)."""
    out = []
    for h in search_atlas(atlas, query)[:MAX_HITS]:
        where = atlas.regions[h.region].name if h.region else "no region"
        out.append(
            SearchButton(
                f"{h.name} · {h.kind} · {where}", h.region, h.id if h.kind == "nerve" else None, h.why
            )
        )
    return out


def linked_region(atlas: Atlas, wanted: str | None, already_linked: str | None) -> str | None:
    """The region a ``?region=`` link opens, once: after that the picker is the learner's again."""
    return wanted if wanted in atlas.regions and wanted != already_linked else None


def view_for(atlas: Atlas, region_id: str, base_id: str, side: str) -> str | None:
    """The view of that side (a midline view serves both); None when the region has none."""
    return next(
        (
            v.id
            for v in atlas.views_of_region(region_id)
            if v.base_id == base_id and v.side in (side, "midline")
        ),
        None,
    )


def region_nerves(atlas: Atlas, region_id: str) -> list[str]:
    return [n.id for n in atlas.nerves.values() if n.region == region_id]


def kept_nerve(atlas: Atlas, region_id: str, nerve_id: str | None) -> str | None:
    """The highlighted nerve, if it belongs to the region shown (else nothing is highlighted)."""
    return nerve_id if nerve_id in region_nerves(atlas, region_id) else None


def picked_nerve(atlas: Atlas, picked: Sequence[object]) -> str | None:
    """The nerve a click on the figure means: the nerve clicked, or the nerve of the site clicked."""
    ids = [p for p in picked if isinstance(p, str) and p]
    if not ids:
        return None
    last = ids[-1]
    if last in atlas.nerves:
        return last
    if last in atlas.sites:
        return atlas.sites[last].nerve
    return None


def scale_caption(atlas: Atlas, region_id: str, px_per_cm: float) -> str:
    region = atlas.regions[region_id]
    return (
        f"{region.name}: {region.summary} · 1 cm = {px_per_cm:.0f} px · drag to pan, scroll or pinch to zoom."
    )


@dataclass(frozen=True)
class CoursePoint:
    where: str
    value: str
    ref: str


@dataclass(frozen=True)
class SiteLine:
    name: str
    verified: bool
    facts: str  # "2.0 cm distal to the …; subcutaneous"
    technique: str  # "classic pit"
    teaching: str
    cautions: tuple[str, ...]
    dose: str = ""  # "0.2–1 mL per point · 27G 13 mm · subcutaneous" (empty: no dose recorded)
    dose_source: str = ""  # where the dose comes from, in the source's words


@dataclass(frozen=True)
class AvoidLine:
    name: str
    keep_away: str
    why: str


@dataclass(frozen=True)
class ReferenceLine:
    citation: str
    doi: str
    verified: bool


@dataclass(frozen=True)
class NerveCard:
    """Everything the nerve card shows, as plain text (the page escapes it)."""

    name: str
    verified: bool
    synonyms: tuple[str, ...]
    parent: str
    roots: str
    course: str
    course_points: tuple[CoursePoint, ...]
    sites: tuple[SiteLine, ...]
    conditions: tuple[str, ...]
    avoid: tuple[AvoidLine, ...]
    references: tuple[ReferenceLine, ...]


def nerve_card(atlas: Atlas, nerve_id: str) -> NerveCard:
    n = atlas.nerves[nerve_id]
    sites = atlas.sites_of_nerve(n.id)
    course = []
    for p in n.course:
        src = atlas.references.get(p.ref)
        course.append(
            CoursePoint(offset_words(p, atlas), p.value or "no value recorded", src.id if src else p.ref)
        )
    site_lines = []
    for s in sites:
        facts = f"{offset_words(s.at, atlas)}; {s.depth}"
        site_lines.append(
            SiteLine(
                s.name,
                s.verified,
                facts,
                s.technique.replace("_", " "),
                s.teaching or "",
                tuple(s.cautions),
                dose_words(s) if s.dose is not None else "",
                s.dose.value if s.dose is not None else "",
            )
        )
    conditions = sorted({*n.conditions, *(c for s in sites for c in s.conditions)})
    avoid = [atlas.avoid[a] for a in sorted({a for s in sites for a in s.avoid})]
    ref_ids = dict.fromkeys(
        [
            *n.references,
            *(p.ref for p in n.course),
            *(r for s in sites for r in s.references),
            *(r for s in sites if s.dose is not None for r in s.dose.refs),
        ]
    )
    refs = [atlas.references[r] for r in ref_ids if r in atlas.references]
    return NerveCard(
        name=n.name,
        verified=n.verified,
        synonyms=tuple(n.synonyms),
        parent=atlas.name_of(n.parent) if n.parent else (n.parent_name or "—"),
        roots=", ".join(n.roots) or "—",
        course=n.description,
        course_points=tuple(course),
        sites=tuple(site_lines),
        conditions=tuple(atlas.name_of(c) for c in conditions),
        avoid=tuple(AvoidLine(a.name, f"keep {a.safety_radius_cm:.1f} cm away", a.why) for a in avoid),
        references=tuple(ReferenceLine(r.citation, r.doi or "", r.verified) for r in refs),
    )


#: The explorer's 2D chart on a laptop or tablet: the square render plus the legend's rows.
DESKTOP_CHART_HEIGHT_PX = 620
#: The chart's width on a 390 px phone, inside the page's side padding.
PHONE_CHART_WIDTH_PX = 358


def is_phone(user_agent: str) -> bool:
    """Phones say "Mobi" in their user agent (Android Chrome "Mobile", iOS Safari "Mobile/")."""
    return "Mobi" in user_agent


def chart_height_for(phone: bool, legend_heights_px: Callable[[float], float]) -> int:
    """The 2D chart's height: on a phone (:func:`is_phone`), its square image plus the legend
    wrapped at that width.

    The server cannot see the screen's width, and a chart sized by the browser is drawn twice
    (plotly first lays the legend out at the wrong width), so the height is decided here, once.
    A fixed 620 px left a blank band of about 200 px under the image on a phone. It takes the
    phone flag, not the user agent, because the figure cache keys on that flag.
    """
    if not phone:
        return DESKTOP_CHART_HEIGHT_PX
    return int(PHONE_CHART_WIDTH_PX + legend_heights_px(PHONE_CHART_WIDTH_PX))
