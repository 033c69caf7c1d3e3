"""The calibration's bookkeeping: weights <-> body_types.yaml entries, and the file layout."""

from __future__ import annotations

from pathlib import Path

import yaml

from trainer.atlas.core import BodyType
from trainer.atlas.files import BodyTypesFile
from trainer.tools.render.calibrate import (
    MODIFIERS,
    body_weight_modifier,
    current_weights,
    dump_body_types,
    free_modifiers,
    read_body_types,
)

ATLAS = Path(__file__).resolve().parents[1] / "atlas"


def test_fitted_weights_round_trip_through_body_types_entries() -> None:
    from trainer.tools.render.calibrate import Morpher

    mods = MODIFIERS[:4]
    weights = [0.25, -0.5, 0.0, 1.0]
    # fitted_targets needs no mesh: call it unbound on a stand-in holding the modifiers.
    stand_in = type("S", (), {"modifiers": mods})()
    fitted = Morpher.fitted_targets(stand_in, weights)  # type: ignore[arg-type]
    assert all(w > 0 for _, w in fitted)  # decr targets carry |weight|
    body = BodyType(id="x", name="X", fitted=tuple(fitted))
    assert current_weights(body, mods) == weights


def test_a_body_with_its_own_weight_target_fits_only_skeletal_modifiers() -> None:
    high = BodyType(
        id="x",
        name="X",
        reference="female",
        targets=(("universal-female-young-averagemuscle-maxweight.target", 1.0),),
    )
    lean = BodyType(id="y", name="Y", reference="male", targets=(("caucasian-male-young.target", 1.0),))
    assert all(m.skeletal for m in free_modifiers(high))
    assert body_weight_modifier("male") in free_modifiers(lean)
    assert "universal-male-young-averagemuscle-maxweight.target" in body_weight_modifier("male").incr


def test_written_body_types_validate_and_keep_every_field() -> None:
    data = yaml.safe_load((ATLAS / "body_types.yaml").read_text(encoding="utf-8"))
    text = dump_body_types(*read_body_types(ATLAS))
    again = yaml.safe_load(text)
    assert again == data
    BodyTypesFile.model_validate(again)
    assert text == (ATLAS / "body_types.yaml").read_text(encoding="utf-8")
