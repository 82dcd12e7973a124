from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    """Instance-wide values every page needs: its name, theme and accessibility statement."""
    return {
        "site_name": settings.RUILKRING_SITE_NAME,
        "theme_css_url": settings.RUILKRING_THEME_CSS_URL,
        "accessibility_statement_url": settings.RUILKRING_ACCESSIBILITY_STATEMENT_URL,
    }
