from django.urls import path

from ledger import api

app_name = "ledger_api"

prefix = "communities/<slug:slug>/"
urlpatterns = [
    path(prefix + "account/", api.MyAccountApi.as_view(), name="my_account"),
    path(prefix + "account/statement/", api.MyStatementApi.as_view(), name="my_statement"),
    path(prefix + "payments/", api.PaymentCreateApi.as_view(), name="payments"),
    path(prefix + "pot-gifts/", api.PotGiftApi.as_view(), name="pot_gifts"),
    path(
        prefix + "payment-requests/", api.PaymentRequestCreateApi.as_view(), name="payment_requests"
    ),
    path(
        prefix + "payment-requests/<int:request_id>/decision/",
        api.PaymentRequestDecisionApi.as_view(),
        name="payment_request_decision",
    ),
    path(prefix + "accounts/", api.AccountsApi.as_view(), name="accounts"),
    path(
        prefix + "accounts/<int:account_id>/limits/",
        api.AccountLimitsApi.as_view(),
        name="account_limits",
    ),
    path(prefix + "entries/", api.CoordinatorEntryApi.as_view(), name="entries"),
    path(prefix + "cheque-batches/", api.ChequeBatchApi.as_view(), name="cheque_batches"),
    path(
        prefix + "transfers/<int:transfer_id>/reversal/",
        api.ReversalApi.as_view(),
        name="reversal",
    ),
]
