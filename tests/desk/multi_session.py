"""Helpers for the multi-venue tests: a session of several venues (the built-in
market and local fakes on 127.0.0.1 only) with its feeds running and a headless desk."""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import dataclass

from cockpit.desk import Desk
from cockpit.runtime import build_runtime

BOUND_S = 20.0  # upper bound on waiting for data; a hang fails instead of blocking


def multi_args(venues, state, **kw) -> argparse.Namespace:
    base = dict(replay=None, venue=venues[0], venues=list(venues), live=False, paper=True,
                state=state, reset=False, speed=1.0, seed=7, tick_hz=None, acceleration=None)
    base.update(kw)
    return argparse.Namespace(**base)


@dataclass
class MultiSession:
    rt: object
    desk: Desk
    task: asyncio.Task

    def snap(self):
        return self.rt.store.snapshot()

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        self.rt.broker.close()
        self.rt.journal.close()


async def until(cond, bound_s: float = BOUND_S) -> bool:
    for _ in range(int(bound_s / 0.02)):
        if cond():
            return True
        await asyncio.sleep(0.02)
    return cond()


async def start_multi(config, venues, state, wait_for=(), **kw) -> MultiSession:
    """Build the session, run its feeds, wait for a ticker and book of each key in
    ``wait_for``, reconcile the desk."""
    rt = build_runtime(multi_args(venues, state, **kw), config)
    task = asyncio.ensure_future(rt.feed.run(rt.store))
    desk = Desk(config, rt.store, rt.broker, rt.journal, gate=rt.gate)
    ok = await until(lambda: all(k in rt.store.snapshot().tickers
                                 and k in rt.store.snapshot().books for k in wait_for))
    assert ok, f"no data for {wait_for} within {BOUND_S} s"
    assert await desk.reconcile()
    return MultiSession(rt, desk, task)
