from django.urls import path

from divisions import views

app_name = "divisions"
urlpatterns = [
    path("children/", views.children_json, name="children-root"),
    path("children/<str:code>/", views.children_json, name="children"),
]
