"""Back up the database and restore it into a new one: ``make backup`` and ``make restore``.

    python -m ruilkring.backup write [--file PATH]
    python -m ruilkring.backup restore --file PATH --into postgres://.../new_database

``write`` runs ``pg_dump`` of ``DATABASE_URL`` in PostgreSQL's custom format, to
``var/backups/ruilkring-<UTC time>.dump`` unless told otherwise. ``restore``
creates the database named in ``--into`` (it must not exist yet: a restore never
writes over a database), loads the dump with ``pg_restore``, and then checks the
books there with ``manage.py ledger_verify``; it exits non-zero when any step
fails. The dump loads every table's rows before it creates the ledger's
triggers, so restoring replays no entry.

The PostgreSQL client programs come from ``PATH``, or from ``RUILKRING_PG_BINDIR``
when that is set (for example ``/usr/lib/postgresql/15/bin``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import environ
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
BACKUP_DIR = ROOT / "var" / "backups"


class BackupError(Exception):
    """A backup or restore that cannot go ahead; nothing was changed."""


def _postgres(database_url: str) -> dict:
    config = environ.Env.db_url_config(database_url)
    if "postgresql" not in config["ENGINE"]:
        raise BackupError(
            "Backup and restore work on PostgreSQL; this DATABASE_URL is not a PostgreSQL one."
        )
    return config


def _client_environment(config: dict) -> dict[str, str]:
    """The connection for the client programs, passed in their environment so
    the password never shows in the process list."""
    environment = dict(os.environ)
    for variable, key in (
        ("PGHOST", "HOST"),
        ("PGPORT", "PORT"),
        ("PGUSER", "USER"),
        ("PGPASSWORD", "PASSWORD"),
        ("PGDATABASE", "NAME"),
    ):
        if config.get(key):
            environment[variable] = str(config[key])
    return environment


def _program(name: str) -> str:
    bindir = os.environ.get("RUILKRING_PG_BINDIR")
    return str(Path(bindir) / name) if bindir else name


def _run(argv: list[str], *, environment: dict[str, str]) -> None:
    try:
        completed = subprocess.run(argv, env=environment, capture_output=True, text=True)
    except FileNotFoundError as error:
        raise BackupError(
            f"{argv[0]} is missing: install the PostgreSQL client (apt-get install "
            "postgresql-client) or set RUILKRING_PG_BINDIR."
        ) from error
    if completed.returncode != 0:
        raise BackupError(f"{Path(argv[0]).name} failed:\n{completed.stderr.strip()}")


def backup_write(*, database_url: str, path: Path | None = None) -> Path:
    """Write a custom-format ``pg_dump`` of ``database_url`` and return its path.
    The file appears only when the dump is complete. Raises BackupError."""
    config = _postgres(database_url)
    if path is None:
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        path = BACKUP_DIR / f"ruilkring-{stamp}.dump"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        _run(
            [_program("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}"],
            environment=_client_environment(config),
        )
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def backup_restore(*, path: Path, database_url: str) -> None:
    """Create the database of ``database_url``, load the dump at ``path`` into
    it, and check its books. Raises BackupError when the file is missing, the
    database exists already, or a step fails; a failed load drops the new
    database again."""
    config = _postgres(database_url)
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    name = config["NAME"]
    maintenance = {**config, "NAME": "postgres"}
    with _connect(maintenance) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists:
            raise BackupError(
                f"The database {name} exists already. A restore goes into a new database: "
                "name one that does not exist."
            )
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        _run(
            [
                _program("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                f"--dbname={name}",
                str(path),
            ],
            environment=_client_environment(config),
        )
    except BackupError:
        with _connect(maintenance) as connection:
            connection.execute(sql.SQL("DROP DATABASE {}").format(sql.Identifier(name)))
        raise
    _books_verify(database_url)


def _connect(config: dict) -> psycopg.Connection:
    return psycopg.connect(
        host=config.get("HOST") or None,
        port=config.get("PORT") or None,
        user=config.get("USER") or None,
        password=config.get("PASSWORD") or None,
        dbname=config["NAME"],
        autocommit=True,
    )


def _books_verify(database_url: str) -> None:
    """``manage.py ledger_verify`` on the restored database, as its own process."""
    environment = {**os.environ, "DATABASE_URL": database_url}
    environment.setdefault("DJANGO_SETTINGS_MODULE", "ruilkring.settings.base")
    completed = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "ledger_verify"],
        env=environment,
        capture_output=True,
        text=True,
    )
    print(completed.stdout.strip())
    if completed.returncode != 0:
        raise BackupError(f"The restored books are not consistent:\n{completed.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ruilkring.backup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser("write", help="dump DATABASE_URL to a file")
    write.add_argument("--file", type=Path, help="where to write (default: var/backups/)")
    restore = commands.add_parser("restore", help="load a dump into a new database")
    restore.add_argument("--file", type=Path, required=True, help="the dump to load")
    restore.add_argument("--into", required=True, help="the new database, as a postgres:// URL")
    arguments = parser.parse_args(argv)
    try:
        if arguments.command == "write":
            database_url = os.environ.get("DATABASE_URL", "")
            if not database_url:
                raise BackupError("Set DATABASE_URL to the database to back up.")
            path = backup_write(database_url=database_url, path=arguments.file)
            print(f"Backup written: {path}")
        else:
            backup_restore(path=arguments.file, database_url=arguments.into)
            print(f"Restored {arguments.file} into a new database, and its books are consistent.")
    except BackupError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
