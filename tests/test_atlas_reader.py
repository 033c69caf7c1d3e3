"""One atlas reader: the app, the validator and the render tool read the same files into the
same keyword-only domain objects, and report a bad file the same way."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest

from tests.atlas_factory import good_atlas_data, write_atlas
from trainer.atlas import check_atlas, core, load_atlas
from trainer.errors import AtlasError
from trainer.tools.render.inputs import load_inputs, load_landmarks

ATLAS = Path(__file__).resolve().parents[1] / "atlas"

DOMAIN_CLASSES = [
    obj
    for obj in vars(core).values()
    if isinstance(obj, type) and dataclasses.is_dataclass(obj) and obj.__module__ == core.__name__
]


def _atlas(tmp_path: Path, data: dict[str, Any] | None = None) -> Path:
    return write_atlas(tmp_path / "atlas", data or good_atlas_data(), renders=False)


def test_app_validator_and_render_tool_build_equal_objects(tmp_path: Path) -> None:
    root = _atlas(tmp_path)
    app = load_atlas(root)
    validated, problems = check_atlas(root, renders=False)
    assert problems == [] and validated is not None
    rendered = load_inputs(root).atlas
    for table in ("landmarks", "regions", "views", "nerves", "sites", "avoid", "territories", "body_types"):
        assert getattr(app, table) == getattr(validated, table) == getattr(rendered, table), table
    assert app.views["view_a_right"].center.offsets_cm == (0.0, 0.0, 0.0)
    assert rendered.sites["site_a"].at.offsets_cm == (-2.0, 0.0, 0.0)


def test_the_committed_atlas_reads_the_same_for_app_and_render_tool() -> None:
    app = load_atlas(ATLAS)
    inputs = load_inputs(ATLAS)
    assert inputs.atlas.landmarks == app.landmarks
    assert inputs.atlas.views == app.views
    assert inputs.atlas.region_items("knee") == app.region_items("knee")
    assert load_landmarks(ATLAS) == list(app.landmarks.values())
    # Every body type the atlas defines is drawn with exactly its targets and fitted weights.
    for body in app.body_types.values():
        assert inputs.body_types[body.id] == body.targets + body.fitted


def test_the_render_hash_is_taken_over_the_file_bytes(tmp_path: Path) -> None:
    data = good_atlas_data()
    extra = copy.deepcopy(data["landmarks.yaml"])
    extra["landmarks"] = [{**extra["landmarks"][0], "id": "lm_c"}]
    data["landmarks_more.yaml"] = extra
    root = _atlas(tmp_path, data)
    inputs = load_inputs(root)
    main, more = (root / "landmarks.yaml").read_bytes(), (root / "landmarks_more.yaml").read_bytes()
    assert inputs.landmarks_raw == main + b"\n" + more
    assert inputs.region_raw == {"reg_a": (root / "regions" / "reg_a.yaml").read_bytes()}
    assert inputs.landmark_files["lm_c"] == root / "landmarks_more.yaml"


@pytest.mark.parametrize("cls", DOMAIN_CLASSES, ids=lambda c: c.__name__)
def test_domain_objects_refuse_positional_construction(cls: type) -> None:
    fields = [f for f in dataclasses.fields(cls) if f.init]
    assert fields and all(f.kw_only for f in fields), cls.__name__
    with pytest.raises(TypeError, match="positional"):
        cls(*range(len(fields)))


def test_domain_objects_are_frozen(tmp_path: Path) -> None:
    atlas = load_atlas(_atlas(tmp_path))
    with pytest.raises(dataclasses.FrozenInstanceError):
        atlas.sites["site_a"].name = "changed"  # type: ignore[misc]


def test_the_render_tool_names_file_id_and_field_of_a_bad_point(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"]["sites"][0]["at"]["proximal_cm"] = 1.0  # distal_cm is given too
    data["regions/reg_a.yaml"]["nerves"][0]["colour"] = "red"
    root = _atlas(tmp_path, data)
    with pytest.raises(AtlasError) as info:
        load_inputs(root)
    lines = str(info.value).splitlines()
    assert any(
        line.startswith("atlas/regions/reg_a.yaml: site_a: at: ") and "not both" in line for line in lines
    ), lines
    assert "atlas/regions/reg_a.yaml: nerve_a: colour: unknown field (not in the schema)" in lines
    # ... exactly as the validator says it.
    _, problems = check_atlas(root, renders=False)
    assert set(lines) <= {str(p) for p in problems}


def test_the_render_tool_reports_a_yaml_syntax_error_with_its_line(tmp_path: Path) -> None:
    data = good_atlas_data()
    data["regions/reg_a.yaml"] = "schema_version: 1\nregion: {id: reg_a, name: [unclosed\n"
    root = _atlas(tmp_path, data)
    with pytest.raises(AtlasError, match=r"atlas/regions/reg_a.yaml: -: -: YAML syntax error \(line \d+"):
        load_inputs(root)


def test_the_render_tool_needs_no_references_or_conditions(tmp_path: Path) -> None:
    data = good_atlas_data()
    del data["references.yaml"], data["conditions.yaml"]
    root = _atlas(tmp_path, data)
    assert set(load_inputs(root).atlas.sites) == {"site_a"}
    _, problems = check_atlas(root, renders=False)
    assert "atlas/references.yaml: -: -: file is missing" in {str(p) for p in problems}


def test_the_atlas_and_the_render_tool_parse_yaml_only_in_the_reader() -> None:
    """No second reader: YAML is parsed in trainer/atlas/files.py and nowhere else in the atlas
    package, the render tool or the anatomy check."""
    import ast

    trainer = Path(__file__).resolve().parents[1] / "trainer"
    modules = [
        *(trainer / "atlas").glob("*.py"),
        *(trainer / "tools" / "render").glob("*.py"),
        *(trainer / "tools").glob("anatomy*.py"),
    ]
    found = []
    for path in modules:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "yaml"
                and node.attr
                in ("load", "safe_load", "load_all", "safe_load_all", "full_load", "unsafe_load")
            ):
                found.append(f"{path.relative_to(trainer)}:{node.lineno}")
    assert len(modules) > 20
    assert [f.split(":")[0] for f in found] == ["atlas/files.py"], found


def test_every_file_field_reaches_its_domain_object() -> None:
    """A field added to a file model must be carried into the domain object (or renamed here)."""
    from trainer.atlas import files, models

    offsets = {
        f"{d}_cm": "offsets_cm" for d in ("proximal", "distal", "lateral", "medial", "anterior", "posterior")
    }
    pairs: list[tuple[type, type, dict[str, str]]] = [
        (models.SkinPointModel, core.SkinPoint, offsets),
        (models.AlongModel, core.Along, {}),
        (models.ReferenceModel, core.Reference, {}),
        (models.ConditionModel, core.Condition, {}),
        (models.LandmarkModel, core.Landmark, {"method": "rule"}),
        (models.LandmarkMethodModel, core.LandmarkMethod, {}),
        (models.RegionModel, core.Region, {}),
        (models.ViewModel, core.View, {"sides": "side", "id": "base_id"}),
        (models.NerveModel, core.Nerve, {}),
        (models.DoseModel, core.Dose, {}),
        (models.SiteModel, core.Site, {"kind": "site_kind"}),
        (models.AvoidModel, core.Avoid, {"kind": "structure_kind"}),
        (models.TerritoryModel, core.Territory, {}),
        (files.BodyTypeModel, core.BodyType, {}),
    ]
    missing = []
    for model, domain, renamed in pairs:
        carried = {f.name for f in dataclasses.fields(domain)}
        missing += [
            f"{model.__name__}.{name}"
            for name in model.model_fields
            if renamed.get(name, name) not in carried
        ]
    assert missing == []


RENAMED = {"method": "rule"}
KIND_RENAMED = {"SiteModel": "site_kind", "AvoidModel": "structure_kind"}


def _same(model_value: Any, domain_value: Any) -> bool:
    """Whether a file model's value arrived unchanged in the domain object (lists as tuples)."""
    from pydantic import BaseModel

    from trainer.atlas.models import SkinPointModel

    if isinstance(model_value, SkinPointModel):
        along = model_value.along
        return (
            model_value.offsets_cm() == domain_value.offsets_cm
            and (model_value.landmark, model_value.ref, model_value.value, model_value.tolerance_cm)
            == (domain_value.landmark, domain_value.ref, domain_value.value, domain_value.tolerance_cm)
            and (None if along is None else (along.to, along.fraction))
            == (None if domain_value.along is None else (domain_value.along.to, domain_value.along.fraction))
        )
    if isinstance(model_value, BaseModel):
        renamed = {**RENAMED, "kind": KIND_RENAMED.get(type(model_value).__name__, "kind")}
        return all(
            _same(getattr(model_value, name), getattr(domain_value, renamed.get(name, name)))
            for name in type(model_value).model_fields
            if not (isinstance(domain_value, core.View) and name in ("id", "sides"))
        )
    if isinstance(model_value, list | tuple):
        return (
            isinstance(domain_value, tuple)
            and len(model_value) == len(domain_value)
            and all(_same(a, b) for a, b in zip(model_value, domain_value, strict=True))
        )
    if isinstance(model_value, dict):
        return model_value.keys() == domain_value.keys() and all(
            _same(v, domain_value[k]) for k, v in model_value.items()
        )
    return bool(model_value == domain_value)


def test_every_value_in_the_committed_atlas_reaches_the_domain_objects() -> None:
    from trainer.atlas.assemble import build_atlas
    from trainer.atlas.files import read_atlas_files

    files = read_atlas_files(ATLAS)
    atlas = build_atlas(files)
    assert files.references and files.conditions and files.landmarks and files.body_types
    pairs: list[tuple[Any, Any]] = [
        *((r, atlas.references[r.id]) for r in files.references.references),
        *((c, atlas.conditions[c.id]) for c in files.conditions.conditions),
        *((m, atlas.landmarks[m.id]) for m in files.landmarks.landmarks),
        *((b, atlas.body_types[b.id]) for b in files.body_types.body_types),
    ]
    for rf in files.regions.values():
        pairs.append((rf.region, atlas.regions[rf.region.id]))
        pairs += [
            (v, atlas.views[v.id if s == "midline" else f"{v.id}_{s}"]) for v in rf.views for s in v.sides
        ]
        for table, records in (
            (atlas.nerves, rf.nerves),
            (atlas.sites, rf.sites),
            (atlas.avoid, rf.avoid),
            (atlas.territories, rf.territories),
        ):
            pairs += [(rec, table[rec.id]) for rec in records]
    assert len(pairs) > 500
    differ = [getattr(m, "id", "?") for m, d in pairs if not _same(m, d)]
    assert differ == []
