"""The privacy statement, in both languages, and the coordinator's rule page."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse

from privacy.models import PrivacySettings, SettleInto
from privacy.statement import privacy_statement_get
from tests.factories import CommunityFactory, MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("language", ["nl", "en"])
def test_the_statement_renders_in_both_languages_with_the_retention_periods(
    client, settings, language
):
    settings.RUILKRING_RETENTION_NOTIFICATIONS_DAYS = 400
    settings.RUILKRING_RETENTION_LEFT_MEMBER_DAYS = 1000
    settings.RUILKRING_PRIVACY_ORGANISATION = "gemeente Voorbeeld"
    settings.RUILKRING_PRIVACY_CONTACT = "privacy@voorbeeld.nl"
    response = client.get(reverse("privacy:statement"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<html lang="{language}">' in page
    assert "400" in page and "1000" in page
    assert "gemeente Voorbeeld" in page
    assert 'href="mailto:privacy@voorbeeld.nl"' in page
    assert f'href="{reverse("privacy:my_data")}"' in page


def test_without_a_contact_the_statement_points_to_the_coordinator(client, settings):
    settings.RUILKRING_PRIVACY_CONTACT = ""
    page = client.get(reverse("privacy:statement")).content.decode()
    assert "ask the coordinator of your circle" in page
    assert "mailto:" not in page


def test_a_contact_that_is_no_address_is_refused(settings):
    settings.RUILKRING_PRIVACY_CONTACT = "javascript:alert(1)"
    with pytest.raises(ImproperlyConfigured, match="DJANGO_PRIVACY_CONTACT"):
        privacy_statement_get()


def test_every_page_links_to_the_statement_in_its_footer(client):
    page = client.get(reverse("home")).content.decode()
    assert f'href="{reverse("privacy:statement")}">Privacy</a>' in page


@pytest.fixture
def circle():
    return CommunityFactory(slug="niksen")


def test_a_coordinator_chooses_where_balances_go(client, circle):
    coordinator = MembershipFactory(community=circle, role="coordinator").user
    client.force_login(coordinator)
    url = reverse("privacy:settings", args=["niksen"])
    response = client.get(url)
    assert response.status_code == 200
    assert response.context["form"]["settle_into"].value() == SettleInto.POT, "the default"
    response = client.post(url, {"settle_into": SettleInto.COMMUNITY})
    assert response.status_code == 302
    assert PrivacySettings.objects.get(community=circle).settle_into == SettleInto.COMMUNITY
    response = client.post(url, {"settle_into": "elsewhere"})
    assert response.status_code == 400
    assert PrivacySettings.objects.get(community=circle).settle_into == SettleInto.COMMUNITY


def test_members_and_outsiders_cannot_change_the_rule(client, circle):
    member = MembershipFactory(community=circle).user
    client.force_login(member)
    url = reverse("privacy:settings", args=["niksen"])
    assert client.post(url, {"settle_into": SettleInto.COMMUNITY}).status_code == 403
    outsider = MembershipFactory().user
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert not PrivacySettings.objects.exists()
