"""A retention period must be a whole number of days, at least one: zero would
delete an export the moment it is made, and a negative one everything at once."""

from django.conf import settings
from django.core.checks import Error, register

RETENTION_SETTINGS = {
    "RUILKRING_RETENTION_EXPORT_DAYS": "DJANGO_RETENTION_EXPORT_DAYS",
    "RUILKRING_RETENTION_NOTIFICATIONS_DAYS": "DJANGO_RETENTION_NOTIFICATIONS_DAYS",
    "RUILKRING_RETENTION_APPLICATION_DAYS": "DJANGO_RETENTION_APPLICATION_DAYS",
    "RUILKRING_RETENTION_LEFT_MEMBER_DAYS": "DJANGO_RETENTION_LEFT_MEMBER_DAYS",
}


@register()
def retention_periods_check(app_configs, **kwargs) -> list[Error]:
    errors = []
    for name, variable in RETENTION_SETTINGS.items():
        value = getattr(settings, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            errors.append(
                Error(
                    f"{name} is {value!r}; it must be a whole number of days, at least 1.",
                    hint=f"Set {variable} in the environment.",
                    id="privacy.E001",
                )
            )
    return errors
