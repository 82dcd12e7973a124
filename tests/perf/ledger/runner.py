"""Run one step function in N processes for a fixed window and count what committed.

Standard library only: both the project's driver and the django-hordak driver
(which runs in its own virtualenv) import it.

Each process is forked before it opens a database connection, runs
``make_step(index)`` to connect and load what it needs, then waits until every
process is ready. All of them start on one monotonic instant and stop
``seconds`` later. A step returns ``"ok"`` (a committed transfer), or
``"refused"`` (a payment the rules refused; nothing was written). Only steps
that finished inside the window count. An exception counts as an error; the
first few are reported.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable

READY_TIMEOUT_SECONDS = 300
START_DELAY_SECONDS = 0.3
MAX_ERRORS_SHOWN = 3
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """Linux: end this process when its parent ends, so no worker outlives a stopped run."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _child(make_step, index, seconds, ready, go, start_at, results) -> None:
    _die_with_parent()
    committed = refused = errors = 0
    shown: list[str] = []
    latencies: list[float] = []
    try:
        step = make_step(index)
    except BaseException:
        results.put({"index": index, "fatal": traceback.format_exc()})
        ready.abort()
        return
    try:
        ready.wait(READY_TIMEOUT_SECONDS)
    except threading.BrokenBarrierError:
        results.put({"index": index, "fatal": "another process failed to start"})
        return
    go.wait(READY_TIMEOUT_SECONDS)
    start = start_at.value
    end = start + seconds
    now = time.monotonic()
    if now < start:
        time.sleep(start - now)
    cpu_before = time.process_time()
    while True:
        began = time.monotonic()
        if began >= end:
            break
        try:
            outcome = step()
        except Exception:
            outcome = "error"
            if len(shown) < MAX_ERRORS_SHOWN:
                shown.append(traceback.format_exc())
        finished = time.monotonic()
        if finished > end:
            break  # finished after the window: not counted
        if outcome == "ok":
            committed += 1
            latencies.append(finished - began)
        elif outcome == "refused":
            refused += 1
        else:
            errors += 1
    cpu_seconds = time.process_time() - cpu_before
    results.put(
        {
            "index": index,
            "cpu_seconds": cpu_seconds,
            "committed": committed,
            "refused": refused,
            "errors": errors,
            "error_samples": shown,
            "latencies": latencies,
        }
    )


def _percentile(sorted_values: list[float], fraction: float) -> float | None:
    if not sorted_values:
        return None
    position = min(len(sorted_values) - 1, round(fraction * (len(sorted_values) - 1)))
    return sorted_values[position]


def measure(make_step: Callable[[int], Callable[[], str]], processes: int, seconds: float) -> dict:
    """Run ``processes`` forked workers for ``seconds``; return the counts and rates."""
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(processes + 1)
    go = context.Event()
    start_at = context.Value("d", 0.0)
    results = context.Queue()
    workers = [
        context.Process(
            target=_child,
            args=(make_step, index, seconds, ready, go, start_at, results),
            daemon=True,
        )
        for index in range(processes)
    ]
    try:
        for worker in workers:
            worker.start()
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait(READY_TIMEOUT_SECONDS)  # a failed start is reported below
        start_at.value = time.monotonic() + START_DELAY_SECONDS
        go.set()
        reports = [results.get(timeout=seconds + READY_TIMEOUT_SECONDS) for _ in workers]
        for worker in workers:
            worker.join(30)
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
    fatal = [report["fatal"] for report in reports if "fatal" in report]
    if fatal:
        raise RuntimeError("a benchmark process failed to start:\n" + fatal[0])
    latencies = sorted(value for report in reports for value in report["latencies"])
    committed = sum(report["committed"] for report in reports)
    refused = sum(report["refused"] for report in reports)
    errors = sum(report["errors"] for report in reports)
    samples = [sample for report in reports for sample in report["error_samples"]]
    steps = committed + refused + errors
    client_cpu = sum(report["cpu_seconds"] for report in reports)
    return {
        "processes": processes,
        "seconds": seconds,
        "committed": committed,
        "refused": refused,
        "errors": errors,
        "error_samples": samples[:MAX_ERRORS_SHOWN],
        "per_second": committed / seconds,
        # CPU time the client processes used (Python, the driver, the
        # database client library), per step: the part of the cost that is
        # not the database server's.
        "client_cpu_us_per_step": round(client_cpu / steps * 1e6) if steps else None,
        "refused_per_second": refused / seconds,
        "latency_ms": {
            "p50": _ms(_percentile(latencies, 0.50)),
            "p95": _ms(_percentile(latencies, 0.95)),
            "p99": _ms(_percentile(latencies, 0.99)),
        },
    }


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value * 1000, 3)


def log(message: str) -> None:
    """Progress goes to stderr, so stdout carries only the driver's JSON result."""
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    sys.stderr.write(f"[{stamp} UTC pid {os.getpid()}] {message}\n")
    sys.stderr.flush()


def _cpu_snapshot() -> tuple[int, int]:
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    return sum(ticks), ticks[3] + ticks[4]  # total, idle + iowait


def cpu_busy(seconds: float = 1.0) -> float | None:
    """How busy the whole machine was over ``seconds``, in percent (None off Linux)."""
    try:
        total_before, idle_before = _cpu_snapshot()
        time.sleep(seconds)
        total_after, idle_after = _cpu_snapshot()
    except OSError:
        return None
    total = total_after - total_before
    return 100.0 * (1 - (idle_after - idle_before) / total) if total else None


def wait_for_quiet(max_wait: float, threshold: float) -> float | None:
    """Wait up to ``max_wait`` seconds for other work on the machine to stop.

    The benchmark shares the machine's cores with whatever else runs; it waits
    (bounded) until the machine is below ``threshold`` percent busy, and returns
    the last measurement, which goes into the results.
    """
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy is not None and busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy()
    return busy
