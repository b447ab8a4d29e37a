"""Embedders: the local MiniLM (default) and an OpenAI-compatible endpoint."""

import numpy as np
import pytest

from llm.embeddings import build_embedder, get_embedder
from llm.embeddings.openai_embedder import OpenAIEmbedder
from llm.errors import ProviderMisconfigured
from tests.fakes.llm_server import FakeLLMServer, Reply


def test_default_embedder_is_local_minilm_with_384_unit_vectors():
    embedder = get_embedder()
    assert embedder.name == "local" and embedder.dimensions == 384
    vectors = embedder.embed(["De Novo classification request", "510(k) premarket notification", "banana bread"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # meaning, not letters


def test_the_local_embedder_runs_on_the_configured_threads(settings):
    import os

    from llm.embeddings import minilm

    settings.EMBEDDINGS_THREADS = 2
    minilm._encoders.pop((os.getpid(), 2), None)  # so this embedder must build the one it uses
    embedder = build_embedder()
    vector = embedder.embed(["Pre-Submission meeting for a SaMD"])
    encoder = minilm._encoders[(os.getpid(), 2)]
    assert encoder._session.get_session_options().intra_op_num_threads == 2
    assert np.array_equal(vector, encoder.encode(["Pre-Submission meeting for a SaMD"]))


def test_openai_embeddings_endpoint(llm_server):
    embedder = OpenAIEmbedder(model="text-embedding-3-small", api_key="k", base_url=llm_server.openai_base_url,
                              batch_size=2)
    vectors = embedder.embed(["a", "b", "c"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert llm_server.count("embeddings") == 2  # batched
    assert llm_server.requests[0]["payload"]["dimensions"] == 384


def test_openai_embeddings_retry_then_succeed(llm_server):
    llm_server.script("embeddings", Reply(status=503))
    embedder = OpenAIEmbedder(model="m", base_url=llm_server.openai_base_url)
    assert embedder.embed(["x"]).shape == (1, 384)
    assert llm_server.count("embeddings") == 2


def test_wrong_dimensions_are_refused_clearly():
    with FakeLLMServer(embedding_dimensions=1536) as server:
        embedder = OpenAIEmbedder(model="text-embedding-ada-002", base_url=server.openai_base_url)
        with pytest.raises(ProviderMisconfigured, match="1536 dimensions"):
            embedder.embed(["x"])


def test_unknown_embedder_is_refused(settings):
    settings.EMBEDDINGS_PROVIDER = "word2vec"
    with pytest.raises(ProviderMisconfigured, match="word2vec"):
        build_embedder()


def test_embedding_memo_embeds_each_text_once_and_keeps_order():
    from llm.embeddings import EmbeddingMemo, get_embedder

    class Counting:
        def __init__(self):
            self.seen = []

        def embed(self, texts):
            self.seen.extend(texts)
            return get_embedder().embed(texts)

    counting = Counting()
    memo = EmbeddingMemo(counting)

    first = memo.embed(["pro", "con"])
    again = memo.embed(["con", "pro", "pro", "neutral"])

    assert counting.seen == ["pro", "con", "neutral"]
    assert np.allclose(again[0], first[1]) and np.allclose(again[1], first[0])
    assert memo.embed([]).shape == (0, 384)


def test_embed_soon_returns_what_embed_returns():
    from llm.embeddings import embed_soon, get_embedder

    assert np.allclose(embed_soon(["a question about 510(k) clearance"]).result(),
                       get_embedder().embed(["a question about 510(k) clearance"]))


def test_a_query_vector_is_written_as_pgvector_text_with_six_decimals():
    from llm.embeddings import vector_literal

    assert vector_literal(np.array([0.5, -0.1234567, 0.0], dtype=np.float64)) == "[0.500000,-0.123457,0.000000]"
    as32 = np.array([0.1, 0.2], dtype=np.float32)
    assert vector_literal(as32) == "[" + ",".join(f"{x:.6f}" for x in as32) + "]"
