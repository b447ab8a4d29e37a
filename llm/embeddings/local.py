"""The default embedder: all-MiniLM-L6-v2 run with onnxruntime from the packaged weights.
No network, no torch; loaded once per process (the weights are not tenant data)."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_limits

from llm.embeddings.base import DIMENSIONS
from llm.embeddings.minilm import get_encoder

# Multi-threaded OpenBLAS costs ~16 ms per matrix product on these 2-core machines
# whatever the size (measured: (20x384)@(384x1152) 16 ms threaded, 0.25 ms single).
# One BLAS thread per process is also right for servers: workers are the parallelism.
# (onnxruntime, which runs the encoder itself, gets settings.EMBEDDINGS_THREADS.)
threadpool_limits(limits=1, user_api="blas")


class LocalEmbedder:
    name = "local"
    model = "sentence-transformers/all-MiniLM-L6-v2"
    dimensions = DIMENSIONS

    def __init__(self, *, batch_size: int = 32, threads: int = 1, **_ignored):
        self.batch_size = batch_size
        self.threads = threads

    def embed(self, texts: list[str]) -> np.ndarray:
        return get_encoder(self.threads).encode(list(texts), batch_size=self.batch_size)
