"""WSGI entry point for gunicorn: ``gunicorn barong.wsgi:application``.

``BARONG_WSGI_FRONT`` names a callable that wraps Django's application (the authz front,
permissions/wsgi.py, which answers the gateway's calls ahead of Django's handler).
"""

import os

from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
application = get_wsgi_application()
if settings.BARONG_WSGI_FRONT:
    application = import_string(settings.BARONG_WSGI_FRONT)(application)
