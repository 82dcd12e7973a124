from django.conf import settings
from django.http import HttpRequest

from accounts.selectors import notifications_unread_count


def site(request: HttpRequest) -> dict:
    """Values every page needs: the instance's name, theme and accessibility statement,
    and how many unread notifications the signed-in person has."""
    return {
        "site_name": settings.RUILKRING_SITE_NAME,
        "theme_css_url": settings.RUILKRING_THEME_CSS_URL,
        "accessibility_statement_url": settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL,
        "unread_notifications": (
            notifications_unread_count(user=request.user) if hasattr(request, "user") else 0
        ),
    }
