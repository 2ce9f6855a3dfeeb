"""WSGI entry point for gunicorn: ``gunicorn barong.wsgi:application``.

``BARONG_WSGI_FRONT`` names a callable that wraps Django's application (the authz front,
permissions/wsgi.py, which answers the gateway's calls ahead of Django's handler).
"""

import os
import sys

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
try:
    application = get_wsgi_application()
except ImproperlyConfigured as exc:  # one clear line, not a traceback per worker
    sys.stderr.write(f"configuration error: {exc}\n")
    sys.exit(3)  # gunicorn stops the arbiter when a worker exits 3 while booting
if settings.BARONG_WSGI_FRONT:
    application = import_string(settings.BARONG_WSGI_FRONT)(application)
