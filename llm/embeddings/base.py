"""One embeddings interface for retrieval and agent ranking: texts -> unit vectors."""

from __future__ import annotations

from typing import Protocol

import numpy as np

DIMENSIONS = 384  # the vector(384) columns; every embedder must produce this


class Embedder(Protocol):
    name: str
    model: str
    dimensions: int

    def embed(self, texts: list[str]) -> np.ndarray:
        """(len(texts), DIMENSIONS) float32, each row L2-normalised."""


def normalise(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)


def vector_literal(vector) -> str:
    """A query vector as pgvector's text input (6 decimals), for `%s::vector` parameters.
    Formatting Python floats (`tolist`) costs about half of formatting numpy scalars."""
    return "[" + ",".join(f"{x:.6f}" for x in np.asarray(vector).tolist()) + "]"
