"""Embedders by name (settings.EMBEDDINGS_PROVIDER): `local` (default) or `openai`."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np
from django.conf import settings

from llm.embeddings.base import DIMENSIONS, Embedder, vector_literal

EMBEDDERS = {
    "local": "llm.embeddings.local.LocalEmbedder",
    "openai": "llm.embeddings.openai_embedder.OpenAIEmbedder",
}

_lock = threading.Lock()
_embedder: Embedder | None = None


def build_embedder() -> Embedder:
    from django.utils.module_loading import import_string

    from llm.errors import ProviderMisconfigured

    name = settings.EMBEDDINGS_PROVIDER
    if name not in EMBEDDERS:
        raise ProviderMisconfigured(
            f"EMBEDDINGS_PROVIDER={name!r} is not known; choose one of {', '.join(EMBEDDERS)}."
        )
    return import_string(EMBEDDERS[name])(
        model=settings.EMBEDDINGS_MODEL,
        api_key=settings.EMBEDDINGS_API_KEY,
        base_url=settings.EMBEDDINGS_BASE_URL,
        timeout_s=settings.LLM_TIMEOUT_S,
        threads=settings.EMBEDDINGS_THREADS,
    )


def get_embedder() -> Embedder:
    """The process's embedder (configuration, not tenant data, so one per process is right)."""
    global _embedder
    if _embedder is None:
        with _lock:
            if _embedder is None:
                _embedder = build_embedder()
    return _embedder


_pools: dict[int, ThreadPoolExecutor] = {}


def embed_soon(texts: list[str]) -> Future:
    """Embed on a helper thread while the caller does other work (its database queries):
    the encoder and the database both release the GIL. One small pool per process (a
    forked worker gets its own: threads do not survive a fork)."""
    pool = _pools.get(os.getpid())
    if pool is None:
        with _lock:
            pool = _pools.setdefault(os.getpid(), ThreadPoolExecutor(max_workers=2, thread_name_prefix="embed"))
    embedder = get_embedder()
    return pool.submit(embedder.embed, list(texts))


class EmbeddingMemo:
    """An embedder that computes each text once for the length of one job (a panel run):
    texts embedded early, e.g. by the threads that receive experts' answers, are free
    when consensus needs them. Safe to share between threads."""

    def __init__(self, embedder: Embedder | None = None):
        self._embedder = embedder or get_embedder()
        self._vectors: dict = {}

    def embed(self, texts: list[str]):
        missing = [text for text in dict.fromkeys(texts) if text not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed(missing)))
        if not texts:
            return np.empty((0, DIMENSIONS), dtype=np.float32)
        return np.stack([self._vectors[text] for text in texts])


def reset_embedder() -> None:
    global _embedder
    _embedder = None


__all__ = ["DIMENSIONS", "Embedder", "EmbeddingMemo", "get_embedder", "embed_soon", "build_embedder", "reset_embedder",
           "EMBEDDERS", "vector_literal"]
