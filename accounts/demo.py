"""The demo circles: "Niksen" in 's-Hertogenbosch and "Sterrenstelsel" in Utrecht.

Built through the same services as real use, so the demo carries real events.
Deterministic and idempotent: a second run finds everything in place and adds
nothing. Later parts of the product extend it (trades, listings, flags).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from accounts import services
from accounts.models import (
    Area,
    Community,
    Membership,
    MembershipEvent,
    Status,
    UnitKind,
    User,
)

DEMO_PASSWORD = "ruilkring-demo"  # noqa: S105 - printed on purpose, for the demo logins
DEMO_DOMAIN = "ruilkring.demo"
# The demo's coordinators, observer and administrator sign in with two-factor
# authentication, as they must everywhere. They share this authenticator key:
# add it to an authenticator app, or print the current code with
# `python manage.py demo_code`. Printed on purpose; it protects nothing real.
DEMO_TOTP_SECRET = "RUILKRINGDEMOTWOSTEPSIGNINKEYABC"  # noqa: S105

FIRST_NAMES = [
    "Anna",
    "Bram",
    "Carla",
    "Dirk",
    "Esra",
    "Fatima",
    "Gerrit",
    "Hanneke",
    "Ilse",
    "Joost",
    "Karim",
    "Lotte",
    "Mohamed",
    "Noor",
    "Olga",
    "Pieter",
    "Quinten",
    "Riek",
    "Sanne",
    "Teun",
    "Uma",
    "Vincent",
    "Wilma",
    "Xander",
    "Yara",
    "Zeynep",
    "Annelies",
    "Bart",
    "Cor",
    "Dewi",
]
LAST_NAMES = [
    "de Vries",
    "Jansen",
    "van den Berg",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "Brouwer",
    "de Wit",
    "Dijkstra",
    "Yilmaz",
    "El Amrani",
    "Kaya",
    "Wijaya",
    "Pinas",
]


@dataclass(frozen=True)
class DemoCommunity:
    slug: str
    name: str
    place: str
    description: str
    unit: tuple[str, str, str, str]
    unit_kind: str
    floor: int
    ceiling: int
    areas: tuple[str, ...]
    coordinator_email: str
    coordinator_name: str


COMMUNITIES = [
    DemoCommunity(
        slug="niksen",
        name="Niksen",
        place="'s-Hertogenbosch",
        description=(
            "De ruilkring van 's-Hertogenbosch. We helpen elkaar met klussen, "
            "gezelschap en goede raad, en betalen met niksen."
        ),
        unit=("nikse", "niksen", "nikse", "niksen"),
        unit_kind=UnitKind.DECIMAL,
        floor=-200_00,
        ceiling=400_00,
        areas=("Binnenstad", "De Muntel", "Graafsewijk", "Rosmalen"),
        coordinator_email=f"coordinator@{DEMO_DOMAIN}",
        coordinator_name="Mieke van Dijk",
    ),
    DemoCommunity(
        slug="sterrenstelsel",
        name="Sterrenstelsel",
        place="Utrecht",
        description=(
            "Het Utrechtse sterrenstelsel: één uur hulp is één ster, "
            "wat je ook doet. Iedereen geeft, iedereen ontvangt."
        ),
        unit=("ster", "sterren", "star", "stars"),
        unit_kind=UnitKind.TIME,
        floor=-20 * 60,
        ceiling=40 * 60,
        areas=("Lombok", "Oudwijk", "Overvecht", "Leidsche Rijn"),
        coordinator_email=f"coordinator.utrecht@{DEMO_DOMAIN}",
        coordinator_name="Hamid Ouali",
    ),
]

MEMBERS_PER_COMMUNITY = 30
# Members who joined only weeks ago: too new for any signal about them.
NEWCOMERS = 3
FOUNDED = timezone.make_aware(datetime(2021, 9, 1))
# A few memberships in other states, so every page has something to show.
STATUS_MIX = [Status.APPLIED] * 3 + [Status.LEAVING] + [Status.SUSPENDED] + [Status.LEFT]


def _person(
    *, email: str, name: str, password_hash: str, language: str = "nl", observer: bool = False
) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        user = services.user_create(
            email=email,
            password=None,
            display_name=name,
            language=language,
            is_municipality_observer=observer,
        )
        # Hashing a password on purpose takes a while; the demo hashes its one
        # shared password once instead of sixty times.
        user.password = password_hash
        user.save(update_fields=["password"])
    EmailAddress.objects.get_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    return user


def _community(spec: DemoCommunity, admin: User, coordinator: User) -> Community:
    existing = Community.objects.filter(slug=spec.slug).first()
    if existing is not None:
        return existing
    community = services.community_create(
        actor=admin,
        name=spec.name,
        slug=spec.slug,
        place=spec.place,
        description=spec.description,
        unit_singular_nl=spec.unit[0],
        unit_plural_nl=spec.unit[1],
        unit_singular_en=spec.unit[2],
        unit_plural_en=spec.unit[3],
        unit_kind=spec.unit_kind,
        default_floor=spec.floor,
        default_ceiling=spec.ceiling,
        requires_approval=True,
        first_coordinator=coordinator,
    )
    for area in spec.areas:
        services.area_create(actor=admin, community=community, name=area)
    _backdate(Membership.objects.get(community=community, user=coordinator), 1500)
    return community


def _join(
    *,
    user: User,
    community: Community,
    coordinator: User,
    area: Area | None,
    status: str,
    days_ago: int,
) -> None:
    if Membership.objects.filter(user=user, community=community).exists():
        return
    membership = services.membership_apply(
        user=user, community=community, area=area, note="Ik doe graag mee."
    )
    if status == Status.APPLIED:
        return
    membership = services.membership_status_change(
        actor=coordinator, membership=membership, to_status=Status.ACTIVE
    )
    if status == Status.LEAVING:
        services.membership_status_change(
            actor=user, membership=membership, to_status=Status.LEAVING
        )
    elif status == Status.SUSPENDED:
        services.membership_status_change(
            actor=coordinator,
            membership=membership,
            to_status=Status.SUSPENDED,
            reason="Even pauze na een gesprek; we kijken over een maand samen verder.",
        )
    elif status == Status.LEFT:
        membership = services.membership_status_change(
            actor=user, membership=membership, to_status=Status.LEAVING
        )
        services.membership_status_change(
            actor=coordinator,
            membership=membership,
            to_status=Status.LEFT,
            reason="Verhuisd naar Zwolle.",
        )
    _backdate(membership, days_ago)


def demo_island_area(community: Community) -> Area | None:
    """The demo area whose members trade only with each other (the last by name)."""
    return community.areas.order_by("-name").first()


def _backdate(membership: Membership, days_ago: int) -> None:
    """The demo circles ran on paper before they came here: their members
    joined months or years ago. Dates the application and admission (and
    their history rows) back, so that "member since" and every measure that
    depends on it look as they would in a circle with a past."""
    joined = timezone.now() - timedelta(days=days_ago)
    changes = {"applied_at": joined - timedelta(days=3), "joined_at": joined}
    if membership.status == Status.ACTIVE:
        changes["status_changed_at"] = joined
    Membership.objects.filter(pk=membership.pk).update(**changes)
    # Applying and being admitted; a later step (leaving, a pause) stays recent.
    first_two = MembershipEvent.objects.filter(membership=membership).order_by("pk")[:2]
    MembershipEvent.objects.filter(pk__in=[e.pk for e in first_two]).update(created_at=joined)


@transaction.atomic
def _two_factor(user: User) -> None:
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)


def demo_totp_code() -> str:
    """The demo authenticator's code for this moment."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return format_hotp_value(hotp_value(DEMO_TOTP_SECRET, counter))


def demo_seed() -> dict[str, str]:
    """Create (or find) the demo and return its logins: role -> email address."""
    rng = random.Random(20261121)  # noqa: S311 - a fixed seed makes the demo the same each time
    password_hash = make_password(DEMO_PASSWORD)
    admin = User.objects.filter(email__iexact=f"admin@{DEMO_DOMAIN}").first()
    if admin is None:
        admin = User.objects.create_superuser(
            email=f"admin@{DEMO_DOMAIN}", password=DEMO_PASSWORD, display_name="Beheerder"
        )
    EmailAddress.objects.get_or_create(
        user=admin, email=admin.email, defaults={"verified": True, "primary": True}
    )
    _two_factor(admin)
    observer = _person(
        email=f"gemeente@{DEMO_DOMAIN}",
        name="Gemeente (waarnemer)",
        password_hash=password_hash,
        observer=True,
    )
    _two_factor(observer)
    member = _person(email=f"anna@{DEMO_DOMAIN}", name="Anna de Vries", password_hash=password_hash)

    names = [f"{first} {last}" for first in FIRST_NAMES for last in LAST_NAMES]
    rng.shuffle(names)
    for index, spec in enumerate(COMMUNITIES):
        coordinator = _person(
            email=spec.coordinator_email, name=spec.coordinator_name, password_hash=password_hash
        )
        _two_factor(coordinator)
        community = _community(spec, admin, coordinator)
        areas = list(community.areas.order_by("name"))
        people = [member] if index == 0 else []
        start = index * MEMBERS_PER_COMMUNITY
        for number, name in enumerate(names[start : start + MEMBERS_PER_COMMUNITY - 1]):
            email = f"lid{start + number + 1:03d}@{DEMO_DOMAIN}"
            language = rng.choice(["nl"] * 4 + ["en"])
            people.append(
                _person(email=email, name=name, password_hash=password_hash, language=language)
            )
        if index == 1:
            # Anna belongs to both circles; a few Bossche members also joined Utrecht.
            people.append(member)
        Community.objects.filter(pk=community.pk, created_at__gt=FOUNDED).update(created_at=FOUNDED)
        newcomers = len(people) - len(STATUS_MIX) - NEWCOMERS
        for position, person in enumerate(people):
            late = position >= len(people) - len(STATUS_MIX) and person != member
            status = STATUS_MIX[len(people) - 1 - position] if late else Status.ACTIVE
            # Most members joined a year or two ago; a few are new this autumn.
            days_ago = rng.randint(20, 60) if newcomers <= position else rng.randint(400, 800)
            _join(
                user=person,
                community=community,
                coordinator=coordinator,
                area=rng.choice([*areas, None]),
                status=status,
                days_ago=days_ago,
            )
    return {
        "member": member.email,
        "coordinator": COMMUNITIES[0].coordinator_email,
        "coordinator (Utrecht)": COMMUNITIES[1].coordinator_email,
        "municipality observer": observer.email,
        "administrator": admin.email,
    }
