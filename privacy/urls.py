from django.urls import path

from privacy import views

app_name = "privacy"

urlpatterns = [
    path("privacy/", views.statement, name="statement"),
    path("account/data/", views.my_data, name="my_data"),
    path("account/data/export/", views.export_request, name="export_request"),
    path(
        "account/data/export/<int:export_id>/download/",
        views.export_download,
        name="export_download",
    ),
    path("account/data/erase/", views.erase, name="erase"),
    path("account/erased/", views.erased, name="erased"),
    path(
        "c/<slug:slug>/privacy-settings/",
        views.community_privacy_settings,
        name="settings",
    ),
]
