"""Server CPU of one join-page run: whole page, poll fragment, answer fragment.

One simulated phone (Streamlit's websocket protocol, as in ``trainer loadtest``) joins a new
class on a running server, the question opens, and the phone asks for N runs of each kind.
The server's CPU comes from /proc (loopback, Linux only). Usage, with the server's settings::

    TRAINER_DATA_DIR=... python scripts/rerun_cost.py PORT N
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime

from websockets.asyncio.client import connect

from trainer import live
from trainer.atlas import load_atlas
from trainer.classroom import LiveSettings
from trainer.loadtest import StreamlitClient, _cpu_ticks, _Shared, server_pids
from trainer.quiz.bank import load_questions
from trainer.settings import atlas_dir, quiz_dir
from trainer.store import default_url, open_store

QUESTION_ID = "ankle_ant_loc_sfn_exit"


async def measure(port: int, n: int, code: str, open_question: object) -> dict[str, tuple[float, float]]:
    pid = server_pids([port])[0]
    hz = os.sysconf("SC_CLK_TCK")
    shared = _Shared(deadline=time.monotonic() + 3600, code=code)
    async with connect(f"ws://127.0.0.1:{port}/_stcore/stream", subprotocols=["streamlit"],
                       max_size=2**25, ping_interval=None) as ws:
        c = StreamlitClient(ws, shared, "join", f"code={code}")
        await c.rerun(kind="load")
        code_w, nick_w, go_w = (c.widget(k) for k in ("join_code", "join_nick", "join_go"))
        assert code_w and nick_w and go_w
        await c.rerun([c.string(code_w.widget_id, code), c.string(nick_w.widget_id, "cost"),
                       c.trigger(go_w.widget_id)], kind="join")
        open_question()  # type: ignore[operator]
        await c.rerun(kind="full")
        pb = c.widget("join_pb_0")
        assert pb is not None and pb.fragment_id and c.timers, "answer surface not shown"
        poll_id = next(iter(c.timers))
        kinds = {
            "whole page": {"kind": "full"},
            "poll fragment": {"kind": "poll", "fragment_id": poll_id, "auto": True},
            "answer fragment": {"kind": "frag", "fragment_id": pb.fragment_id},
        }
        out: dict[str, tuple[float, float]] = {}
        for label, kw in kinds.items():
            for _ in range(20):  # warm caches
                await c.rerun(**kw)  # type: ignore[arg-type]
            cpu0, wall0 = _cpu_ticks(pid), time.monotonic()
            for _ in range(n):
                await c.rerun(**kw)  # type: ignore[arg-type]
            cpu1, wall1 = _cpu_ticks(pid), time.monotonic()
            assert cpu0 is not None and cpu1 is not None
            out[label] = ((cpu1 - cpu0) * 1000.0 / hz / n, (wall1 - wall0) * 1000.0 / n)
        if shared.errors:
            raise SystemExit(f"errors: {shared.errors[:3]}")
        return out


def main() -> None:
    port, n = int(sys.argv[1]), int(sys.argv[2])
    atlas = load_atlas(atlas_dir())
    questions = {q.id: q for q in load_questions(atlas, [quiz_dir()])}
    store = open_store(url=default_url())
    session = live.create_class(
        store, atlas, questions, title="rerun cost", question_ids=[QUESTION_ID], host_key="rerun-cost",
        settings=LiveSettings(time_limit_s=600), side="right", body_type=atlas.default_body_type,
        now=datetime.now(UTC), rng=random.Random(1),
    )
    results = asyncio.run(measure(port, n, session.join_code,
                                  lambda: live.open_next(store, session.id, datetime.now(UTC))))
    for label, (cpu_ms, wall_ms) in results.items():
        print(f"{label}: server CPU {cpu_ms:.1f} ms, wall {wall_ms:.1f} ms per run (mean of {n})")


if __name__ == "__main__":
    main()
