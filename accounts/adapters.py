from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings

from accounts.notifications import email_queue


class AccountAdapter(DefaultAccountAdapter):
    """django-allauth, the Ruilkring way."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Send verification and password mail through the job queue, so a slow
        mail server never holds up a page."""
        message = self.render_mail(template_prefix, email, context)
        html = ""
        for content, mimetype in getattr(message, "alternatives", []):
            if mimetype == "text/html":
                html = content
        email_queue(subject=message.subject, body=message.body, to=list(message.to), html=html)

    def post_login(self, request, user, **kwargs):
        """After signing in, show the site in the language the person chose before."""
        response = super().post_login(request, user, **kwargs)
        if user.language in dict(settings.LANGUAGES) and hasattr(response, "set_cookie"):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                domain=settings.LANGUAGE_COOKIE_DOMAIN,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response
