"""The Celery app. With no CELERY_BROKER_URL tasks run eagerly in-process
(settings.CELERY_TASK_ALWAYS_EAGER), so the embedded set-up needs no worker."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("wangnong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
