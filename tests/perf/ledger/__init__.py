"""Helpers for the ledger throughput benchmark (``tests/perf/ledger_bench.py``)."""
