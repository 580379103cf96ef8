"""/station/training/: offline training sessions (线下培训)."""

from django.urls import path

from stations.portal import training

urlpatterns = [
    path("", training.TrainingView.as_view(), name="training"),
]
