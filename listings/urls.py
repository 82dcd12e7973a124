from django.urls import path

from listings import views

app_name = "listings"

urlpatterns = [
    path("c/<slug:slug>/listings/", views.listing_list, name="list"),
    path("c/<slug:slug>/listings/mine/", views.my_listings, name="mine"),
    path("c/<slug:slug>/listings/new/", views.listing_new, name="new"),
    path("c/<slug:slug>/listings/<int:listing_id>/", views.listing_detail, name="detail"),
    path("c/<slug:slug>/listings/<int:listing_id>/edit/", views.listing_edit, name="edit"),
    path("c/<slug:slug>/listings/<int:listing_id>/photo/", views.listing_photo, name="photo"),
    path("c/<slug:slug>/listings/<int:listing_id>/status/", views.listing_status, name="status"),
    path("c/<slug:slug>/listings/<int:listing_id>/report/", views.listing_report, name="report"),
    path(
        "c/<slug:slug>/listings/<int:listing_id>/respond/",
        views.listing_respond,
        name="respond",
    ),
    path("c/<slug:slug>/listings/<int:listing_id>/match/", views.listing_match, name="match"),
    path("c/<slug:slug>/exchanges/", views.my_exchanges, name="exchanges"),
    path("c/<slug:slug>/exchanges/new/", views.exchange_new, name="exchange_new"),
    path("c/<slug:slug>/exchanges/settings/", views.exchange_settings, name="exchange_settings"),
    path("c/<slug:slug>/moderation/", views.moderation, name="moderation"),
    path(
        "c/<slug:slug>/moderation/reports/<int:report_id>/",
        views.report_handle,
        name="report_handle",
    ),
    path("c/<slug:slug>/exchanges/<int:exchange_id>/", views.exchange_detail, name="exchange"),
    path(
        "c/<slug:slug>/exchanges/<int:exchange_id>/step/", views.exchange_step, name="exchange_step"
    ),
    path(
        "c/<slug:slug>/exchanges/<int:exchange_id>/messages/",
        views.exchange_message,
        name="exchange_message",
    ),
    path(
        "c/<slug:slug>/exchanges/<int:exchange_id>/thanks/",
        views.exchange_thank,
        name="exchange_thank",
    ),
]
