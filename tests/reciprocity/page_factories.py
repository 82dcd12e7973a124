"""Stored snapshots for the reciprocity pages' tests: the pages only read these
rows, so the tests write them directly, as the analysis would."""

from datetime import date

import factory

from reciprocity.models import (
    AreaSnapshot,
    CommunityAlert,
    CommunitySnapshot,
    Flag,
    MemberSnapshot,
    Scope,
)
from tests.factories import CommunityFactory, MembershipFactory


class CommunitySnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunitySnapshot

    community = factory.SubFactory(CommunityFactory)
    period = date(2025, 6, 1)
    scope = Scope.WINDOW
    as_of = factory.LazyAttribute(lambda o: o.period.replace(day=28))
    window_start = factory.LazyAttribute(lambda o: o.period.replace(year=o.period.year - 1))


class AreaSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AreaSnapshot

    community = factory.SubFactory(CommunityFactory)
    period = date(2025, 6, 1)
    scope = Scope.WINDOW


class MemberSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberSnapshot

    membership = factory.SubFactory(MembershipFactory)
    community = factory.SelfAttribute("membership.community")
    period = date(2025, 6, 1)
    scope = Scope.WINDOW
    as_of = date(2025, 6, 28)


class FlagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Flag

    membership = factory.SubFactory(MembershipFactory)
    community = factory.SelfAttribute("membership.community")
    kind = "overload"
    sentence_nl = "Geeft veel en krijgt weinig terug."
    sentence_en = "Gives a lot and receives little."
    period = date(2025, 5, 1)
    last_seen_period = date(2025, 6, 1)


class CommunityAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CommunityAlert

    community = factory.SubFactory(CommunityFactory)
    kind = "circulation"
    period = factory.LazyFunction(lambda: date.today().replace(day=1))
    sentence_nl = "Er komt minder rond in de kring."
    sentence_en = "Less comes back round the circle."
