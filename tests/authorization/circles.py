"""Two circles, A (Noorderkring) and B (Zuiderkring), with real objects in each,
and the people of ``actors.ACTORS`` in them.

Each circle has the same cast besides the actors: Bram (A) or Gijs (B), who
helps; Carla or Hanna, who is helped and pays; Eva or Jet, who has applied. The
helper offers a listing (with a photo), the helped member pays him, is asked for
more (a payment request), responds to his offer (an exchange with a message)
and reports the listing; the analysis has raised a signal about the helper.
None of the actors takes part in any of it, so every one of these objects is
someone else's: only the circle's coordinators and the site's administrator
may read it (``Circle.private``).

Every signed-in actor has an API token and a notification of their own, named
after them (``World.personal``): nobody else may ever read those. The owner
(``actors.OWNER_KEY``) also has a copy of their data ready to download.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from accounts import services as account_services
from accounts.models import Community, Membership, Status, UnitKind, User
from accounts.notifications import notify
from accounts.units import amount_format, amount_number
from ledger import services as ledger_services
from ledger.models import AccountKind, TransferKind
from listings import services as listing_services
from privacy import services as privacy_services
from tests.authorization.actors import ACTORS, OWNER_KEY, Actor
from tests.factories import AreaFactory, CommunityFactory, MembershipFactory
from tests.reciprocity.page_factories import FlagFactory

# A slug no circle has: its 404 is what every hidden circle must look like.
MADE_UP_SLUG = "kring-die-niet-bestaat"
# An id no object has (the largest a route's <int:...> and the database take).
MADE_UP_ID = 2_147_483_647

# The names of the actors' people; an actor not named here gets a plain one.
ACTOR_NAMES = {
    "member_a": "Anna Appelboom",
    "member_b": "Fenna Fijnspar",
    "coordinator_a": "Dirk Dennenhout",
    "coordinator_b": "Ivo Iepenlaan",
    "observer": "Olga Opmeer",
    "superuser": "Sietse Stamhuis",
}


@dataclass(frozen=True)
class CircleCast:
    name: str
    slug: str
    helper: str
    helped: str
    applicant: str
    # What the helped member paid the helper, in hundredths: both balances show it.
    amount: int


CASTS = {
    "a": CircleCast(
        name="Noorderkring",
        slug="noorderkring",
        helper="Bram Berkhout",
        helped="Carla Cederboom",
        applicant="Eva Essenhout",
        amount=4127,
    ),
    "b": CircleCast(
        name="Zuiderkring",
        slug="zuiderkring",
        helper="Gijs Goudenregen",
        helped="Hanna Hazelaar",
        applicant="Jet Jeneverbes",
        amount=3619,
    ),
}


@dataclass
class Circle:
    key: str
    community: Community
    # The id that fills each object parameter of a route (see ``OBJECT_PARAMETERS``).
    ids: dict[str, int]
    # Memberships by role in the cast: "helper", "helped", "applicant".
    cast: dict[str, Membership]
    category_id: int
    # Texts only this circle's coordinators and the site's administrator may read,
    # and amounts that must not appear as numbers in what the API answers others.
    private: list[str]
    private_numbers: list[int]


@dataclass
class World:
    circles: dict[str, Circle]
    users: dict[str, User]
    # The session cookie of each signed-in actor.
    sessions: dict[str, str] = field(default_factory=dict)
    # Texts only one actor may read: their token's name and their notification.
    personal: dict[str, list[str]] = field(default_factory=dict)
    # The owner's own objects: an API token and a copy of their data, ready to download.
    owner_token_id: int = 0
    owner_export_id: int = 0
    # Every display name and e-mail address, by user id, for the observer's check.
    identities: dict[int, list[str]] = field(default_factory=dict)
    # The fingerprint of the whole database once built (``checks.fingerprint``).
    baseline: str = ""


def _email(name: str) -> str:
    return name.lower().replace(" ", ".") + "@matrix.test"


# Everyone can sign in with a password, as people do (confirming it again before
# changing sign-in settings needs one).
PASSWORD = "een-lang-wachtwoord-voor-de-matrix"


def _person(name: str, **extra) -> User:
    user = account_services.user_create(
        email=_email(name), password=PASSWORD, display_name=name, language="en", **extra
    )
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    return user


def _actor_person(actor: Actor) -> User:
    name = ACTOR_NAMES.get(actor.key, f"{actor.key.replace('_', ' ').title()} Matrix")
    if actor.superuser:
        user = User.objects.create_superuser(
            email=_email(name), password=PASSWORD, display_name=name, language="en"
        )
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    else:
        user = _person(name, is_municipality_observer=actor.observer)
    if actor.two_factor:
        TOTP.activate(user, generate_totp_secret())
        RecoveryCodes.activate(user)
    return user


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, format="PNG")
    return SimpleUploadedFile("fiets.png", buffer.getvalue(), content_type="image/png")


def _circle_build(key: str, users: dict[str, User]) -> Circle:
    cast = CASTS[key]
    community = CommunityFactory(
        name=cast.name,
        slug=cast.slug,
        unit_kind=UnitKind.DECIMAL,
        unit_singular_nl="nikse",
        unit_plural_nl="niksen",
        unit_singular_en="nikse",
        unit_plural_en="niksen",
        default_floor=-10_000,
        default_ceiling=10_000,
    )
    area = AreaFactory(community=community, name=f"{cast.name} Noord")
    for actor in ACTORS:
        if actor.circle == key:
            membership = MembershipFactory(
                community=community, user=users[actor.key], role=actor.role, area=area
            )
            # Opened on a member's first visit; here before any request, so that
            # opening it is not taken for a change that a refused request made.
            ledger_services.account_open(membership=membership)
    helper, helped = (
        MembershipFactory(community=community, user=_person(name), area=area)
        for name in (cast.helper, cast.helped)
    )
    applicant = MembershipFactory(
        community=community,
        user=_person(cast.applicant),
        status=Status.APPLIED,
        joined_at=None,
        application_note=f"Aanmelding van {cast.applicant}: graag meedoen",
    )
    accounts = {m: ledger_services.account_open(membership=m) for m in (helper, helped)}
    ledger_services.system_account_open(community=community, kind=AccountKind.POT)
    memo = f"Bijles voor {cast.helped}, onder ons"
    transfer = ledger_services.transfer_create(
        actor=helped.user,
        community=community,
        kind=TransferKind.PAYMENT,
        payer=accounts[helped],
        payee=accounts[helper],
        amount=cast.amount,
        memo=memo,
        idempotency_key=f"matrix-{key}-1",
    )
    request_memo = f"Boodschappen voor {cast.helped}, onder ons"
    payment_request = ledger_services.payment_request_create(
        actor=helper.user,
        community=community,
        payer=accounts[helped],
        payee=accounts[helper],
        amount=250,
        memo=request_memo,
        idempotency_key=f"matrix-{key}-2",
    )
    categories = listing_services.categories_ensure(community=community)
    offer = listing_services.listing_create(
        actor=helper.user,
        owner=helper,
        kind="offer",
        title=f"Fietsen repareren in {cast.name}",
        description="Banden, remmen en verlichting.",
        category=categories[0],
        help_type="practical",
        photo=_photo(),
    )
    exchange_text = f"{cast.helped} wil graag hulp met de fiets"
    exchange = listing_services.exchange_propose(
        actor=helped.user, listing=offer, description=exchange_text
    )
    message = f"Bericht van {cast.helper} aan {cast.helped} alleen"
    listing_services.exchange_message_post(actor=helper.user, exchange=exchange, body=message)
    report_reason = f"Melding van {cast.helped}: de prijs klopt niet"
    report = listing_services.listing_report(actor=helped.user, listing=offer, reason=report_reason)
    flag_sentence = f"{cast.helper} gives a lot and receives little"
    flag = FlagFactory(membership=helper, sentence_en=flag_sentence, sentence_nl=flag_sentence)
    with translation.override("en"):
        texts = [
            amount_format(community=community, amount=cast.amount),
            amount_number(community=community, amount=cast.amount),
        ]
    return Circle(
        key=key,
        community=community,
        ids={
            "membership_id": helper.pk,
            "account_id": accounts[helper].pk,
            "transfer_id": transfer.pk,
            "request_id": payment_request.pk,
            "listing_id": offer.pk,
            "exchange_id": exchange.pk,
            "report_id": report.pk,
            "flag_id": flag.pk,
        },
        cast={"helper": helper, "helped": helped, "applicant": applicant},
        category_id=categories[0].pk,
        private=[
            memo,
            request_memo,
            exchange_text,
            message,
            report_reason,
            flag_sentence,
            applicant.application_note,
            helper.user.email,
            applicant.user.email,
            # The helper's balance (and the helped member's, less its sign), as the
            # pages write it in English, the language the matrix reads them in.
            *texts,
        ],
        private_numbers=[cast.amount, -cast.amount],
    )


def world_build() -> World:
    users = {actor.key: _actor_person(actor) for actor in ACTORS if actor.signed_in}
    world = World(circles={key: _circle_build(key, users) for key in CASTS}, users=users)
    for key, user in users.items():
        token, _secret = account_services.api_token_create(user=user, name=f"Sleutel [{key}]")
        subject = f"Bericht [{key}] alleen"
        notify(user=user, kind="matrix", subject=subject, body=subject)
        world.personal[key] = [token.name, subject]
        if key == OWNER_KEY:
            world.owner_token_id = token.pk
            export = privacy_services.data_export_request(user=user)
            world.owner_export_id = privacy_services.data_export_build(export=export).pk
    Group.objects.create(name="Matrix")
    world.identities = {user.pk: [user.display_name, user.email] for user in User.objects.all()}
    return world


def admin_object_id(route: str) -> str:
    """The id of an object of the model an admin route edits (admin/<app>/<model>/...)."""
    _admin, app_label, model_name, *_rest = route.split("/")
    model = apps.get_model(app_label, model_name)
    pk = model._default_manager.order_by("pk").values_list("pk", flat=True).first()
    return str(pk if pk is not None else MADE_UP_ID)


# Route parameters that name an object of a circle; ``Circle.ids`` holds them.
OBJECT_PARAMETERS = frozenset(
    {
        "membership_id",  # the helper's membership
        "account_id",  # the helper's ledger account
        "transfer_id",  # the helped member's payment to the helper
        "request_id",  # the helper's payment request to the helped member
        "listing_id",  # the helper's offer
        "exchange_id",  # the exchange between the helper and the helped member
        "report_id",  # the helped member's report of the offer
        "flag_id",  # the signal about the helper
    }
)

# Route parameters that name one person's own object: the owner's (actors.OWNER_KEY).
OWN_PARAMETERS = frozenset({"token_id", "export_id"})


def parameter_value(name: str, *, route: str, world: World, slug_of: Circle, ids_of: Circle) -> str:
    """The value for parameter ``name`` of ``route``: the circle's slug from
    ``slug_of``, an object id from ``ids_of``; other parameters by this table."""
    if name == "slug":
        return slug_of.community.slug
    if name in OBJECT_PARAMETERS:
        return str(ids_of.ids[name])
    values = {
        # The owner's own objects (see ``OWN_PARAMETERS``).
        "token_id": lambda: str(world.owner_token_id),
        "export_id": lambda: str(world.owner_export_id),
        # The Django admin: an object of the route's model ("view on site": circle A), a
        # user, an app.
        "object_id": lambda: (
            str(slug_of.community.pk) if route.startswith("admin/r/") else admin_object_id(route)
        ),
        "id": lambda: str(ids_of.cast["helper"].user_id),
        "content_type_id": lambda: str(ContentType.objects.get_for_model(Community).pk),
        "app_label": lambda: "accounts",
        "url": lambda: "nothing-here/",
        # django-allauth's links from mail, with made-up keys: a wrong key has its own page.
        "key": lambda: "made-up-key",
        "uidb36": lambda: "zz",
    }
    if name not in values:
        raise LookupError(
            f"The route {route!r} has a parameter {name!r} that the authorization matrix "
            "cannot fill. Give it an object of circle A in parameter_value() in "
            "tests/authorization/circles.py (or in Circle.ids and OBJECT_PARAMETERS)."
        )
    return values[name]()
