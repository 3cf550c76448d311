"""Shared measuring helpers for the benchmarks: peak resident memory and one child process per stage.

A stage measured in its own process reports its own peak RSS (``ru_maxrss``), not the benchmark
harness's; the 1 GiB budget is per stage at its largest size.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from typing import Any

GIB_MIB = 1024.0


def peak_rss_mib(children: bool = False) -> float:
    """Peak resident set size of this process (or of its largest finished child) in MiB (Linux: KiB units)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def load() -> str:
    """The 1/5/15-minute load averages: the machine is shared, so every figure is printed beside them."""
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def _timed(fn: Callable[..., Any], args: tuple[Any, ...]) -> tuple[Any, float, float]:
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started, peak_rss_mib()


def in_child(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """Run ``fn(*args)`` in a fresh (spawned) interpreter: (result, seconds inside the child, peak RSS MiB)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(_timed, fn, args).result()


def rss_line(mib: float) -> str:
    return f"peak RSS {mib:,.0f} MiB (budget 1,024 MiB: {'met' if mib < GIB_MIB else 'NOT MET'})"
