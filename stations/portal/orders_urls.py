"""/station/orders/: the station's orders, their receipts and cancelling."""

from django.urls import path

from stations.portal import orders

urlpatterns = [
    path("", orders.OrderListView.as_view(), name="orders"),
    path("<int:pk>/", orders.OrderDetailView.as_view(), name="order-detail"),
    path("<int:pk>/receipt/", orders.ReceiptView.as_view(), name="order-receipt"),
    path("<int:pk>/cancel/", orders.OrderCancelView.as_view(), name="order-cancel"),
]
