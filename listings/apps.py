from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListingsConfig(AppConfig):
    name = "listings"
    verbose_name = _("Offers and requests")

    def ready(self) -> None:
        from listings.notifications import kinds_register

        kinds_register()
