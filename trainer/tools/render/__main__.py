"""``python -m trainer.tools.render``: render every atlas view × side × body type to PNG + sidecar.

Subcommands: ``calibrate`` (fit the body types to anthropometry), ``pick`` (re-make the
landmark picks from their rules), ``artifacts`` (write atlas/resolved and atlas/meshes).

Slow work (seconds per view), so it prints progress per view and skips views whose
sidecar already carries the same input hash unless ``--force`` is given.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from trainer.errors import AtlasError
from trainer.settings import REPO_ROOT  # noqa: E402
from trainer.tools.render.inputs import load_inputs
from trainer.tools.render.mesh import DEFAULT_BODY_TYPES, default_assets_dir
from trainer.tools.render.sidecar import (
    body_context,
    existing_hash,
    planned_hash,
    render_view,
    view_key,
    view_pose,
    write_view,
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m trainer.tools.render", description=__doc__)
    p.add_argument("--assets", type=Path, default=default_assets_dir(), help="MakeHuman asset folder")
    p.add_argument("--atlas", type=Path, default=REPO_ROOT / "atlas", help="atlas folder")
    p.add_argument("--views", nargs="*", default=None, help="view ids to render (base or per-side ids)")
    p.add_argument("--body-types", nargs="*", default=list(DEFAULT_BODY_TYPES), help="body types to render")
    p.add_argument("--size", type=int, default=900, help="image width and height in px")
    p.add_argument("--supersample", type=int, default=2, help="sub-pixels per axis for anti-aliasing")
    p.add_argument("--subdivisions", type=int, default=1, help="Catmull-Clark steps before rendering")
    p.add_argument(
        "--supination-deg",
        type=float,
        default=0.0,
        help="turn the forearms from the A-pose towards supination (90 = palm forward); off by default",
    )
    p.add_argument("--force", action="store_true", help="re-render even when the input hash is unchanged")
    return p


SUBCOMMANDS = {
    "calibrate": "trainer.tools.render.calibrate",
    "pick": "trainer.tools.render.picks",
    "artifacts": "trainer.tools.render.artifacts",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in SUBCOMMANDS:
        # ``calibrate`` fits the bodies, ``pick`` re-makes landmark picks, ``artifacts`` writes
        # atlas/resolved and atlas/meshes; plain ``python -m trainer.tools.render`` renders views.
        from trainer.tools.render import artifacts, calibrate, picks

        run = {"calibrate": calibrate.main, "pick": picks.main, "artifacts": artifacts.main}[argv[0]]
        return int(run(argv[1:]))
    args = build_parser().parse_args(argv)
    try:
        inputs = load_inputs(args.atlas)
    except AtlasError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not Path(args.assets, "base.obj").is_file():
        print(f"error: MakeHuman assets not found at {args.assets}", file=sys.stderr)
        return 2
    wanted = set(args.views) if args.views else None
    jobs = [v for v in inputs.views() if wanted is None or v.id in wanted or v.base_id in wanted]
    if not jobs:
        print("nothing to render (no matching views)")
        return 1
    total = len(jobs) * len(args.body_types)
    done = skipped = 0
    started = time.perf_counter()
    times: list[float] = []
    for bt in args.body_types:
        bodies: dict[tuple[float, float], Any] = {}  # one posed mesh per pose the views use
        for view in jobs:
            pose = view_pose(view, args.supination_deg)
            if pose not in bodies:
                try:
                    bodies[pose] = body_context(inputs, bt, args.assets, args.subdivisions, *pose)
                except AtlasError as exc:
                    print(f"error: {exc}", file=sys.stderr)
                    return 2
            body = bodies[pose]
            key = view_key(view.id, bt)
            n = done + skipped + 1
            want_hash = planned_hash(inputs, view, body, args.size, args.supersample)
            if not args.force and existing_hash(args.atlas, key) == want_hash:
                skipped += 1
                print(f"[{n}/{total}] {key}: up to date", flush=True)
                continue
            t0 = time.perf_counter()
            try:
                out = render_view(inputs, view, body, args.size, args.supersample)
            except AtlasError as exc:
                print(f"error: {key}: {exc}", file=sys.stderr)
                return 2
            write_view(out, args.atlas)
            dt = time.perf_counter() - t0
            times.append(dt)
            done += 1
            worst = max((max(r["snap_cm"], default=0.0) for r in out.sidecar["items"].values()), default=0.0)
            print(
                f"[{n}/{total}] {key}: {dt:.1f} s, {len(out.sidecar['items'])} items, max snap {worst:.2f} cm",
                flush=True,
            )
    elapsed = time.perf_counter() - started
    mean = sum(times) / len(times) if times else 0.0
    print(f"rendered {done}, up to date {skipped}, in {elapsed:.1f} s (mean {mean:.1f} s per view)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
