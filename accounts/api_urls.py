from django.urls import path

from accounts import api

app_name = "accounts_api"

urlpatterns = [
    path("me/memberships/", api.MyMembershipsApi.as_view(), name="my_memberships"),
    path("communities/<slug:slug>/audit/", api.AuditLogApi.as_view(), name="audit_log"),
]
