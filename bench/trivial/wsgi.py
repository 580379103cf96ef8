"""WSGI entry of the trivial baseline (``gunicorn bench.trivial.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.trivial.settings")
application = get_wsgi_application()
