"""What the listings tell people: each text in the recipient's own language,
into their inbox and, as they chose, their mail (``accounts.notifications``)."""

from __future__ import annotations

from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import NotificationChannel, User
from accounts.notifications import notification_kind_register, notify
from listings.models import Exchange, ExchangeStatus, Listing, ListingStatus

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
}


def kinds_register() -> None:
    for kind, (label, default) in KINDS.items():
        notification_kind_register(kind, label, default)


def _exchange_link(exchange: Exchange) -> str:
    return reverse("listings:exchange", args=[exchange.community.slug, exchange.pk])


def _listing_link(listing: Listing) -> str:
    return reverse("listings:detail", args=[listing.community.slug, listing.pk])


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


def exchange_step_notify(*, exchange: Exchange, actor: User | None, note: str) -> None:
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
