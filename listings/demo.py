"""Demo offers and requests for the demo circles: about 75 per circle, and
exchanges in every state (the year before is on the ledger: ``ledger.demo``).

Made through the same services as real use. A circle that has listings
already is left as it is, so seeding twice adds nothing.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.utils import timezone

from accounts.demo import demo_island_area
from accounts.models import Community, Membership, Role, Status
from ledger.models import Entry
from listings import services
from listings.models import ExchangeStatus, HelpType, Listing, ListingKind, ListingStatus
from ruilkring.errors import DomainError

LISTINGS_PER_COMMUNITY = 75
# (category in English, kind, help type, title, description)
EXAMPLES = [
    (
        "Bicycles and transport",
        "offer",
        "practical",
        "Fiets repareren",
        "Band plakken, remmen afstellen, verlichting maken. Ik kom bij je langs.",
    ),
    (
        "Bicycles and transport",
        "offer",
        "practical",
        "Rit naar het ziekenhuis",
        "Ik heb een auto en rij je graag naar een afspraak in de buurt.",
    ),
    (
        "Bicycles and transport",
        "request",
        "practical",
        "Wie plakt mijn band?",
        "Mijn achterband is lek en ik krijg hem er zelf niet af.",
    ),
    (
        "Garden and plants",
        "offer",
        "practical",
        "Hulp in de tuin",
        "Snoeien, wieden, de heg knippen. Gereedschap neem ik mee.",
    ),
    (
        "Garden and plants",
        "request",
        "practical",
        "Gras maaien",
        "Eens in de twee weken het gras maaien, de maaier staat klaar.",
    ),
    (
        "Garden and plants",
        "offer",
        "information",
        "Advies over moestuinieren",
        "Wat zaai je wanneer? Ik deel graag wat ik in dertig jaar heb geleerd.",
    ),
    (
        "Odd jobs in and around the house",
        "offer",
        "practical",
        "Klussen in huis",
        "Lamp ophangen, plank aan de muur, kraan die lekt.",
    ),
    (
        "Odd jobs in and around the house",
        "request",
        "practical",
        "Gordijnen ophangen",
        "Ik kan zelf niet meer op een trap staan.",
    ),
    (
        "Shopping and accompanying",
        "offer",
        "practical",
        "Boodschappen doen",
        "Ik doe op dinsdag mijn boodschappen en neem de jouwe graag mee.",
    ),
    (
        "Shopping and accompanying",
        "request",
        "social",
        "Mee naar de markt",
        "Samen naar de markt op zaterdag, even de deur uit.",
    ),
    (
        "Company and outings",
        "offer",
        "social",
        "Samen koffie drinken",
        "Een kopje koffie en een praatje, bij jou of bij mij.",
    ),
    (
        "Company and outings",
        "request",
        "social",
        "Samen naar het café",
        "Ik zou graag eens per week met iemand een kop koffie drinken in het café.",
    ),
    (
        "Company and outings",
        "offer",
        "social",
        "Wandelen in het park",
        "Elke ochtend loop ik een rondje; loop je mee?",
    ),
    (
        "Cooking and food",
        "offer",
        "practical",
        "Soep koken",
        "Ik kook graag een grote pan soep en deel die.",
    ),
    (
        "Cooking and food",
        "request",
        "practical",
        "Hulp bij het koken",
        "Na mijn operatie lukt koken even niet. Wie kookt er een keer mee?",
    ),
    (
        "Computers and phones",
        "offer",
        "information",
        "Hulp met je telefoon",
        "Apps installeren, foto's versturen, videobellen met de kleinkinderen.",
    ),
    (
        "Computers and phones",
        "request",
        "information",
        "Computer doet het niet meer",
        "Mijn laptop start heel traag op. Wie kijkt er even naar?",
    ),
    (
        "Language and reading",
        "offer",
        "information",
        "Nederlands oefenen",
        "Een uur praten in het Nederlands, in je eigen tempo.",
    ),
    (
        "Language and reading",
        "offer",
        "social",
        "Voorlezen",
        "Ik lees graag voor, de krant of een mooi boek.",
    ),
    (
        "Paperwork and forms",
        "offer",
        "information",
        "Hulp bij formulieren",
        "Toeslagen, de gemeente, de belastingaangifte: samen komen we eruit.",
    ),
    (
        "Paperwork and forms",
        "request",
        "information",
        "Brief van de gemeente",
        "Ik begrijp een brief van de gemeente niet goed. Wie leest mee?",
    ),
    (
        "Children and babysitting",
        "offer",
        "practical",
        "Oppassen",
        "Op woensdagmiddag pas ik graag op je kinderen.",
    ),
    (
        "Pets",
        "offer",
        "practical",
        "Hond uitlaten",
        "Ik laat je hond uit als jij er even niet bent.",
    ),
    (
        "Pets",
        "request",
        "practical",
        "Katten voeren tijdens vakantie",
        "Twee weken in juli, twee lieve katten.",
    ),
    (
        "Sewing and mending",
        "offer",
        "practical",
        "Kleding herstellen",
        "Rits vervangen, broek inkorten, knopen aanzetten.",
    ),
    (
        "Creative and music",
        "offer",
        "information",
        "Gitaarles voor beginners",
        "De eerste akkoorden en een liedje, in een paar lessen.",
    ),
    (
        "Body and wellbeing",
        "offer",
        "practical",
        "Haren knippen",
        "Ik was kapster en knip nog graag, thuis bij jou.",
    ),
    (
        "Lending and sharing",
        "offer",
        "practical",
        "Boormachine lenen",
        "Een goede boormachine met boren, voor een middag of een weekend.",
    ),
    (
        "Other",
        "request",
        "information",
        "Wie weet hoe ik mijn fiets verkoop?",
        "Ik wil mijn oude fiets verkopen, maar weet niet goed hoe.",
    ),
]
WHEN = ["", "doordeweeks 's avonds", "zaterdagochtend", "in overleg", "overdag"]


def _recent_givers(community: Community) -> set[int]:
    """Memberships that gave something in the last half year."""
    return set(
        Entry.objects.filter(
            account__community=community,
            amount__gt=0,
            transfer__created_at__gte=timezone.now() - timedelta(days=180),
        )
        .exclude(transfer__occurred_on__lt=timezone.localdate() - timedelta(days=180))
        .values_list("account__membership", flat=True)
    )


def _closed_pair(community: Community) -> set[int]:
    """Memberships that have traded with one other member only (ledger.demo's pair)."""
    partners: dict[int, set[int]] = {}
    rows = Entry.objects.filter(
        account__community=community, account__membership__isnull=False
    ).values_list("transfer_id", "account__membership")
    by_transfer: dict[int, list[int]] = {}
    for transfer, membership in rows:
        by_transfer.setdefault(transfer, []).append(membership)
    for pair in by_transfer.values():
        for one in pair:
            partners.setdefault(one, set()).update(m for m in pair if m != one)
    return {m for m, others in partners.items() if len(others) == 1}


def _demo_community(community: Community, rng: random.Random) -> None:
    if Listing.objects.filter(community=community).exists():
        return
    categories = {c.name_en: c for c in services.categories_ensure(community=community)}
    members = list(
        Membership.objects.filter(community=community, status__in=(Status.ACTIVE, Status.LEAVING))
        .select_related("user", "area", "community")
        .order_by("pk")
    )
    # Someone who has stopped giving has no open offers: that is part of
    # withdrawing quietly, and what the coordinators should notice.
    recently_gave = _recent_givers(community)
    for number in range(LISTINGS_PER_COMMUNITY):
        category, kind, help_type, title, description = EXAMPLES[number % len(EXAMPLES)]
        owner = rng.choice(members)
        if kind == ListingKind.OFFER and owner.pk not in recently_gave:
            owner = rng.choice([m for m in members if m.pk in recently_gave] or members)
        services.listing_create(
            actor=owner.user,
            owner=owner,
            kind=ListingKind(kind),
            title=title,
            description=description,
            category=categories[category],
            help_type=HelpType(help_type),
            area=owner.area if rng.random() < 0.6 else None,
            availability=rng.choice(WHEN),
            indicative_amount=community.unit_scale if rng.random() < 0.4 else None,
            indicative_per="per keer",
            not_for_neighbours=rng.random() < 0.15,
        )
    _demo_exchanges(community, rng)


def _demo_exchanges(community: Community, rng: random.Random) -> None:
    """A handful of exchanges, one or more in each state, answered by the
    listing's owner as a member would."""
    coordinator = (
        Membership.objects.filter(community=community, role=Role.COORDINATOR, status=Status.ACTIVE)
        .select_related("user")
        .first()
    )
    members = list(
        Membership.objects.filter(community=community, status=Status.ACTIVE)
        .select_related("user")
        .order_by("pk")
    )
    listings = list(
        Listing.objects.filter(community=community, status=ListingStatus.ACTIVE)
        .select_related("owner__user")
        .order_by("pk")
    )
    unit = community.unit_scale
    # The coordinator looks at large payments first: above 3 hours or 50 niksen.
    approval_above = 3 * unit if community.unit_kind == "time" else 50 * unit
    if coordinator is not None:
        services.exchange_settings_set(
            actor=coordinator.user,
            community=community,
            approval_above=approval_above,
            approval_first=0,
        )
    # (how far it got, what was said)
    plan = [
        (ExchangeStatus.PAID, "Zaterdagochtend om tien uur? Dan neem ik alles mee."),
        (ExchangeStatus.PAID, "Ik kan volgende week dinsdag, past dat?"),
        (ExchangeStatus.PAID, "Wat fijn dat je dit aanbiedt. Wanneer schikt het je?"),
        (ExchangeStatus.REVIEW, "Dat is een flinke klus, ik neem er een dag voor."),
        (ExchangeStatus.DONE, "Ik help je graag, zeg maar wanneer."),
        (ExchangeStatus.ACCEPTED, "Zullen we het donderdagmiddag doen?"),
        (ExchangeStatus.PROPOSED, "Ik heb hier ervaring mee, ik kom graag langs."),
        (ExchangeStatus.PROPOSED, "Past het je ook in het weekend?"),
        (ExchangeStatus.DECLINED, "Kan ik je hiermee helpen?"),
        (ExchangeStatus.DISPUTED, "Ik kom maandag, dan kijken we samen."),
        (ExchangeStatus.CANCELLED, "Ik doe het graag deze week."),
    ]
    # The demo's island area keeps to itself here too (see ledger.demo), and
    # those who stopped giving are not asked again.
    island = demo_island_area(community)
    gave = _recent_givers(community) - _closed_pair(community)
    listings = [listing for listing in listings if listing.owner_id in gave]
    for number, (target, message) in enumerate(plan):
        listing = listings[(number * 7) % len(listings)]
        owner_inside = island is not None and listing.owner.area_id == island.pk
        responder = rng.choice(
            [
                m
                for m in members
                if m.pk != listing.owner_id
                and m.pk in gave
                and (island is not None and m.area_id == island.pk) == owner_inside
            ]
        )
        exchange = services.exchange_propose(
            actor=responder.user, listing=listing, description=message
        )
        owner = listing.owner.user
        if target == ExchangeStatus.DECLINED:
            services.exchange_step(
                actor=owner,
                exchange=exchange,
                to_status=ExchangeStatus.DECLINED,
                note="Het is al geregeld, maar dank je wel!",
            )
            continue
        if target == ExchangeStatus.PROPOSED:
            continue
        exchange = services.exchange_step(
            actor=owner, exchange=exchange, to_status=ExchangeStatus.ACCEPTED
        )
        services.exchange_message_post(actor=owner, exchange=exchange, body="Afgesproken! Tot dan.")
        if target == ExchangeStatus.CANCELLED:
            services.exchange_step(
                actor=responder.user,
                exchange=exchange,
                to_status=ExchangeStatus.CANCELLED,
                note="Ik ben ziek geworden, sorry. Ik meld me als ik weer beter ben.",
            )
            continue
        if target == ExchangeStatus.ACCEPTED:
            continue
        if target == ExchangeStatus.DISPUTED:
            services.exchange_step(
                actor=exchange.receiver.user,
                exchange=exchange,
                to_status=ExchangeStatus.DISPUTED,
                note="We zijn het niet eens over hoe lang het duurde.",
            )
            continue
        if community.unit_kind == "time":
            amount = rng.choice([1, 2, 3]) * unit // 2
        else:
            amount = rng.choice([10, 15, 20]) * unit
        if target == ExchangeStatus.REVIEW:  # above what the coordinator approves first
            amount = approval_above + (unit if community.unit_kind == "time" else 10 * unit)
        exchange = services.exchange_step(
            actor=exchange.provider.user,
            exchange=exchange,
            to_status=ExchangeStatus.DONE,
            amount=amount,
        )
        if target == ExchangeStatus.DONE or exchange.status != ExchangeStatus.DONE:
            continue
        try:
            exchange = services.exchange_step(
                actor=exchange.receiver.user, exchange=exchange, to_status=ExchangeStatus.PAID
            )
        except DomainError:
            continue  # at the credit limit: it waits, as it would for real
        if number != 2:
            services.exchange_thank(
                actor=exchange.receiver.user,
                exchange=exchange,
                body="Dank je wel, het ziet er weer prachtig uit!",
            )
    # A coordinator matched two members who would not have asked.
    if coordinator is not None and len(members) > 4:
        services.exchange_match(
            actor=coordinator.user,
            provider=members[-2],
            receiver=members[-3],
            description="Jullie wonen vlakbij elkaar: samen een keer boodschappen doen?",
        )
    # A report for the coordinators' queue.
    reporter = next(
        m for m in members if m.pk != listings[-1].owner_id and m.role != Role.COORDINATOR
    )
    services.listing_report(
        actor=reporter.user,
        listing=listings[-1],
        reason="Dit lijkt op reclame voor een bedrijf.",
    )


def demo_seed() -> dict[str, str]:
    """Offers and requests in every demo circle. Returns no extra logins."""
    rng = random.Random(20261130)  # noqa: S311 - a fixed seed makes the demo the same each time
    for community in Community.objects.filter(slug__in=("niksen", "sterrenstelsel")).order_by(
        "slug"
    ):
        _demo_community(community, rng)
    return {}
