"""The event-loop batching of a session's callbacks keeps their order and loses none
(trainer/ui/event_batching.py), also when the script thread queues while the loop drains."""

from __future__ import annotations

import asyncio
import threading

import pytest

from trainer.ui import event_batching
from trainer.ui.event_batching import CallbackBatch, call_soon_batched


def test_callbacks_from_another_thread_run_on_the_loop_in_order_with_few_wakeups() -> None:
    loop = asyncio.new_event_loop()
    seen: list[tuple[int, bool]] = []
    wakeups = 0
    original = loop.call_soon_threadsafe

    def counting(callback, *args):  # type: ignore[no-untyped-def]
        nonlocal wakeups
        wakeups += 1
        return original(callback, *args)

    loop.call_soon_threadsafe = counting  # type: ignore[method-assign]
    batch = CallbackBatch()
    loop_thread: list[threading.Thread] = []
    done = asyncio.Event()
    n = 2000

    def producer() -> None:
        for i in range(n):
            call_soon_batched(
                loop, batch, lambda i=i: seen.append((i, threading.current_thread() is loop_thread[0]))
            )
        call_soon_batched(loop, batch, lambda: done.set())

    async def main() -> None:
        loop_thread.append(threading.current_thread())
        t = threading.Thread(target=producer)
        t.start()
        await asyncio.wait_for(done.wait(), 30)
        t.join()

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert [i for i, _ in seen] == list(range(n))
    assert all(on_loop for _, on_loop in seen)
    assert wakeups < n  # coalesced: fewer wake-ups than callbacks
    assert not batch.scheduled and not batch.queue


def test_a_failing_callback_does_not_stop_the_ones_after_it() -> None:
    batch = CallbackBatch()
    seen: list[int] = []

    def boom() -> None:
        raise ValueError("x")

    assert batch.add(lambda: seen.append(1))
    assert not batch.add(boom)  # a drain is already pending: no second wake-up
    assert not batch.add(lambda: seen.append(3))
    assert not batch.drain()  # nothing queued meanwhile: the drain is finished
    assert seen == [1, 3]
    assert batch.add(lambda: seen.append(4))  # drained: the next callback wakes the loop again


def test_callbacks_queued_during_a_drain_wait_for_the_next_one() -> None:
    batch = CallbackBatch()
    seen: list[int] = []
    batch.add(lambda: (seen.append(1), batch.add(lambda: seen.append(2))))
    assert batch.drain()  # more arrived: the caller schedules another drain
    assert seen == [1] and batch.scheduled
    assert not batch.drain()
    assert seen == [1, 2] and not batch.scheduled


def test_a_closed_loop_refuses_and_the_batch_is_reset() -> None:
    loop = asyncio.new_event_loop()
    loop.close()
    batch = CallbackBatch()
    with pytest.raises(RuntimeError):
        call_soon_batched(loop, batch, lambda: None)
    assert not batch.scheduled and not batch.queue


def test_install_patches_the_session_once() -> None:
    from streamlit.runtime.app_session import AppSession

    assert event_batching.install()
    patched = AppSession._call_soon_on_event_loop
    assert event_batching.install()
    assert AppSession._call_soon_on_event_loop is patched
