"""The pages, as members, coordinators and observers use them."""

import pytest
from allauth.account.models import EmailAddress
from django.urls import reverse

from accounts.models import Community, Membership, MembershipEvent, Role, Status, User
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def circle():
    return CommunityFactory(name="Niksen", slug="niksen")


@pytest.fixture
def coordinator_client(client, circle):
    coordinator = CoordinatorFactory(community=circle).user
    client.force_login(coordinator)
    client.coordinator = coordinator
    return client


def test_home_page_explains_the_circle_to_a_visitor(client):
    response = client.get("/")
    assert response.status_code == 200
    assert b"Create an account" in response.content


def test_pages_follow_the_chosen_language_and_set_html_lang(client):
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="nl")
    assert b'<html lang="nl"' in response.content
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    assert b'<html lang="en"' in response.content


def test_switching_language_is_remembered_for_a_signed_in_person(client):
    user = UserFactory(language="nl")
    client.force_login(user)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.language == "en"


def test_a_person_applies_on_the_page_and_sees_it_waiting(client, circle):
    area = AreaFactory(community=circle, name="Rosmalen")
    person = UserFactory()
    client.force_login(person)
    response = client.post(
        reverse("accounts:community_apply", args=[circle.slug]),
        {"area": area.pk, "note": "Ik kan goed fietsen maken."},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=person, community=circle)
    assert (membership.status, membership.area, membership.application_note) == (
        Status.APPLIED,
        area,
        "Ik kan goed fietsen maken.",
    )
    page = client.get(reverse("accounts:my_communities"))
    assert b"waiting for a coordinator" in page.content


def test_applying_with_an_area_of_another_circle_shows_an_error_and_changes_nothing(client, circle):
    foreign_area = AreaFactory()
    AreaFactory(community=circle)
    client.force_login(UserFactory())
    response = client.post(
        reverse("accounts:community_apply", args=[circle.slug]), {"area": foreign_area.pk}
    )
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not Membership.objects.filter(community=circle).exists()


def test_the_coordinator_admits_an_applicant_from_the_queue(coordinator_client, circle):
    applicant = MembershipFactory(community=circle, status=Status.APPLIED)
    url = reverse("accounts:applications", args=[circle.slug])
    assert applicant.user.display_name.encode() in coordinator_client.get(url).content
    response = coordinator_client.post(url, {"membership": applicant.pk, "decision": "admit"})
    assert response.status_code == 302
    applicant.refresh_from_db()
    assert applicant.status == Status.ACTIVE


def test_declining_without_a_reason_shows_why_and_changes_nothing(coordinator_client, circle):
    applicant = MembershipFactory(community=circle, status=Status.APPLIED)
    response = coordinator_client.post(
        reverse("accounts:applications", args=[circle.slug]),
        {"membership": applicant.pk, "decision": "decline", "reason": ""},
    )
    assert response.status_code == 200
    assert b"Give a reason" in response.content
    applicant.refresh_from_db()
    assert applicant.status == Status.APPLIED


def test_deciding_on_an_application_of_another_circle_is_not_found(coordinator_client, circle):
    foreign = MembershipFactory(status=Status.APPLIED)
    response = coordinator_client.post(
        reverse("accounts:applications", args=[circle.slug]),
        {"membership": foreign.pk, "decision": "admit"},
    )
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == Status.APPLIED


def test_the_coordinator_suspends_a_member_with_a_reason_recorded(coordinator_client, circle):
    member = MembershipFactory(community=circle)
    url = reverse("accounts:member_detail", args=[circle.slug, member.pk])
    response = coordinator_client.post(
        url, {"action": "status", "status-status": Status.SUSPENDED, "status-reason": "Even pauze"}
    )
    assert response.status_code == 302
    page = coordinator_client.get(url)
    assert b"Even pauze" in page.content
    member.refresh_from_db()
    assert member.status == Status.SUSPENDED


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "status", "status-status": "active", "status-reason": "x"}, b"Select a valid"),
        ({"action": "status", "status-status": "suspended", "status-reason": ""}, b"Give a reason"),
        ({"action": "role", "role-role": "king", "role-reason": "x"}, b"Select a valid choice"),
        ({"action": "role", "role-role": "coordinator", "role-reason": ""}, b"field is required"),
        ({"action": "bogus"}, b"Choose what you want to change"),
    ],
)
def test_bad_changes_on_the_member_page_explain_themselves_and_change_nothing(
    coordinator_client, circle, data, message
):
    member = MembershipFactory(community=circle)
    events_before = MembershipEvent.objects.count()
    response = coordinator_client.post(
        reverse("accounts:member_detail", args=[circle.slug, member.pk]), data
    )
    assert response.status_code == 400
    assert message in response.content
    member.refresh_from_db()
    assert (member.status, member.role) == (Status.ACTIVE, Role.MEMBER)
    assert MembershipEvent.objects.count() == events_before


def test_a_left_member_cannot_be_set_back_to_active_on_the_page(coordinator_client, circle):
    gone = MembershipFactory(community=circle, status=Status.LEFT)
    response = coordinator_client.post(
        reverse("accounts:member_detail", args=[circle.slug, gone.pk]),
        {"action": "status", "status-status": "active", "status-reason": "Terug"},
    )
    assert response.status_code == 400
    gone.refresh_from_db()
    assert gone.status == Status.LEFT


def test_another_communitys_member_page_is_not_found(coordinator_client, circle):
    foreign = MembershipFactory()
    response = coordinator_client.get(
        reverse("accounts:member_detail", args=[circle.slug, foreign.pk])
    )
    assert response.status_code == 404
    response = coordinator_client.get(
        reverse("accounts:member_list", args=[foreign.community.slug])
    )
    assert response.status_code == 404


def test_a_member_is_refused_the_coordinator_pages_of_their_own_circle(client, circle):
    member = MembershipFactory(community=circle)
    client.force_login(member.user)
    for name in ("member_list", "applications", "community_settings"):
        response = client.get(reverse(f"accounts:{name}", args=[circle.slug]))
        assert response.status_code == 403, name


def test_the_settings_page_refuses_an_empty_unit_name_and_changes_nothing(
    coordinator_client, circle
):
    response = coordinator_client.post(
        reverse("accounts:community_settings", args=[circle.slug]),
        {
            "action": "settings",
            "settings-name": "Niksen",
            "settings-unit_singular_nl": "",
            "settings-unit_plural_nl": "uren",
            "settings-unit_singular_en": "hour",
            "settings-unit_plural_en": "hours",
            "settings-receive_limit": "20",
            "settings-give_limit": "40",
        },
    )
    assert response.status_code == 400
    assert b"This field is required" in response.content
    circle.refresh_from_db()
    assert circle.unit_singular_nl == "uur"


def test_the_settings_page_saves_limits_typed_in_whole_units(coordinator_client, circle):
    response = coordinator_client.post(
        reverse("accounts:community_settings", args=[circle.slug]),
        {
            "action": "settings",
            "settings-name": "Niksen",
            "settings-unit_singular_nl": "uur",
            "settings-unit_plural_nl": "uur",
            "settings-unit_singular_en": "hour",
            "settings-unit_plural_en": "hours",
            "settings-receive_limit": "10,5",
            "settings-give_limit": "30",
            "settings-requires_approval": "on",
        },
    )
    assert response.status_code == 302
    circle.refresh_from_db()
    assert (circle.default_floor, circle.default_ceiling) == (-630, 1800)


def test_creating_a_community_with_a_taken_slug_is_refused_on_the_page(client, circle):
    client.force_login(UserFactory(is_superuser=True))
    response = client.post(
        reverse("accounts:community_create"),
        {
            "name": "Nog een",
            "slug": circle.slug,
            "unit_kind": "time",
            "unit_singular_nl": "uur",
            "unit_plural_nl": "uur",
            "unit_singular_en": "hour",
            "unit_plural_en": "hours",
        },
    )
    assert response.status_code == 400
    assert b"already uses this web address" in response.content
    assert Community.objects.count() == 1


def test_a_member_cannot_open_the_new_community_page(client):
    client.force_login(UserFactory())
    assert client.get(reverse("accounts:community_create")).status_code == 403


def test_the_observer_sees_counts_and_no_names(client, circle):
    for _ in range(5):
        MembershipFactory(community=circle, user=UserFactory(display_name="Zichtbaar Niemand"))
    client.force_login(UserFactory(is_municipality_observer=True))
    response = client.get(reverse("accounts:observer_overview"))
    assert response.status_code == 200
    assert b"Niksen" in response.content
    assert b"Zichtbaar Niemand" not in response.content


def test_a_member_cannot_open_the_observer_page(client, circle):
    client.force_login(MembershipFactory(community=circle).user)
    assert client.get(reverse("accounts:observer_overview")).status_code == 403


def test_sign_up_verify_email_and_sign_in(client, django_capture_on_commit_callbacks, mailoutbox):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("account_signup"),
            {
                "email": "nieuw@example.org",
                "display_name": "Nieuw Lid",
                "password1": "een-goed-wachtwoord-42",
                "password2": "een-goed-wachtwoord-42",
            },
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    address = EmailAddress.objects.get(email="nieuw@example.org")
    assert not address.verified
    body = mailoutbox[0].body
    confirm_url = next(word for word in body.split() if "/account/confirm-email/" in word)
    path = confirm_url[confirm_url.index("/account/") :]
    assert client.post(path).status_code == 302
    address.refresh_from_db()
    assert address.verified
    assert address.user.display_name == "Nieuw Lid"


def test_sign_up_with_a_taken_email_creates_nothing_and_tells_only_the_owner(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    # The page does not reveal who has an account; the owner gets a mail instead.
    anna = UserFactory(email="anna@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("account_signup"),
            {
                "email": "ANNA@example.org",
                "display_name": "Someone else",
                "password1": "een-goed-wachtwoord-42",
                "password2": "een-goed-wachtwoord-42",
            },
        )
    assert list(User.objects.filter(email__iexact="anna@example.org")) == [anna]
    assert [message.to for message in mailoutbox] == [["anna@example.org"]]


def test_signing_in_brings_back_the_persons_language(client):
    UserFactory(email="piet@example.org", language="en")
    EmailAddress.objects.create(
        user=User.objects.get(email="piet@example.org"),
        email="piet@example.org",
        verified=True,
        primary=True,
    )
    response = client.post(
        reverse("account_login"), {"login": "piet@example.org", "password": "a-good-long-password"}
    )
    assert response.status_code == 302
    assert response.cookies["django_language"].value == "en"


def test_a_member_says_they_are_leaving_and_then_stays_after_all(client, circle):
    CoordinatorFactory(community=circle)
    member = MembershipFactory(community=circle)
    client.force_login(member.user)
    url = reverse("accounts:community_detail", args=[circle.slug])
    assert b"I want to leave this circle" in client.get(url).content
    assert client.post(url, {"status": Status.LEAVING}).status_code == 302
    member.refresh_from_db()
    assert member.status == Status.LEAVING
    assert b"I am staying after all" in client.get(url).content
    assert client.post(url, {"status": Status.ACTIVE}).status_code == 302
    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_a_member_cannot_suspend_themselves_from_their_page(client, circle):
    member = MembershipFactory(community=circle)
    client.force_login(member.user)
    url = reverse("accounts:community_detail", args=[circle.slug])
    response = client.post(url, {"status": Status.SUSPENDED})
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    member.refresh_from_db()
    assert member.status == Status.ACTIVE


def test_the_circle_page_shows_the_limits_in_the_circles_unit(client, circle):
    member = MembershipFactory(community=circle)
    client.force_login(member.user)
    response = client.get(
        reverse("accounts:community_detail", args=[circle.slug]), HTTP_ACCEPT_LANGUAGE="nl"
    )
    text = response.content.decode()
    assert "20\u00a0uren" in text and "40\u00a0uren" in text


def test_a_forgotten_password_is_reset_by_mail(
    client, django_capture_on_commit_callbacks, mailoutbox
):
    person = UserFactory(email="vergeten@example.org")
    EmailAddress.objects.create(user=person, email=person.email, verified=True, primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("account_reset_password"), {"email": person.email})
    assert response.status_code == 302
    (message,) = mailoutbox
    link = next(word for word in message.body.split() if "/account/password/reset/key/" in word)
    page = client.get(link[link.index("/account/") :], follow=True)
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    response = client.post(
        form_url, {"password1": "nieuw-en-lang-genoeg-7", "password2": "nieuw-en-lang-genoeg-7"}
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.check_password("nieuw-en-lang-genoeg-7")
