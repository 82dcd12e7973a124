"""``make prod-smoke``: the production stack on loopback, walked through once.

    python tests/harness.py -- .venv/bin/python -m ruilkring.prodsmoke [--web-workers N]

Brings up the real processes with the production settings
(``ruilkring.prodstack``) and checks, over HTTP as a browser behind nginx
would talk to them:

- ``/healthz`` answers ok (database and job queue);
- plain HTTP is redirected to HTTPS, and the security headers are present;
- a static file is served, collected and compressed (WhiteNoise);
- a member signs in with a password and pays another member through the web
  form, and the statement shows the payment;
- a coordinator signs in with a password and an authenticator-app code (a
  wrong code is refused);
- the nightly analysis, sent to the real worker, finishes for every circle;
- the coordinator's signals page shows the circle's signals;
- no request ended in a server error (the web log has no error).

Prints one line per step and exits 1 when one failed; the stack is always
taken down again.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from ruilkring.prodstack import (
    Stack,
    StackError,
    behind_tls_proxy,
    form_with,
    loopback_location,
    page_read,
    prodstack_running,
)

NIGHTLY_TIMEOUT_SECONDS = 180
# Codes a person types before giving up (one half minute may run out on the way).
CODE_ATTEMPTS = 3
REQUEST_TIMEOUT_SECONDS = 30
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "Content-Security-Policy": "default-src 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class StepFailed(AssertionError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


@dataclass
class Visitor:
    """One browser: its session, and the stack it visits."""

    stack: Stack
    session: requests.Session

    @classmethod
    def new(cls, stack: Stack, address: str) -> Visitor:
        session = behind_tls_proxy(requests.Session(), base_url=stack.url, visitor_address=address)
        return cls(stack=stack, session=session)

    def get(self, path: str, **kwargs) -> requests.Response:
        kwargs.setdefault("allow_redirects", False)
        return self.session.get(self.stack.url + path, timeout=REQUEST_TIMEOUT_SECONDS, **kwargs)

    def post(self, path: str, data: dict) -> requests.Response:
        return self.session.post(
            self.stack.url + path,
            data=data,
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )

    def redirected_to(self, response: requests.Response) -> str:
        check(
            response.status_code in (301, 302, 303),
            f"expected a redirect, got {response.status_code}",
        )
        return loopback_location(response.headers["Location"], base_url=self.stack.url)

    def sign_in(self, email: str, password: str) -> requests.Response:
        """The login form; returns the answer to the post (a redirect when it worked)."""
        page = self.get("/account/login/")
        check(page.status_code == 200, f"login page: {page.status_code}")
        form = form_with(page.text, "password")
        return self.post(
            form.action or "/account/login/", {**form.fields, "login": email, "password": password}
        )


class Smoke:
    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.seed = stack.seed
        self.slug = stack.seed["community"]
        self.member = Visitor.new(stack, "127.0.0.11")
        self.coordinator = Visitor.new(stack, "127.0.0.12")
        self.member_signed_in = False
        self.coordinator_signed_in = False

    def health(self) -> str:
        response = Visitor.new(self.stack, "127.0.0.10").get("/healthz")
        body = response.json()
        check(response.status_code == 200, f"/healthz answered {response.status_code}: {body}")
        check(body.get("status") == "ok", f"/healthz: {body}")
        return f"{body['checks']}"

    def https_and_headers(self) -> str:
        plain = requests.get(self.stack.url + "/", allow_redirects=False, timeout=10)
        check(
            plain.status_code == 301 and plain.headers.get("Location", "").startswith("https://"),
            f"plain HTTP was not redirected to HTTPS: {plain.status_code}",
        )
        page = Visitor.new(self.stack, "127.0.0.10").get("/account/login/")
        check(page.status_code == 200, f"login page: {page.status_code}")
        missing = [
            f"{name} (got {page.headers.get(name)!r})"
            for name, expected in SECURITY_HEADERS.items()
            if expected not in page.headers.get(name, "")
        ]
        check(not missing, "missing or wrong: " + ", ".join(missing))
        cookie = page.headers.get("Set-Cookie", "")
        check("csrftoken=" in cookie and "Secure" in cookie, f"CSRF cookie not Secure: {cookie}")
        return "HTTP -> HTTPS, " + ", ".join(SECURITY_HEADERS)

    def static_file(self) -> str:
        visitor = Visitor.new(self.stack, "127.0.0.10")
        sheets = page_read(visitor.get("/account/login/").text).stylesheets
        check(bool(sheets), "the page links no stylesheet")
        path = sheets[-1]
        response = visitor.get(path, headers={"Accept-Encoding": "gzip"})
        check(response.status_code == 200, f"{path}: {response.status_code}")
        check(
            response.headers.get("Content-Type", "").startswith("text/css"),
            f"{path}: {response.headers.get('Content-Type')}",
        )
        check(
            "immutable" in response.headers.get("Cache-Control", ""),
            f"{path}: not cached as a hashed, collected file "
            f"({response.headers.get('Cache-Control')})",
        )
        check(
            response.headers.get("Content-Encoding") == "gzip",
            f"{path}: not served compressed",
        )
        return f"{path} ({len(response.content)} bytes, gzip, immutable)"

    def member_pays(self) -> str:
        member = self.seed["members"][0]
        signed_in = self.member.sign_in(member["email"], self.seed["password"])
        self.member.redirected_to(signed_in)
        self.member_signed_in = True
        path = f"/c/{self.slug}/pay/"
        page = self.member.get(path)
        check(page.status_code == 200, f"{path}: {page.status_code}")
        form = form_with(page.text, "amount")
        payees = [value for value in form.options.get("other", []) if value]
        check(bool(payees), "the payment form offers nobody to pay")
        memo = f"Proefrit {secrets.token_hex(4)}"
        answer = self.member.post(
            path, {**form.fields, "other": payees[0], "amount": "0,25", "memo": memo}
        )
        check(
            answer.status_code == 302,
            f"the payment was not accepted ({answer.status_code})",
        )
        statement_path = self.member.redirected_to(answer)
        statement = self.member.get(statement_path)
        check(statement.status_code == 200, f"{statement_path}: {statement.status_code}")
        check(memo in statement.text, f"the statement at {statement_path} does not show {memo!r}")
        return f"{member['email']} paid 0,25 ({memo!r} on {statement_path})"

    def coordinator_signs_in(self) -> str:
        coordinator = self.seed["coordinator"]
        answer = self.coordinator.sign_in(coordinator, self.seed["password"])
        second_step = self.coordinator.redirected_to(answer)
        check(
            second_step.startswith("/account/2fa/authenticate/"),
            f"the password alone let the coordinator in (to {second_step})",
        )
        page = self.coordinator.get(second_step)
        check(page.status_code == 200, f"{second_step}: {page.status_code}")
        form = form_with(page.text, "code")
        from accounts.demo import demo_totp_code

        wrong = str((int(demo_totp_code()) + 1) % 1_000_000).zfill(6)
        refused = self.coordinator.post(second_step, {**form.fields, "code": wrong})
        check(refused.status_code == 200, f"a wrong code was not refused ({refused.status_code})")
        # The right code; typed again when the half minute ran out on the way.
        answer, used = refused, wrong
        for _attempt in range(CODE_ATTEMPTS):
            while (code := demo_totp_code()) == used:
                time.sleep(1)
            form = form_with(answer.text, "code")
            answer, used = self.coordinator.post(second_step, {**form.fields, "code": code}), code
            if answer.status_code != 200:
                break
        landing = self.coordinator.redirected_to(answer)
        check(
            not landing.startswith("/account/"),
            f"the code was not accepted (sent to {landing})",
        )
        self.coordinator_signed_in = True
        return f"{coordinator}: password, a wrong code refused, then in ({landing})"

    def nightly_analysis(self) -> str:
        from accounts.models import Community
        from reciprocity.models import AnalysisRun, RunStatus
        from ruilkring.celery import app

        sent = time.monotonic()
        before = AnalysisRun.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        app.send_task("reciprocity.tasks.reciprocity_nightly")
        expected = Community.objects.count()
        deadline = time.monotonic() + NIGHTLY_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            runs = list(AnalysisRun.objects.filter(pk__gt=before).values_list("status", flat=True))
            if len(runs) >= expected and all(
                status in (RunStatus.DONE, RunStatus.FAILED) for status in runs
            ):
                break
            time.sleep(1)
        else:
            raise StepFailed(
                f"the nightly analysis did not finish within {NIGHTLY_TIMEOUT_SECONDS}s "
                f"({runs or 'no runs'})"
            )
        check(all(status == RunStatus.DONE for status in runs), f"analysis runs: {runs}")
        return f"{len(runs)} circles analysed by the worker in {time.monotonic() - sent:.1f}s"

    def signals_page(self) -> str:
        check(self.coordinator_signed_in, "skipped: the coordinator is not signed in")
        path = f"/c/{self.slug}/reciprocity/flags/"
        page = self.coordinator.get(path)
        check(page.status_code == 200, f"{path}: {page.status_code}")
        flags = {link for link in page_read(page.text).links if link.startswith(path)}
        flags = {link for link in flags if link[len(path) :].split("/")[0].isdigit()}
        check(bool(flags), f"{path} shows no signals")
        return f"{path}: {len(flags)} signals listed"

    def no_server_errors(self) -> str:
        log = (self.stack.logs / "web.log").read_text(errors="replace")
        errors = [line for line in log.splitlines() if '"level": "ERROR"' in line]
        check(not errors, f"{len(errors)} errors in the web log, first: {errors[:1]}")
        return "the web log has no errors"


def run(stack: Stack) -> bool:
    os.environ.update(stack.env)
    import django

    django.setup()
    smoke = Smoke(stack)
    steps: list[tuple[str, Callable[[], str]]] = [
        ("health", smoke.health),
        ("https and security headers", smoke.https_and_headers),
        ("static file", smoke.static_file),
        ("member signs in and pays on the web form", smoke.member_pays),
        ("coordinator signs in with password and code", smoke.coordinator_signs_in),
        ("nightly analysis on the worker", smoke.nightly_analysis),
        ("coordinator's signals page", smoke.signals_page),
        ("health after the run", smoke.health),
        ("no server errors", smoke.no_server_errors),
    ]
    passed = True
    for name, step in steps:
        started = time.monotonic()
        try:
            detail = step()
        except (StepFailed, StackError, requests.RequestException, ValueError) as error:
            passed = False
            print(f"FAIL  {name}: {error}", flush=True)
        else:
            print(f"ok    {name} ({time.monotonic() - started:.1f}s): {detail}", flush=True)
    from django.db import connections

    connections.close_all()  # before the stack drops its database
    return passed


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m ruilkring.prodsmoke")
    parser.add_argument("--web-workers", type=int, default=2)
    arguments = parser.parse_args(argv)
    # A SIGTERM (CI, a user's kill) unwinds like Ctrl-C, so the stack comes down.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    started = time.monotonic()
    try:
        with prodstack_running(web_workers=arguments.web_workers) as stack:
            print(
                f"prod-smoke: the stack is up at {stack.url} "
                f"after {time.monotonic() - started:.0f}s",
                flush=True,
            )
            passed = run(stack)
            if not passed:
                print(stack.log_tails(), file=sys.stderr, flush=True)
    except StackError as error:
        print(f"FAIL  the stack did not come up: {error}", flush=True)
        return 1
    verdict = "passed" if passed else "FAILED"
    print(f"prod-smoke {verdict} in {time.monotonic() - started:.0f}s", flush=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
