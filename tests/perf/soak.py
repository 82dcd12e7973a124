"""The soak: the production stack on loopback under a realistic mix, for minutes.

    make bench-soak                              (10 minutes, under the harness)
    python tests/harness.py -- .venv/bin/python -m tests.perf.soak --minutes N

Brings up the production stack (``ruilkring.prodstack``: gunicorn with
``--web-workers`` workers, the Celery worker and beat, the demo circles) and
runs two phases of locust (``tests/perf/locustfile.py``), headless, each in a
process of its own:

1. the mix, for ``--minutes``: ``--users`` visitors (members on the site and on
   the API, and a coordinator) browse, search, pay and agree exchanges;
2. the ratio, for ``--ratio-seconds``: the same number of API clients pay as
   read their memberships, without pauses, side by side, so the two
   throughputs compare the cost of a payment with that of the cheapest
   signed-in call. Target: at least half as many payments posted (201) per
   second as reads answered.

Meanwhile it samples the resident memory (RSS) of the gunicorn workers and of
the Celery worker (with its pool processes) every few seconds. Memory "at the
start" is the median of the samples right after the first 20% of the mix (the
warm-up: every process has loaded its code and filled its caches), "at the
end" the median of the last 10%.

Reports requests, requests per second, p50/p95/p99 per request type, 5xx
(must be none), the 4xx per request type (refusals such as a payment past a
limit are expected), memory at the start and the end with the growth (within
10% to pass) and the payment-to-trivial throughput ratio (reported, pass or
missed; it does not fail the run). Writes ``var/bench/soak.json`` and exits 1
on a 5xx, a failed connection or sign-in, memory growth past 10%, or a process
of the stack that died or was replaced (a gunicorn worker killed on a timeout,
say), which would also hide a leak.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

from ruilkring.prodstack import Stack, prodstack_running

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "var" / "bench" / "soak.json"
LOCUSTFILE = ROOT / "tests" / "perf" / "locustfile.py"
SAMPLE_SECONDS = 2.0
WARM_UP_SHARE = 0.20
START_WINDOW_SHARE = 0.10
END_WINDOW_SHARE = 0.10
MEMORY_GROWTH_LIMIT_PERCENT = 10.0
RATIO_TARGET = 0.5
# Members with a personal access token: the API clients take turns with them.
API_TOKENS = 12
MIX_CLASSES = ("MemberOnTheWeb", "MemberOnTheApi", "Coordinator")
RATIO_CLASSES = ("PaymentApiUser", "TrivialApiUser")
PAYMENT = "POST /api/v1/communities/[slug]/payments/"
TRIVIAL = "/api/v1/me/memberships/"
MB = 1024 * 1024


@dataclass
class MemorySample:
    at: float
    web: int
    worker: int
    web_processes: int
    worker_processes: int


def _rss(processes: list[psutil.Process]) -> int:
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            continue  # gone between the listing and the reading
    return total


@dataclass
class MemorySampler:
    """Samples, every few seconds until stopped, the gunicorn workers (not the
    master, which serves nothing) and the Celery worker with its pool."""

    stack: Stack
    samples: list[MemorySample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        master = psutil.Process(self.stack.processes["web"].pid)
        worker = psutil.Process(self.stack.processes["worker"].pid)
        while not self._stop.wait(SAMPLE_SECONDS):
            try:
                web = master.children()
                jobs = [worker, *worker.children(recursive=True)]
            except psutil.Error:
                continue
            self.samples.append(
                MemorySample(time.monotonic(), _rss(web), _rss(jobs), len(web), len(jobs))
            )

    def growth(self, started: float, finished: float) -> dict:
        """Memory after the warm-up and at the end of the period, per group."""
        length = finished - started
        after_warm_up = started + WARM_UP_SHARE * length
        start_window = [
            s
            for s in self.samples
            if after_warm_up <= s.at <= after_warm_up + START_WINDOW_SHARE * length
        ]
        end_window = [
            s for s in self.samples if finished - END_WINDOW_SHARE * length <= s.at <= finished
        ]
        if not start_window or not end_window:
            raise RuntimeError("too few memory samples: make the soak longer")
        report = {}
        for group in ("web", "worker"):
            start = statistics.median(getattr(s, group) for s in start_window)
            end = statistics.median(getattr(s, group) for s in end_window)
            report[group] = {
                "start_mb": round(start / MB, 1),
                "end_mb": round(end / MB, 1),
                "growth_percent": round((end - start) / start * 100, 2),
                "processes": getattr(end_window[-1], f"{group}_processes"),
            }
        report["samples"] = len(self.samples)
        return report


def processes_census(stack: Stack) -> dict[str, set[int]]:
    """The process ids of the gunicorn workers and the Celery pool: a changed
    set means one crashed or was killed (on a timeout, say) and was replaced."""
    census = {}
    for name in ("web", "worker"):
        try:
            children = psutil.Process(stack.processes[name].pid).children(recursive=True)
        except psutil.Error:
            children = []
        census[name] = {child.pid for child in children}
    return census


def processes_trouble(stack: Stack, census: dict[str, set[int]]) -> list[str]:
    """What happened to the stack's processes since ``census`` was taken."""
    trouble = [
        f"{name} exited with {process.returncode}"
        for name, process in stack.processes.items()
        if process.poll() is not None
    ]
    now = processes_census(stack)
    for name, before in census.items():
        if now[name] != before:
            trouble.append(f"{name}: processes {sorted(before)} became {sorted(now[name])}")
    return trouble


def locust_phase(
    stack: Stack,
    *,
    name: str,
    classes: tuple[str, ...],
    users: int,
    seconds: int,
    ratio_users_each: int = 0,
) -> dict:
    """One headless locust run against the stack; its figures per request type."""
    report = stack.workdir / f"locust-{name}.json"
    env = {
        **stack.env,
        "PYTHONPATH": str(ROOT),
        "RUILKRING_SOAK_SEED": str(stack.workdir / "seed.json"),
        "RUILKRING_SOAK_REPORT": str(report),
        "RUILKRING_SOAK_RATIO_USERS_EACH": str(ratio_users_each),
    }
    argv = [
        sys.executable,
        "-m",
        "locust",
        "--locustfile",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(1, users // 4)),
        "--run-time",
        f"{seconds}s",
        "--host",
        stack.url,
        "--only-summary",
        "--stop-timeout",
        "10",
        "--exit-code-on-error",
        "0",
        "--loglevel",
        "WARNING",
        *classes,
    ]
    with (stack.logs / f"locust-{name}.log").open("ab") as log:
        completed = subprocess.run(
            argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=seconds + 300
        )
    if completed.returncode != 0 or not report.exists():
        raise RuntimeError(
            f"locust ({name}) exited with {completed.returncode}:\n" + stack.log_tails(40)
        )
    return json.loads(report.read_text())


def _by_status(requests: dict, predicate) -> dict[str, dict[str, int]]:
    found = {}
    for name, figures in requests.items():
        hits = {status: n for status, n in figures["statuses"].items() if predicate(status)}
        if hits:
            found[name] = hits
    return found


def _answered_rps(figures: dict, status: str) -> float:
    """Requests per second of one request type that got ``status``."""
    if not figures.get("count"):
        return 0.0
    return round(figures["rps"] * figures["statuses"].get(status, 0) / figures["count"], 2)


def soak_run(
    *,
    minutes: float,
    users: int = 20,
    web_workers: int = 3,
    worker_concurrency: int = 2,
    ratio_users_each: int = 5,
    ratio_seconds: int | None = None,
) -> dict:
    """Bring the stack up, run the mix and the ratio phase, take it down; the report."""
    mix_seconds = round(minutes * 60)
    ratio_seconds = ratio_seconds or min(60, max(20, round(mix_seconds / 10)))
    asked = time.monotonic()
    with prodstack_running(
        web_workers=web_workers, worker_concurrency=worker_concurrency, api_tokens=API_TOKENS
    ) as stack:
        stack_start_seconds = round(time.monotonic() - asked)
        print(f"soak: the stack is up at {stack.url} after {stack_start_seconds}s", flush=True)
        census = processes_census(stack)
        sampler = MemorySampler(stack)
        sampler.start()
        try:
            started = time.monotonic()
            mix = locust_phase(
                stack, name="mix", classes=MIX_CLASSES, users=users, seconds=mix_seconds
            )
            finished = time.monotonic()
        finally:
            sampler.stop()
        ratio = locust_phase(
            stack,
            name="ratio",
            classes=RATIO_CLASSES,
            users=2 * ratio_users_each,
            seconds=ratio_seconds,
            ratio_users_each=ratio_users_each,
        )
        trouble = processes_trouble(stack, census)
        if trouble:
            print(stack.log_tails(), file=sys.stderr, flush=True)
        web_log = (stack.logs / "web.log").read_text(errors="replace")
        logged_errors = sum('"level": "ERROR"' in line for line in web_log.splitlines())
    memory = sampler.growth(started, finished)
    both = {**mix["requests"], **{f"{k} (ratio phase)": v for k, v in ratio["requests"].items()}}
    server_errors = _by_status(both, lambda status: status.startswith("5"))
    transport_errors = _by_status(both, lambda status: status == "transport error")
    payment, trivial = ratio["requests"].get(PAYMENT, {}), ratio["requests"].get(TRIVIAL, {})
    # Posted payments (201) against answered reads (200): a refusal is cheaper
    # than a payment and would flatter the ratio.
    payment_rps = _answered_rps(payment, "201")
    trivial_rps = _answered_rps(trivial, "200")
    throughput_ratio = round(payment_rps / trivial_rps, 3) if trivial_rps else 0.0
    failures = [f"processes: {problem}" for problem in trouble]
    if server_errors:
        failures.append(f"server errors (5xx): {server_errors}")
    if transport_errors:
        failures.append(f"failed connections: {transport_errors}")
    for problem, count in {**mix["problems"], **ratio["problems"]}.items():
        failures.append(f"{problem}: {count}")
    for group in ("web", "worker"):
        if memory[group]["growth_percent"] > MEMORY_GROWTH_LIMIT_PERCENT:
            failures.append(
                f"{group} memory grew {memory[group]['growth_percent']}% "
                f"(limit {MEMORY_GROWTH_LIMIT_PERCENT}%)"
            )
    return {
        "benchmark": "soak: the production stack on loopback under a realistic mix",
        "minutes": minutes,
        "users": users,
        "web_workers": web_workers,
        "worker_concurrency": worker_concurrency,
        "stack_start_seconds": stack_start_seconds,
        "requests_total": mix["total"]["count"],
        "requests_per_second": mix["total"]["rps"],
        "p50_ms": mix["total"]["p50_ms"],
        "p95_ms": mix["total"]["p95_ms"],
        "p99_ms": mix["total"]["p99_ms"],
        "server_errors_5xx": sum(sum(v.values()) for v in server_errors.values()),
        "failed_connections": sum(sum(v.values()) for v in transport_errors.values()),
        "web_log_errors": logged_errors,
        "client_errors_4xx": _by_status(both, lambda status: status.startswith("4")),
        "requests": mix["requests"],
        "memory": {
            **memory,
            "warm_up_share": WARM_UP_SHARE,
            "limit_percent": MEMORY_GROWTH_LIMIT_PERCENT,
        },
        "ratio": {
            "users_each": ratio_users_each,
            "seconds": ratio_seconds,
            "payment_rps": payment_rps,
            "trivial_rps": trivial_rps,
            "payment_p95_ms": payment.get("p95_ms"),
            "trivial_p95_ms": trivial.get("p95_ms"),
            "payments_refused": sum(
                n for status, n in payment.get("statuses", {}).items() if status.startswith("4")
            ),
            "ratio": throughput_ratio,
            "target": RATIO_TARGET,
            "met": throughput_ratio >= RATIO_TARGET,
            "requests": ratio["requests"],
        },
        "failures": failures,
        "passed": not failures,
    }


def report_print(report: dict) -> None:
    print(
        f"soak: {report['minutes']} min, {report['users']} users, "
        f"{report['web_workers']} gunicorn workers"
    )
    print(
        f"  requests {report['requests_total']}, {report['requests_per_second']}/s, "
        f"p50 {report['p50_ms']} ms, p95 {report['p95_ms']} ms, p99 {report['p99_ms']} ms"
    )
    print(f"  {'request':<52} {'count':>6} {'/s':>6} {'p50':>6} {'p95':>6} {'p99':>6}  statuses")
    for name, figures in report["requests"].items():
        print(
            f"  {name[:52]:<52} {figures['count']:>6} {figures['rps']:>6} "
            f"{figures['p50_ms']:>6} {figures['p95_ms']:>6} {figures['p99_ms']:>6}  "
            f"{figures['statuses']}"
        )
    print(
        f"  5xx: {report['server_errors_5xx']}, failed connections: "
        f"{report['failed_connections']}, errors in the web log: {report['web_log_errors']}"
    )
    print(f"  4xx (refusals) per request type: {report['client_errors_4xx'] or 'none'}")
    memory = report["memory"]
    for group in ("web", "worker"):
        figures = memory[group]
        print(
            f"  memory {group} ({figures['processes']} processes): {figures['start_mb']} MB "
            f"after the warm-up, {figures['end_mb']} MB at the end: "
            f"{figures['growth_percent']:+}% (limit {memory['limit_percent']}%)"
        )
    ratio = report["ratio"]
    print(
        f"  ratio phase ({ratio['users_each']} users each, {ratio['seconds']} s): payments posted "
        f"{ratio['payment_rps']}/s (p95 {ratio['payment_p95_ms']} ms, "
        f"{ratio['payments_refused']} refused), memberships "
        f"{ratio['trivial_rps']}/s (p95 {ratio['trivial_p95_ms']} ms): ratio {ratio['ratio']} "
        f"(target {ratio['target']}: {'met' if ratio['met'] else 'MISSED'})"
    )
    print("  PASSED" if report["passed"] else "  FAILED: " + "; ".join(report["failures"]))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.perf.soak")
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--ratio-users-each", type=int, default=5)
    parser.add_argument("--ratio-seconds", type=int, default=None)
    parser.add_argument("--output", type=Path, default=OUTPUT)
    arguments = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    report = soak_run(
        minutes=arguments.minutes,
        users=arguments.users,
        web_workers=arguments.web_workers,
        ratio_users_each=arguments.ratio_users_each,
        ratio_seconds=arguments.ratio_seconds,
    )
    report["command"] = "python -m tests.perf.soak " + " ".join(argv)
    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    arguments.output.write_text(json.dumps(report, indent=2) + "\n")
    report_print(report)
    print(f"written to {arguments.output}")
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
