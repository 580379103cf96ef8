"""/coop/products/: the cooperative's listings (cooperatives/portal/listings.py)."""

from django.urls import path

from cooperatives.portal import listings

urlpatterns = [
    path("", listings.ProductListView.as_view(), name="products"),
    path("new/", listings.ProductCreateView.as_view(), name="product-create"),
    path("<int:pk>/", listings.ProductEditView.as_view(), name="product-edit"),
    path("<int:pk>/publish/", listings.ProductPublishView.as_view(), name="product-publish"),
    path("<int:pk>/variants/new/", listings.VariantCreateView.as_view(), name="variant-create"),
    path("variants/<int:pk>/", listings.VariantEditView.as_view(), name="variant-edit"),
    path("stock/<int:pk>/", listings.StockUpdateView.as_view(), name="stock-update"),
    path(
        "images/<int:pk>/delete/",
        listings.ProductImageDeleteView.as_view(),
        name="product-image-delete",
    ),
]
