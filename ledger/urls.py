from django.urls import path

from ledger import views

app_name = "ledger"

urlpatterns = [
    path("c/<slug:slug>/account/", views.account_overview, name="account"),
    path("c/<slug:slug>/account/statement.csv", views.statement_csv, name="statement_csv"),
    path("c/<slug:slug>/pay/", views.pay, name="pay"),
    path("c/<slug:slug>/ask/", views.ask, name="ask"),
    path("c/<slug:slug>/pot/", views.pot_give, name="pot_give"),
    path("c/<slug:slug>/account/requests/", views.request_policy, name="request_policy"),
    path("c/<slug:slug>/ledger-settings/", views.ledger_settings, name="ledger_settings"),
    path("c/<slug:slug>/requests/<int:request_id>/", views.request_decide, name="request_decide"),
    path("c/<slug:slug>/accounts/", views.accounts_list, name="accounts_list"),
    path("c/<slug:slug>/accounts/<int:account_id>/", views.account_detail, name="account_detail"),
    path(
        "c/<slug:slug>/accounts/<int:account_id>/statement.csv",
        views.account_statement_csv,
        name="account_statement_csv",
    ),
    path(
        "c/<slug:slug>/transfers/<int:transfer_id>/", views.transfer_detail, name="transfer_detail"
    ),
    path("c/<slug:slug>/entries/new/", views.entry_new, name="entry_new"),
    path("c/<slug:slug>/entries/batch/", views.batch_new, name="batch_new"),
]
