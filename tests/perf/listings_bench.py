"""How fast members find listings: search with filters over 100,000 listings.

    make bench-listings            (or: .venv/bin/python -m tests.perf.listings_bench)

On a private PostgreSQL cluster, 50 communities of 2,000 listings each get
Dutch titles and descriptions made from a vocabulary of everyday help. Then
1,000 searches run through ``listings.selectors.listing_search`` the way the
list page uses it (the count and the first page of 20): one or two words,
sometimes a compound ("fietsreparatie") or a word with an accent, and about
half of them with a filter on kind, category or kind of help. It reports the
p50, p95 and p99 in milliseconds, and the plan of the first search with the
indexes it uses. Writes ``var/bench/listings.json`` (``search_p95_ms``).
Environment: ``RUILKRING_BENCH_LISTINGS`` (100000), ``RUILKRING_BENCH_QUERIES``
(1000). It measures; it asserts nothing about time.
"""

from __future__ import annotations

import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = ROOT / "var" / "bench" / "listings.json"
LISTINGS = int(os.environ.get("RUILKRING_BENCH_LISTINGS", "100000"))
QUERIES = int(os.environ.get("RUILKRING_BENCH_QUERIES", "1000"))
COMMUNITIES = 50
PAGE_SIZE = 20

SUBJECTS = [
    "fiets",
    "band",
    "remmen",
    "tuin",
    "heg",
    "gras",
    "moestuin",
    "boodschappen",
    "markt",
    "koffie",
    "café",
    "wandeling",
    "soep",
    "maaltijd",
    "telefoon",
    "computer",
    "laptop",
    "printer",
    "formulier",
    "belasting",
    "toeslag",
    "brief",
    "gemeente",
    "oppas",
    "hond",
    "kat",
    "rits",
    "broek",
    "gordijnen",
    "lamp",
    "kraan",
    "gitaar",
    "piano",
    "kapsel",
    "boormachine",
    "ladder",
    "verhuizing",
    "dozen",
    "ramen",
    "schilderen",
    "behang",
    "taal",
    "krant",
    "voorlezen",
    "huiswerk",
    "rekenen",
    "auto",
    "ziekenhuis",
    "huisarts",
]
VERBS = [
    "repareren",
    "maken",
    "knippen",
    "snoeien",
    "wieden",
    "maaien",
    "halen",
    "brengen",
    "drinken",
    "koken",
    "installeren",
    "invullen",
    "lezen",
    "uitlaten",
    "voeren",
    "inkorten",
    "ophangen",
    "oefenen",
    "lenen",
    "schoonmaken",
    "verven",
    "helpen",
    "begeleiden",
]
FILLER = [
    "ik",
    "help",
    "graag",
    "met",
    "je",
    "bij",
    "jou",
    "thuis",
    "in",
    "de",
    "buurt",
    "samen",
    "een",
    "uurtje",
    "per",
    "week",
    "als",
    "het",
    "uitkomt",
    "zaterdag",
    "avond",
    "ochtend",
]
QUERIES_WORDS = [
    "fiets",
    "fietsreparatie",
    "tuin",
    "tuinieren",
    "cafe",
    "café",
    "koffie",
    "computer",
    "formulieren",
    "belastingaangifte",
    "hond uitlaten",
    "gordijnen ophangen",
    "soep",
    "boodschappen",
    "reparatie",
    "gitaarles",
    "oppassen",
    "verhuizing",
    "ramen wassen",
    "brief gemeente",
    "laptop",
    "telefoon",
    "rits",
    "kapper",
    "ladder lenen",
]


def _text(rng: random.Random) -> tuple[str, str]:
    subject, verb = rng.choice(SUBJECTS), rng.choice(VERBS)
    title = f"{subject.capitalize()} {verb}"
    words = [rng.choice(FILLER) for _ in range(rng.randint(12, 30))]
    words[rng.randrange(len(words))] = rng.choice(SUBJECTS)
    words[rng.randrange(len(words))] = rng.choice(VERBS)
    return title, " ".join(words).capitalize() + "."


def _load(rng: random.Random) -> list:
    from django.db import connection
    from django.utils import timezone

    from accounts.models import Community, Membership, Status, User
    from listings.models import HelpType, Listing, ListingKind, ListingStatus
    from listings.search import search_text_of
    from listings.services import LISTING_LIFETIME, categories_ensure

    started = time.monotonic()
    communities = Community.objects.bulk_create(
        Community(
            name=f"Kring {n}",
            slug=f"kring-{n}",
            unit_singular_nl="uur",
            unit_plural_nl="uur",
            unit_singular_en="hour",
            unit_plural_en="hours",
        )
        for n in range(COMMUNITIES)
    )
    per_community = LISTINGS // COMMUNITIES
    members = 200
    users = User.objects.bulk_create(
        User(email=f"lid{n}@bench.example.org", display_name=f"Lid {n}")
        for n in range(COMMUNITIES * members)
    )
    memberships = Membership.objects.bulk_create(
        Membership(user=users[c * members + m], community=community, status=Status.ACTIVE)
        for c, community in enumerate(communities)
        for m in range(members)
    )
    categories = {community.pk: categories_ensure(community=community) for community in communities}
    now = timezone.now()
    raw = connection.connection  # psycopg, outside a transaction: COPY in one go
    with (
        raw.transaction(),
        raw.cursor() as cursor,
        cursor.copy(
            "COPY listings_listing (community_id, owner_id, kind, title, description, category_id, "
            "help_type, availability, indicative_per, not_for_neighbours, status, expires_on, "
            "removed_reason, created_by_id, created_at, updated_at, search_text, photo) FROM STDIN"
        ) as copy,
    ):
        for c, community in enumerate(communities):
            for _n in range(per_community):
                title, description = _text(rng)
                owner = memberships[c * members + rng.randrange(members)]
                created = now - LISTING_LIFETIME * rng.random()
                copy.write_row(
                    (
                        community.pk,
                        owner.pk,
                        rng.choice(ListingKind.values),
                        title,
                        description,
                        rng.choice(categories[community.pk]).pk,
                        rng.choice(HelpType.values),
                        "",
                        "",
                        False,
                        ListingStatus.ACTIVE if rng.random() < 0.85 else ListingStatus.EXPIRED,
                        (created + LISTING_LIFETIME).date(),
                        "",
                        owner.user_id,
                        created,
                        created,
                        search_text_of(title, description),
                        "",
                    )
                )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE listings_listing")
    count = Listing.objects.count()
    print(f"loaded {count} listings in {time.monotonic() - started:.1f} s", file=sys.stderr)
    return communities


def _run(rng: random.Random, communities: list) -> dict:
    from django.core.paginator import Paginator
    from django.db import connection

    from listings.models import HelpType, ListingKind
    from listings.selectors import ListingFilter, categories_of, listing_search

    timings, found = [], []
    plan = ""
    for number in range(QUERIES):
        community = rng.choice(communities)
        filters = {}
        roll = rng.random()
        if roll < 0.2:
            filters["kind"] = rng.choice(ListingKind.values)
        elif roll < 0.35:
            filters["category"] = rng.choice(list(categories_of(community=community)))
        elif roll < 0.5:
            filters["help_type"] = rng.choice(HelpType.values)
        search = ListingFilter(text=rng.choice(QUERIES_WORDS), **filters)
        started = time.perf_counter()
        page = Paginator(listing_search(community=community, search=search), PAGE_SIZE).get_page(1)
        rows = list(page.object_list)
        total = page.paginator.count
        timings.append((time.perf_counter() - started) * 1000)
        found.append(total)
        if number == 0:
            sql, params = listing_search(community=community, search=search).query.sql_with_params()
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN " + sql, params)
                plan = "\n".join(row[0] for row in cursor.fetchall())
        del rows
    timings.sort()

    def percentile(fraction: float) -> float:
        return round(timings[min(len(timings) - 1, round(fraction * (len(timings) - 1)))], 2)

    return {
        "queries": len(timings),
        "search_p50_ms": percentile(0.50),
        "search_p95_ms": percentile(0.95),
        "search_p99_ms": percentile(0.99),
        "search_mean_ms": round(statistics.fmean(timings), 2),
        "median_matches": statistics.median(found),
        "plan_indexes": sorted(
            set(re.findall(r"(?:Index Scan using|Index Only Scan using|Index Scan on) (\w+)", plan))
        ),
        "plan_uses_search_index": "listings_search" in plan,
        "plan": plan,
    }


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from tests.perf.ledger.cluster import durable_cluster

    with durable_cluster() as cluster:
        import psycopg

        with psycopg.connect(cluster.conninfo("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE bench_listings")
        os.environ["DATABASE_URL"] = cluster.url("bench_listings")
        os.environ["DJANGO_SETTINGS_MODULE"] = "ruilkring.settings.test"
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", verbosity=0, interactive=False)
        rng = random.Random(20261130)
        communities = _load(rng)
        result = _run(rng, communities)
        with connections["default"].cursor() as cursor:
            cursor.execute("SHOW server_version")
            server = cursor.fetchone()[0]
        connections.close_all()
    report = {
        "benchmark": "listing search with filters, service level (count + first page)",
        "listings": LISTINGS,
        "communities": COMMUNITIES,
        "nproc": os.cpu_count(),
        "postgresql": server,
        **result,
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(report, indent=2) + "\n")
    print(report["plan"])
    print(
        f"{report['queries']} searches over {LISTINGS} listings in {COMMUNITIES} communities: "
        f"p50 {report['search_p50_ms']} ms, p95 {report['search_p95_ms']} ms, "
        f"p99 {report['search_p99_ms']} ms; median {report['median_matches']} matches; "
        f"indexes in the first search's plan: {', '.join(report['plan_indexes'])}"
    )
    print(f"written to {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
