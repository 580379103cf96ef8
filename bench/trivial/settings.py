"""The trivial baseline for `make bench` (bench/load.py): one URL that returns
``HttpResponse("ok")``, no middleware, no apps, no database. Served by the
same gunicorn set-up as the site, it is the ceiling every figure is divided by.
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "trivial-baseline-no-secrets-here")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.trivial.urls"
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
DATABASES: dict = {}
USE_I18N = False
USE_TZ = True
WSGI_APPLICATION = "bench.trivial.wsgi.application"
