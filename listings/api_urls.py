from django.urls import path

from listings import api

app_name = "listings_api"

prefix = "communities/<slug:slug>/"
urlpatterns = [
    path(prefix + "categories/", api.CategoryListApi.as_view(), name="categories"),
    path(prefix + "listings/", api.ListingListApi.as_view(), name="listings"),
    path(prefix + "listings/<int:listing_id>/", api.ListingDetailApi.as_view(), name="listing"),
    path(
        prefix + "listings/<int:listing_id>/status/",
        api.ListingStatusApi.as_view(),
        name="listing_status",
    ),
    path(
        prefix + "listings/<int:listing_id>/report/",
        api.ListingReportApi.as_view(),
        name="listing_report",
    ),
    path(
        prefix + "listings/<int:listing_id>/respond/",
        api.ListingRespondApi.as_view(),
        name="listing_respond",
    ),
    path(prefix + "exchanges/", api.ExchangeListApi.as_view(), name="exchanges"),
    path(
        prefix + "exchange-settings/",
        api.ExchangeSettingsApi.as_view(),
        name="exchange_settings",
    ),
    path(prefix + "exchanges/<int:exchange_id>/", api.ExchangeDetailApi.as_view(), name="exchange"),
    path(
        prefix + "exchanges/<int:exchange_id>/step/",
        api.ExchangeStepApi.as_view(),
        name="exchange_step",
    ),
    path(
        prefix + "exchanges/<int:exchange_id>/messages/",
        api.ExchangeMessageApi.as_view(),
        name="exchange_messages",
    ),
    path(
        prefix + "exchanges/<int:exchange_id>/thanks/",
        api.ExchangeThankApi.as_view(),
        name="exchange_thanks",
    ),
]
