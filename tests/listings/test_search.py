"""Finding listings with Dutch words, with or without accents."""

import pytest
from django.db import connection

from listings.models import ListingStatus
from listings.search import search_normalize, search_tsquery, search_words
from listings.selectors import ListingFilter, listing_search
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


def found(circle, text="", **filters):
    return [
        listing.title
        for listing in listing_search(community=circle, search=ListingFilter(text=text, **filters))
    ]


def test_words_lose_case_and_accents_and_nothing_else_reaches_the_query():
    assert search_normalize("Café ÉÉN Crème") == "cafe een creme"
    assert search_words("Fiets & (repareren) | !café:* ") == ["fiets", "repareren", "cafe"]
    assert "&" not in "".join(search_words("a&b")) and search_words("'; DROP") == ["drop"]
    assert search_tsquery(["tuin"]) == "(tuin:*)"


def test_cafe_finds_cafe_with_an_accent_and_the_other_way_round(circle, place):
    place(title="Samen naar het café", description="Koffie drinken en praten.", help_type="social")
    place(title="Taalmaatje", description="Nederlands oefenen.")
    assert found(circle, "cafe") == ["Samen naar het café"]
    assert found(circle, "CAFÉ") == ["Samen naar het café"]


def test_a_word_finds_longer_words_that_start_with_it(circle, place):
    place(title="Tuinieren", description="Ik help graag in je moestuin.")
    assert found(circle, "tuin") == ["Tuinieren"]


def test_fietsreparatie_finds_fiets_repareren(circle, place):
    if connection.vendor != "postgresql":
        pytest.skip("compound words are found on PostgreSQL; SQLite matches plain words")
    place(title="Fiets repareren", description="Band plakken, remmen afstellen.")
    place(title="Repair café", description="Kapotte spullen samen maken.")
    assert found(circle, "fietsreparatie") == ["Fiets repareren"]
    assert found(circle, "reparatie") == ["Fiets repareren"], "Dutch stemming"


def test_every_word_must_match_and_filters_narrow_it_down(circle, anna, place):
    place(title="Hulp in de tuin", description="Snoeien en wieden.")
    place(title="Hulp met de computer", description="Printer installeren.", kind="request")
    assert found(circle, "hulp") == ["Hulp met de computer", "Hulp in de tuin"], "newest first"
    assert found(circle, "hulp tuin") == ["Hulp in de tuin"]
    assert found(circle, "hulp", kind="request") == ["Hulp met de computer"]
    assert found(circle, "", help_type="social") == []


def test_only_active_listings_of_this_circle_are_found(circle, anna, place):
    from listings import services

    paused = place(title="Gepauzeerde tuinhulp")
    services.listing_status_change(actor=anna.user, listing=paused, to_status=ListingStatus.PAUSED)
    elsewhere = CommunityFactory()
    stranger = MembershipFactory(community=elsewhere)
    place(
        owner=stranger,
        title="Tuinhulp elders",
        category=services.categories_ensure(community=elsewhere)[0],
    )
    place(title="Tuinhulp hier")
    assert found(circle, "tuinhulp") == ["Tuinhulp hier"]
