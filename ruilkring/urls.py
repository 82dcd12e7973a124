from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from accounts import views as accounts_views
from ruilkring import admin_access
from ruilkring.health import healthz

admin_access.install()

# The API documentation under the site's Content-Security-Policy (settings.base):
# the split view serves Swagger UI's start-up script as a file of its own
# (/api/docs/?script=) instead of inline. drf-spectacular's page template keeps
# one small inline <style> (box-sizing and the page margin); its hash lets that
# block, and only that block, apply on this page. tests/test_security_headers.py
# fails when an upgrade of drf-spectacular changes it.
SWAGGER_UI_STYLE_HASH = "'sha256-MMpT0iDxyjALd9PdfepImGX3DBfJPXZ4IlDWdPAgtn0='"
api_docs = csp_update({"style-src": [SWAGGER_UI_STYLE_HASH]})(
    SpectacularSwaggerSplitView.as_view(url_name="api_schema")
)

urlpatterns = [
    path("", accounts_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("accessibility/", accounts_views.accessibility_statement, name="accessibility"),
    path("language/", accounts_views.language_set, name="set_language"),
    path("account/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api_schema"),
    path("api/docs/", api_docs, name="api_docs"),
    path("api/v1/", include("accounts.api_urls")),
    path("api/v1/", include("ledger.api_urls")),
    path("api/v1/", include("listings.api_urls")),
    path("", include("accounts.urls")),
    path("", include("ledger.urls")),
    path("", include("listings.urls")),
    path("", include("reciprocity.urls")),
    path("", include("privacy.urls")),
]

# A missing page is the 404 page; a missing API address is a problem+json (api_errors).
handler404 = "ruilkring.api_errors.not_found"
