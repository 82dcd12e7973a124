"""What the listings tell people: each text in the recipient's own language,
into their inbox and, as they chose, their mail (``accounts.notifications``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationChannel, User
from accounts.notifications import notification_kind_register, notify
from accounts.selectors import coordinators_acting
from accounts.units import amount_format
from listings.models import Exchange, ExchangeStatus, Listing, ListingReport, ListingStatus

KINDS = {
    "exchange_new": (
        gettext_lazy("Someone responds to your listing, or a match"),
        NotificationChannel.NOW,
    ),
    "exchange_step": (gettext_lazy("An exchange of yours moves on"), NotificationChannel.NOW),
    "exchange_message": (gettext_lazy("A message about an exchange"), NotificationChannel.NOW),
    "exchange_thanks": (gettext_lazy("A thank-you note"), NotificationChannel.NOW),
    "listing_moderated": (
        gettext_lazy("A coordinator takes down or puts back your listing"),
        NotificationChannel.NOW,
    ),
    "listing_expired": (gettext_lazy("Your listing has expired"), NotificationChannel.DIGEST),
    # For the community's coordinators.
    "listing_reported": (
        gettext_lazy("For coordinators: a member reports a listing"),
        NotificationChannel.NOW,
    ),
    "exchange_disputed": (
        gettext_lazy("For coordinators: an exchange needs a coordinator"),
        NotificationChannel.NOW,
    ),
    "exchange_review": (
        gettext_lazy("For coordinators: a payment waits for approval"),
        NotificationChannel.NOW,
    ),
}


COORDINATOR_KINDS = {"listing_reported", "exchange_disputed", "exchange_review"}


def kinds_register() -> None:
    for kind, (label, default) in KINDS.items():
        notification_kind_register(kind, label, default, for_coordinators=kind in COORDINATOR_KINDS)


def _exchange_link(exchange: Exchange) -> str:
    return reverse("listings:exchange", args=[exchange.community.slug, exchange.pk])


def _listing_link(listing: Listing) -> str:
    return reverse("listings:detail", args=[listing.community.slug, listing.pk])


def _moderation_link(community) -> str:
    return reverse("listings:moderation", args=[community.slug])


def _coordinators(community, actor: User | None) -> list[User]:
    """The community's active coordinators who can use their role (two-factor),
    but not the one who acted."""
    return [
        user
        for user in coordinators_acting(community=community)
        if actor is None or user.pk != actor.pk
    ]


def _others(exchange: Exchange, actor: User | None) -> list[User]:
    """The exchange's members other than the one who acted."""
    members = [exchange.provider.user, exchange.receiver.user]
    return [user for user in members if actor is None or user.pk != actor.pk]


def exchange_new_notify(*, exchange: Exchange, actor: User) -> None:
    for user in _others(exchange, actor):
        with translation.override(user.language):
            if exchange.proposer_id is None:
                subject = _("A coordinator proposes an exchange")
                body = _("%(name)s, a coordinator, suggests: %(what)s") % {
                    "name": actor.display_name,
                    "what": exchange.description,
                }
            else:
                subject = _("%(name)s responds to your listing") % {"name": actor.display_name}
                body = exchange.description
        notify(
            user=user,
            kind="exchange_new",
            subject=subject,
            body=body,
            link=_exchange_link(exchange),
            community=exchange.community,
        )


def _step_outcome(exchange: Exchange, *, from_status: str, settled_now: bool, language) -> str:
    """What a step means for the two members' accounts, in plain words; empty
    when the status says it all. Called inside the reader's language."""
    amount = (
        amount_format(community=exchange.community, amount=exchange.amount, language=language)
        if exchange.amount
        else ""
    )
    names = {
        "provider": exchange.provider.user.display_name,
        "receiver": exchange.receiver.user.display_name,
        "amount": amount,
    }
    status = exchange.status
    if status == ExchangeStatus.REVIEW:
        return (
            _(
                "A coordinator looks at this payment of %(amount)s first. Until then "
                "nothing is asked of %(receiver)s."
            )
            % names
        )
    if from_status == ExchangeStatus.REVIEW and status in (
        ExchangeStatus.DONE,
        ExchangeStatus.PAID,
    ):
        return _("A coordinator approved the payment of %(amount)s.") % names
    if from_status != ExchangeStatus.DISPUTED:
        return ""
    if status == ExchangeStatus.PAID and settled_now:
        return _("%(receiver)s gives %(provider)s %(amount)s, as the coordinator decided.") % names
    if status == ExchangeStatus.PAID:
        return _("The payment of %(amount)s stays as it was.") % names
    if status == ExchangeStatus.CANCELLED and exchange.transfer_id is not None:
        return (
            _(
                "The payment of %(amount)s is reversed: it goes back from %(provider)s "
                "to %(receiver)s."
            )
            % names
        )
    if status == ExchangeStatus.CANCELLED:
        return _("Nothing was paid for this exchange, and nothing will be.")
    return ""


def exchange_step_notify(
    *,
    exchange: Exchange,
    actor: User | None,
    note: str,
    from_status: str = "",
    settled_now: bool = False,
) -> None:
    """Tell the exchange's members (but not the one who acted) where it went,
    what that means for their accounts, and the reason when one was given.
    ``settled_now``: a coordinator settled a dispute with a payment just now."""
    for user in _others(exchange, actor):
        with translation.override(user.language):
            status = ExchangeStatus(exchange.status).label
            subject = _("Exchange: %(status)s") % {"status": status}
            who = actor.display_name if actor is not None else _("The system")
            body = _("%(who)s moved the exchange “%(what)s” to “%(status)s”.") % {
                "who": who,
                "what": exchange.description[:80],
                "status": status,
            }
            outcome = _step_outcome(
                exchange, from_status=from_status, settled_now=settled_now, language=user.language
            )
            if outcome:
                body += "\n" + outcome
            if note:
                body += "\n" + _("Reason: %(note)s") % {"note": note}
        notify(
            user=user,
            kind="exchange_step",
            subject=subject,
            body=body,
            link=_exchange_link(exchange),
            community=exchange.community,
        )


def exchange_coordinators_notify(*, exchange: Exchange, actor: User | None, note: str) -> None:
    """Tell the community's coordinators (not the one who acted) that an
    exchange needs one of them: a dispute, or a payment that waits for approval."""
    if exchange.status == ExchangeStatus.DISPUTED:
        kind = "exchange_disputed"
    elif exchange.status == ExchangeStatus.REVIEW:
        kind = "exchange_review"
    else:
        return
    for user in _coordinators(exchange.community, actor):
        with translation.override(user.language):
            names = {
                "provider": exchange.provider.user.display_name,
                "receiver": exchange.receiver.user.display_name,
                "what": exchange.description[:80],
            }
            if kind == "exchange_disputed":
                subject = _("An exchange needs a coordinator: %(provider)s and %(receiver)s") % (
                    names
                )
                body = (
                    _(
                        "Something is not right with “%(what)s”, where %(provider)s helps "
                        "%(receiver)s. Look at it and decide with a reason both can read."
                    )
                    % names
                )
            else:
                names["amount"] = amount_format(
                    community=exchange.community, amount=exchange.amount, language=user.language
                )
                subject = _("A payment waits for your approval: %(amount)s") % names
                body = (
                    _(
                        "%(provider)s helped %(receiver)s with “%(what)s” and asks %(amount)s. "
                        "Approve it, or turn it down with a reason."
                    )
                    % names
                )
            if note:
                body += "\n" + _("Reason: %(note)s") % {"note": note}
        notify(
            user=user,
            kind=kind,
            subject=subject,
            body=body,
            link=_exchange_link(exchange),
            community=exchange.community,
        )


def listing_reported_notify(*, report: ListingReport, actor: User) -> None:
    """Tell the community's coordinators that a member reported a listing."""
    listing = report.listing
    for user in _coordinators(listing.community, actor):
        with translation.override(user.language):
            subject = _("A member reports “%(title)s”") % {"title": listing.title}
            body = _("Reason: %(note)s") % {"note": report.reason}
        notify(
            user=user,
            kind="listing_reported",
            subject=subject,
            body=body,
            link=_moderation_link(listing.community),
            community=listing.community,
        )


def exchange_message_notify(*, exchange: Exchange, actor: User, body: str) -> None:
    for user in _others(exchange, actor):
        with translation.override(user.language):
            subject = _("Message from %(name)s") % {"name": actor.display_name}
        notify(
            user=user,
            kind="exchange_message",
            subject=subject,
            body=body,
            link=_exchange_link(exchange),
            community=exchange.community,
        )


def exchange_thanks_notify(*, exchange: Exchange, body: str) -> None:
    user = exchange.provider.user
    with translation.override(user.language):
        subject = _("%(name)s thanks you") % {"name": exchange.receiver.user.display_name}
    notify(
        user=user,
        kind="exchange_thanks",
        subject=subject,
        body=body,
        link=_exchange_link(exchange),
        community=exchange.community,
    )


def listing_step_notify(*, listing: Listing, actor: User | None, note: str) -> None:
    """Tell the owner when someone else took their listing down or put it back,
    or when it expired."""
    owner = listing.owner.user
    if actor is not None and actor.pk == owner.pk:
        return
    with translation.override(owner.language):
        if listing.status == ListingStatus.EXPIRED:
            kind = "listing_expired"
            subject = _("Your listing “%(title)s” has expired") % {"title": listing.title}
            body = _("Renew it on its page if you still want it up.")
        elif listing.status == ListingStatus.REMOVED:
            kind = "listing_moderated"
            subject = _("A coordinator took down “%(title)s”") % {"title": listing.title}
            body = _("Reason: %(note)s") % {"note": note}
        elif listing.status == ListingStatus.ACTIVE:
            kind = "listing_moderated"
            subject = _("“%(title)s” is up again") % {"title": listing.title}
            body = note
        else:
            return
    notify(
        user=owner,
        kind=kind,
        subject=subject,
        body=body,
        link=_listing_link(listing),
        community=listing.community,
    )
