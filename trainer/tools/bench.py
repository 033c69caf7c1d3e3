"""``python -m trainer bench``: measured speed, payload and memory figures as JSON.

Every figure is measured through a function the app itself runs, on the view whose scorer
holds the most items, next to plain baselines (a per-pin Python loop and shapely) computed
in the same run, with the ratio. Numbers are measured on the machine that runs the command;
nothing here is hard-coded.
"""

from __future__ import annotations

import functools
import json
import math
import resource
import statistics
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

from trainer.atlas import Atlas, load_atlas
from trainer.atlas.rendered import RenderedView, load_rendered_view
from trainer.errors import AtlasError, TrainerError
from trainer.quiz.kinds import KINDS
from trainer.quiz.models import QuestionModel
from trainer.scoring.score import Answer, ViewScorer, score, view_scorer

TARGETS = {
    "production_score_one_pin_ms": 0.2,
    "score_10k_pins_ms": 20.0,
    "figure_build_ms": 30.0,
    "question_payload_bytes": 50_000,
    "explorer_3d_payload_bytes": 1_500_000,
}


def _timings_ms(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm caches (the app keeps the same caches between answers)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000.0)
    return times


def _median_ms(fn: Callable[[], object], repeat: int) -> float:
    return statistics.median(_timings_ms(fn, repeat))


Segment = tuple[float, float, float, float, float, float]


def _python_segments(view: RenderedView, scorer: ViewScorer) -> list[list[Segment]]:
    """Each scored item as a list of (a, b) segments in plain floats (a point is a zero-length segment)."""
    out = []
    for item_id in scorer.item_ids:
        pts = [(float(x), float(y), float(z)) for x, y, z in view.items[item_id].points_cm]
        pairs = list(zip(pts[:-1], pts[1:], strict=True)) if len(pts) > 1 else [(pts[0], pts[0])]
        out.append([(*a, *b) for a, b in pairs])
    return out


def _python_loop_distances(
    points: Iterable[tuple[float, float, float]], items: list[list[Segment]]
) -> list[list[float]]:
    """The plain baseline: per pin, per item, per segment, pure Python. Returns (pins × items) cm."""
    out = []
    for px, py, pz in points:
        row = []
        for segments in items:
            best = math.inf
            for ax, ay, az, bx, by, bz in segments:
                abx, aby, abz = bx - ax, by - ay, bz - az
                denom = abx * abx + aby * aby + abz * abz or 1.0
                t = max(0.0, min(1.0, ((px - ax) * abx + (py - ay) * aby + (pz - az) * abz) / denom))
                dx, dy, dz = px - (ax + t * abx), py - (ay + t * aby), pz - (az + t * abz)
                best = min(best, dx * dx + dy * dy + dz * dz)
            row.append(math.sqrt(best))
        out.append(row)
    return out


def _busiest_view(atlas: Atlas) -> tuple[RenderedView, ViewScorer]:
    """The rendered view whose scorer measures a pin against the most items (then segments).

    Counted from the sidecars, so only the chosen view's depth map is decoded.
    """
    from trainer.atlas.build import sidecar_key
    from trainer.scoring.score import INDEXED_KINDS

    best: tuple[tuple[int, int], str] | None = None
    for view in atlas.views.values():
        path = atlas.root / "sidecars" / f"{sidecar_key(view.id, atlas.default_body_type)}.json"
        try:
            items = json.loads(path.read_text(encoding="utf-8"))["items"].values()
        except (OSError, ValueError, KeyError, AttributeError):
            continue
        scored = [i for i in items if i.get("kind") in INDEXED_KINDS and i.get("points_cm")]
        if not any(i["kind"] == "nerve" for i in scored):
            continue
        size = (len(scored), sum(max(1, len(i["points_cm"]) - 1) for i in scored))
        if best is None or size > best[0]:
            best = (size, view.id)
    if best is None:
        raise AtlasError("no rendered view with a nerve: run python -m trainer.tools.render first")
    rv = load_rendered_view(best[1], atlas.default_body_type, atlas.root)
    return rv, view_scorer(rv, atlas)


def _bank_question(questions: list[QuestionModel], rv: RenderedView, qtype: str) -> QuestionModel | None:
    """A shipped question of this type asked on this view (base id or full id) whose targets it draws."""
    base = rv.view_id.removesuffix("_" + rv.side)
    for q in questions:
        if (
            q.type == qtype
            and q.view in (base, rv.view_id)
            and q.targets
            and all(t in rv.items for t in q.targets)
        ):
            return q
    return None


def _constructed(qtype: str, target: str) -> QuestionModel:
    extra: dict[str, Any] = (
        {"choices": [{"text": "a", "correct": True}, {"text": "b"}]}
        if KINDS[qtype].answer_mode == "choices"
        else {}
    )
    return QuestionModel.model_validate(
        {
            "id": f"bench_{qtype}",
            "type": qtype,
            "prompt": "bench",
            "view": "v",
            "targets": [target],
            "explanation": "x",
            "references": ["x"],
            **extra,
        }
    )


def _load_bank_questions(atlas: Atlas, quiz_dirs: list[Path]) -> list[QuestionModel]:
    from trainer.quiz.bank import load_questions

    try:
        return load_questions(atlas, quiz_dirs)
    except (TrainerError, OSError):
        return []


def _bench_3d(atlas: Atlas) -> dict[str, Any]:
    """The explorer's 3D view, built by the function the page calls, for every region's first
    view; next to a baseline that sends the whole uncropped skin as plain float lists."""
    import plotly.graph_objects as go

    from trainer.explorer.figure3d import explorer_figure_3d, load_skin_mesh

    layers = ["landmarks", "nerves", "sites", "avoid"]
    sizes: dict[str, int] = {}
    times: dict[str, float] = {}
    for region_id in atlas.regions:
        views = atlas.views_of_region(region_id)
        if not views:
            continue
        try:
            rv = load_rendered_view(views[0].id, atlas.default_body_type)
        except AtlasError:
            continue
        sizes[rv.key] = len(explorer_figure_3d(rv, atlas, layers).to_json().encode())

        def build(rv: RenderedView = rv) -> object:
            return explorer_figure_3d(rv, atlas, layers).to_json()

        times[rv.key] = _median_ms(build, 3)
    if not sizes:
        return {"explorer_3d_method": "no rendered view with a mesh"}
    mesh = load_skin_mesh(atlas.default_body_type)

    def naive() -> str:
        v = mesh.vertices_cm.astype(float).tolist()
        t = mesh.triangles.tolist()
        figure_json: str = go.Figure(
            go.Mesh3d(
                x=[p[0] for p in v],
                y=[p[1] for p in v],
                z=[p[2] for p in v],
                i=[f[0] for f in t],
                j=[f[1] for f in t],
                k=[f[2] for f in t],
            )
        ).to_json()
        return figure_json

    baseline_bytes = len(naive().encode())
    baseline_ms = _median_ms(naive, 3)
    worst = max(sizes, key=lambda k: sizes[k])
    slowest = max(times, key=lambda k: times[k])
    return {
        "explorer_3d_payload_bytes": sizes[worst],
        "explorer_3d_payload_view": worst,
        "explorer_3d_payload_median_bytes": int(statistics.median(sizes.values())),
        "explorer_3d_build_ms": round(times[slowest], 2),
        "explorer_3d_build_view": slowest,
        "explorer_3d_build_median_ms": round(statistics.median(times.values()), 2),
        "baseline_3d_whole_mesh_payload_bytes": baseline_bytes,
        "baseline_3d_whole_mesh_build_ms": round(baseline_ms, 2),
        "explorer_3d_method": "trainer.explorer.figure3d.explorer_figure_3d (what the explorer page calls, then caches) + plotly JSON, for the first view of every region on the default body; the largest payload and the slowest build (median of 3) are reported. Baseline: the whole uncropped skin mesh as plain float lists in one Mesh3d",
    }


def run_bench(atlas_dir: Path, seed: int = 7, quiz_dirs: list[Path] | None = None) -> dict[str, Any]:
    from trainer.settings import quiz_dir

    atlas = load_atlas(atlas_dir)
    questions = _load_bank_questions(atlas, quiz_dirs if quiz_dirs is not None else [quiz_dir()])
    rv, scorer = _busiest_view(atlas)
    nerve_id = max(
        (i for i in scorer.item_ids if scorer.kinds[scorer.column[i]] == "nerve"),
        key=lambda i: len(rv.items[i].points_cm),
    )
    locate = _bank_question(questions, rv, "locate")
    locate_note = (
        f"bank question {locate.id}"
        if locate
        else f"constructed locate question on {nerve_id} (no bank question on this view)"
    )
    locate = locate or _constructed("locate", nerve_id)
    rng = np.random.default_rng(seed)
    skin = np.argwhere(np.isfinite(rv.depth_cm))

    # --- one pin, exactly as Practice scores it: scoring.score on a locate question.
    picks = skin[rng.integers(len(skin), size=300)]
    one_pins = [(float(c) + 0.5, float(r) + 0.5) for r, c in picks]
    answers = [Answer(pins_px=(p,)) for p in one_pins]
    score(locate, answers[0], rv, atlas)  # builds the view's cached scorer, as the first answer does
    per_pin = []
    for a in answers:
        t0 = time.perf_counter()
        score(locate, a, rv, atlas)
        per_pin.append((time.perf_counter() - t0) * 1000.0)
    production_ms = statistics.median(per_pin)

    segments = _python_segments(rv, scorer)
    lifted, _ = rv.lift([p[0] for p in one_pins], [p[1] for p in one_pins])
    lifted_list = [tuple(map(float, p)) for p in lifted]
    loop_one = []
    for p in lifted_list:
        t0 = time.perf_counter()
        _python_loop_distances([p], segments)  # type: ignore[list-item]
        loop_one.append((time.perf_counter() - t0) * 1000.0)
    loop_one_ms = statistics.median(loop_one)

    kernel_one_ms = statistics.median(
        ms
        for p in lifted[:100]
        for ms in _timings_ms(functools.partial(scorer.distances, p.reshape(1, 3)), 1)
    )

    import shapely

    # shapely measures in the x-y plane only (it ignores z): a speed reference, not a check.
    geoms = np.array(
        [
            shapely.LineString(rv.items[i].points_cm)
            if len(rv.items[i].points_cm) > 1
            else shapely.Point(rv.items[i].points_cm[0])
            for i in scorer.item_ids
        ]
    )
    shapely.prepare(geoms)
    one_point = shapely.points(lifted[:1])
    shapely_one_ms = _median_ms(lambda: shapely.distance(one_point, geoms), 300)

    # --- 10,000 pins through the same per-view measurement score() runs for every answer.
    picks = skin[rng.integers(len(skin), size=10_000)]
    xs = picks[:, 1].astype(float) + rng.random(10_000)
    ys = picks[:, 0].astype(float) + rng.random(10_000)
    target_col = scorer.columns(rv, [nerve_id])
    to_target = np.zeros(10_000, dtype=np.int64)

    def score_10k() -> np.ndarray:
        facts = scorer.measure(rv, xs, ys, target_col)
        return facts.credits(to_target, 1.0, 3.0)

    score_10k_ms = _median_ms(score_10k, 9)
    pts, _ = rv.lift(xs, ys)
    pts_list = [(float(x), float(y), float(z)) for x, y, z in pts]
    t0 = time.perf_counter()
    base = np.asarray(_python_loop_distances(pts_list, segments), dtype=np.float64)
    loop_10k_ms = (time.perf_counter() - t0) * 1000.0
    ours = scorer.distances(pts)[2]
    max_disagreement = float(np.max(np.abs(base - ours)))
    spts = np.asarray(shapely.points(pts), dtype=object)
    shapely_10k_ms = _median_ms(lambda: shapely.distance(spts[:, None], geoms[None, :]), 3)

    # --- what a question sends to the browser, built by the same function the answer surface uses.
    from trainer.explorer.figures import answer_surface_data, explorer_figure, image_url
    from trainer.scoring.reveal import question_shapes

    identify = _bank_question(questions, rv, "identify")
    identify_note = (
        f"bank question {identify.id}" if identify else f"constructed identify question on {nerve_id}"
    )
    identify = identify or _constructed("identify", nerve_id)

    def question_data(q: QuestionModel) -> bytes:
        data = answer_surface_data(
            image_url(rv),
            rv.width_px,
            rv.height_px,
            [],
            True,
            question_shapes(q, rv),
            "Tap where you would inject.",
            2,
        )
        return json.dumps(data).encode()

    figure_ms = _median_ms(lambda: question_data(identify), 50)
    layers = ["landmarks", "nerves", "sites", "avoid"]  # the explorer's default layers
    explorer_ms = _median_ms(lambda: explorer_figure(rv, atlas, layers).to_json(), 10)
    three_d = _bench_3d(atlas)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return {
        "view": rv.key,
        "items_in_view": len(scorer.item_ids),
        "segments_in_view": int(len(scorer.seg_a)),
        "production_score_one_pin_ms": round(production_ms, 4),
        "production_score_one_pin_p90_ms": round(float(np.percentile(per_pin, 90)), 4),
        "production_score_method": f"trainer.scoring.score.score(question, Answer(pins_px=(pin,)), view, atlas), the call Practice and live classes make, on {locate_note}; median of 300 random skin pins, one call each",
        "distance_kernel_one_pin_ms": round(kernel_one_ms, 4),
        "distance_kernel_method": "ViewScorer.distances for one lifted pin: the part of score() that measures it against every item (no lift, words or result), the same job as the baselines",
        "baseline_one_pin_python_loop_ms": round(loop_one_ms, 4),
        "baseline_one_pin_python_loop_ratio": round(loop_one_ms / kernel_one_ms, 1),
        "baseline_one_pin_shapely_ms": round(shapely_one_ms, 4),
        "baseline_one_pin_shapely_ratio": round(shapely_one_ms / kernel_one_ms, 2),
        "baseline_one_pin_method": "distance from one lifted pin to every item the scorer measures: a plain Python loop over segments; shapely.distance against prepared geometries (2D: shapely ignores z, so it does less work than ours); ratios are baseline / distance kernel",
        "score_10k_pins_ms": round(score_10k_ms, 3),
        "score_10k_pins_method": "ViewScorer.measure + PinFacts.credits (the per-view measurement every score() call runs) on 10,000 pins in one call: lift through the depth map, distance to every item, nearest structure, safety radii, distance to the target nerve and credit. The app itself scores one answer per call (production_score_one_pin_ms); no page scores pins in batches",
        "baseline_10k_pins_python_loop_ms": round(loop_10k_ms, 1),
        "baseline_10k_pins_python_loop_ratio": round(loop_10k_ms / score_10k_ms, 1),
        "baseline_10k_pins_shapely_ms": round(shapely_10k_ms, 3),
        "baseline_10k_pins_shapely_ratio": round(shapely_10k_ms / score_10k_ms, 2),
        "baseline_max_disagreement_cm": round(max_disagreement, 12),
        "figure_build_ms": round(figure_ms, 3),
        "figure_build_method": f"question_shapes + answer_surface_data + JSON, as the answer surface sends an identify question (highlighted course, image by static URL); {identify_note}",
        "explorer_figure_build_ms": round(explorer_ms, 3),
        "explorer_figure_method": "trainer.explorer.figures.explorer_figure with the explorer's default layers, serialised to JSON; the page caches it per view, layers and highlight",
        "question_payload_bytes": len(question_data(locate)),
        "identify_question_payload_bytes": len(question_data(identify)),
        "question_payload_method": "JSON of the answer surface's data for a locate question after the first (the image comes from the browser cache); Streamlit's protobuf framing adds a few hundred bytes",
        **three_d,
        "peak_rss_mb": round(rss_mb, 1),
        "targets": TARGETS,
    }
