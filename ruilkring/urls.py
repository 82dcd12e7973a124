from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views
from ruilkring.health import healthz

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accessibility/", accounts_views.accessibility_statement, name="accessibility"),
    path("language/", accounts_views.language_set, name="set_language"),
    path("account/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api_schema"), name="api_docs"),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("ledger.api_urls")),
    path("api/v1/", include("listings.api_urls")),
    path("", include("accounts.urls")),
    path("", include("ledger.urls")),
    path("", include("listings.urls")),
    path("", include("reciprocity.urls")),
]

# A missing page is the 404 page; a missing API address is a problem+json (api_errors).
handler404 = "ruilkring.api_errors.not_found"
