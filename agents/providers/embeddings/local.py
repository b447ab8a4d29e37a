"""The default embedder: all-MiniLM-L6-v2 run with numpy from the packaged weights.
No network, no torch; loaded once per process (the weights are not tenant data)."""

from __future__ import annotations

import numpy as np

from agents.providers.embeddings.base import DIMENSIONS
from agents.providers.embeddings.minilm import get_encoder


class LocalEmbedder:
    name = "local"
    model = "sentence-transformers/all-MiniLM-L6-v2"
    dimensions = DIMENSIONS

    def __init__(self, *, batch_size: int = 32, **_ignored):
        self.batch_size = batch_size

    def embed(self, texts: list[str]) -> np.ndarray:
        return get_encoder().encode(list(texts), batch_size=self.batch_size)
