"""The production stack on loopback: the real processes, the real settings.

    with prodstack_running(web_workers=2) as stack:
        ...  # stack.url, stack.env, stack.seed

Used by ``make prod-smoke`` (``ruilkring.prodsmoke``) and the soak
(``tests/perf/soak.py``). Given the PostgreSQL and Redis that ``tests/harness.py``
starts (``DATABASE_URL``, ``DJANGO_REDIS_URL``, ``CELERY_BROKER_URL``), it:

- creates a database of its own in that PostgreSQL (``ruilkring_smoke_<random>``)
  and two Redis databases of its own (the cache and the job queue, apart from
  the test suite's), so it shares nothing with the suite's data (one stack at a
  time per harness);
- sets the environment a real installation has (``deploy/ruilkring.env.example``):
  ``ruilkring.settings.production``, a generated secret key, the allowed hosts
  127.0.0.1 and localhost, static files and media in a temporary directory;
- runs ``migrate``, ``collectstatic`` and the demo seed (which gives the
  coordinators an authenticator app, as production requires) and gives a few
  members a personal access token for the API;
- starts gunicorn, the Celery worker and Celery beat with the command lines of
  ``deploy/ruilkring-*.service``, and waits until ``/healthz`` says ok;
- on leaving, stops every process group (SIGTERM, then SIGKILL after a
  timeout), drops the database and empties its Redis databases. The processes'
  logs are in a temporary directory, printed when something failed.

No proxy runs in front: the clients send what nginx would (``deploy/nginx/``):
``X-Forwarded-Proto: https`` and the visitor's address in ``X-Forwarded-For``.
The production settings stay as they are: HTTPS redirect, HSTS, secure cookies.
``behind_tls_proxy`` prepares a ``requests`` session to talk like that.

The seed step runs inside the stack's environment as
``python -m ruilkring.prodstack seed --out FILE [--api-tokens N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import redis
import requests
from requests.cookies import RequestsCookieJar

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
HOST = "127.0.0.1"
HEALTH_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 20
COMMAND_TIMEOUT_SECONDS = 900
# The stack's own Redis databases (cache, job queue), apart from the 0 and 1
# that the harness hands to the test suite.
REDIS_CACHE_DB = 14
REDIS_BROKER_DB = 15
LOG_TAIL_LINES = 80
HARNESS_VARIABLES = ("DATABASE_URL", "DJANGO_REDIS_URL", "CELERY_BROKER_URL")


class StackError(RuntimeError):
    """The stack could not be set up or did not come up healthy."""


@dataclass
class Stack:
    """A running stack: where it listens, its environment, its processes and the
    demo logins the seed step reported."""

    url: str
    env: dict[str, str]
    workdir: Path
    seed: dict
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.workdir / "logs"

    def log_tails(self, lines: int = LOG_TAIL_LINES) -> str:
        """The last lines of every process's log, for a failure report."""
        parts = []
        for log in sorted(self.logs.glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"----- {log.name} (last {len(text)} lines) -----\n" + "\n".join(text))
        return "\n".join(parts)


# -- Talking to the stack as a browser behind nginx would ------------------------------


class TlsTerminatedCookieJar(RequestsCookieJar):
    """Keeps the cookies the site marks Secure and sends them back over the
    plain loopback connection: behind nginx, the browser's side of the
    connection is HTTPS. (requests copies the jar for every request, so a
    cookie policy of the jar's own would not travel with it.)"""

    def set_cookie(self, cookie, *args, **kwargs):
        cookie.secure = False
        return super().set_cookie(cookie, *args, **kwargs)


def behind_tls_proxy(session, *, base_url: str, visitor_address: str = HOST):
    """Make a ``requests`` session send what nginx sends on for a browser: the
    request came over HTTPS, from ``visitor_address``, and a form post carries
    its page's origin (browsers send Origin; Django checks it over HTTPS)."""
    parts = urlsplit(base_url)
    session.headers.update(
        {
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": visitor_address,
            "Origin": f"https://{parts.netloc}",
        }
    )
    session.cookies = TlsTerminatedCookieJar()
    return session


def loopback_location(location: str, *, base_url: str) -> str:
    """A redirect's target as a path on the loopback server (an absolute
    ``https://`` address on the site becomes its path)."""
    parts = urlsplit(location)
    if parts.netloc and parts.netloc != urlsplit(base_url).netloc:
        raise StackError(f"redirect off the site: {location}")
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))


@dataclass
class HtmlForm:
    action: str
    fields: dict[str, str]
    options: dict[str, list[str]]


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[HtmlForm] = []
        self.links: list[str] = []
        self.stylesheets: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(HtmlForm(action=attributes.get("action", ""), fields={}, options={}))
        elif tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        elif tag == "link" and attributes.get("rel") == "stylesheet":
            self.stylesheets.append(attributes.get("href", ""))
        elif not self.forms:
            return
        elif tag in ("input", "textarea") and attributes.get("name"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.forms[-1].fields[attributes["name"]] = attributes.get("value", "")
        elif tag == "select":
            self._select = attributes.get("name")
            self.forms[-1].options.setdefault(self._select or "", [])
        elif tag == "option" and self._select is not None:
            self.forms[-1].options[self._select].append(attributes.get("value", ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def page_read(html: str) -> _FormParser:
    """The forms (fields and select options), links and stylesheets of a page."""
    parser = _FormParser()
    parser.feed(html)
    return parser


def form_with(html: str, field_name: str) -> HtmlForm:
    """The page's form that has a field named ``field_name``."""
    for form in page_read(html).forms:
        if field_name in form.fields or field_name in form.options:
            return form
    raise StackError(f"no form with a field {field_name!r} on the page")


# -- Bringing the stack up and down ---------------------------------------------------


def _harness_addresses() -> dict[str, str]:
    missing = [name for name in HARNESS_VARIABLES if not os.environ.get(name)]
    if missing:
        raise StackError(
            f"{', '.join(missing)} not set: run this inside the test harness "
            "(python tests/harness.py -- ...), as `make prod-smoke` does."
        )
    return {name: os.environ[name] for name in HARNESS_VARIABLES}


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def _database_admin(url: str, statement: str) -> None:
    with psycopg.connect(url.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(statement)


def _redis_flush(url: str) -> None:
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stack_environment(
    *, database_url: str, redis_url: str, broker_url: str, workdir: Path
) -> dict[str, str]:
    """The environment of a production installation, on loopback. Every value a
    real one sets in /etc/ruilkring/ruilkring.env (deploy/ruilkring.env.example)."""
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DJANGO_", "RUILKRING_", "CELERY_", "PYTEST"))
        and name != "DATABASE_URL"
    }
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "ruilkring.settings.production",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": database_url,
        "DJANGO_REDIS_URL": redis_url,
        "CELERY_BROKER_URL": broker_url,
        # The documented proxy header: the clients send X-Forwarded-Proto as nginx does.
        "DJANGO_SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO",
        "DJANGO_TRUSTED_PROXY_COUNT": "1",
        "DJANGO_STATIC_ROOT": str(workdir / "static"),
        "DJANGO_MEDIA_ROOT": str(workdir / "media"),
        "DJANGO_ACCESSIBILITY_STATEMENT_URL": "/accessibility/",
        "DJANGO_SITE_NAME": "Ruilkring (loopback)",
        # No mail server listens on loopback: mail goes to the worker's log.
        "DJANGO_EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
        "PYTHONUNBUFFERED": "1",
    }


def _manage(env: dict[str, str], workdir: Path, name: str, *args: str) -> None:
    log = workdir / "logs" / f"{name}.log"
    with log.open("ab") as output:
        completed = subprocess.run(
            [sys.executable, *args],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=COMMAND_TIMEOUT_SECONDS,
            check=False,
        )
    if completed.returncode != 0:
        raise StackError(f"`{' '.join(args)}` exited with {completed.returncode} (see {log.name})")


def _start(env: dict[str, str], workdir: Path, name: str, argv: list[str]) -> subprocess.Popen:
    """A process in its own process group (so it and its children stop together)."""
    log = (workdir / "logs" / f"{name}.log").open("ab")
    try:
        return subprocess.Popen(
            argv,
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    finally:
        log.close()


def process_group_stop(process: subprocess.Popen, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """SIGTERM to the whole process group; SIGKILL to what is left after ``timeout``."""
    if process.poll() is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # stray children of a dead leader
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(10)


def _healthy(url: str) -> bool:
    with contextlib.suppress(requests.RequestException, ValueError):
        response = requests.get(
            url + "/healthz",
            headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": HOST},
            timeout=5,
            allow_redirects=False,
        )
        return response.status_code == 200 and response.json().get("status") == "ok"
    return False


def _wait_healthy(stack: Stack) -> None:
    deadline = time.monotonic() + HEALTH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        for name, process in stack.processes.items():
            if process.poll() is not None:
                raise StackError(f"{name} exited with {process.returncode} while starting")
        worker_log = (stack.logs / "worker.log").read_text(errors="replace")
        if " ready." in worker_log and _healthy(stack.url):
            return
        time.sleep(0.5)
    raise StackError(f"the stack was not healthy (web and worker) within {HEALTH_TIMEOUT_SECONDS}s")


@contextlib.contextmanager
def prodstack_running(
    *, web_workers: int = 2, worker_concurrency: int = 2, api_tokens: int = 0
) -> Iterator[Stack]:
    """Bring the stack up, yield it, and always take it down again.

    ``api_tokens``: how many demo members get a personal access token (listed
    in ``stack.seed["members"]``). Raises ``StackError`` (after printing the
    logs) when it does not come up healthy.
    """
    addresses = _harness_addresses()
    workdir = Path(tempfile.mkdtemp(prefix="ruilkring-prodstack-"))
    for folder in ("logs", "static", "media"):
        (workdir / folder).mkdir()
    database = f"ruilkring_smoke_{secrets.token_hex(4)}"
    admin_url = addresses["DATABASE_URL"]
    database_url = _with_path(admin_url, "/" + database)
    redis_url = _with_path(addresses["DJANGO_REDIS_URL"], f"/{REDIS_CACHE_DB}")
    broker_url = _with_path(addresses["CELERY_BROKER_URL"], f"/{REDIS_BROKER_DB}")
    env = stack_environment(
        database_url=database_url, redis_url=redis_url, broker_url=broker_url, workdir=workdir
    )
    port = _free_port()
    stack = Stack(url=f"http://{HOST}:{port}", env=env, workdir=workdir, seed={})
    failed = True
    database_created = False
    try:
        for url in (redis_url, broker_url):
            _redis_flush(url)
        _database_admin(admin_url, f'CREATE DATABASE "{database}"')
        database_created = True
        # collectstatic only writes files (and compresses them, which takes a
        # while): it runs beside the migrations and the seed.
        collect = _start(
            env,
            workdir,
            "collectstatic",
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        )
        stack.processes["collectstatic"] = collect
        _manage(env, workdir, "migrate", "manage.py", "migrate", "--noinput", "-v0")
        seed_file = workdir / "seed.json"
        _manage(
            env,
            workdir,
            "seed",
            "-m",
            "ruilkring.prodstack",
            "seed",
            "--out",
            str(seed_file),
            "--api-tokens",
            str(api_tokens),
        )
        stack.seed = json.loads(seed_file.read_text())
        if collect.wait(COMMAND_TIMEOUT_SECONDS) != 0:
            raise StackError(f"collectstatic exited with {collect.returncode}")
        del stack.processes["collectstatic"]
        # The command lines of deploy/ruilkring-{web,worker,beat}.service.
        stack.processes["web"] = _start(
            env,
            workdir,
            "web",
            [
                str(BIN_DIR / "gunicorn"),
                "ruilkring.wsgi",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(web_workers),
                "--no-control-socket",
            ],
        )
        celery = [str(BIN_DIR / "celery"), "--app", "ruilkring"]
        stack.processes["worker"] = _start(
            env,
            workdir,
            "worker",
            [*celery, "worker", "--loglevel", "INFO", "--concurrency", str(worker_concurrency)],
        )
        stack.processes["beat"] = _start(
            env,
            workdir,
            "beat",
            [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(workdir / "celerybeat-schedule"),
            ],
        )
        _wait_healthy(stack)
        yield stack
        failed = False
    except (KeyboardInterrupt, SystemExit):
        failed = False  # stopped on purpose: nothing to report
        raise
    finally:
        for process in reversed(stack.processes.values()):
            process_group_stop(process)
        if failed:
            print(stack.log_tails(), file=sys.stderr, flush=True)
        with contextlib.suppress(Exception):
            for url in (redis_url, broker_url):
                _redis_flush(url)
        if database_created:
            _database_admin(admin_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        if failed:
            print(f"prodstack: the logs stay in {workdir / 'logs'}", file=sys.stderr, flush=True)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


# -- The seed step, run inside the stack's environment -----------------------------------


def seed(*, out: Path, api_tokens: int) -> None:
    """Load the demo, give ``api_tokens`` members a personal access token, and
    write the logins. The demo gives its coordinators an authenticator app with
    a known key (``accounts.demo.demo_totp_code`` makes its current code)."""
    import django

    django.setup()
    from allauth.mfa.models import Authenticator
    from django.core.management import call_command

    from accounts import demo
    from accounts.models import Membership, Role, Status
    from accounts.services import api_token_create
    from ledger.models import Account

    call_command("seed_demo", stdout=io.StringIO())
    spec = demo.COMMUNITIES[0]
    # Members who sign in with a password alone.
    with_two_factor = Authenticator.objects.values("user_id")
    memberships = (
        Membership.objects.filter(community__slug=spec.slug, status=Status.ACTIVE, role=Role.MEMBER)
        .exclude(user__in=with_two_factor)
        .exclude(user__is_superuser=True)
        .exclude(user__is_municipality_observer=True)
        .exclude(user__memberships__role=Role.COORDINATOR)
        .select_related("user")
        .distinct()
        .order_by("pk")
    )
    # The tokens go to the members with the most room between their balance
    # and their limits, so that API payments are mostly posted, not refused.
    room = {
        account.membership_id: min(
            account.balance - account.effective_floor, account.effective_ceiling - account.balance
        )
        for account in Account.objects.filter(membership__in=memberships).select_related(
            "community"
        )
    }
    with_token = set(sorted(room, key=lambda membership: -room[membership])[:api_tokens])
    members = []
    for membership in memberships:
        member = {"email": membership.user.email, "membership": membership.pk}
        if membership.pk in with_token:
            member["token"] = api_token_create(user=membership.user, name="loopback stack")[1]
        members.append(member)
    out.write_text(
        json.dumps(
            {
                "community": spec.slug,
                "password": demo.DEMO_PASSWORD,
                "coordinator": spec.coordinator_email,
                "members": members,
            },
            indent=2,
        )
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ruilkring.prodstack")
    commands = parser.add_subparsers(dest="command", required=True)
    seed_command = commands.add_parser("seed", help="load the demo in the stack's database")
    seed_command.add_argument("--out", type=Path, required=True)
    seed_command.add_argument("--api-tokens", type=int, default=0)
    arguments = parser.parse_args(argv)
    seed(out=arguments.out, api_tokens=arguments.api_tokens)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
