"""F0, the commit floor: one one-row INSERT per transaction, nothing else.

Autocommit with psycopg directly, on the same durable cluster and with the same
process counts as the ledgers: what the disk and the server allow before any
ledger logic. No ledger can commit transfers faster than this.
"""

from __future__ import annotations

import psycopg

TABLE = "commit_floor"


def setup(conninfo: str) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(
            f"CREATE TABLE IF NOT EXISTS {TABLE} ("
            " id bigserial PRIMARY KEY,"
            " worker integer NOT NULL,"
            " n bigint NOT NULL,"
            " created_at timestamptz NOT NULL DEFAULT now())"
        )


def rows(conninfo: str) -> int:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        count = f"SELECT count(*) FROM {TABLE}"  # noqa: S608 - a constant table name
        return connection.execute(count).fetchone()[0]


def step_factory(conninfo: str):
    def make_step(index: int):
        connection = psycopg.connect(conninfo, autocommit=True)
        insert = f"INSERT INTO {TABLE} (worker, n) VALUES (%s, %s)"  # noqa: S608
        counter = iter(range(1, 1 << 62))

        def step() -> str:
            connection.execute(insert, (index, next(counter)), prepare=True)
            return "ok"

        return step

    return make_step
