from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("my-communities/", views.my_communities, name="my_communities"),
    path("notifications/", views.notifications, name="notifications"),
    path("account/tokens/", views.api_tokens, name="api_tokens"),
    path("account/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
    path("communities/", views.community_list, name="community_list"),
    path("communities/new/", views.community_create, name="community_create"),
    path("communities/<slug:slug>/apply/", views.community_apply, name="community_apply"),
    path("c/<slug:slug>/", views.community_detail, name="community_detail"),
    path("c/<slug:slug>/members/", views.member_list, name="member_list"),
    path("c/<slug:slug>/members/<int:membership_id>/", views.member_detail, name="member_detail"),
    path("c/<slug:slug>/applications/", views.applications, name="applications"),
    path("c/<slug:slug>/settings/", views.community_settings, name="community_settings"),
    path("c/<slug:slug>/audit/", views.audit_log, name="audit_log"),
    path("municipality/", views.observer_overview, name="observer_overview"),
]
