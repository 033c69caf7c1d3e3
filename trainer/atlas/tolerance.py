"""Tolerance from the published spread (issue 14): why a tap counts as right within so many cm.

A site's full-credit tolerance is ``max(1.0 cm, SD)``, where SD is the published standard
deviation of the site's position (``spread`` on the site, with its source). Credit falls to
zero at ``max(3.0 cm, 3 x SD)``: beyond three SDs of the published mean practically nobody's
nerve lies, so a tap there is wrong for any normal variant. The 1.0 cm floor is the precision
of a fingertip on the skin; the 3.0 cm floor is the quiz default. A site with no published SD
(a textbook placement, or a source that gives only a mean or a range) keeps a teaching
tolerance and must say why in ``tolerance_reason``.

A locate question on sites with a published SD inherits their tolerance and zero distance (the
largest, if several), unless it gives ``tolerance_reason``. On a site without one, the question's
tolerance is a teaching value that its explanation justifies.

Pure functions over the atlas model; :mod:`trainer.atlas.build` and :mod:`trainer.quiz.checks`
report the problems through ``validate``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trainer.atlas.core import Reference, Site

FLOOR_CM = 1.0
ZERO_FLOOR_CM = 3.0
ZERO_SD_MULTIPLE = 3.0
MATCH_CM = 0.05  # YAML values are written to 0.1 cm; this absorbs the rounding


def tolerance_from_sd(sd_cm: float) -> float:
    """Full-credit tolerance for a published SD: max(1.0 cm, SD), to 0.1 cm."""
    return round(max(FLOOR_CM, sd_cm), 1)


def zero_from_sd(sd_cm: float) -> float:
    """Distance at which credit reaches zero for a published SD: max(3.0 cm, 3 SD), to 0.1 cm."""
    return round(max(ZERO_FLOOR_CM, ZERO_SD_MULTIPLE * sd_cm), 1)


def site_tolerance_cm(site: Site) -> float:
    """The site's full-credit tolerance: derived from its spread, else its stated teaching value."""
    return tolerance_from_sd(site.spread.sd_cm) if site.spread else site.at.tolerance_cm


def site_zero_cm(site: Site) -> float | None:
    """Zero-credit distance derived from the spread (None: no published SD, the question decides)."""
    return zero_from_sd(site.spread.sd_cm) if site.spread else None


def site_problems(site: Site, references: Mapping[str, Reference]) -> list[tuple[str, str]]:
    """``(field, message)`` pairs: a spread cites a known source and sets the tolerance; a site
    without one says why."""
    out: list[tuple[str, str]] = []
    if site.spread is None:
        if not (site.tolerance_reason or "").strip():
            out.append(
                (
                    "spread",
                    "give the published SD of this position as spread (tolerance = max(1.0 cm, SD)) "
                    "or say in tolerance_reason why there is none",
                )
            )
        return out
    if site.spread.ref not in references:
        out.append(("spread.ref", f"unknown reference '{site.spread.ref}'"))
    want = tolerance_from_sd(site.spread.sd_cm)
    if abs(site.at.tolerance_cm - want) > MATCH_CM and not (site.tolerance_reason or "").strip():
        out.append(
            (
                "at.tolerance_cm",
                f"{site.at.tolerance_cm:g} cm, but max(1.0 cm, published SD {site.spread.sd_cm:g} cm) "
                f"= {want:g} cm; set it, or say in tolerance_reason why not",
            )
        )
    return out


def question_problems(
    is_locate: bool,
    targets: Sequence[str],
    tolerance_cm: float,
    zero_cm: float,
    tolerance_reason: str | None,
    sites: Mapping[str, Site],
) -> list[tuple[str, str]]:
    """A locate question on sites uses its targets' tolerance (and derived zero) or says why not."""
    if not is_locate or not targets or (tolerance_reason or "").strip():
        return []
    found = [sites[t] for t in targets if t in sites]
    if len(found) != len(targets) or any(s.spread is None for s in found):
        # A nerve course or territory target, or a site without a published SD: the question's
        # tolerance is a teaching value its explanation justifies (the site says why in
        # tolerance_reason).
        return []
    out: list[tuple[str, str]] = []
    want = max(site_tolerance_cm(s) for s in found)
    if abs(tolerance_cm - want) > MATCH_CM:
        out.append(
            (
                "tolerance_cm",
                f"{tolerance_cm:g} cm, but the target site's tolerance is {want:g} cm; "
                "inherit it or give tolerance_reason",
            )
        )
    zeros = [z for z in (site_zero_cm(s) for s in found) if z is not None]
    if zeros and abs(zero_cm - max(zeros)) > MATCH_CM:
        out.append(
            (
                "zero_cm",
                f"{zero_cm:g} cm, but max(3.0 cm, 3 x the published SD) of the target is {max(zeros):g} cm; "
                "inherit it or give tolerance_reason",
            )
        )
    return out
