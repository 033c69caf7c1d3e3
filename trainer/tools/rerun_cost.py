"""``python -m trainer rerun-cost``: the server CPU of one join-page run of each kind, and of one
request of the class watch (trainer/ui/http_routes.py)."""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from trainer.tools.load_bounds import LoadTestError, Target, check_url, cpu_ticks, server_pids
from trainer.tools.load_roles import join_as
from trainer.tools.loadtest import LoadConfig, live_question_pool, plan_questions
from trainer.tools.st_client import (
    STATE_PATH,
    WATCH_KEY,
    HttpOrigin,
    Shared,
    StreamlitClient,
    http_get_json,
    protos,
)

# --------------------------------------------------------------------------------------------
# Server CPU of one join-page run (``python -m trainer rerun-cost``)
# --------------------------------------------------------------------------------------------

MAX_COST_RUNS = 2000


async def _rerun_costs(
    target: Target, code: str, runs: int, open_question: Any
) -> dict[str, dict[str, float]]:
    """One phone joins, the question opens, then ``runs`` runs of each kind; CPU from /proc."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    pids = server_pids([target.port])
    if not pids:
        raise LoadTestError(f"no process listens on port {target.port} (is the app running?)")
    hz = os.sysconf("SC_CLK_TCK")
    shared = Shared(deadline=time.monotonic() + 600.0, code=code)
    async with connect(
        target.ws_url,
        subprotocols=[Subprotocol("streamlit")],
        proxy=None,
        open_timeout=30,
        max_size=32 * 2**20,
        ping_interval=None,
    ) as ws:
        client = StreamlitClient(ws, shared, "join", f"code={code}")
        await join_as(client, code, "rerun-cost")
        open_question()
        await client.rerun(kind="full")
        board = client.widget("join_pb_0")
        if board is None or not board.fragment_id or client.widget(WATCH_KEY) is None:
            raise LoadTestError(f"the answer surface did not appear (texts: {client.texts[:5]})")
        kinds: dict[str, dict[str, Any]] = {
            "whole_page": {"kind": "full"},
            "answer_fragment": {"kind": "tap", "fragment_id": board.fragment_id},
        }
        out: dict[str, dict[str, float]] = {}
        for label, kw in kinds.items():
            for _ in range(min(20, runs)):  # warm the caches first
                await client.rerun(**kw)
            cpu0 = sum(cpu_ticks(p) or 0 for p in pids)
            wall0 = time.monotonic()
            for _ in range(runs):
                await client.rerun(**kw)
            wall_ms = (time.monotonic() - wall0) * 1000.0
            cpu_ms = (sum(cpu_ticks(p) or 0 for p in pids) - cpu0) * 1000.0 / hz
            out[label] = {
                "server_cpu_ms_per_run": round(cpu_ms / runs, 2),
                "wall_ms_per_run": round(wall_ms / runs, 1),
            }
        # The class watch's request, answered at once (``since`` is not the class's stamp).
        origin = HttpOrigin(target.host, target.port)
        path = f"{urlsplit(target.ws_url).path.removesuffix('/_stcore/stream')}{STATE_PATH}{code}?since=x"
        for _ in range(min(20, runs)):
            await http_get_json(origin, path, 30.0)
        cpu0 = sum(cpu_ticks(p) or 0 for p in pids)
        wall0 = time.monotonic()
        for _ in range(runs):
            status, _body = await http_get_json(origin, path, 30.0)
            if status != 200:
                raise LoadTestError(f"the class state route answered HTTP {status}")
        out["class_state_request"] = {
            "server_cpu_ms_per_run": round(
                (sum(cpu_ticks(p) or 0 for p in pids) - cpu0) * 1000.0 / hz / runs, 2
            ),
            "wall_ms_per_run": round((time.monotonic() - wall0) * 1000.0 / runs, 1),
        }
        if shared.n_errors:
            raise LoadTestError(f"the server reported errors: {shared.errors[:3]}")
        return out


def run_rerun_cost(
    url: str,
    runs: int,
    database_url: str | None = None,
    atlas: Path | None = None,
    quizzes: Path | None = None,
) -> dict[str, Any]:
    """Mean server CPU of a whole join-page run, an answer-fragment run and a class-state request.

    One simulated phone on an otherwise idle server (docs/live-class.md §6). The class is
    created in the server's database, like ``loadtest`` does.
    """
    from trainer.atlas import load_atlas
    from trainer.live import service as live
    from trainer.rules.classroom import LiveSettings
    from trainer.settings import atlas_dir
    from trainer.store import default_url, open_store

    if not 1 <= runs <= MAX_COST_RUNS:
        raise LoadTestError(f"--runs must be between 1 and {MAX_COST_RUNS}")
    target = check_url(url)
    protos()
    cfg = LoadConfig(players=1, urls=(url,), questions=1, quiz_dir=quizzes)
    loaded = load_atlas(atlas or atlas_dir())
    questions = live_question_pool(cfg, loaded)
    plan = plan_questions(cfg, loaded, questions, loaded.default_body_type)[0]
    store = open_store(url=database_url or default_url())
    try:
        session = live.create_class(
            store,
            loaded,
            questions,
            title="rerun cost",
            question_ids=[plan.question_id],
            host_key=f"rerun-cost-{time.monotonic_ns()}",
            settings=LiveSettings(time_limit_s=600),
            side="right",
            body_type=loaded.default_body_type,
            now=datetime.now(UTC),
            rng=random.Random(1),
        )
        costs = asyncio.run(
            _rerun_costs(
                target, session.join_code, runs, lambda: live.open_next(store, session.id, datetime.now(UTC))
            )
        )
    finally:
        store.close()
    return {
        "runs": runs,
        "question_id": plan.question_id,
        **costs,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "url": url,
    }
