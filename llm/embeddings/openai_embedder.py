"""Any OpenAI-compatible embeddings endpoint, asked for 384 dimensions."""

from __future__ import annotations

import numpy as np
import openai

from llm.embeddings.base import DIMENSIONS, normalise
from llm.errors import ProviderMisconfigured, ProviderUnavailable
from llm.http_errors import translate
from llm.base import TransientError


class OpenAIEmbedder:
    name = "openai"
    dimensions = DIMENSIONS

    def __init__(self, *, model: str, api_key: str = "", base_url: str = "", timeout_s: float = 60.0,
                 batch_size: int = 128, max_attempts: int = 4, **_local_only):  # e.g. threads
        self.model = model
        self.batch_size = batch_size
        self.max_attempts = max_attempts
        self._client = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url or None,
                                     timeout=timeout_s, max_retries=0)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        rows = []
        for start in range(0, len(texts), self.batch_size):
            rows.extend(self._batch(texts[start : start + self.batch_size]))
        matrix = np.asarray(rows, dtype=np.float32)
        if matrix.shape[1] != DIMENSIONS:
            raise ProviderMisconfigured(
                f"The embeddings model {self.model!r} returned {matrix.shape[1]} dimensions; Ask Panel stores "
                f"{DIMENSIONS}. Use a model that accepts `dimensions={DIMENSIONS}` or the local embedder."
            )
        return normalise(matrix)

    def _batch(self, texts: list[str]) -> list[list[float]]:
        import time

        for attempt in range(1, self.max_attempts + 1):
            try:
                response = self._client.embeddings.create(model=self.model, input=texts, dimensions=DIMENSIONS)
                return [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
            except openai.OpenAIError as error:
                failure = translate(openai, error, provider="openai embeddings")
                if not isinstance(failure, TransientError):
                    raise failure from error
                if attempt == self.max_attempts:
                    raise ProviderUnavailable(
                        f"The embeddings endpoint did not answer usably after {attempt} attempts: {failure}."
                    ) from error
                time.sleep(failure.retry_after if failure.retry_after is not None else 0.5 * 2 ** (attempt - 1))
        raise AssertionError("unreachable")
