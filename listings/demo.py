"""Demo offers and requests for the demo circles: about 75 per circle.

Made through the same services as real use. A circle that has listings
already is left as it is, so seeding twice adds nothing.
"""

from __future__ import annotations

import random

from accounts.models import Community, Membership, Status
from listings import services
from listings.models import HelpType, Listing, ListingKind

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


def _demo_community(community: Community, rng: random.Random) -> None:
    if Listing.objects.filter(community=community).exists():
        return
    categories = {c.name_en: c for c in services.categories_ensure(community=community)}
    members = list(
        Membership.objects.filter(community=community, status__in=(Status.ACTIVE, Status.LEAVING))
        .select_related("user", "area", "community")
        .order_by("pk")
    )
    for number in range(LISTINGS_PER_COMMUNITY):
        category, kind, help_type, title, description = EXAMPLES[number % len(EXAMPLES)]
        owner = rng.choice(members)
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


def demo_seed() -> dict[str, str]:
    """Offers and requests in every demo circle. Returns no extra logins."""
    rng = random.Random(20261130)  # noqa: S311 - a fixed seed makes the demo the same each time
    for community in Community.objects.filter(slug__in=("niksen", "sterrenstelsel")).order_by(
        "slug"
    ):
        _demo_community(community, rng)
    return {}
