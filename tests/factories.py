"""factory_boy factories for people, communities and memberships."""

import factory
from django.utils import timezone

from accounts.models import Area, Community, Membership, Role, Status, UnitKind, User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    display_name = factory.Faker("name", locale="nl_NL")
    language = "en"
    password = factory.django.Password("a-good-long-password")


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    name = factory.Sequence(lambda n: f"Circle {n}")
    slug = factory.Sequence(lambda n: f"circle-{n}")
    place = "Utrecht"
    unit_singular_nl = "uur"
    unit_plural_nl = "uren"
    unit_singular_en = "hour"
    unit_plural_en = "hours"
    unit_kind = UnitKind.TIME
    default_floor = -20 * 60
    default_ceiling = 40 * 60


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    community = factory.SubFactory(CommunityFactory)
    name = factory.Sequence(lambda n: f"Area {n}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    community = factory.SubFactory(CommunityFactory)
    role = Role.MEMBER
    status = Status.ACTIVE
    joined_at = factory.LazyFunction(timezone.now)


class CoordinatorFactory(MembershipFactory):
    role = Role.COORDINATOR
