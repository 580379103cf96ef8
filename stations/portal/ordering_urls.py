"""/station/order/: assisted ordering for a resident."""

from django.urls import path

from stations.portal import ordering

urlpatterns = [
    path("", ordering.OrderStartView.as_view(), name="order-start"),
    path("<int:pk>/", ordering.OrderView.as_view(), name="order"),
    path("<int:pk>/add/", ordering.OrderAddView.as_view(), name="order-add"),
    path("<int:pk>/basket/", ordering.OrderBasketView.as_view(), name="order-basket"),
    path("<int:pk>/place/", ordering.OrderPlaceView.as_view(), name="order-place"),
]
