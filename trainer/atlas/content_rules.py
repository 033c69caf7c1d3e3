"""Content rules that keep the atlas and the banks honest about sources and techniques.

Each rule lives here once: :mod:`trainer.atlas.build` applies them to atlas records and
:mod:`trainer.quiz.checks` to questions. They answer the classes of error a PIT educator found
in review (issue 16):

* a site or a question filed under a technique its sources did not use (Lyftogt's hypertonic
  series filed as 5% dextrose PIT; tendon prolotherapy filed as neurofascial);
* a volume per point that no source gives;
* a deep nerve-block landmark taught as a subcutaneous PIT point;
* a nerve that "pierces the deep fascia" twice in series;
* "the classic PIT point" for a site no PIT source maps (the PIT sources describe a method:
  tender points in the field of a nerve, where it pierces the fascia; the *positions* come from
  anatomy sources).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping

from trainer.atlas.core import Reference, Site
from trainer.atlas.models import TREATMENT_TECHNIQUES

#: Phrases that claim a PIT source maps this very point. No PIT source in this course does.
_CLAIMED = r"(?:classic|key|reliable|standard|usual|typical|main)\s+PIT\s+(?:injection\s+)?"
PIT_MAPPING_CLAIM = re.compile(
    # "targets" is also a verb ("classic PIT targets the saphenous nerve"): only its noun uses,
    # after "are", "the", "as" or a comma, count.
    rf"\b{_CLAIMED}(?:points?|sites?|target|entry|entries)\b"
    rf"|(?:(?<=are )|(?<=the )|(?<=as )|(?<=, )|(?<=,))\b{_CLAIMED}targets\b"
    # "a key medial knee point in PIT": the same claim with the words around the other way.
    r"|\b(?:classic|key|reliable|standard|usual|typical|main)\s+(?:[\w-]+\s+){0,3}?"
    r"(?:points?|sites?|targets?)\s+(?:in|of|for)\s+(?:classic\s+)?PIT\b",
    re.IGNORECASE,
)

#: A volume in a finding: "0.2-1 mL", "5 mL", "1 cc", "0.2ml - 1ml".
VOLUME_IN_ML = re.compile(
    r"\d+(?:\.\d+)?\s*(?:ml|mL|cc)\b|\d+(?:\.\d+)?\s*(?:-|–|to)\s*\d+(?:\.\d+)?\s*(?:ml|mL|cc)\b"
)

_NOTES_TECHNIQUE = re.compile(r"^\s*Technique:\s*([a-z_]+)")
_NUMBER = r"\d+(?:\.\d+)?"
# "0.2-1 mL", "5 mL", "1, 2 or 4 mL": every number of a run that ends in a volume unit.
_VOLUME_RUN = re.compile(rf"((?:{_NUMBER}\s*(?:-|–|to|,|or|and)\s*)*{_NUMBER})\s*(?:ml|mL|cc)\b")


def mapping_claims(text: str) -> list[str]:
    """The phrases in ``text`` that claim a PIT source maps a point.

    >>> mapping_claims("It is the classic PIT point for Achilles pain; palpate the key PIT sites.")
    ['classic PIT point', 'key PIT sites']
    >>> mapping_claims("The nerve becomes subcutaneous here; a key medial knee point in PIT.")
    ['key medial knee point in PIT']
    >>> mapping_claims("Tap the PIT site marked in this atlas.")
    []
    """
    return [m.group(0) for m in PIT_MAPPING_CLAIM.finditer(text or "")]


def mapping_claim_problems(fields: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """``(field, message)`` for every text field that claims a PIT mapping."""
    out: list[tuple[str, str]] = []
    for field, text in fields:
        for phrase in mapping_claims(text):
            out.append(
                (
                    field,
                    f"'{phrase}' claims a PIT source maps this point, and no PIT source in this course "
                    "maps sites (they describe a method): say what the anatomy source says and 'palpate "
                    "for tenderness', or 'the PIT site marked in this atlas'",
                )
            )
    return out


def gives_volume(ref: Reference) -> bool:
    """Whether a reference's recorded findings state a volume in mL (or cc).

    >>> r = Reference(id="r", kind="web", citation="c", doi=None, url=None, pmid=None,
    ...               technique="classic_pit", findings=("typically 0.2-1 mL per point",), verified=True)
    >>> gives_volume(r)
    True
    """
    return any(VOLUME_IN_ML.search(f) for f in ref.findings)


def volumes_given(ref: Reference) -> set[float]:
    """Every volume (mL) a reference's findings state, ends of ranges included.

    >>> r = Reference(id="r", kind="paper", citation="c", doi=None, url=None, pmid=None, technique="x",
    ...               findings=("1, 2 or 4 mL of D5W", "typically 0.2-1 mL"), verified=True)
    >>> sorted(volumes_given(r))
    [0.2, 1.0, 2.0, 4.0]
    """
    out: set[float] = set()
    for finding in ref.findings:
        for run in _VOLUME_RUN.finditer(finding):
            out.update(float(x) for x in re.findall(_NUMBER, run.group(1)))
    return out


def has_dose_source(site: Site, references: Mapping[str, Reference]) -> bool:
    """Whether the site's dose cites a source of its own technique whose findings give a volume.

    For a technique-2 site that source must also be one of the site's own references (a study
    at this nerve); the PIT sources give the per-point volume of the method, so any site may
    cite them. An ``example_only`` volume has no dose source by definition.
    """
    if site.dose is None or site.dose.example_only:
        return False
    for r in site.dose.refs:
        ref = references.get(r)
        if ref is not None and ref.technique == site.technique and gives_volume(ref):
            if site.technique == "classic_pit" or r in site.references:
                return True
    return False


def dose_problems(site: Site, references: Mapping[str, Reference]) -> list[tuple[str, str]]:
    """A stated volume must come from a source of the site's own technique that gives one
    (:func:`has_dose_source`).

    A ``classic_pit`` site must cite a ``classic_pit`` reference whose findings give a volume
    (the PIT leaflet's 0.2-1 mL). Any other technique may instead mark its volume
    ``example_only`` (shown as "example, not validated").
    """
    dose = site.dose
    if dose is None:
        return []
    out: list[tuple[str, str]] = [
        ("dose.refs", f"unknown reference '{r}'") for r in dose.refs if r not in references
    ]
    known = [references[r] for r in dose.refs if r in references]
    own = has_dose_source(site, references)
    if site.technique == "classic_pit":
        if not own:
            out.append(
                (
                    "dose.refs",
                    "a classic_pit site that states a volume must cite a dose source: a classic_pit "
                    "reference whose findings give the volume per point in mL",
                )
            )
        if dose.example_only:
            out.append(
                (
                    "dose.example_only",
                    "a classic_pit dose cites the PIT sources; 'example only' is for "
                    "technique-2 volumes that no study at the nerve used",
                )
            )
    elif not own and not dose.example_only:
        out.append(
            (
                "dose",
                f"no {site.technique} source in dose.refs gives a volume: cite the study that used it "
                "at this nerve, or mark it example_only: true (shown as 'example, not validated')",
            )
        )
    if own and not dose.example_only:
        # Each end of the stated range must be a volume a cited source gives: a narrower band
        # inside a source's range (the old 0.2-0.5 mL) is a number no source gives.
        given: set[float] = set()
        for r in known:
            given |= volumes_given(r)
        missing = [v for v in dose.volume_ml if not any(abs(v - g) < 1e-9 for g in given)]
        if missing:
            out.append(
                (
                    "dose.volume_ml",
                    f"no source in dose.refs gives {', '.join(f'{v:g} mL' for v in missing)} "
                    f"(they give {', '.join(f'{g:g}' for g in sorted(given))} mL): use the "
                    "sources' own range or cite the one that gives it",
                )
            )
    return out


def depth_problems(site: Site) -> list[tuple[str, str]]:
    """Classic PIT is subcutaneous; a deep target (a nerve-block landmark) is another technique."""
    if site.technique == "classic_pit" and site.depth.strip().lower() != "subcutaneous":
        return [
            (
                "depth",
                f"a classic_pit site is subcutaneous, not '{site.depth}': a deep target is technique 2 "
                "(ultrasound_hydrodissection) or a nerve-block landmark",
            )
        ]
    return []


def technique_source_problems(
    technique: str, refs: Iterable[str], references: Mapping[str, Reference]
) -> list[str]:
    """A record filed under a technique must cite a source of it when it cites any technique source.

    Anatomy and general sources are neutral. A question comparing techniques cites sources of
    several, its own among them; one filed as classic PIT that cites only a hypertonic series is
    misfiled.
    """
    if technique not in TREATMENT_TECHNIQUES:
        return []
    cited = {references[r].technique for r in refs if r in references} & set(TREATMENT_TECHNIQUES)
    if cited and technique not in cited:
        return [
            f"filed as {technique} but every technique source it cites is {', '.join(sorted(cited))}: "
            "file it by what its sources actually did"
        ]
    return []


#: A classic site may cite a hypertonic series of the same subcutaneous method for the method.
_SAME_METHOD = {"classic_pit": {"neurofascial_prolotherapy"}}


def foreign_source_problems(
    technique: str, refs: Iterable[str], references: Mapping[str, Reference]
) -> list[str]:
    """A site filed under one treatment technique cites no study of another technique.

    The class of error: a plantar fasciitis pilot that injected two deep nerves far from the
    heel (technique 2) cited as a source for a subcutaneous heel point. A classic site may
    cite the hypertonic series of the same subcutaneous method for the method itself.
    """
    if technique not in TREATMENT_TECHNIQUES:
        return []
    allowed = {technique, *_SAME_METHOD.get(technique, set())}
    return [
        f"cites '{r}', a source of technique {references[r].technique}, for a {technique} site: a study of "
        "another technique is not a source for this point (cite it in the condition or a question instead)"
        for r in refs
        if r in references
        and references[r].technique in TREATMENT_TECHNIQUES
        and references[r].technique not in allowed
    ]


def reference_problems(ref_id: str, technique: str, notes: str | None) -> list[tuple[str, str]]:
    """A reference's notes that file it under another technique than its ``technique`` field."""
    m = _NOTES_TECHNIQUE.match(notes or "")
    if m and m.group(1) != technique:
        return [("technique", f"notes say 'Technique: {m.group(1)}' but technique is {technique}")]
    return []


def exit_problems(sites: Iterable[Site]) -> dict[str, list[tuple[str, str]]]:
    """A nerve leaves the deep fascia once: site id -> problems.

    A second ``fascial_piercing`` site on one nerve must name the first in ``same_exit_as``
    (the same exit placed from another study); ``same_exit_as`` must name a fascial-piercing
    site of the same nerve.
    """
    sites = list(sites)
    by_id = {s.id: s for s in sites}
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    exits: dict[str, list[Site]] = defaultdict(list)
    for s in sites:
        if s.same_exit_as is not None:
            other = by_id.get(s.same_exit_as)
            if other is None:
                out[s.id].append(("same_exit_as", f"unknown site '{s.same_exit_as}'"))
            elif (
                other.nerve != s.nerve
                or other.site_kind != "fascial_piercing"
                or s.site_kind != "fascial_piercing"
            ):
                out[s.id].append(
                    (
                        "same_exit_as",
                        "names the same fascial exit: both sites must be fascial_piercing "
                        "sites of the same nerve",
                    )
                )
        if s.site_kind == "fascial_piercing":
            exits[s.nerve].append(s)
    for nerve, group in exits.items():
        primary = [s for s in group if s.same_exit_as is None]
        for s in primary[1:]:
            out[s.id].append(
                (
                    "kind",
                    f"nerve '{nerve}' already leaves the deep fascia at '{primary[0].id}': a nerve "
                    "pierces the fascia once (set same_exit_as when two studies place the same "
                    "exit, or use kind: injection for a point further along)",
                )
            )
    return dict(out)
