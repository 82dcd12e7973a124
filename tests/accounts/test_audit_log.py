"""The audit log: every action taken with a coordinator's or a site administrator's
authority leaves exactly one row, written with the action or not at all; a member
acting on their own things leaves none. Coordinators read it on a page and in the
API; nobody changes it, and it names people as they are called now.

Sterrenstelsel counts hours. Mieke coordinates it; Anna and Bram are members.
"""

import json
from datetime import date

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from accounts import services as account_services
from accounts.models import AuditAction, AuditEntry, AuditRole, Role, Status
from ledger import services as ledger_services
from ledger.models import AccountKind, RequestStatus, TransferKind
from listings import services as listing_services
from listings.models import ExchangeStatus, ListingReport, ListingStatus
from reciprocity import services as reciprocity_services
from reciprocity.models import Flag, FlagStatus
from ruilkring.errors import InvalidInput, NotAllowed, PaymentRefused
from tests.factories import (
    AreaFactory,
    CommunityFactory,
    CoordinatorFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db
HOUR = 60


@pytest.fixture
def circle():
    return CommunityFactory(name="Sterrenstelsel", slug="sterrenstelsel")


@pytest.fixture
def mieke(circle):
    return CoordinatorFactory(community=circle, user=UserFactory(display_name="Mieke")).user


@pytest.fixture
def anna(circle):
    return MembershipFactory(community=circle, user=UserFactory(display_name="Anna de Vries"))


@pytest.fixture
def bram(circle):
    return MembershipFactory(community=circle, user=UserFactory(display_name="Bram"))


@pytest.fixture
def garden(circle):
    return next(
        c
        for c in listing_services.categories_ensure(community=circle)
        if c.name_en == "Garden and plants"
    )


def the_entry(action):
    """The one entry of ``action``; fails when there is none or more than one."""
    (entry,) = AuditEntry.objects.filter(action=action)
    return entry


def account(membership):
    return ledger_services.account_open(membership=membership)


_keys = iter(range(1, 10**6))


def key():
    return f"audit-{next(_keys)}"


# -- Memberships and the circle ---------------------------------------------------


def test_admitting_a_member_is_recorded_with_who_and_what(circle, mieke):
    applicant = MembershipFactory(community=circle, status=Status.APPLIED)
    account_services.membership_status_change(
        actor=mieke, membership=applicant, to_status=Status.ACTIVE
    )
    entry = the_entry(AuditAction.MEMBERSHIP_STATUS)
    assert (entry.community, entry.actor, entry.actor_role, entry.membership) == (
        circle,
        mieke,
        AuditRole.COORDINATOR,
        applicant,
    )
    assert entry.details == {"from": "applied", "to": "active"}
    assert (entry.subject_type, entry.subject_id) == ("accounts.membership", applicant.pk)


def test_a_suspension_keeps_the_coordinators_reason(anna, mieke):
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Afspraak gemist"
    )
    entry = the_entry(AuditAction.MEMBERSHIP_STATUS)
    assert entry.details == {"from": "active", "to": "suspended"}
    assert entry.reason == "Afspraak gemist"


def test_a_member_leaving_on_their_own_and_the_system_admitting_leave_no_entry(circle, anna):
    account_services.membership_status_change(
        actor=anna.user, membership=anna, to_status=Status.LEAVING
    )
    applicant = MembershipFactory(community=circle, status=Status.APPLIED)
    account_services.membership_status_change(
        actor=None, membership=applicant, to_status=Status.ACTIVE
    )
    assert not AuditEntry.objects.exists()


def test_a_refused_status_change_leaves_no_entry(anna, mieke):
    with pytest.raises(InvalidInput):
        account_services.membership_status_change(
            actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason=""
        )
    assert not AuditEntry.objects.exists()


def test_a_role_change_is_recorded(anna, mieke):
    account_services.membership_role_change(
        actor=mieke, membership=anna, to_role=Role.COORDINATOR, reason="Helpt mee"
    )
    entry = the_entry(AuditAction.MEMBERSHIP_ROLE)
    assert (entry.membership, entry.details, entry.reason) == (
        anna,
        {"from": "member", "to": "coordinator"},
        "Helpt mee",
    )


def test_an_area_change_is_recorded_for_a_coordinator_and_not_for_the_member(circle, anna, mieke):
    north, south = AreaFactory(community=circle), AreaFactory(community=circle)
    account_services.membership_area_change(actor=anna.user, membership=anna, area=north)
    assert not AuditEntry.objects.exists()
    account_services.membership_area_change(actor=mieke, membership=anna, area=south)
    assert the_entry(AuditAction.MEMBERSHIP_AREA).details == {"from": north.pk, "to": south.pk}


def test_changed_settings_are_recorded_with_old_and_new_values(circle, mieke):
    account_services.community_update(actor=mieke, community=circle, default_floor=-30 * HOUR)
    entry = the_entry(AuditAction.SETTINGS_CHANGE)
    assert entry.details == {"changes": {"default_floor": [-20 * HOUR, -30 * HOUR]}}
    account_services.community_update(actor=mieke, community=circle, default_floor=-30 * HOUR)
    assert AuditEntry.objects.count() == 1, "saving the same settings again changes nothing"


def test_a_new_area_is_recorded(circle, mieke):
    area = account_services.area_create(actor=mieke, community=circle, name="Overvecht")
    entry = the_entry(AuditAction.AREA_CREATE)
    assert (entry.subject_type, entry.subject_id) == ("accounts.area", area.pk)


def test_a_new_circle_is_recorded_as_the_administrators(mieke):
    admin = UserFactory(is_superuser=True, is_staff=True)
    community = account_services.community_create(
        actor=admin,
        name="Niksen",
        slug="niksen",
        unit_singular_nl="nikse",
        unit_plural_nl="niksen",
        unit_singular_en="nikse",
        unit_plural_en="niksen",
        first_coordinator=mieke,
    )
    entry = the_entry(AuditAction.COMMUNITY_CREATE)
    assert (entry.community, entry.actor, entry.actor_role) == (
        community,
        admin,
        AuditRole.ADMINISTRATOR,
    )
    assert entry.membership.user == mieke


# -- The ledger ------------------------------------------------------------------


def test_changed_limits_are_recorded_with_old_and_new_limits(anna, mieke):
    ledger_services.account_limits_set(
        actor=mieke, account=account(anna), floor=-30 * HOUR, ceiling=None, reason="Verhuist"
    )
    entry = the_entry(AuditAction.LIMITS_SET)
    assert entry.membership == anna
    assert entry.details == {
        "account": anna.pk,
        "floor": [None, -30 * HOUR],
        "ceiling": [None, None],
    }
    assert entry.reason == "Verhuist"


def test_a_members_own_payment_leaves_no_entry(anna, bram):
    ledger_services.transfer_create(
        actor=anna.user,
        community=anna.community,
        kind=TransferKind.PAYMENT,
        payer=account(anna),
        payee=account(bram),
        amount=HOUR,
        memo="Tuin",
        idempotency_key=key(),
    )
    assert not AuditEntry.objects.exists()


def test_a_payment_entered_on_a_members_behalf_is_recorded_once_however_often_it_is_sent(
    anna, bram, mieke
):
    request = {
        "actor": mieke,
        "community": anna.community,
        "kind": TransferKind.COORDINATOR_ENTRY,
        "payer": account(anna),
        "payee": account(bram),
        "amount": 90,
        "memo": "Briefje",
        "idempotency_key": key(),
    }
    first = ledger_services.transfer_create(**request)
    again = ledger_services.transfer_create(**request)
    assert again.pk == first.pk
    entry = the_entry(AuditAction.TRANSFER_ON_BEHALF)
    assert (entry.subject_id, entry.membership) == (first.pk, anna)
    assert entry.details == {
        "kind": "coordinator_entry",
        "payer": anna.pk,
        "payee": bram.pk,
        "amount": 90,
    }


def test_a_refused_payment_on_a_members_behalf_leaves_no_entry(anna, bram, mieke):
    with pytest.raises(PaymentRefused):
        ledger_services.transfer_create(
            actor=mieke,
            community=anna.community,
            kind=TransferKind.COORDINATOR_ENTRY,
            payer=account(anna),
            payee=account(bram),
            amount=21 * HOUR,  # past Anna's credit limit of 20 hours
            memo="Te veel",
            idempotency_key=key(),
        )
    assert not AuditEntry.objects.exists()


def test_a_gift_from_the_pot_names_the_pot(circle, anna, bram, mieke):
    pot = ledger_services.system_account_open(community=circle, kind=AccountKind.POT)
    ledger_services.transfer_create(
        actor=bram.user,
        community=circle,
        kind=TransferKind.POT_DONATION,
        payer=account(bram),
        payee=pot,
        amount=HOUR,
        idempotency_key=key(),
    )
    ledger_services.transfer_create(
        actor=mieke,
        community=circle,
        kind=TransferKind.POT_GRANT,
        payer=pot,
        payee=account(anna),
        amount=HOUR,
        reason="Voor de fiets",
        idempotency_key=key(),
    )
    entry = the_entry(AuditAction.TRANSFER_ON_BEHALF)
    assert (entry.details["payer"], entry.details["payee"], entry.membership) == (
        "pot",
        anna.pk,
        anna,
    )


def test_a_reversal_is_recorded_with_the_transfer_it_undoes(anna, bram, mieke):
    paid = ledger_services.transfer_create(
        actor=anna.user,
        community=anna.community,
        kind=TransferKind.PAYMENT,
        payer=account(anna),
        payee=account(bram),
        amount=HOUR,
        memo="Tuin",
        idempotency_key=key(),
    )
    reversal = ledger_services.transfer_reverse(
        actor=mieke, transfer=paid, reason="Dubbel ingevoerd", idempotency_key=key()
    )
    entry = the_entry(AuditAction.TRANSFER_REVERSE)
    assert entry.subject_id == reversal.pk
    assert entry.details == {"reverses": paid.pk, "payer": anna.pk, "payee": bram.pk, "amount": 60}
    assert entry.reason == "Dubbel ingevoerd"


def test_a_stack_of_cheques_is_one_entry_and_a_refused_stack_none(anna, bram, mieke):
    lines = [
        ledger_services.ChequeLine(payer=account(anna), payee=account(bram), amount=HOUR, memo="A"),
        ledger_services.ChequeLine(payer=account(bram), payee=account(anna), amount=30, memo="B"),
    ]
    with pytest.raises(InvalidInput):
        ledger_services.transfer_batch_create(
            actor=mieke,
            community=anna.community,
            lines=lines,
            declared_total=1,
            idempotency_key=key(),
        )
    assert not AuditEntry.objects.exists()
    batch = ledger_services.transfer_batch_create(
        actor=mieke, community=anna.community, lines=lines, declared_total=90, idempotency_key=key()
    )
    entry = the_entry(AuditAction.BATCH_ENTER)
    assert (entry.subject_id, entry.details) == (batch.pk, {"cheques": 2, "total": 90})


def test_payment_requests_are_recorded_when_a_coordinator_asks_or_answers(anna, bram, mieke):
    own = ledger_services.payment_request_create(
        actor=bram.user,
        community=anna.community,
        payer=account(anna),
        payee=account(bram),
        amount=HOUR,
        memo="Tuin",
        idempotency_key=key(),
    )
    assert not AuditEntry.objects.exists()
    for_bram = ledger_services.payment_request_create(
        actor=mieke,
        community=anna.community,
        payer=account(anna),
        payee=account(bram),
        amount=30,
        memo="Soep",
        idempotency_key=key(),
    )
    entry = the_entry(AuditAction.REQUEST_ON_BEHALF)
    assert (entry.subject_id, entry.membership) == (for_bram.pk, bram)
    ledger_services.payment_request_decide(
        actor=anna.user, request=for_bram, to_status=RequestStatus.ACCEPTED
    )
    assert not AuditEntry.objects.filter(action=AuditAction.REQUEST_DECIDE).exists()
    ledger_services.payment_request_decide(
        actor=mieke, request=own, to_status=RequestStatus.REJECTED, note="Was een gift"
    )
    entry = the_entry(AuditAction.REQUEST_DECIDE)
    assert entry.details == {
        "from": "pending",
        "to": "rejected",
        "payer": anna.pk,
        "payee": bram.pk,
        "amount": HOUR,
    }
    assert entry.reason == "Was een gift"


def test_the_circles_rule_for_requests_is_recorded(circle, mieke):
    ledger_services.ledger_settings_set(
        actor=mieke, community=circle, auto_accept="after_days", days=7
    )
    entry = the_entry(AuditAction.REQUEST_SETTINGS)
    assert entry.details["auto_accept"][1] == "after_days"
    assert entry.details["days"][1] == 7


# -- Listings and exchanges --------------------------------------------------------


def offer(owner, garden, actor=None):
    return listing_services.listing_create(
        actor=actor or owner.user,
        owner=owner,
        kind="offer",
        title="Hulp in de tuin van Anna",
        description="Snoeien bij Anna de Vries thuis.",
        category=garden,
        help_type="practical",
    )


def test_a_listing_placed_and_changed_for_a_member_is_recorded_without_its_text(
    anna, mieke, garden
):
    offer(anna, garden)
    assert not AuditEntry.objects.exists()
    listing = offer(anna, garden, actor=mieke)
    listing_services.listing_update(
        actor=mieke,
        listing=listing,
        title="Tuinhulp",
        description="Snoeien.",
        category=garden,
        help_type="practical",
    )
    created = the_entry(AuditAction.LISTING_CREATE)
    assert (created.subject_id, created.membership, created.details) == (
        listing.pk,
        anna,
        {"kind": "offer"},
    )
    assert the_entry(AuditAction.LISTING_UPDATE).membership == anna
    stored = json.dumps(list(AuditEntry.objects.values("details", "reason")))
    assert "Anna" not in stored
    assert "tuin" not in stored.lower()


def test_removing_someone_elses_listing_is_recorded_and_the_owner_pausing_is_not(
    anna, mieke, garden
):
    listing = offer(anna, garden)
    listing_services.listing_status_change(
        actor=anna.user, listing=listing, to_status=ListingStatus.PAUSED
    )
    assert not AuditEntry.objects.exists()
    with pytest.raises(InvalidInput):
        listing_services.listing_status_change(
            actor=mieke, listing=listing, to_status=ListingStatus.REMOVED
        )
    assert not AuditEntry.objects.exists()
    listing_services.listing_status_change(
        actor=mieke, listing=listing, to_status=ListingStatus.REMOVED, note="Geen ruil"
    )
    entry = the_entry(AuditAction.LISTING_MODERATE)
    assert (entry.details, entry.reason) == ({"from": "paused", "to": "removed"}, "Geen ruil")


def test_a_handled_report_is_recorded_once(anna, bram, mieke, garden):
    listing = offer(anna, garden)
    report = listing_services.listing_report(actor=bram.user, listing=listing, reason="Reclame")
    with pytest.raises(NotAllowed):
        listing_services.listing_report_handle(actor=bram.user, report=report)
    listing_services.listing_report_handle(actor=mieke, report=report)
    listing_services.listing_report_handle(actor=mieke, report=ListingReport.objects.get())
    entry = the_entry(AuditAction.REPORT_HANDLE)
    assert (entry.membership, entry.reason) == (anna, "")


def test_a_match_by_hand_is_recorded(anna, bram, mieke):
    exchange = listing_services.exchange_match(
        actor=mieke, provider=anna, receiver=bram, description="Fiets maken"
    )
    entry = the_entry(AuditAction.EXCHANGE_MATCH)
    assert (entry.subject_id, entry.details) == (
        exchange.pk,
        {"provider": anna.pk, "receiver": bram.pk, "listing": None},
    )


def test_settling_a_dispute_records_the_decision_and_the_payment_it_makes(
    anna, bram, mieke, garden
):
    exchange = listing_services.exchange_propose(
        actor=bram.user, listing=offer(anna, garden), description="De heg"
    )
    for actor, to_status, extra in (
        (anna.user, ExchangeStatus.ACCEPTED, {}),
        (anna.user, ExchangeStatus.DONE, {"amount": 90}),
        (bram.user, ExchangeStatus.DISPUTED, {"note": "Half gedaan"}),
    ):
        listing_services.exchange_step(actor=actor, exchange=exchange, to_status=to_status, **extra)
    assert not AuditEntry.objects.exists(), "the members' own steps"
    listing_services.exchange_step(
        actor=mieke, exchange=exchange, to_status=ExchangeStatus.PAID, amount=60, note="Half"
    )
    decision = the_entry(AuditAction.EXCHANGE_STEP)
    assert decision.details == {
        "from": "disputed",
        "to": "paid",
        "provider": anna.pk,
        "receiver": bram.pk,
        "amount": 60,
    }
    assert decision.reason == "Half"
    payment = the_entry(AuditAction.TRANSFER_ON_BEHALF)
    assert (payment.details["payer"], payment.details["amount"]) == (bram.pk, 60)
    assert AuditEntry.objects.count() == 2


def test_the_approval_settings_are_recorded(circle, mieke):
    listing_services.exchange_settings_set(
        actor=mieke, community=circle, approval_above=5 * HOUR, approval_first=2
    )
    assert the_entry(AuditAction.EXCHANGE_SETTINGS).details == {
        "approval_above": [None, 5 * HOUR],
        "approval_first": [0, 2],
    }


# -- Signals ---------------------------------------------------------------------


def a_flag(circle, membership):
    return Flag.objects.create(
        community=circle,
        membership=membership,
        kind="overload",
        numbers={},
        sentence_nl="Anna gaf veel.",
        sentence_en="Anna gave a lot.",
        period=date(2025, 6, 1),
        last_seen_period=date(2025, 6, 1),
    )


def test_every_step_with_a_signal_is_recorded_without_the_private_note(circle, anna, mieke):
    joost = CoordinatorFactory(community=circle, user=UserFactory(display_name="Joost")).user
    flag = a_flag(circle, anna)
    with pytest.raises(NotAllowed):
        reciprocity_services.flag_step(
            actor=anna.user, flag=flag, to_status=FlagStatus.ASSIGNED, assignee=joost
        )
    reciprocity_services.flag_step(
        actor=mieke, flag=flag, to_status=FlagStatus.ASSIGNED, assignee=joost
    )
    reciprocity_services.flag_step(
        actor=joost, flag=flag, to_status=FlagStatus.CONTACTED, note="Anna is ziek geweest."
    )
    steps = list(AuditEntry.objects.filter(action=AuditAction.FLAG_STEP).order_by("pk"))
    assert [(e.actor, e.details["to"]) for e in steps] == [
        (mieke, "assigned"),
        (joost, "contacted"),
    ]
    assert steps[0].details["assignee"] == joost.pk
    assert all(e.membership == anna and e.reason == "" for e in steps)
    assert "ziek" not in json.dumps([e.details for e in steps])


def test_signal_settings_and_a_started_analysis_are_recorded(circle, mieke):
    reciprocity_services.reciprocity_settings_set(
        actor=mieke, community=circle, window_days=180, thresholds={}
    )
    assert the_entry(AuditAction.SIGNAL_SETTINGS).details["window_days"][1] == 180
    run = reciprocity_services.analysis_request(actor=mieke, community=circle)
    waiting = reciprocity_services.analysis_request(actor=mieke, community=circle)
    assert waiting.pk == run.pk, "the run that waits is returned, no second one starts"
    assert the_entry(AuditAction.ANALYSIS_REQUEST).subject_id == run.pk


# -- The site's administrators in the admin -----------------------------------------


@pytest.fixture
def admin_client(client):
    admin = UserFactory(is_superuser=True, is_staff=True, display_name="Beheer")
    client.force_login(admin)
    client.admin = admin
    return client


def test_changes_in_the_admin_are_recorded_with_the_objects_community(admin_client, circle):
    response = admin_client.post(
        reverse("admin:accounts_area_add"), {"community": circle.pk, "name": "Noord"}
    )
    assert response.status_code == 302
    added = the_entry(AuditAction.ADMIN_ADD)
    assert (added.community, added.actor, added.actor_role, added.subject_type) == (
        circle,
        admin_client.admin,
        AuditRole.ADMINISTRATOR,
        "accounts.area",
    )
    area = circle.areas.get()
    admin_client.post(
        reverse("admin:accounts_area_change", args=[area.pk]),
        {"community": circle.pk, "name": "Noordoost"},
    )
    changed = the_entry(AuditAction.ADMIN_CHANGE)
    assert (changed.community, changed.subject_id, changed.details) == (
        circle,
        area.pk,
        {"fields": ["Name"]},
    )


def test_a_coordinator_who_administers_acts_as_administrator_in_the_admin(admin_client, circle):
    MembershipFactory(community=circle, user=admin_client.admin, role=Role.COORDINATOR)
    admin_client.post(reverse("admin:accounts_area_add"), {"community": circle.pk, "name": "Zuid"})
    assert the_entry(AuditAction.ADMIN_ADD).actor_role == AuditRole.ADMINISTRATOR


def test_the_audit_log_in_the_admin_can_be_read_but_not_changed(admin_client, anna, mieke):
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Even rust"
    )
    entry = AuditEntry.objects.get()
    assert admin_client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 200
    assert admin_client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:accounts_auditentry_change", args=[entry.pk]), {"reason": "Weg ermee"}
    )
    assert response.status_code == 403
    response = admin_client.post(reverse("admin:accounts_auditentry_delete", args=[entry.pk]))
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.reason == "Even rust"


# -- The database refuses changes ----------------------------------------------------


@pytest.fixture
def recorded(anna, mieke):
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Even rust"
    )
    return AuditEntry.objects.get()


def refused(sql: str, params=()) -> str:
    """Run SQL in a savepoint, with the test's pending foreign-key checks done
    first (TRUNCATE waits for none); return the refusal."""
    with pytest.raises(IntegrityError) as error, transaction.atomic(), connection.cursor() as c:
        c.execute("SET CONSTRAINTS ALL IMMEDIATE")
        c.execute(sql, params)
    return str(error.value)


@pytest.fixture
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("these rules are PostgreSQL's own: run `make test`")


@pytest.mark.usefixtures("_postgres_only")
def test_postgresql_refuses_to_update_an_audit_entry(recorded):
    message = refused(
        "UPDATE accounts_auditentry SET reason = 'iets anders' WHERE id = %s", [recorded.pk]
    )
    assert "append-only" in message
    recorded.refresh_from_db()
    assert recorded.reason == "Even rust"


@pytest.mark.usefixtures("_postgres_only")
def test_postgresql_refuses_to_delete_or_truncate_the_audit_log(recorded):
    assert "append-only" in refused("DELETE FROM accounts_auditentry")
    assert "append-only" in refused("TRUNCATE accounts_auditentry")
    assert AuditEntry.objects.filter(pk=recorded.pk).exists()


def test_the_orm_cannot_change_or_delete_an_audit_entry_either(recorded):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEntry.objects.filter(pk=recorded.pk).update(reason="weg")
    with pytest.raises(IntegrityError), transaction.atomic():
        recorded.delete()
    assert AuditEntry.objects.get(pk=recorded.pk).reason == "Even rust"


# -- The coordinators' page ------------------------------------------------------


def audit_page(client, circle, **query):
    return client.get(reverse("accounts:audit_log", args=[circle.slug]), query)


def test_the_coordinator_reads_what_happened_in_sentences(client, circle, anna, mieke):
    applicant = MembershipFactory(
        community=circle, status=Status.APPLIED, user=UserFactory(display_name="Cas")
    )
    account_services.membership_status_change(
        actor=mieke, membership=applicant, to_status=Status.ACTIVE
    )
    ledger_services.account_limits_set(
        actor=mieke, account=account(anna), floor=-30 * HOUR, ceiling=None, reason="Verhuist"
    )
    client.force_login(mieke)
    response = audit_page(client, circle)
    assert response.status_code == 200
    text = response.content.decode()
    assert "Admitted Cas" in text
    assert (
        "Changed the limits of Anna de Vries: may receive more than give up to "
        "30\u00a0hours (was the circle&#x27;s default)"
    ) in text
    assert "Verhuist" in text
    assert text.index("Changed the limits") < text.index("Admitted Cas"), "newest first"


def test_a_member_is_refused_the_page_and_another_circles_coordinator_does_not_find_it(
    client, circle, anna
):
    client.force_login(anna.user)
    assert audit_page(client, circle).status_code == 403
    elsewhere = CoordinatorFactory(community=CommunityFactory()).user
    client.force_login(elsewhere)
    assert audit_page(client, circle).status_code == 404


def test_the_page_names_a_member_as_they_are_called_now(client, circle, anna, mieke):
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Even rust"
    )
    anna.user.display_name = "Verwijderd lid #7"
    anna.user.save(update_fields=["display_name"])
    client.force_login(mieke)
    text = audit_page(client, circle).content.decode()
    assert "Suspended Verwijderd lid #7" in text
    assert "Anna de Vries" not in text


def test_the_page_filters_by_action_and_by_person_and_shows_only_its_own_circle(
    client, circle, anna, bram, mieke
):
    joost = CoordinatorFactory(community=circle, user=UserFactory(display_name="Joost")).user
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Even rust"
    )
    account_services.membership_role_change(
        actor=joost, membership=bram, to_role=Role.COORDINATOR, reason="Helpt mee"
    )
    other = CommunityFactory()
    account_services.area_create(
        actor=CoordinatorFactory(community=other).user, community=other, name="Elders"
    )
    client.force_login(mieke)
    everything = audit_page(client, circle).content.decode()
    assert "Suspended Anna de Vries" in everything and "Made Bram a coordinator" in everything
    assert "Elders" not in everything
    by_action = audit_page(client, circle, action=AuditAction.MEMBERSHIP_ROLE).content.decode()
    assert "Made Bram a coordinator" in by_action and "Suspended" not in by_action
    by_person = audit_page(client, circle, actor=mieke.pk).content.decode()
    assert "Suspended Anna de Vries" in by_person and "Made Bram" not in by_person


def test_the_page_shows_fifty_entries_at_a_time(client, circle, anna, mieke):
    for number in range(51):
        account_services.community_update(actor=mieke, community=circle, place=f"Plaats {number}")
    client.force_login(mieke)
    first = audit_page(client, circle)
    assert len(first.context["lines"]) == 50
    assert "page=2" in first.content.decode()
    assert len(audit_page(client, circle, page=2).context["lines"]) == 1


def test_the_community_page_links_coordinators_to_the_log(client, circle, anna, mieke):
    link = reverse("accounts:audit_log", args=[circle.slug])
    client.force_login(mieke)
    assert (
        link
        in client.get(reverse("accounts:community_detail", args=[circle.slug])).content.decode()
    )
    client.force_login(anna.user)
    assert (
        link
        not in client.get(reverse("accounts:community_detail", args=[circle.slug])).content.decode()
    )


# -- The API -----------------------------------------------------------------------


def audit_api(client, circle, **query):
    return client.get(reverse("accounts_api:audit_log", args=[circle.slug]), query)


def test_the_api_gives_coordinators_the_log_a_page_at_a_time(client, circle, anna, mieke):
    account_services.membership_status_change(
        actor=mieke, membership=anna, to_status=Status.SUSPENDED, reason="Even rust"
    )
    client.force_login(mieke)
    body = audit_api(client, circle).json()
    assert (body["count"], body["page"], body["pages"]) == (1, 1, 1)
    (row,) = body["results"]
    assert (row["actor"], row["actor_name"], row["actor_role"], row["action"]) == (
        mieke.pk,
        "Mieke",
        "coordinator",
        "membership.status",
    )
    assert (row["member"], row["details"], row["reason"]) == (
        anna.pk,
        {"from": "active", "to": "suspended"},
        "Even rust",
    )
    assert row["summary"] == "Suspended Anna de Vries"
    assert audit_api(client, circle, action="limits.set").json()["count"] == 0


def test_the_api_refuses_members_outsiders_and_strangers(client, circle, anna):
    assert audit_api(client, circle).status_code == 401
    client.force_login(anna.user)
    assert audit_api(client, circle).status_code == 403
    client.force_login(CoordinatorFactory(community=CommunityFactory()).user)
    assert audit_api(client, circle).status_code == 404


def test_the_api_refuses_an_unknown_action(client, circle, mieke):
    client.force_login(mieke)
    response = audit_api(client, circle, action="nothing.at.all")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_entries_older_than_a_page_come_on_the_next(client, circle, mieke):
    for number in range(51):
        account_services.community_update(actor=mieke, community=circle, place=f"Plaats {number}")
    client.force_login(mieke)
    second = audit_api(client, circle, page=2).json()
    assert (second["count"], second["page"], len(second["results"])) == (51, 2, 1)
    assert second["results"][0]["details"]["changes"]["place"] == ["Utrecht", "Plaats 0"]


def test_every_kind_of_action_reads_as_a_sentence_with_names_and_amounts(
    client, circle, anna, bram, mieke, garden
):
    admin = UserFactory(is_superuser=True, is_staff=True, display_name="Beheer")
    north = account_services.area_create(actor=mieke, community=circle, name="Noord")
    account_services.membership_area_change(actor=mieke, membership=anna, area=north)
    account_services.membership_role_change(
        actor=mieke, membership=bram, to_role=Role.COORDINATOR, reason="Helpt mee"
    )
    account_services.community_update(actor=admin, community=circle, place="Utrecht-Noord")
    ledger_services.account_limits_set(
        actor=mieke, account=account(bram), floor=None, ceiling=50 * HOUR, reason="Geeft veel"
    )
    paid = ledger_services.transfer_create(
        actor=mieke,
        community=circle,
        kind=TransferKind.COORDINATOR_ENTRY,
        payer=account(anna),
        payee=account(bram),
        amount=90,
        memo="Briefje",
        idempotency_key=key(),
    )
    ledger_services.transfer_reverse(
        actor=mieke, transfer=paid, reason="Fout", idempotency_key=key()
    )
    ledger_services.transfer_batch_create(
        actor=mieke,
        community=circle,
        lines=[
            ledger_services.ChequeLine(payer=account(bram), payee=account(anna), amount=30, memo="")
        ],
        declared_total=30,
        idempotency_key=key(),
    )
    request = ledger_services.payment_request_create(
        actor=mieke,
        community=circle,
        payer=account(anna),
        payee=account(bram),
        amount=HOUR,
        memo="Soep",
        idempotency_key=key(),
    )
    ledger_services.payment_request_decide(
        actor=mieke, request=request, to_status=RequestStatus.CANCELLED, note="Dubbel"
    )
    ledger_services.ledger_settings_set(actor=mieke, community=circle, auto_accept="always", days=7)
    listing = offer(anna, garden, actor=mieke)
    listing_services.listing_status_change(
        actor=mieke, listing=listing, to_status=ListingStatus.REMOVED, note="Dubbel"
    )
    report = listing_services.listing_report(
        actor=anna.user, listing=offer(bram, garden), reason="Vreemd"
    )
    listing_services.listing_report_handle(actor=mieke, report=report)
    exchange = listing_services.exchange_match(
        actor=mieke, provider=anna, receiver=bram, description="Fiets"
    )
    listing_services.exchange_step(
        actor=mieke, exchange=exchange, to_status=ExchangeStatus.ACCEPTED
    )
    listing_services.exchange_settings_set(
        actor=mieke, community=circle, approval_above=None, approval_first=3
    )
    flag = a_flag(circle, anna)
    until = date.today().replace(year=date.today().year + 1, month=3, day=1)
    reciprocity_services.flag_step(
        actor=mieke, flag=flag, to_status=FlagStatus.SNOOZED, snoozed_until=until
    )
    reciprocity_services.analysis_request(actor=mieke, community=circle)

    client.force_login(mieke)
    text = audit_page(client, circle).content.decode().replace("&#x27;", "'")
    expected = [
        "Added the area “Noord”",
        "Moved Anna de Vries from no area to Noord",
        "Made Bram a coordinator",
        "Changed the circle's settings: place",
        "Changed the limits of Bram: may give more than receive up to 50\u00a0hours "
        "(was the circle's default)",
        "Recorded 1.5\u00a0hours from Anna de Vries to Bram",
        "Reversed the transfer of 1.5\u00a0hours from Anna de Vries to Bram",
        "Entered 1 paper cheque, 0.5\u00a0hours in all",
        "Asked Anna de Vries to pay 1\u00a0hour to Bram",
        "Withdrew the request for Anna de Vries to pay 1\u00a0hour to Bram",
        "Changed when payment requests are paid without an answer: at once",
        "Placed an offer of help for Anna de Vries",
        "Removed a listing of Anna de Vries",
        "Handled a report about a listing of Bram",
        "Matched Anna de Vries to help Bram",
        "Agreed to the exchange of Anna de Vries and Bram",
        "Changed which payments a coordinator approves first: a member's first 3 exchanges",
        f"Snoozed the signal about Anna de Vries until 1 March {until.year}",
        "Started an analysis of the circle",
        "(site administrator)",
    ]
    missing = [sentence for sentence in expected if sentence not in text]
    assert missing == []
    assert AuditEntry.objects.filter(community=circle).count() == len(expected) - 1
