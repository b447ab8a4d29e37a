"""The ASGI application `make run` serves with uvicorn (config/launcher.py)."""

import os
from concurrent.futures import ThreadPoolExecutor

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

# uvicorn imports this module inside its running event loop, and start-up queries the
# database (django-tenants checks its extra search paths), which Django refuses in an async
# context; so Django is set up in a thread of its own (what get_asgi_application() does).
with ThreadPoolExecutor(max_workers=1) as setup:
    setup.submit(django.setup, set_prefix=False).result()
application = ASGIHandler()
