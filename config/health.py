"""Checks of the parts the service needs; used by GET /api/v1/health/ and `manage.py doctor`.

Each check returns a Check; none raises. Later parts (LLM provider, embedder, retrieval)
add their checks to DOCTOR_CHECKS.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db import connection


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {"ok": self.ok, "detail": self.detail, "ms": round(self.seconds * 1000, 1)}


def _timed(name: str, probe: Callable[[], str]) -> Check:
    started = time.perf_counter()
    try:
        detail = probe()
        return Check(name, True, detail, time.perf_counter() - started)
    except Exception as exc:  # a check reports, it never raises
        return Check(name, False, f"{type(exc).__name__}: {exc}".strip(), time.perf_counter() - started)


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('server_version')")
        version = cursor.fetchone()[0]
    return f"PostgreSQL {version}"


def _pgvector() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion, n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'vector'")
        row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the vector extension is not installed; run migrations (make run does)")
    return f"pgvector {row[0]} in schema {row[1]}"


def _redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
    info = client.info("server")
    return f"Redis {info.get('redis_version')}"


def _worker(timeout: float = 1.0) -> str:
    from config.celery import app

    replies = app.control.ping(timeout=timeout, limit=1)  # one answer is enough; do not wait for more
    if not replies:
        raise RuntimeError("no Celery worker answered; start one (make run starts one)")
    return "worker answering: " + ", ".join(sorted(name for reply in replies for name in reply))


def check_database() -> Check:
    return _timed("database", _database)


def check_pgvector() -> Check:
    return _timed("pgvector", _pgvector)


def check_redis() -> Check:
    return _timed("redis", _redis)


def check_worker(timeout: float = 1.0) -> Check:
    return _timed("worker", lambda: _worker(timeout))


HEALTH_CHECKS: list[Callable[[], Check]] = [check_database, check_redis, check_worker]
DOCTOR_CHECKS: list[Callable[[], Check]] = [check_database, check_pgvector, check_redis, check_worker]
