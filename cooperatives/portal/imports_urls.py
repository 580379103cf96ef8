"""/coop/imports/: bulk upload, its progress, the template and the export."""

from django.urls import path

from cooperatives.portal import imports

urlpatterns = [
    path("", imports.ImportListView.as_view(), name="imports"),
    path("<int:pk>/", imports.ImportDetailView.as_view(), name="import-detail"),
    path("<int:pk>/status/", imports.ImportStatusView.as_view(), name="import-status"),
    path("template/", imports.TemplateDownloadView.as_view(), name="import-template"),
    path("export/", imports.ExportView.as_view(), name="export"),
]
