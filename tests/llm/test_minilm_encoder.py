"""The MiniLM encoder (onnxruntime) reproduces sentence-transformers' all-MiniLM-L6-v2.

Pure computation: no database, so these run without Django fixtures.
"""

import json
import os
import select
import signal
from pathlib import Path

import numpy as np
import pytest

from llm.embeddings.minilm import EmbeddingModelMissing, MiniLMEncoder, get_encoder

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


def test_the_encoder_runs_on_the_threads_it_is_given_and_they_do_not_change_the_vectors(embeddings, reference):
    two = get_encoder(threads=2)
    options = two._session.get_session_options()
    assert options.intra_op_num_threads == 2 and options.inter_op_num_threads == 1
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "0"
    assert get_encoder()._session.get_session_options().intra_op_num_threads == 1
    texts = [item["text"] for item in reference["items"]]
    np.testing.assert_allclose(two.encode(texts), embeddings, rtol=0, atol=1e-6)
    np.testing.assert_allclose(two.encode(texts, batch_size=2), embeddings, rtol=0, atol=1e-6)


def test_get_encoder_returns_one_shared_instance_per_thread_count():
    assert get_encoder() is get_encoder(threads=1)
    assert get_encoder(threads=2) is get_encoder(threads=2) is not get_encoder()


def test_a_forked_child_embeds_with_its_own_encoder(reference):
    """onnxruntime's worker threads do not survive a fork, and onnxruntime does not
    promise that a session works in a forked child, so the child builds its own."""
    text = reference["items"][0]["text"]
    parent = get_encoder(threads=2)
    expected = parent.encode([text])[0]
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its encoder and embedding, then leave at once
        try:
            child = get_encoder(threads=2)
            os.write(writer, json.dumps({"same": child is parent,
                                         "vector": child.encode([text])[0].tolist()}).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        answered = select.select([pipe], [], [], 60)[0]
        if not answered:
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        assert answered, "the forked child did not embed within 60 s"
        answer = json.loads(pipe.read())
    assert answer["same"] is False
    np.testing.assert_allclose(answer["vector"], expected, rtol=0, atol=1e-6)


def test_missing_model_files_explain_how_to_fix(tmp_path):
    with pytest.raises(EmbeddingModelMissing, match="make install"):
        MiniLMEncoder(model_dir=tmp_path)
