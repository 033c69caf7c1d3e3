"""``python -m trainer loadtest``: simulated phones speaking Streamlit's own websocket protocol.

Why a protocol client and not browsers: 200 headless Chromiums do not fit on the machine that
serves the class, but 200 websockets do. Each simulated player does what a phone's page does
(DESIGN.md §5, "A protocol-level load client"): it opens ``/_stcore/stream`` with the
``streamlit`` subprotocol, sends ``BackMsg.rerun_script`` with the query string and widget
states, reads ``ForwardMsg`` until ``script_finished``, and answers the ``auto_rerun`` timers of
the page's ``st.fragment(run_every=...)`` with fragment reruns, so the server sees the same
polling load as from real phones. Widget ids are learnt from the ``new_element`` deltas by the
stable user keys of docs/live-class.md §5 (``join_code``, ``join_pb_{i}``, ``join_send_{i}`` …).

The host is simulated in this process through :mod:`trainer.live.service` against the same database
(create, open, close when everyone answered or time is up, reveal, finish). It polls
``count_answers``/``list_answers`` every ``poll_s`` to time *answer sent → visible to the host*.

Bounded on purpose: loopback URLs only, at most :data:`MAX_PLAYERS` players, a wall-clock
timeout on the whole run and on every read, and every socket closed on the way out.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trainer.tools.load_bounds import (
    MAX_PLAYERS,
    MAX_QUESTIONS,
    MAX_TIMEOUT_S,
    LoadTestError,
    Target,
    check_url,
    cpu_ticks,
    is_streamlit,
    percentile,
    rounded,
    server_pids,
)
from trainer.tools.load_roles import QuestionPlan, run_host, run_player
from trainer.tools.st_client import Shared, protos

__all__ = [
    "MAX_PLAYERS",
    "LoadConfig",
    "LoadTestError",
    "Target",
    "check_url",
    "percentile",
    "run_loadtest",
    "server_pids",
]

# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadConfig:
    """Everything one run needs; defaults are those of the command line."""

    players: int
    urls: tuple[str, ...]
    questions: int = 3
    time_limit_s: float = 60.0
    timeout_s: float | None = None
    database_url: str | None = None
    atlas_dir: Path | None = None
    quiz_dir: Path | None = None
    think_s: tuple[float, float] = (1.0, 4.0)
    ramp_s: float | None = None
    poll_s: float = 0.05
    reveal_wait_s: float = 15.0
    seed: int | None = None
    question_ids: tuple[str, ...] = ()

    def checked(self) -> tuple[list[Target], float, float]:
        """Refuse unbounded or non-loopback runs before anything connects."""
        if not 1 <= self.players <= MAX_PLAYERS:
            raise LoadTestError(f"--players must be between 1 and {MAX_PLAYERS}")
        if not 1 <= self.questions <= MAX_QUESTIONS:
            raise LoadTestError(f"--questions must be between 1 and {MAX_QUESTIONS}")
        if not 5 <= self.time_limit_s <= 600:
            raise LoadTestError("--time-limit must be between 5 and 600 seconds")
        if not self.urls:
            raise LoadTestError("give at least one --url")
        if not (0 <= self.think_s[0] <= self.think_s[1] <= 60):
            raise LoadTestError("think time must satisfy 0 <= min <= max <= 60 s")
        targets = [check_url(u) for u in self.urls]
        ramp = self.ramp_s if self.ramp_s is not None else min(0.4 * self.players, 120.0)
        if not 0 <= ramp <= 120:
            raise LoadTestError("--ramp must be between 0 and 120 seconds")
        auto = 120 + ramp + self.questions * (self.time_limit_s + self.reveal_wait_s + 30)
        timeout = self.timeout_s if self.timeout_s is not None else min(auto, MAX_TIMEOUT_S)
        if not 1 <= timeout <= MAX_TIMEOUT_S:
            raise LoadTestError(f"--timeout must be between 1 and {MAX_TIMEOUT_S:.0f} seconds")
        return targets, ramp, timeout


def live_question_pool(cfg: LoadConfig, atlas: Any) -> dict[str, Any]:
    """The banks the app reads: ``--quizzes`` if given, else the shipped and the authored ones."""
    from trainer.quiz.bank import load_questions
    from trainer.settings import author_dir, quiz_dir

    folders = [cfg.quiz_dir] if cfg.quiz_dir else [quiz_dir()]
    if cfg.quiz_dir is None and author_dir().is_dir() and author_dir() != folders[0]:
        folders.append(author_dir())
    out: dict[str, Any] = {}
    for q in load_questions(atlas, folders):
        out.setdefault(q.id, q)  # as the app does: a shipped question is never replaced
    return out


def plan_questions(
    cfg: LoadConfig, atlas: Any, questions: dict[str, Any], body_type: str
) -> list[QuestionPlan]:
    """The first ``questions`` one-pin questions with a rendered view (or the ids given)."""
    from trainer.atlas.rendered import load_rendered_view
    from trainer.errors import AtlasError
    from trainer.quiz.kinds import is_locate

    wanted = list(cfg.question_ids) or [qid for qid, q in questions.items() if is_locate(q) and q.view]
    plans: list[QuestionPlan] = []
    for qid in wanted:
        q = questions.get(qid)
        if q is None or not is_locate(q) or not q.view:
            if cfg.question_ids:
                raise LoadTestError(f"{qid}: not a locate question with a view in the banks")
            continue
        view_id = q.view if q.view in atlas.views else f"{q.view}_right"
        try:
            view = load_rendered_view(view_id, body_type, atlas.root)
        except (AtlasError, KeyError):
            continue
        target = None
        item = view.items.get(q.targets[0]) if q.targets else None
        if item is not None and len(item.points_px):
            target = (float(item.points_px[0][0]), float(item.points_px[0][1]))
        plans.append(QuestionPlan(len(plans), qid, target, view.width_px, view.height_px))
        if len(plans) == cfg.questions:
            break
    if len(plans) < cfg.questions:
        raise LoadTestError(
            f"only {len(plans)} locate question(s) with a rendered right-side view; asked for {cfg.questions}"
        )
    return plans


def run_loadtest(cfg: LoadConfig) -> dict[str, Any]:
    """Run one simulated class and return the report (see docs/live-class.md §6)."""
    from sqlalchemy.engine import make_url

    from trainer.atlas import load_atlas
    from trainer.live import service as live
    from trainer.rules.classroom import DEFAULT_MAX_PLAYERS, LiveSettings
    from trainer.settings import atlas_dir
    from trainer.store import default_url, open_store

    targets, ramp, timeout = cfg.checked()
    protos()  # fail early if streamlit's protobufs are missing
    db_url = cfg.database_url or default_url()
    rng = random.Random(cfg.seed)
    atlas = load_atlas(cfg.atlas_dir or atlas_dir())
    body_type = atlas.default_body_type
    qs = live_question_pool(cfg, atlas)
    plans = plan_questions(cfg, atlas, qs, body_type)
    store = open_store(url=db_url)
    try:
        tag = f"{rng.randrange(16**4):04x}"
        session = live.create_class(
            store,
            atlas,
            qs,
            title=f"loadtest {tag}",
            question_ids=[p.question_id for p in plans],
            host_key=f"loadtest-{tag}-{rng.random()}",
            # The class takes every simulated phone (the default cap is 300; the tool goes to 500).
            settings=LiveSettings(
                time_limit_s=cfg.time_limit_s, max_players=max(cfg.players, DEFAULT_MAX_PLAYERS)
            ),
            side="right",
            body_type=body_type,
            now=datetime.now(UTC),
            rng=rng,
        )
        ports = sorted({t.port for t in targets})
        pids = server_pids(ports)
        cpu0 = {pid: cpu_ticks(pid) for pid in pids}
        load0 = os.getloadavg()
        client0 = os.times()
        t0 = time.monotonic()
        shared = Shared(deadline=t0 + timeout, code=session.join_code)
        host_info = asyncio.run(_run_async(cfg, shared, store, session.id, targets, plans, rng, ramp, tag))
        elapsed = time.monotonic() - t0
        client1 = os.times()
        cpu1 = {pid: cpu_ticks(pid) for pid in pids}
        stored_by_q = [store.count_answers(session.id, p.index) for p in plans]
    finally:
        store.close()

    hz = os.sysconf("SC_CLK_TCK")
    cpu_ms = {
        pid: (c1 - c0) * 1000.0 / hz
        for pid, c0 in cpu0.items()
        if c0 is not None and (c1 := cpu1.get(pid)) is not None
    }
    streamlit_pids = [pid for pid in pids if is_streamlit(pid)]
    total_cpu_ms = sum(cpu_ms.values())
    sent = len(shared.sent_at)
    stored = sum(stored_by_q)
    to_host = [(shared.seen_at[k] - t) * 1000.0 for k, t in shared.sent_at.items() if k in shared.seen_at]
    all_reruns = [ms for v in shared.rerun_ms.values() for ms in v]
    return {
        "players": cfg.players,
        "players_joined": len(shared.joined),
        "answers_sent": sent,
        "answers_stored": stored,
        "lost": sent - stored,
        "answers_refused": shared.refused,
        "p95_answer_to_host_ms": rounded(percentile(to_host, 95)),
        "max_answer_to_host_ms": rounded(max(to_host) if to_host else None),
        "answers_timed": len(to_host),
        "p95_player_rerun_ms": rounded(percentile(all_reruns, 95)),
        # The class watch: page runs only when the class moved on, after an HTTP long poll.
        "p95_tap_ms": rounded(percentile(shared.rerun_ms.get("tap", []), 95)),
        "p95_phase_rerun_ms": rounded(percentile(shared.rerun_ms.get("phase", []), 95)),
        "p95_phase_told_ms": rounded(percentile(shared.phase_told_ms, 95)),
        "p50_phase_seen_ms": rounded(percentile(shared.phase_seen_ms, 50)),
        "p95_phase_seen_ms": rounded(percentile(shared.phase_seen_ms, 95)),
        "state_requests": shared.state_requests,
        "state_failures": shared.state_failures,
        "rerun_ms_by_kind": {
            k: {
                "n": len(v),
                "p50": rounded(percentile(v, 50)),
                "p95": rounded(percentile(v, 95)),
                "max": rounded(max(v)),
            }
            for k, v in sorted(shared.rerun_ms.items())
        },
        "reruns": shared.reruns,
        "server_cpu_ms": rounded(total_cpu_ms) if cpu_ms else None,
        "server_cpu_ms_per_rerun": rounded(total_cpu_ms / shared.reruns, 2)
        if cpu_ms and shared.reruns
        else None,
        "server_cpu_ms_by_pid": {str(pid): rounded(ms) for pid, ms in cpu_ms.items()},
        "client_cpu_s": round((client1.user + client1.system) - (client0.user + client0.system), 2),
        "players_saw_end": len(shared.finished_seen),
        "host": host_info,
        "errors": shared.n_errors,
        "error_samples": shared.errors,
        "elapsed_s": round(elapsed, 1),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_before": [round(x, 2) for x in load0],
        "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        "config": {
            "urls": list(cfg.urls),
            "processes": len(streamlit_pids) or None,
            "server_pids": pids,
            "database": make_url(db_url).get_backend_name(),
            "questions": len(plans),
            "question_ids": [p.question_id for p in plans],
            "time_limit_s": cfg.time_limit_s,
            "think_s": list(cfg.think_s),
            "ramp_s": ramp,
            "host_poll_s": cfg.poll_s,
            "timeout_s": timeout,
        },
    }


async def _run_async(
    cfg: LoadConfig,
    shared: Shared,
    store: Any,
    session_id: str,
    targets: Sequence[Target],
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    ramp: float,
    tag: str,
) -> dict[str, Any]:
    players = [
        asyncio.create_task(
            run_player(
                shared,
                n,
                targets[n % len(targets)],
                plans,
                random.Random(rng.random()),
                ramp * n / max(cfg.players, 1),
                cfg.think_s,
                tag,
            )
        )
        for n in range(cfg.players)
    ]
    host = asyncio.create_task(
        run_host(shared, store, session_id, len(plans), cfg.players, cfg.poll_s, cfg.reveal_wait_s)
    )
    try:
        done, pending = await asyncio.wait([host, *players], timeout=max(shared.left(), 0) + 10)
        for task in pending:  # only after the deadline: every loop above checks it
            task.cancel()
        if pending:
            shared.error(f"{len(pending)} task(s) still running at the deadline were cancelled")
            await asyncio.wait(pending, timeout=15)
    finally:
        for task in [host, *players]:
            if not task.done():
                task.cancel()
    if host.cancelled():
        return {"closed_by": ["cancelled"]}
    exc = host.exception()
    if exc is not None:
        shared.error(f"host: {type(exc).__name__}: {exc}")
        return {"closed_by": ["host failed"]}
    result: dict[str, Any] = host.result()
    return result


def format_report(report: dict[str, Any]) -> str:
    """A short human summary (``--json`` prints the whole object instead)."""
    lines = [
        f"players {report['players_joined']}/{report['players']}  answers sent {report['answers_sent']}  "
        f"stored {report['answers_stored']}  lost {report['lost']}",
        f"p95 answer→host {report['p95_answer_to_host_ms']} ms  p95 tap {report['p95_tap_ms']} ms  "
        f"p95 page run on a phase change {report['p95_phase_rerun_ms']} ms  "
        f"p95 phase change → phone told {report['p95_phase_told_ms']} ms, → drawn {report['p95_phase_seen_ms']} ms",
        f"p95 player rerun {report['p95_player_rerun_ms']} ms  "
        f"server CPU {report['server_cpu_ms_per_rerun']} ms/rerun over {report['reruns']} reruns",
        f"elapsed {report['elapsed_s']} s  processes {report['config']['processes']}  "
        f"database {report['config']['database']}  errors {report['errors']}",
    ]
    lines += [f"  {e}" for e in report["error_samples"][:10]]
    return "\n".join(lines)
