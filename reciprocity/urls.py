"""The reciprocity pages: community health, flags, the municipality's figures,
a member's own picture, and starting an analysis."""

from django.urls import path

from reciprocity import views, views_analysis, views_flags

app_name = "reciprocity"

# Community health, the municipality's figures and a member's own picture (views.py).
urlpatterns = [
    path("c/<slug:slug>/reciprocity/", views.health, name="health"),
    path("c/<slug:slug>/reciprocity/mine/", views.mine, name="mine"),
    path("reciprocity/municipality/", views.observer, name="observer"),
    path("reciprocity/municipality.csv", views.observer_csv, name="observer_csv"),
]

# Signals for coordinators: the list, one signal and its steps, the thresholds (views_flags.py).
urlpatterns += [
    path("c/<slug:slug>/reciprocity/flags/", views_flags.flag_list, name="flag_list"),
    path(
        "c/<slug:slug>/reciprocity/flags/settings/",
        views_flags.flag_settings,
        name="flag_settings",
    ),
    path(
        "c/<slug:slug>/reciprocity/flags/<int:flag_id>/",
        views_flags.flag_detail,
        name="flag_detail",
    ),
    path(
        "c/<slug:slug>/reciprocity/flags/<int:flag_id>/step/",
        views_flags.flag_step,
        name="flag_step",
    ),
]

# The coordinator's "analyse now" page (views_analysis.py).
urlpatterns += [
    path("c/<slug:slug>/reciprocity/analysis/", views_analysis.analysis, name="analysis"),
]
