"""The source and technique rules of ``validate`` (issue 16): each class of error a PIT educator
found in review gets a located message, and the shipped atlas and banks keep to them."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from tests.atlas_factory import good_atlas_data, point, write_atlas
from tests.quiz_factory import good_bank, write_bank
from trainer.atlas import check_atlas, load_atlas
from trainer.quiz.bank import DEFAULT_QUIZ_DIR, check_banks, read_banks

REGION = "regions/reg_a.yaml"
CLASSIC_DOSE = {
    "volume_ml": [0.2, 1.0],
    "needle": "27G 13 mm",
    "depth": "subcutaneous",
    "refs": ["ref_pit"],
    "value": "0.2-1 mL per point (leaflet)",
}


def data_with_sources() -> dict[str, Any]:
    """The good atlas plus one source of each technique (the PIT one gives a volume)."""
    data = good_atlas_data()
    refs = data["references.yaml"]["references"]
    refs += [
        {
            "id": "ref_pit",
            "kind": "web",
            "citation": "A PIT leaflet (test).",
            "technique": "classic_pit",
            "findings": ["typically 0.2-1 mL of buffered 5% glucose per tender point"],
            "verified": True,
        },
        {
            "id": "ref_method",
            "kind": "web",
            "citation": "A PIT method page (test).",
            "technique": "classic_pit",
            "findings": ["many small injections just under the skin along the nerve"],
            "verified": True,
        },
        {
            "id": "ref_hyper",
            "kind": "paper",
            "citation": "A hypertonic series (test).",
            "technique": "neurofascial_prolotherapy",
            "findings": ["0.5-1 mL of 20% glucose per point"],
            "verified": True,
        },
        {
            "id": "ref_us",
            "kind": "paper",
            "citation": "A hydrodissection trial (test).",
            "technique": "ultrasound_hydrodissection",
            "findings": ["one 5 mL injection at the nerve"],
            "verified": True,
        },
    ]
    return data


def site(data: dict[str, Any]) -> dict[str, Any]:
    return data[REGION]["sites"][0]


def problems_for(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    write_atlas(tmp_path / "atlas", data)
    _, problems = check_atlas(tmp_path / "atlas")
    return [str(p) for p in problems]


# ------------------------------------------------------------------------------ doses


def test_a_classic_site_with_a_sourced_dose_passes(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["dose"] = CLASSIC_DOSE
    assert problems_for(tmp_path, data) == []
    dose = load_atlas(tmp_path / "atlas").sites["site_a"].dose
    assert dose is not None and dose.volume_ml == (0.2, 1.0) and dose.refs == ("ref_pit",)


@pytest.mark.parametrize(
    "refs", [["ref_a"], ["ref_method"], ["ref_hyper"]], ids=["anatomy", "no-volume", "hypertonic"]
)
def test_a_classic_volume_must_cite_a_pit_source_that_gives_one(tmp_path: Path, refs: list[str]) -> None:
    """An anatomy paper, a PIT source without a volume and the hypertonic series are no dose
    source for 5% dextrose PIT."""
    data = data_with_sources()
    site(data)["dose"] = {**CLASSIC_DOSE, "refs": refs}
    probs = problems_for(tmp_path, data)
    assert any(
        p.startswith(
            f"atlas/{REGION}: site_a: dose.refs: a classic_pit site that states a volume must cite "
            "a dose source"
        )
        for p in probs
    ), probs


def test_a_band_inside_the_sources_range_that_no_source_gives_is_refused(tmp_path: Path) -> None:
    """The 0.2-0.5 mL band: inside the leaflet's 0.2-1 mL, but no source gives 0.5 mL."""
    data = data_with_sources()
    site(data)["dose"] = {**CLASSIC_DOSE, "volume_ml": [0.2, 0.5]}
    probs = problems_for(tmp_path, data)
    assert any(
        "site_a: dose.volume_ml: no source in dose.refs gives 0.5 mL (they give 0.2, 1 mL)" in p
        for p in probs
    ), probs
    site(data)["dose"] = {**CLASSIC_DOSE, "volume_ml": [0.5, 1.0], "refs": ["ref_pit", "ref_hyper"]}
    assert problems_for(tmp_path, data) == []  # the hypertonic series gives 0.5-1 mL


def test_the_old_volume_field_is_refused(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["volume_ml"] = [0.2, 0.5]
    assert any("site_a: volume_ml: unknown field" in p for p in problems_for(tmp_path, data))


def test_a_technique_2_volume_is_an_example_unless_a_study_at_the_nerve_used_it(tmp_path: Path) -> None:
    data = data_with_sources()
    s = site(data)
    s.update(
        technique="ultrasound_hydrodissection",
        depth="deep",
        dose={"volume_ml": [2.0, 5.0], "refs": ["ref_us"], "value": "an example volume"},
    )
    probs = problems_for(tmp_path, data)
    assert any(
        "site_a: dose: no ultrasound_hydrodissection source in dose.refs gives a volume" in p for p in probs
    ), probs
    s["dose"]["example_only"] = True
    assert problems_for(tmp_path, data) == []
    del s["dose"]["example_only"]
    s["references"] = ["ref_a", "ref_us"]  # the study is one of the site's own sources
    probs = problems_for(tmp_path, data)
    assert any("site_a: dose.volume_ml: no source in dose.refs gives 2 mL" in p for p in probs), probs
    s["dose"]["volume_ml"] = [5.0, 5.0]  # the volume that study used
    assert problems_for(tmp_path, data) == []


def test_a_classic_site_is_subcutaneous(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["depth"] = "deep (between the abdominal muscles)"
    probs = problems_for(tmp_path, data)
    assert any("site_a: depth: a classic_pit site is subcutaneous" in p for p in probs), probs


# ------------------------------------------------------------------ techniques and wording


def test_a_site_filed_under_a_technique_its_sources_did_not_use(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["references"] = ["ref_a", "ref_hyper"]
    probs = problems_for(tmp_path, data)
    assert any(
        "site_a: references: filed as classic_pit but every technique source it cites is "
        "neurofascial_prolotherapy" in p
        for p in probs
    ), probs
    site(data)["references"] = ["ref_a", "ref_hyper", "ref_method"]
    assert problems_for(tmp_path, data) == []


def test_a_site_cites_no_study_of_another_technique(tmp_path: Path) -> None:
    """The Conaway class: a deep technique-2 pilot cited as a source for a subcutaneous point."""
    data = data_with_sources()
    site(data)["dose"] = CLASSIC_DOSE
    site(data)["references"] = [*site(data).get("references", []), "ref_us"]
    probs = problems_for(tmp_path, data)
    assert any(
        "site_a: references: cites 'ref_us', a source of technique ultrasound_hydrodissection" in p
        for p in probs
    ), probs
    site(data)["references"] = [r for r in site(data)["references"] if r != "ref_us"] + ["ref_hyper"]
    assert problems_for(tmp_path, data) == []


def test_reference_notes_and_technique_must_agree(tmp_path: Path) -> None:
    data = data_with_sources()
    data["references.yaml"]["references"][-1]["notes"] = (
        "Technique: conventional_prolotherapy (into the tendon)."
    )
    probs = problems_for(tmp_path, data)
    assert any(
        "ref_us: technique: notes say 'Technique: conventional_prolotherapy' but technique is "
        "ultrasound_hydrodissection" in p
        for p in probs
    ), probs


@pytest.mark.parametrize(
    "text",
    [
        "It is the classic PIT point for heel pain.",
        "A key PIT site.",
        "A reliable PIT point.",
        "tender points are classic PIT targets.",
        "The nerve becomes subcutaneous here; a key medial knee point in PIT.",
    ],
)
def test_text_claiming_a_pit_mapping_is_refused(tmp_path: Path, text: str) -> None:
    data = data_with_sources()
    site(data)["teaching"] = text
    probs = problems_for(tmp_path, data)
    assert any(
        "site_a: teaching: '" in p and "no PIT source in this course maps sites" in p for p in probs
    ), probs


def test_a_mapping_claim_in_the_source_note_of_a_position_is_refused(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["at"]["value"] = "measured from the tip (same point as the classic PIT site)"
    probs = problems_for(tmp_path, data)
    assert any("site_a: at.value: 'classic PIT site'" in p for p in probs), probs


def test_the_technique_name_is_not_a_mapping_claim(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["teaching"] = (
        "Classic PIT targets the nerve where it is tender; the PIT site marked in this atlas."
    )
    assert problems_for(tmp_path, data) == []


def test_a_nerve_leaves_the_deep_fascia_once(tmp_path: Path) -> None:
    data = data_with_sources()
    second = copy.deepcopy(site(data))
    second.update(id="site_b", name="Site B", at=point(distal_cm=4))
    data[REGION]["sites"].append(second)
    probs = problems_for(tmp_path, data)
    assert any(
        "site_b: kind: nerve 'nerve_a' already leaves the deep fascia at 'site_a'" in p for p in probs
    ), probs
    second["same_exit_as"] = "site_a"  # the same exit placed from another study
    assert problems_for(tmp_path, data) == []
    second["same_exit_as"] = "vein_a"
    assert any("site_b: same_exit_as: unknown site 'vein_a'" in p for p in problems_for(tmp_path, data))


def bank_problems(tmp_path: Path, edit: Any) -> list[str]:
    atlas = load_atlas(write_atlas(tmp_path / "atlas", data_with_sources()))
    bank = copy.deepcopy(good_bank())
    edit(bank["questions"])
    problems, _ = check_banks(atlas, [write_bank(tmp_path / "quizzes", bank)])
    return [str(p) for p in problems]


def test_a_question_filed_as_classic_pit_citing_only_a_hypertonic_series(tmp_path: Path) -> None:
    probs = bank_problems(
        tmp_path, lambda qs: qs[6].update(references=["ref_hyper"], technique="classic_pit")
    )
    assert any(
        "q_clinical: technique: filed as classic_pit but every technique source it cites is "
        "neurofascial_prolotherapy" in p
        for p in probs
    ), probs
    fine = bank_problems(
        tmp_path, lambda qs: qs[6].update(references=["ref_hyper"], technique="neurofascial_prolotherapy")
    )
    assert not any("technique" in p for p in fine), fine


def test_a_question_claiming_a_pit_mapping_is_refused_in_every_text(tmp_path: Path) -> None:
    def edit(qs: list[dict[str, Any]]) -> None:
        qs[0]["prompt"] = "Tap the classic PIT site."
        qs[6]["choices"][0]["why"] = "The key PIT point."

    probs = bank_problems(tmp_path, edit)
    assert any(": q_locate: prompt: 'classic PIT site'" in p for p in probs), probs
    assert any(": q_clinical: choices.0.why: 'key PIT point'" in p for p in probs), probs


def test_validate_cli_reports_a_dose_without_a_source(tmp_path: Path) -> None:
    data = data_with_sources()
    site(data)["dose"] = {**CLASSIC_DOSE, "refs": ["ref_a"]}
    root = write_atlas(tmp_path / "atlas", data)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "trainer",
            "validate",
            "--atlas",
            str(root),
            str(write_bank(tmp_path / "q", good_bank())),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1
    assert f"atlas/{REGION}: site_a: dose.refs: a classic_pit site that states a volume" in out.stdout


# ------------------------------------------------------------------------ the shipped atlas


@pytest.fixture(scope="module")
def atlas() -> Any:
    return load_atlas()


def test_every_classic_site_cites_a_dose_source_and_no_unsourced_band(atlas: Any) -> None:
    classic = [s for s in atlas.sites.values() if s.technique == "classic_pit"]
    assert len(classic) > 130
    assert [s.id for s in classic if s.dose is None] == []
    assert [s.id for s in classic if s.dose.volume_ml == (0.2, 0.5)] == []  # a band no source gives
    for s in classic:
        assert "resolvepain_pit_web" in s.dose.refs, s.id
        assert s.dose.needle and s.depth == "subcutaneous", s.id


def test_technique_2_volumes_are_examples_except_where_trials_used_them(atlas: Any) -> None:
    deep = {s.id: s for s in atlas.sites.values() if s.technique == "ultrasound_hydrodissection"}
    assert deep and all(s.dose is not None for s in deep.values())
    validated = {i for i, s in deep.items() if not s.dose.example_only}
    assert validated == {"median_nerve_us_hydrodissection"}


def test_the_refiled_sources(atlas: Any) -> None:
    """What each source actually did (issue 16, item 1)."""
    tech = {r: atlas.references[r].technique for r in atlas.references}
    assert tech["lyftogt2007_knee_elbow"] == tech["lyftogt2007_achilles"] == "neurofascial_prolotherapy"
    assert tech["yelland2011_achilles"] == "neurofascial_prolotherapy"
    assert tech["hauser2012_morton_prolo"] == "conventional_prolotherapy"
    assert (
        tech["doguciftci2023_le_5_vs_15"] == "conventional_prolotherapy"
    )  # 5% dextrose, but into the enthesis
    assert tech["conaway2020_plantar"] == "ultrasound_hydrodissection"
    assert (
        "conaway2020_plantar" not in atlas.sites["mcn_medial_heel"].references
    )  # it injected far from the heel
    assert "sural_fascial_piercing" not in atlas.sites  # the sural trunk leaves the fascia once
    for sid in ("iliohypogastric_asis", "ilioinguinal_asis"):  # deep block landmarks, not PIT points
        assert atlas.sites[sid].technique == "ultrasound_hydrodissection" and atlas.sites[
            sid
        ].depth.startswith("deep")


def test_every_condition_names_its_techniques(atlas: Any) -> None:
    assert [c for c, cond in atlas.conditions.items() if not cond.techniques] == []
    for cid in (
        "trigeminal_neuralgia",
        "postherpetic_neuralgia",
        "whiplash_associated_disorder",
        "tension_type_headache",
        "tmj_pain",
        "rotator_cuff_pain",
        "frozen_shoulder",
        "chronic_ankle_instability",
        "sural_neuropathy",
        "pain_after_knee_replacement",
        "non_specific_low_back_pain",
        "complex_regional_pain_syndrome",
    ):
        assert cid in atlas.conditions, cid
    assert (
        "ultrasound_hydrodissection" in atlas.conditions["frozen_shoulder"].techniques
    )  # suprascapular: deep


def test_no_shipped_text_claims_the_one_randomised_trial_of_ulnar_neuropathy() -> None:
    text = (DEFAULT_QUIZ_DIR / "elbow_medial.yaml").read_text(encoding="utf-8")
    assert not re.search(r"the one randomi[sz]ed trial", text, re.IGNORECASE)


def test_stats_json_counts_cases_conditions_and_dose_sources(atlas: Any) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "trainer", "stats", "--json"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    stats = json.loads(out.stdout)
    banks, _ = read_banks([DEFAULT_QUIZ_DIR])
    cases = [q for b in banks.values() for q in b.questions if q.type == "case"]
    assert stats["cases_full"] == sum(len(q.steps) >= 6 for q in cases)
    assert stats["conditions"] == len(atlas.conditions)
    classic = [s for s in atlas.sites.values() if s.technique == "classic_pit"]
    # every classic site cites one, and the one technique-2 site whose volume trials used
    assert stats["sites_with_dose_source"] == len(classic) + 1
    assert stats["sites_with_dose_source"] <= stats["sites"]


def test_stats_count_only_sites_whose_dose_cites_a_dose_source(tmp_path: Path) -> None:
    from trainer.tools.stats import atlas_stats

    data = data_with_sources()
    site(data)["dose"] = CLASSIC_DOSE
    root = write_atlas(tmp_path / "atlas", data)
    quizzes = write_bank(tmp_path / "q", good_bank()).parent
    assert atlas_stats(root, quizzes)["sites_with_dose_source"] == 1
    site(data)["dose"] = {**CLASSIC_DOSE, "refs": ["ref_method"]}  # a PIT source, but no volume in it
    root = write_atlas(tmp_path / "atlas2", data)
    assert atlas_stats(root, quizzes)["sites_with_dose_source"] == 0


# ------------------------------------------------------------------------------- explorer


def test_the_nerve_card_shows_each_site_dose_and_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = data_with_sources()
    site(data)["dose"] = CLASSIC_DOSE
    root = write_atlas(tmp_path / "atlas", data)
    write_bank(tmp_path / "quizzes", good_bank())
    monkeypatch.setenv("TRAINER_ATLAS_DIR", str(root))
    monkeypatch.setenv("TRAINER_QUIZ_DIR", str(tmp_path / "quizzes"))
    monkeypatch.setenv("TRAINER_DATA_DIR", str(tmp_path / "data"))
    at = AppTest.from_file(str(Path(__file__).resolve().parents[1] / "streamlit_app.py"), default_timeout=30)
    at.run()
    at.switch_page("trainer/ui/pages/explorer.py")
    at.run()
    next(s for s in at.selectbox if s.label == "Nerve card").set_value("nerve_a").run()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Dose:** 0.2–1 mL per point · 27G 13 mm · subcutaneous" in text
    assert "0.2-1 mL per point (leaflet)" in text and "A PIT leaflet (test)." in text
