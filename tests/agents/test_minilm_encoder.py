"""The MiniLM encoder (onnxruntime) reproduces sentence-transformers' all-MiniLM-L6-v2.

Pure computation: no database, so these run without Django fixtures.
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

from agents.providers.embeddings.minilm import EmbeddingModelMissing, MiniLMEncoder, get_encoder

MIN_COSINE = 0.9999


def _reference_path() -> Path:
    # Layout: <work>/main/tests/agents/<this file> and <work>/shared/fixtures/.
    relative = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "minilm_reference.json"
    shared_dir = os.environ.get("ASKPANEL_SHARED_DIR")
    if relative.is_file() or not shared_dir:
        return relative
    return Path(shared_dir) / "fixtures" / "minilm_reference.json"


@pytest.fixture(scope="module")
def reference() -> dict:
    path = _reference_path()
    if not path.is_file():
        pytest.fail(f"MiniLM reference fixture not found at {path}; set ASKPANEL_SHARED_DIR to the shared folder.")
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return get_encoder()


@pytest.fixture(scope="module")
def embeddings(encoder, reference) -> np.ndarray:
    # Encoded once: the long fixture text pads its whole batch to 256 tokens.
    return encoder.encode([item["text"] for item in reference["items"]])


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_every_reference_text_matches_sentence_transformers(embeddings, reference):
    assert embeddings.shape == (len(reference["items"]), reference["dimensions"])
    assert embeddings.dtype == np.float32
    for item, embedding in zip(reference["items"], embeddings):
        cosine = _cosine(embedding, np.asarray(item["embedding"]))
        assert cosine >= MIN_COSINE, f"cosine {cosine:.6f} < {MIN_COSINE} for text {item['text'][:80]!r}"


def test_encoder_settings_match_the_reference(encoder, reference):
    assert encoder.dimensions == reference["dimensions"] == 384
    assert encoder.max_seq_length == reference["max_seq_length"] == 256
    assert encoder.model_name == "sentence-transformers/all-MiniLM-L6-v2"


def test_text_longer_than_the_limit_is_truncated_like_the_reference(encoder, reference):
    long_item = max(reference["items"], key=lambda item: len(item["text"]))
    assert len(encoder._tokenizer.encode(long_item["text"]).ids) == encoder.max_seq_length

    # Text past the token limit cannot change the embedding.
    extended = long_item["text"] + " Completely different trailing words about astronomy."
    embeddings = encoder.encode([long_item["text"], extended])
    np.testing.assert_allclose(embeddings[0], embeddings[1], atol=1e-6)
    assert _cosine(embeddings[0], np.asarray(long_item["embedding"])) >= MIN_COSINE


def test_results_do_not_depend_on_order_or_batch_size(encoder, reference, embeddings):
    texts = [item["text"] for item in reference["items"]]
    permutation = np.random.default_rng(7).permutation(len(texts))
    for batch_size in (1, 3, 7):
        shuffled = encoder.encode([texts[index] for index in permutation], batch_size=batch_size)
        np.testing.assert_allclose(shuffled, embeddings[permutation], atol=1e-5)


def test_rows_are_unit_length(embeddings):
    norms = np.linalg.norm(embeddings.astype(np.float64), axis=1)
    np.testing.assert_allclose(norms, 1.0, atol=1e-5)


def test_empty_input_gives_an_empty_matrix(encoder):
    embeddings = encoder.encode([])
    assert embeddings.shape == (0, 384)
    assert embeddings.dtype == np.float32


def test_a_single_string_is_refused_with_a_hint(encoder):
    with pytest.raises(TypeError, match=r"\[text\]"):
        encoder.encode("not a list")


def test_encoder_runs_on_one_thread(encoder):
    # Workers are the parallelism; more threads are much slower on 2-core machines.
    options = encoder._session.get_session_options()
    assert options.intra_op_num_threads == 1 and options.inter_op_num_threads == 1


def test_get_encoder_returns_one_shared_instance():
    assert get_encoder() is get_encoder()


def test_missing_model_files_explain_how_to_fix(tmp_path):
    with pytest.raises(EmbeddingModelMissing, match="make install"):
        MiniLMEncoder(model_dir=tmp_path)
