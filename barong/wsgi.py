"""WSGI entry point for gunicorn: ``gunicorn barong.wsgi:application``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "barong.settings")
application = get_wsgi_application()
