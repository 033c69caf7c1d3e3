"""The two roles of a load test: a simulated phone (join, tap near the target, submit, see the
reveal) over the protocol client, and the host in process through :mod:`trainer.live.service`."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from trainer.errors import ConflictError, RuleError
from trainer.tools.load_bounds import LoadTestError, Target
from trainer.tools.st_client import HttpOrigin, Shared, StreamlitClient

# --------------------------------------------------------------------------------------------
# A simulated player
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionPlan:
    """Where a tap lands: near the target (the simulator knows it; the phone is never told)."""

    index: int
    question_id: str
    target_px: tuple[float, float] | None
    width_px: int
    height_px: int


async def _wait_for(client: StreamlitClient, shared: Shared, ready: Any) -> bool:
    """Wait as the page does (the class watcher's long poll) until ``ready()``; False at the deadline."""
    for _ in range(1_000_000):
        if ready():
            return True
        if shared.left() <= 0:
            return False
        await client.tick()
    return False


async def run_player(
    shared: Shared,
    number: int,
    target: Target,
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    start_delay_s: float,
    think_s: tuple[float, float],
    tag: str,
) -> None:
    """One phone: join, answer every question, watch every reveal, see the end, disconnect."""
    from websockets.asyncio.client import connect
    from websockets.typing import Subprotocol

    nick = f"lt{tag}-{number:03d}"
    await asyncio.sleep(start_delay_s)
    kwargs: dict[str, Any] = {}
    if target.ipv4:
        # A distinct loopback source address per phone (127.1.x.y): a sticky proxy keyed on
        # the client IP (``trainer serve``, nginx ip_hash) then spreads players as real phones.
        kwargs["local_addr"] = (f"127.1.{number // 250}.{number % 250 + 1}", 0)
    try:
        async with connect(
            target.ws_url,
            subprotocols=[Subprotocol("streamlit")],
            proxy=None,
            open_timeout=30,
            close_timeout=3,
            max_size=32 * 2**20,
            ping_interval=None,
            **kwargs,
        ) as ws:
            base = urlsplit(target.ws_url).path.removesuffix("/_stcore/stream")
            origin = HttpOrigin(target.host, target.port, kwargs.get("local_addr"), base)
            client = StreamlitClient(ws, shared, "join", f"code={shared.code}", http=origin, rng=rng)
            try:
                await _play(shared, client, nick, plans, rng, think_s)
            finally:
                client.close()
    except Exception as exc:  # OSError, TimeoutError, websockets' ConnectionClosed…: this phone is gone
        shared.error(f"{nick}: {type(exc).__name__}: {exc}")
    finally:
        shared.dead.add(nick)
        if nick not in shared.joined:
            shared.join_failed.add(nick)


async def join_as(client: StreamlitClient, code: str, nick: str) -> None:
    """Open /join and send the form, as a phone does; raises unless the page took the join."""
    await client.rerun(kind="load")
    code_w, nick_w, go_w = (client.widget(k) for k in ("join_code", "join_nick", "join_go"))
    if code_w is None or nick_w is None or go_w is None:
        raise LoadTestError(f"join form keys not found on /join (texts: {client.texts[:5]})")
    await client.rerun(
        [
            client.string(code_w.widget_id, code),
            client.string(nick_w.widget_id, nick),
            client.trigger(go_w.widget_id),
        ],
        kind="join",
    )
    if "token=" not in client.query_string:
        raise LoadTestError(f"join refused (texts: {client.texts[:5]})")


async def _play(
    shared: Shared,
    client: StreamlitClient,
    nick: str,
    plans: Sequence[QuestionPlan],
    rng: random.Random,
    think_s: tuple[float, float],
) -> None:
    await join_as(client, shared.code, nick)
    shared.joined.add(nick)

    for plan in plans:
        i = plan.index
        pb_key, send_key = f"join_pb_{i}", f"join_send_{i}"

        def moved_on(i: int = i) -> bool:
            q = client.question_shown()
            return client.has_text("Class finished") or (q is not None and q > i)

        def answerable(pb_key: str = pb_key, send_key: str = send_key) -> bool:
            pb = client.widget(pb_key)
            return (
                pb is not None and bool((pb.data or {}).get("active")) and client.widget(send_key) is not None
            )

        if not await _wait_for(client, shared, lambda: answerable() or moved_on()):
            return
        if answerable():
            await client.idle(rng.uniform(*think_s))  # reading the prompt; the page keeps watching
        if answerable():
            pb = client.widget(pb_key)
            assert pb is not None
            data = pb.data or {}
            w, h = float(data.get("width") or plan.width_px), float(data.get("height") or plan.height_px)
            if plan.target_px is not None:
                x, y = (
                    plan.target_px[0] + rng.gauss(0, 0.03 * w),
                    plan.target_px[1] + rng.gauss(0, 0.03 * w),
                )
            else:
                x, y = rng.uniform(0.3, 0.7) * w, rng.uniform(0.2, 0.8) * h
            click = {
                "x": min(max(x, 0.0), w),
                "y": min(max(y, 0.0), h),
                "pointer": "touch",
                "seq": int(data.get("seq", i)),
                "n": 1,
            }
            await client.rerun(
                [client.component_event(pb.widget_id, "click", click)], kind="tap", fragment_id=pb.fragment_id
            )
            send = client.widget(send_key)
            if send is None or send.disabled:
                shared.error(f"{nick}: q{i + 1}: the tap did not enable Submit")
            else:
                shared.sent_at[(i, nick)] = time.monotonic()
                shared.sent_wall[(i, nick)] = datetime.now(UTC)
                await client.rerun(
                    [client.trigger(send.widget_id)], kind="submit", fragment_id=send.fragment_id
                )
                # The host may close and reveal while this rerun is still running (the answer
                # was the last one), so a reveal that shows a score also confirms it.
                received = (
                    client.has_text("Answer received")
                    or client.has_text("Already received")
                    or (client.has_text("Your rank") and not client.has_text("You did not answer"))
                )
                if not received:
                    shared.refused += 1
                    shared.error(f"{nick}: q{i + 1}: submit not confirmed (texts: {client.texts[-3:]})")

        def revealed(i: int = i) -> bool:
            return client.question_shown() == i and (
                client.has_text("Your rank") or client.has_text("You did not answer")
            )

        if await _wait_for(client, shared, lambda: revealed() or moved_on()) and revealed():
            shared.revealed.setdefault(i, set()).add(nick)
    if await _wait_for(client, shared, lambda: client.has_text("Class finished")):
        shared.finished_seen.add(nick)


# --------------------------------------------------------------------------------------------
# The simulated host (in process, through trainer.live.service)
# --------------------------------------------------------------------------------------------


async def run_host(
    shared: Shared,
    store: Any,
    session_id: str,
    n_questions: int,
    n_players: int,
    poll_s: float,
    reveal_wait_s: float,
) -> dict[str, Any]:
    """Open, watch (timing each answer's arrival), close, reveal, and finally finish the class."""
    from trainer.live import service as live

    def now() -> datetime:
        return datetime.now(UTC)

    for _ in range(10_000_000):  # wait for the joins
        if len(shared.joined | shared.join_failed) >= n_players or shared.left() <= 0:
            break
        await asyncio.sleep(0.1)
    names: dict[str, str] = {}
    closes: list[str] = []
    for i in range(n_questions):
        if shared.left() <= 0:
            break
        s = await asyncio.to_thread(live.open_next, store, session_id, now())
        shared.moved_at = time.monotonic()
        closes_at = s.question_closes_at
        seen: set[str] = set()
        reason = "deadline"
        for _ in range(10_000_000):
            n = await asyncio.to_thread(store.count_answers, session_id, i)
            if n > len(seen):
                answers = await asyncio.to_thread(store.list_answers, session_id, i)
                t = time.monotonic()
                if any(a.player_id not in names for a in answers):
                    names = {
                        p.id: p.nickname for p in await asyncio.to_thread(store.list_players, session_id)
                    }
                for a in answers:
                    nick = names.get(a.player_id, a.player_id)
                    if nick not in seen:
                        seen.add(nick)
                        shared.seen_at.setdefault((i, nick), t)
            expected = shared.joined - (shared.dead - seen)
            if expected and expected <= seen:
                reason = "all answered"
                break
            if not (shared.joined - shared.dead):
                reason = "no players left"
                break
            if closes_at is not None and now() >= closes_at:
                reason = "time up"
                break
            if shared.left() <= 0:
                break
            await asyncio.sleep(poll_s)
        closes.append(reason)
        for step in (live.close_now, live.reveal_answer):
            try:
                await asyncio.to_thread(step, store, session_id, now())
                shared.moved_at = time.monotonic()
            except (RuleError, ConflictError) as exc:
                shared.error(f"host: q{i + 1}: {step.__name__}: {exc}")
        end = time.monotonic() + reveal_wait_s
        while time.monotonic() < end and shared.left() > 0:  # let the phones show the reveal
            if (shared.joined - shared.dead) <= shared.revealed.get(i, set()):
                break
            await asyncio.sleep(0.1)
    try:
        await asyncio.to_thread(live.finish_class, store, session_id, now())
        shared.moved_at = time.monotonic()
    except (RuleError, ConflictError) as exc:
        shared.error(f"host: finish: {exc}")
    return {"closed_by": closes}
