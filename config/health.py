"""Checks of the parts the service needs; used by GET /api/v1/health/ and `manage.py doctor`.

Each check returns a Check; none raises. An expected failure (a DomainError) is reported
by its message alone, so `doctor` prints one readable line per failing part.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from django.conf import settings
from django.db import connection

from config.errors import DomainError


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
    except DomainError as exc:  # an expected failure: its message is written for people
        return Check(name, False, exc.message, time.perf_counter() - started)
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


def _chat_provider() -> str:
    from llm.client import RetryPolicy
    from llm.providers import llm_client, provider_settings
    from panels.orchestration.experts import ExpertBrief, ExpertTask, Source, ask_expert

    config = provider_settings()
    task = ExpertTask(
        question="Is a Pre-Submission meeting worth holding before a 510(k) for a new software device?",
        expert=ExpertBrief(
            slug="doctor", name="Doctor Check", title="Regulatory Affairs Lead", domain="regulatory_affairs",
            system_prompt="You are a regulatory affairs lead for medical devices.",
            key_considerations=("A Pre-Submission gives FDA feedback on the test plan before it is locked.",),
        ),
        sources=(Source("doctor-1", "Device pathways", "The Q-Submission program lets sponsors ask FDA for "
                        "feedback on planned testing before a 510(k) is submitted."),),
    )
    started = time.perf_counter()
    # Two attempts, not the panels' minute-long schedule: the doctor answers now.
    answer, calls = ask_expert(llm_client(retry=RetryPolicy(max_attempts=2)), task, max_tokens=400)
    return (f"{config.provider} / {config.model}: structured answer ({answer.stance}, confidence "
            f"{answer.confidence:.2f}, {sum(c.usage.total_tokens for c in calls)} tokens) "
            f"in {time.perf_counter() - started:.2f}s")


def _embedder() -> str:
    import numpy as np

    from llm.embeddings import get_embedder

    embedder = get_embedder()
    vectors = embedder.embed(["adverse event reporting", "pharmacovigilance case processing", "pricing"])
    if vectors.shape != (3, embedder.dimensions) or not np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-3):
        raise RuntimeError(f"unusable vectors of shape {vectors.shape}")
    related, unrelated = float(vectors[0] @ vectors[1]), float(vectors[0] @ vectors[2])
    return (f"{embedder.name} / {embedder.model}: {embedder.dimensions} dimensions "
            f"(related {related:.2f} > unrelated {unrelated:.2f})")


class _RollBack(Exception):
    pass


def _retrieval() -> str:
    """Store a probe chunk in a tenant, find it by hybrid search, and roll everything back."""
    from django.db import transaction
    from django_tenants.utils import schema_context

    from llm.embeddings import get_embedder
    from rag.models import Chunk, Document
    from rag.retrieval import search
    from tenants.models import Tenant

    tenant = Tenant.objects.exclude(schema_name="public").order_by("id").first()
    if tenant is None:
        return "no tenant yet to search in (run seed_demo)"
    text = "Doctor probe: the quarterly zebrafish toxicology audit checks GLP record retention."
    found = None
    try:
        with schema_context(tenant.schema_name), transaction.atomic():
            document = Document.objects.create(title="doctor probe", file="", original_name="probe.txt",
                                               mime_type="text/plain", size=len(text), checksum="doctor-probe",
                                               status=Document.Status.READY)
            chunk = Chunk.objects.create(document=document, ordinal=0, text=text, char_start=0, char_end=len(text),
                                         token_count=14, embedding=get_embedder().embed([text])[0].tolist())
            with connection.cursor() as cursor:
                cursor.execute("UPDATE rag_chunk SET search_vector = to_tsvector('english', text) WHERE id = %s",
                               [chunk.id])
            hits = search(query="zebrafish toxicology audit", k=3, record=False).hits
            found = next((hit for hit in hits if hit.chunk_id == chunk.id), None)
            raise _RollBack
    except _RollBack:
        pass
    if found is None:
        raise RuntimeError(f"a probe chunk stored in {tenant.schema_name} was not found by search")
    return (f"round trip in {tenant.schema_name}: found by vector rank {found.vector_rank} "
            f"and text rank {found.text_rank}")


def check_retrieval() -> Check:
    return _timed("retrieval", _retrieval)


def check_chat_provider() -> Check:
    return _timed("llm provider", _chat_provider)


def check_embedder() -> Check:
    return _timed("embedder", _embedder)


def check_database() -> Check:
    return _timed("database", _database)


def check_pgvector() -> Check:
    return _timed("pgvector", _pgvector)


def check_redis() -> Check:
    return _timed("redis", _redis)


def check_worker(timeout: float = 1.0) -> Check:
    return _timed("worker", lambda: _worker(timeout))


HEALTH_CHECKS: list[Callable[[], Check]] = [check_database, check_redis, check_worker]
DOCTOR_CHECKS: list[Callable[[], Check]] = [
    check_database, check_pgvector, check_redis, check_worker, check_chat_provider, check_embedder, check_retrieval,
]
