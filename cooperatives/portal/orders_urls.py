"""/coop/orders/: the cooperative's order lines, packing list and sales CSV."""

from django.urls import path

from cooperatives.portal import batches, orders, refunds

urlpatterns = [
    path("", orders.OrderLineListView.as_view(), name="orders"),
    path("lines/<int:pk>/", orders.OrderLineDetailView.as_view(), name="order-line"),
    path("lines/<int:pk>/status/", orders.OrderLineStatusView.as_view(), name="order-line-status"),
    path("lines/<int:pk>/batch/", batches.OrderLineBatchView.as_view(), name="order-line-batch"),
    path("lines/<int:pk>/refund/", refunds.OrderLineRefundView.as_view(), name="order-line-refund"),
    path("packing-list/", orders.PackingListView.as_view(), name="packing-list"),
    path("sales.csv", orders.SalesExportView.as_view(), name="sales-export"),
]
