"""Platform staff's payment pages, mounted at /dashboard/payments/
(config/urls.py). Staff only, like the rest of Oscar's dashboard."""

from django.urls import path

from shop.payment.dashboard import views

app_name = "payments-dashboard"
urlpatterns = [
    path("", views.OverviewView.as_view(), name="overview"),
    path("orders/<str:number>/refund/", views.OrderRefundView.as_view(), name="refund"),
]
