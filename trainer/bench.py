"""``python -m trainer bench``: measured speed, payload and memory figures as JSON.

Each figure is compared with a plain baseline in the same run. Numbers are measured on
the machine that runs the command; nothing here is hard-coded.
"""

from __future__ import annotations

import json
import math
import resource
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.errors import AtlasError
from trainer.scoring import credit_for_distance
from trainer.view_index import ViewIndex


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm caches
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return statistics.median(times)


def _python_loop_distances(points: list[tuple[float, float, float]], line: list[tuple[float, float, float]]) -> list[float]:
    """The plain baseline: per pin, per segment, pure Python."""
    out = []
    for px, py, pz in points:
        best = math.inf
        for (ax, ay, az), (bx, by, bz) in zip(line[:-1], line[1:], strict=True):
            abx, aby, abz = bx - ax, by - ay, bz - az
            denom = abx * abx + aby * aby + abz * abz or 1.0
            t = max(0.0, min(1.0, ((px - ax) * abx + (py - ay) * aby + (pz - az) * abz) / denom))
            dx, dy, dz = px - (ax + t * abx), py - (ay + t * aby), pz - (az + t * abz)
            best = min(best, dx * dx + dy * dy + dz * dz)
        out.append(math.sqrt(best))
    return out


def _pick_view(atlas: Atlas) -> tuple[RenderedView, str]:
    for view in atlas.views.values():
        try:
            rv = load_rendered_view(view.id, atlas.default_body_type, atlas.root)
        except Exception:  # noqa: BLE001 - any unrendered view is skipped
            continue
        nerves = [i for i in rv.items.values() if i.kind == "nerve" and len(i.points_cm) >= 2]
        if nerves:
            return rv, max(nerves, key=lambda i: len(i.points_cm)).id
    raise AtlasError("no rendered view with a nerve: run python -m trainer.render first")


def run_bench(atlas_dir: Path, seed: int = 7) -> dict[str, Any]:
    atlas = load_atlas(atlas_dir)
    rv, nerve_id = _pick_view(atlas)
    rng = np.random.default_rng(seed)
    index = ViewIndex.build(rv, atlas)
    skin = np.argwhere(np.isfinite(rv.depth_cm))
    one = skin[rng.integers(len(skin))]
    one_xy = (float(one[1]) + 0.5, float(one[0]) + 0.5)

    score_one_ms = _median_ms(lambda: index.score_pin(one_xy[0], one_xy[1]), 300)

    picks = skin[rng.integers(len(skin), size=10_000)]
    xs = picks[:, 1].astype(float) + rng.random(10_000)
    ys = picks[:, 0].astype(float) + rng.random(10_000)
    target = rv.items[nerve_id].points_cm

    def score_10k() -> np.ndarray:
        pts, on_body = rv.lift(xs, ys)
        d = index.distance_to_item(pts, nerve_id)
        return np.where(on_body, credit_for_distance(d, 1.0, 3.0), 0.0)

    score_10k_ms = _median_ms(score_10k, 15)
    pts, _ = rv.lift(xs, ys)
    pts_list = [tuple(map(float, p)) for p in pts]
    line_list = [tuple(map(float, p)) for p in target]
    t0 = time.perf_counter()
    base = _python_loop_distances(pts_list, line_list)  # type: ignore[arg-type]
    baseline_ms = (time.perf_counter() - t0) * 1000.0
    ours = index.distance_to_item(pts, nerve_id)
    max_disagreement = float(np.max(np.abs(np.asarray(base) - ours)))

    shapely_ms: float | None = None
    try:
        import shapely

        line = shapely.LineString(target)
        spts = shapely.points(pts)
        shapely.prepare(line)
        shapely_ms = _median_ms(lambda: shapely.distance(spts, line), 5)
    except ImportError:  # shapely is a test extra
        pass

    from trainer.figures import explorer_figure
    from trainer.reveal import question_shapes

    explorer_ms = _median_ms(lambda: explorer_figure(rv, atlas).to_json(), 20)
    identify = _fake_identify(nerve_id)

    def question_figure() -> bytes:
        """What a question sends: the answer surface's data (image by URL, shapes, pins)."""
        payload = {
            "image": "app/static/" + rv.image_name, "width": rv.width_px, "height": rv.height_px, "pins": [],
            "active": True, "shapes": question_shapes(identify, rv), "hint": "Tap where you would inject.",
            "seq": 2, "max_width_px": 900,
        }
        return json.dumps(payload).encode()

    figure_ms = _median_ms(question_figure, 50)
    payload = {
        "image": "app/static/" + rv.image_name, "width": rv.width_px, "height": rv.height_px, "pins": [],
        "active": True, "shapes": [], "hint": "Tap where you would inject.", "seq": 2, "max_width_px": 900,
    }
    question_payload_bytes = len(json.dumps(payload).encode())
    identify_payload = json.loads(question_figure())
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "view": rv.key,
        "items_in_view": len(index.item_ids),
        "score_one_pin_ms": round(score_one_ms, 4),
        "score_10k_pins_ms": round(score_10k_ms, 3),
        "baseline_score_10k_pins_ms": round(baseline_ms, 2),
        "baseline_ratio": round(baseline_ms / score_10k_ms, 1) if score_10k_ms > 0 else None,
        "baseline_max_disagreement_cm": round(max_disagreement, 9),
        "shapely_distance_10k_pins_ms": None if shapely_ms is None else round(shapely_ms, 3),
        "figure_build_ms": round(figure_ms, 3),
        "figure_build_method": "answer-surface data of an identify question (highlighted course), image by static URL",
        "explorer_figure_build_ms": round(explorer_ms, 3),
        "question_payload_bytes": question_payload_bytes,
        "identify_question_payload_bytes": len(json.dumps(identify_payload).encode()),
        "question_payload_method": "JSON of the answer component's data for a question after the first (the image comes from the browser cache); Streamlit's protobuf framing adds a few hundred bytes",
        "peak_rss_mb": round(rss_mb, 1),
        "targets": {"score_one_pin_ms": 1.0, "score_10k_pins_ms": 20.0, "figure_build_ms": 30.0, "question_payload_bytes": 50_000},
    }


def _fake_identify(nerve_id: str) -> Any:
    from trainer.quiz.models import QuestionModel

    return QuestionModel(id="bench", type="identify", prompt="Name this nerve", view="v", targets=[nerve_id],
                         choices=[{"text": "a", "correct": True}, {"text": "b"}], explanation="x", references=["x"])
