"""The ASGI application `make run` serves with uvicorn (config/launcher.py)."""

import asyncio
import os
from concurrent.futures import ThreadPoolExecutor

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class BoundedRequests:
    """At most `limit` requests of this process inside Django at once. Django runs each one
    in a thread of its own with its own Postgres connection, and nothing else bounds them:
    200 event streams opened together would ask for 200 connections (Postgres allows about
    100). The others wait here, in the event loop, holding nothing. A request leaves when its
    response starts, so an open event stream (which has given its connection back,
    panels/api/views.py) does not keep its place."""

    def __init__(self, app, limit: int):
        self.app = app
        self.places = asyncio.Semaphore(limit)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        await self.places.acquire()
        inside = True

        async def send_then_leave(message):
            nonlocal inside
            if inside and message["type"] == "http.response.start":
                inside = False
                self.places.release()
            await send(message)

        try:
            await self.app(scope, receive, send_then_leave)
        finally:
            if inside:
                self.places.release()


# uvicorn imports this module inside its running event loop, and start-up queries the
# database (django-tenants checks its extra search paths), which Django refuses in an async
# context; so Django is set up in a thread of its own (what get_asgi_application() does).
with ThreadPoolExecutor(max_workers=1) as setup:
    setup.submit(django.setup, set_prefix=False).result()
application = BoundedRequests(ASGIHandler(), limit=int(os.environ.get("WEB_THREADS", "8")))
