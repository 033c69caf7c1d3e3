"""The explorer's page model (trainer/explorer/page.py) on the synthetic atlas: no Streamlit."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.atlas_factory import good_atlas_data, point, write_atlas
from trainer.atlas import Atlas, load_atlas
from trainer.explorer import page
from trainer.quiz.views import base_views, view_name


@pytest.fixture(scope="module")
def atlas(tmp_path_factory: pytest.TempPathFactory) -> Atlas:
    data: dict[str, Any] = copy.deepcopy(good_atlas_data())
    region = data["regions/reg_a.yaml"]
    region["views"].append(
        {"id": "reg_a_supinated", "look_from": "lateral", "center": point(), "extent_cm": 20}
    )
    data["references.yaml"]["references"].append(
        {
            "id": "ref_pit",
            "kind": "web",
            "citation": "A PIT leaflet (test).",
            "technique": "classic_pit",
            "findings": ["typically 0.5-1 mL of buffered 5% glucose per tender point"],
            "verified": True,
        }
    )
    region["sites"][0].update(
        depth="subcutaneous",
        cautions=["<b>slowly</b>"],
        teaching="Feel for the notch.",
        dose={
            "volume_ml": [0.5, 1.0],
            "needle": "27G 13 mm",
            "depth": "subcutaneous",
            "refs": ["ref_pit"],
            "value": "0.5-1 mL per point (leaflet)",
        },
    )
    region["sites"][0]["references"] = [*region["sites"][0]["references"], "ref_pit"]
    return load_atlas(write_atlas(tmp_path_factory.mktemp("explorer") / "atlas", data))


def test_a_search_offers_the_nerve_and_jumps_to_its_region(atlas: Atlas) -> None:
    [nerve, *rest] = page.search_buttons(atlas, "nerve a")
    assert nerve == page.SearchButton("Nerve A · nerve · Region A", "reg_a", "nerve_a", "matches 'Nerve A'")
    [condition] = [b for b in page.search_buttons(atlas, "condition") if " · condition · " in b.label]
    assert condition.region == "reg_a" and condition.nerve is None  # a condition opens its region only
    assert page.search_buttons(atlas, "no such thing") == [] and page.search_buttons(atlas, "a") == []


def test_a_region_link_is_followed_once(atlas: Atlas) -> None:
    assert page.linked_region(atlas, "reg_a", None) == "reg_a"
    assert page.linked_region(atlas, "reg_a", "reg_a") is None  # then the picker is the learner's
    assert (
        page.linked_region(atlas, "no_region", None) is None and page.linked_region(atlas, None, None) is None
    )


def test_views_are_named_by_where_they_look_from(atlas: Atlas) -> None:
    # the region file's order, main view first (not by name: "reg_a_supinated" sorts first)
    assert base_views(atlas, "reg_a") == ["view_a", "reg_a_supinated"]
    assert view_name(atlas, "reg_a", "view_a") == "Anterior view (view a)"
    assert view_name(atlas, "reg_a", "reg_a_supinated") == "Lateral view (supinated)"
    assert page.view_for(atlas, "reg_a", "view_a", "left") == "view_a_left"
    assert page.view_for(atlas, "reg_a", "view_a", "right") == "view_a_right"
    assert page.view_for(atlas, "reg_a", "view_a", "upside-down") is None


def test_a_click_picks_the_nerve_or_the_nerve_of_a_site(atlas: Atlas) -> None:
    assert page.picked_nerve(atlas, ["nerve_a"]) == "nerve_a"
    assert page.picked_nerve(atlas, [None, "site_a"]) == "nerve_a"
    assert page.picked_nerve(atlas, ["vein_a"]) is None and page.picked_nerve(atlas, []) is None
    assert page.kept_nerve(atlas, "reg_a", "nerve_a") == "nerve_a"
    assert page.kept_nerve(atlas, "reg_a", "nerve_of_another_region") is None


def test_the_nerve_card_says_where_the_sites_are_and_cites_its_sources(atlas: Atlas) -> None:
    card = page.nerve_card(atlas, "nerve_a")
    assert (card.name, card.parent, card.roots) == ("Nerve A", "—", "—")
    assert [p.where for p in card.course_points] == [
        "2.0 cm proximal to the landmark A",
        "4.0 cm distal to the landmark A",
    ]
    assert card.course_points[0].value == "test value" and card.course_points[0].ref == "ref_a"
    [site] = card.sites
    assert site.facts == "2.0 cm distal to the landmark A; subcutaneous"
    assert site.dose == "0.5–1 mL per point · 27G 13 mm · subcutaneous"
    assert site.dose_source == "0.5-1 mL per point (leaflet)"
    assert site.cautions == ("<b>slowly</b>",)  # plain text: the page escapes it
    assert card.conditions == ("Condition A",)
    assert card.avoid == (page.AvoidLine("Vein A", "keep 0.5 cm away", atlas.avoid["vein_a"].why),)
    assert [r.citation for r in card.references] == [
        "Doe J. A test paper. J Test. 2020;1:1-2.",
        "A PIT leaflet (test).",
    ]


def test_the_scale_caption_names_the_region(atlas: Atlas) -> None:
    assert page.scale_caption(atlas, "reg_a", 10.0).startswith("Region A: ")
    assert "1 cm = 10 px" in page.scale_caption(atlas, "reg_a", 10.0)


def test_the_chart_fits_a_phone_and_keeps_its_laptop_height() -> None:
    from trainer.explorer.figures import legend_height_px

    names = ["Greater occipital nerve", "Third occipital nerve", "Lesser occipital nerve", "Sites", "Avoid"]
    android = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36"
    iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
    laptop = (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
    )
    rows_px = lambda w: legend_height_px(names, w)  # noqa: E731
    assert page.chart_height_for(page.is_phone(laptop), rows_px) == page.DESKTOP_CHART_HEIGHT_PX
    for agent in (android, iphone):
        height_px = page.chart_height_for(page.is_phone(agent), rows_px)
        # The square image at the phone's chart width plus the legend's rows: no band of blank.
        assert height_px == page.PHONE_CHART_WIDTH_PX + int(rows_px(page.PHONE_CHART_WIDTH_PX))
        assert height_px < page.DESKTOP_CHART_HEIGHT_PX


def test_the_legend_wraps_into_more_rows_on_a_narrower_chart() -> None:
    from trainer.explorer.figures import LEGEND_ROW_PX, legend_height_px

    names = [
        "Deep fibular nerve at the ankle and first web space",
        "Saphenous nerve in front of the medial malleolus",
    ]
    assert legend_height_px([], 400) == 0
    # Each name is about 270 px long: side by side on a laptop, one per row on a phone.
    assert legend_height_px(names, 600) < legend_height_px(names, 358)
    assert legend_height_px(names, 358) - legend_height_px(names, 600) == LEGEND_ROW_PX
