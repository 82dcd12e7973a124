from django.conf import settings
from django.http import HttpRequest

from accounts.selectors import (
    notifications_unread_count,
    user_coordinates_somewhere,
    user_has_two_factor,
    user_is_observer,
)


def _two_factor_missing(request: HttpRequest) -> bool:
    """Someone with a role that needs two-factor authentication who has not set it up."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not settings.RUILKRING_TWO_FACTOR_REQUIRED:
        return False
    has_role = user_is_observer(user=user) or user_coordinates_somewhere(user=user)
    return has_role and not user_has_two_factor(user=user)


def site(request: HttpRequest) -> dict:
    """Values every page needs: the instance's name, theme and accessibility statement,
    how many unread notifications the signed-in person has, and whether their role
    still waits for two-factor authentication."""
    return {
        "site_name": settings.RUILKRING_SITE_NAME,
        "theme_css_url": settings.RUILKRING_THEME_CSS_URL,
        "accessibility_statement_url": settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL,
        "unread_notifications": (
            notifications_unread_count(user=request.user) if hasattr(request, "user") else 0
        ),
        "two_factor_missing": _two_factor_missing(request),
    }
