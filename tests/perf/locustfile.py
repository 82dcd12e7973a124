"""The soak's visitors: members on the site and on the API, and a coordinator.

Run by ``tests/perf/soak.py`` against the production stack on loopback
(``ruilkring.prodstack``); it passes the stack's environment, with
``RUILKRING_SOAK_SEED`` (the demo logins and API tokens the stack's seed step
wrote) and ``RUILKRING_SOAK_REPORT`` (where to write the figures at the end).

Every visitor talks as a browser or client behind nginx does: the request came
over HTTPS (``X-Forwarded-Proto``), from its own address (``X-Forwarded-For``),
so the sign-in rate limits count each visitor apart, as in production.

The mix (``MemberOnTheWeb``, ``MemberOnTheApi``, ``Coordinator``): members sign in
on the login form and browse and search listings, open a listing, their
circles, the circle's page, their statement and their own reciprocity figures,
and pay on the web form; API clients (personal access tokens) read their
memberships, account, statement, listings and exchanges, pay with an
Idempotency-Key (now and then sending a payment again, which must answer with
the original), and respond to a listing whose owner accepts; the coordinator
signs in with a password and an authenticator-app code and reads the signals,
the circle's health, the accounts, the applications and the moderation queue.

The ratio phase (``PaymentApiUser``, ``TrivialApiUser``, the same number of each,
no think time): payments on the API next to the cheapest signed-in API call,
``GET me/memberships/``.

A refusal (a payment past a limit, a key sent again with another body) is a 4xx
and counts as an expected answer; a 5xx or a failed connection is a failure.
Statuses are counted per request type and written to the report.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

# locust puts this file's folder first on the import path, where the ledger
# benchmark's package (tests/perf/ledger/) would hide the ledger app.
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import django
from locust import HttpUser, between, constant, events, task

from ledger.keys import idempotency_key_new
from ruilkring.prodstack import behind_tls_proxy, form_with, loopback_location, page_read

django.setup()  # the stack's production settings: for the demo's authenticator-app codes

SEED = json.loads(Path(os.environ["RUILKRING_SOAK_SEED"]).read_text())
REPORT = os.environ.get("RUILKRING_SOAK_REPORT", "")
RATIO_USERS_EACH = int(os.environ.get("RUILKRING_SOAK_RATIO_USERS_EACH", "5"))
SLUG = SEED["community"]
PASSWORD = SEED["password"]
MEMBERS = SEED["members"]
TOKEN_HOLDERS = [member for member in MEMBERS if "token" in member]
TOKENS_BY_MEMBERSHIP = {member["membership"]: member["token"] for member in TOKEN_HOLDERS}
MEMBERSHIPS = [member["membership"] for member in MEMBERS]
API = f"/api/v1/communities/{SLUG}"
# Codes a person types before giving up (one half minute may run out on the way).
CODE_ATTEMPTS = 3
SEARCH_WORDS = ["fiets", "tuin", "koffie", "computer", "soep", "oppas", "hond", "taal", "kraan"]

web_members = itertools.cycle(MEMBERS)
api_members = itertools.cycle(TOKEN_HOLDERS)
visitor_numbers = itertools.count(1)
statuses: defaultdict[str, Counter] = defaultdict(Counter)
problems = Counter()
# Listings whose owner holds a token (the owner accepts an API exchange), and
# every listing id the web visitors saw; both filled as the visitors browse.
api_owned_listings: list[dict] = []
web_listing_ids: set[int] = set()
listing_discovery: list = []


def visitor_address() -> str:
    """Each visitor's own address, as nginx passes it on; on loopback, where the
    whole test stays."""
    number = next(visitor_numbers)
    return f"127.1.{number // 250}.{number % 250 + 1}"


def amount_text(minor: int) -> str:
    """An amount as the web form takes it, in the circle's unit with a decimal comma."""
    return f"{minor // 100},{minor % 100:02d}"


@events.request.add_listener
def _count_status(name, response, exception, **_kwargs) -> None:
    """Per request type: each status, a refusal on the API with its problem code
    ("422 limit_exceeded"), and failed connections."""
    if response is None or getattr(response, "status_code", 0) == 0:
        statuses[name]["transport error"] += 1
        return
    status = str(response.status_code)
    if response.headers.get("Content-Type", "").startswith("application/problem+json"):
        with contextlib.suppress(ValueError):
            status += f" {response.json().get('code', '')}".rstrip()
    statuses[name][status] += 1


def _judge(response, *, ok: tuple[int, ...], refused: tuple[int, ...] = ()) -> bool:
    """Mark a caught response: ``ok`` and the expected refusals pass, the rest fails."""
    if response.status_code in ok:
        response.success()
        return True
    if response.status_code in refused:
        response.success()
        return False
    response.failure(f"unexpected {response.status_code}")
    return False


class Visitor(HttpUser):
    abstract = True

    def on_start(self) -> None:
        behind_tls_proxy(self.client, base_url=self.host, visitor_address=visitor_address())

    def page(self, path: str, name: str | None = None) -> str:
        with self.client.get(path, name=name or path, catch_response=True) as response:
            _judge(response, ok=(200,))
            return response.text

    def sign_in(self, email: str) -> bool:
        """The login form (and the second step with an authenticator-app code)."""
        form = form_with(self.page("/account/login/"), "password")
        with self.client.post(
            "/account/login/",
            data={**form.fields, "login": email, "password": PASSWORD},
            allow_redirects=False,
            name="/account/login/ (sign in)",
            catch_response=True,
        ) as response:
            if not _judge(response, ok=(302,)):
                problems["sign-in failed"] += 1
                return False
            landing = loopback_location(response.headers["Location"], base_url=self.host)
        if landing.startswith("/account/2fa/authenticate/"):
            landing = self.second_step(landing)
        if landing.startswith("/account/"):
            problems["sign-in failed"] += 1
            return False
        return True

    def second_step(self, path: str) -> str:
        """Type the authenticator app's code; where it is refused (the half minute
        ran out on the way), type the next one, as a person would. Where to next."""
        from accounts.demo import demo_totp_code

        html = self.page(path, name="/account/2fa/authenticate/")
        refused = ""
        for _attempt in range(CODE_ATTEMPTS):
            while (code := demo_totp_code()) == refused:
                time.sleep(1)
            form = form_with(html, "code")
            with self.client.post(
                path,
                data={**form.fields, "code": code},
                allow_redirects=False,
                name="/account/2fa/authenticate/ (code)",
                catch_response=True,
            ) as response:
                if _judge(response, ok=(302,), refused=(200,)):
                    return loopback_location(response.headers["Location"], base_url=self.host)
                html, refused = response.text, code
        return path


class MemberOnTheWeb(Visitor):
    weight = 5
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        self.member = next(web_members)
        self.signed_in = self.sign_in(self.member["email"])

    @task(3)
    def listings(self) -> None:
        html = self.page(f"/c/{SLUG}/listings/", name="/c/[slug]/listings/")
        prefix = f"/c/{SLUG}/listings/"
        for link in page_read(html).links:
            rest = link[len(prefix) :].rstrip("/") if link.startswith(prefix) else ""
            if rest.isdigit():
                web_listing_ids.add(int(rest))

    @task(3)
    def search(self) -> None:
        self.page(
            f"/c/{SLUG}/listings/?q={random.choice(SEARCH_WORDS)}",
            name="/c/[slug]/listings/?q=",
        )

    @task(2)
    def listing(self) -> None:
        if web_listing_ids:
            listing_id = random.choice(sorted(web_listing_ids))
            self.page(f"/c/{SLUG}/listings/{listing_id}/", name="/c/[slug]/listings/[id]/")

    @task(1)
    def my_circles(self) -> None:
        self.page("/my-communities/")

    @task(1)
    def circle(self) -> None:
        self.page(f"/c/{SLUG}/", name="/c/[slug]/")

    @task(2)
    def statement(self) -> None:
        self.page(f"/c/{SLUG}/account/", name="/c/[slug]/account/")

    @task(1)
    def my_reciprocity(self) -> None:
        self.page(f"/c/{SLUG}/reciprocity/mine/", name="/c/[slug]/reciprocity/mine/")

    @task(1)
    def exchanges(self) -> None:
        self.page(f"/c/{SLUG}/exchanges/", name="/c/[slug]/exchanges/")

    @task(1)
    def pay_on_the_form(self) -> None:
        form = form_with(self.page(f"/c/{SLUG}/pay/", name="/c/[slug]/pay/"), "amount")
        payees = [value for value in form.options.get("other", []) if value]
        with self.client.post(
            f"/c/{SLUG}/pay/",
            data={
                **form.fields,
                "other": random.choice(payees),
                "amount": amount_text(random.randint(1, 150)),
                "memo": "Bedankt voor de hulp",
            },
            allow_redirects=False,
            name="/c/[slug]/pay/ (pay)",
            catch_response=True,
        ) as response:
            # 400: the form again with the reason, such as a limit.
            _judge(response, ok=(302,), refused=(400,))


class ApiClient(Visitor):
    abstract = True

    def on_start(self) -> None:
        super().on_start()
        self.member = next(api_members)
        self.client.headers["Authorization"] = f"Bearer {self.member['token']}"

    def api_get(self, path: str, name: str) -> dict | list | None:
        with self.client.get(API + path, name=name, catch_response=True) as response:
            if _judge(response, ok=(200,)):
                return response.json()
            return None

    def pay(self, *, key: str | None = None, payee: int | None = None, amount: int = 0) -> None:
        payee = payee or random.choice([m for m in MEMBERSHIPS if m != self.member["membership"]])
        body = {"payee": payee, "amount": amount or random.randint(1, 150), "memo": "Tuin"}
        with self.client.post(
            API + "/payments/",
            json=body,
            headers={"Idempotency-Key": key or idempotency_key_new()},
            name="POST /api/v1/communities/[slug]/payments/",
            catch_response=True,
        ) as response:
            # 200: the same key and body again, answered with the original;
            # 422: refused by a limit or a member's status.
            _judge(response, ok=(200, 201) if key else (201,), refused=(422,))


class MemberOnTheApi(ApiClient):
    weight = 3
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        super().on_start()
        if not listing_discovery:
            listing_discovery.append(self)  # one visitor looks them up, once
            self.listings_of_token_holders()

    def listings_of_token_holders(self) -> None:
        page, pages = 1, 1
        while page <= pages:
            found = self.api_get(f"/listings/?page={page}", name="/api/v1/.../listings/?page=")
            if found is None:
                return
            api_owned_listings.extend(
                listing for listing in found["results"] if listing["owner"] in TOKENS_BY_MEMBERSHIP
            )
            page, pages = page + 1, found["pages"]

    @task(2)
    def memberships(self) -> None:
        with self.client.get(
            "/api/v1/me/memberships/", name="/api/v1/me/memberships/", catch_response=True
        ) as response:
            _judge(response, ok=(200,))

    @task(2)
    def account(self) -> None:
        self.api_get("/account/", name="/api/v1/.../account/")

    @task(1)
    def statement(self) -> None:
        self.api_get("/account/statement/", name="/api/v1/.../account/statement/")

    @task(2)
    def search(self) -> None:
        self.api_get(f"/listings/?q={random.choice(SEARCH_WORDS)}", name="/api/v1/.../listings/?q=")

    @task(1)
    def exchanges(self) -> None:
        self.api_get("/exchanges/", name="/api/v1/.../exchanges/")

    @task(3)
    def payment(self) -> None:
        self.pay()

    @task(1)
    def payment_sent_again(self) -> None:
        """A client that lost the answer sends the same payment again."""
        key = idempotency_key_new()
        payee = random.choice([m for m in MEMBERSHIPS if m != self.member["membership"]])
        amount = random.randint(1, 150)
        self.pay(key=key, payee=payee, amount=amount)
        self.pay(key=key, payee=payee, amount=amount)

    @task(1)
    def exchange_proposed_and_accepted(self) -> None:
        others = [
            listing
            for listing in api_owned_listings
            if listing["owner"] != self.member["membership"]
        ]
        if not others:
            return
        listing = random.choice(others)
        with self.client.post(
            f"{API}/listings/{listing['id']}/respond/",
            json={"description": "Zullen we dit samen doen?"},
            name="POST /api/v1/.../listings/[id]/respond/",
            catch_response=True,
        ) as response:
            # 404: the owner paused or removed the listing meanwhile.
            if not _judge(response, ok=(201,), refused=(404, 409)):
                return
            exchange = response.json()["id"]
        with self.client.post(
            f"{API}/exchanges/{exchange}/step/",
            json={"status": "accepted"},
            headers={"Authorization": f"Bearer {TOKENS_BY_MEMBERSHIP[listing['owner']]}"},
            name="POST /api/v1/.../exchanges/[id]/step/ (accept)",
            catch_response=True,
        ) as response:
            _judge(response, ok=(200,), refused=(409, 422))


class Coordinator(Visitor):
    fixed_count = 1
    wait_time = between(1.0, 3.0)

    def on_start(self) -> None:
        super().on_start()
        self.signed_in = self.sign_in(SEED["coordinator"])

    @task(3)
    def signals(self) -> None:
        self.page(f"/c/{SLUG}/reciprocity/flags/", name="/c/[slug]/reciprocity/flags/")

    @task(2)
    def health(self) -> None:
        self.page(f"/c/{SLUG}/reciprocity/", name="/c/[slug]/reciprocity/")

    @task(2)
    def accounts(self) -> None:
        self.page(f"/c/{SLUG}/accounts/", name="/c/[slug]/accounts/")

    @task(1)
    def applications(self) -> None:
        self.page(f"/c/{SLUG}/applications/", name="/c/[slug]/applications/")

    @task(1)
    def moderation(self) -> None:
        self.page(f"/c/{SLUG}/moderation/", name="/c/[slug]/moderation/")

    @task(1)
    def accounts_on_the_api(self) -> None:
        with self.client.get(
            API + "/accounts/", name="/api/v1/.../accounts/ (coordinator)", catch_response=True
        ) as response:
            _judge(response, ok=(200,))


class PaymentApiUser(ApiClient):
    """Ratio phase: payments on the API, one after another."""

    fixed_count = RATIO_USERS_EACH
    wait_time = constant(0)

    @task
    def payment(self) -> None:
        # The smallest amount: a minute of payments one after another keeps
        # every payer far from their limit, so each payment is posted, not refused.
        self.pay(amount=1)


class TrivialApiUser(ApiClient):
    """Ratio phase: the cheapest signed-in API call, one after another."""

    fixed_count = RATIO_USERS_EACH
    wait_time = constant(0)

    @task
    def memberships(self) -> None:
        with self.client.get(
            "/api/v1/me/memberships/", name="/api/v1/me/memberships/", catch_response=True
        ) as response:
            _judge(response, ok=(200,))


@events.quitting.add_listener
def _write_report(environment, **_kwargs) -> None:
    """The figures of this run, per request type, for the soak driver."""
    if not REPORT:
        return
    stats = environment.stats
    requests = {}
    for (name, method), entry in sorted(stats.entries.items()):
        requests[name] = {
            "method": method,
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "rps": round(entry.total_rps, 2),
            "p50_ms": entry.get_response_time_percentile(0.50),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "statuses": dict(sorted(statuses[name].items())),
        }
    total = stats.total
    Path(REPORT).write_text(
        json.dumps(
            {
                "requests": requests,
                "total": {
                    "count": total.num_requests,
                    "failures": total.num_failures,
                    "rps": round(total.total_rps, 2),
                    "p50_ms": total.get_response_time_percentile(0.50),
                    "p95_ms": total.get_response_time_percentile(0.95),
                    "p99_ms": total.get_response_time_percentile(0.99),
                },
                "problems": dict(problems),
            },
            indent=2,
        )
    )
