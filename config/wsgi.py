"""The WSGI entry point (runserver, gunicorn): Django's handler, with routing's head start.

A request's routing reads (host -> tenant) are sent to Redis as soon as the request
arrives, so their round trip overlaps Django building the request (tenants/middleware.py).
"""

import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup(set_prefix=False)

from tenants.middleware import RoutingPrefetch  # noqa: E402 (needs the app registry)


class AskPanelWSGIHandler(RoutingPrefetch, WSGIHandler):
    pass


application = AskPanelWSGIHandler()
