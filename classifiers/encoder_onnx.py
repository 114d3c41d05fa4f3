"""all-MiniLM-L6-v2 on ONNX Runtime: the same verified weights, in fused kernels.

Why: the NumPy forward pass spends time outside its matrix products; ONNX Runtime's fused BERT
kernels spend almost none (measured about 1.2x the NumPy pass, whole judgement on two cores).

The graph is built here, in memory, from the tensors the NumPy path loads (the hash-checked
model.safetensors), with ONNX Runtime's fused contrib ops (com.microsoft): EmbedLayerNormalization,
Attention, SkipLayerNormalization, BiasGelu. No torch, no exported file, nothing on disk that is
trusted later. Mean pooling and L2 normalisation stay in NumPy (encoder._pool), shared with that
path.

"ort-fp32" is the default: the same embeddings as the NumPy pass (cosine > 0.9999).
"ort-int8" quantises every MatMul and the attention projections to int8 weights (per channel)
with dynamic activation scales (`quantize_dynamic`, written to a private temporary folder and
read back at once). Measured here it is no faster: this AVX2 CPU without VNNI multiplies int8
no faster than float32. Its embeddings drift (cosine to fp32 down to 0.96) and depend on the
batch a comment is in (each batch's activations share one scale). Kept for CPUs with VNNI and
for measurement; its name is part of the encoder's version, so it gets its own heads. If the
graph or the quantisation changes, change the backend's name too (cached heads follow it)."""

from __future__ import annotations

import importlib.util
import logging
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from classifiers.model_store import ModelError

if TYPE_CHECKING:
    from classifiers.encoder import _Weights

BACKENDS = ("ort-int8", "ort-fp32")
_MS = "com.microsoft"


def onnxruntime_available() -> bool:
    """Whether onnxruntime and onnx can be imported (checked without importing them)."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnxruntime", "onnx"))


def build_graph(w: _Weights) -> Any:
    """The encoder as an ONNX model (onnx.ModelProto): input_ids and attention_mask (int32,
    right-padded) in, the last hidden state (batch, length, hidden) out."""
    from onnx import TensorProto, helper, numpy_helper

    hidden = w.word.shape[1]
    inits: list[Any] = []
    nodes: list[Any] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        return name

    def add_and_norm(value: str, residual: str, bias: str, ln: str, out: str, layer, p: str):
        """The layer's residual + bias + LayerNorm, one fused node (after attention, after FFN)."""
        nodes.append(
            helper.make_node(
                "SkipLayerNormalization",
                [
                    value,
                    residual,
                    const(p + ln + "_w", getattr(layer, ln + "_w")),
                    const(p + ln + "_b", getattr(layer, ln + "_b")),
                    const(p + bias, getattr(layer, bias)),
                ],
                [out],
                domain=_MS,
                epsilon=w.eps,
            )
        )

    # token type is always 0 for a single sentence: fold its row into the position table
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            [
                "input_ids",
                "",
                const("word", w.word),
                const("position", w.position + w.token_type[0]),
                "",
                const("emb_ln_w", w.ln_w),
                const("emb_ln_b", w.ln_b),
                "attention_mask",
            ],
            ["x0", "mask_index"],
            domain=_MS,
            epsilon=w.eps,
        )
    )
    x = "x0"
    for i, layer in enumerate(w.layers):
        p = f"l{i}_"
        nodes.append(
            helper.make_node(
                "Attention",
                [x, const(p + "qkv_w", layer.qkv_w), const(p + "qkv_b", layer.qkv_b), "mask_index"],
                [p + "context"],
                domain=_MS,
                num_heads=w.heads,
            )
        )
        nodes.append(
            helper.make_node("MatMul", [p + "context", const(p + "out_w", layer.out_w)], [p + "o"])
        )
        add_and_norm(p + "o", x, "out_b", "ln1", p + "a", layer, p)
        nodes.append(
            helper.make_node("MatMul", [p + "a", const(p + "ff_in_w", layer.ff_in_w)], [p + "f"])
        )
        nodes.append(
            helper.make_node(
                "BiasGelu", [p + "f", const(p + "ff_in_b", layer.ff_in_b)], [p + "g"], domain=_MS
            )
        )
        nodes.append(
            helper.make_node("MatMul", [p + "g", const(p + "ff_out_w", layer.ff_out_w)], [p + "h"])
        )
        out = "last_hidden_state" if i == len(w.layers) - 1 else p + "y"
        add_and_norm(p + "h", p + "a", "ff_out_b", "ln2", out, layer, p)
        x = out
    graph = helper.make_graph(
        nodes,
        "all-MiniLM-L6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT32, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT32, ["batch", "length"]),
        ],
        [
            helper.make_tensor_value_info(
                "last_hidden_state", TensorProto.FLOAT, ["batch", "length", hidden]
            )
        ],
        inits,
    )
    return helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(_MS, 1)],
        producer_name="modbot",
    )


def _quantised(model: Any, per_channel: bool, reduce_range: bool) -> bytes:
    """Dynamic int8 quantisation of the matrix products, returned as the model's bytes. The
    quantiser only writes files: it writes into a private (0700) temporary folder, and the
    bytes are read back at once and the folder removed."""
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    before = logging.root.manager.disable
    logging.disable(logging.WARNING)  # the quantiser logs generic advice on the root logger
    try:
        with tempfile.TemporaryDirectory(prefix="modbot-onnx-") as tmp:
            os.chmod(tmp, 0o700)
            target = Path(tmp) / "int8.onnx"
            quantize_dynamic(
                model,
                target,
                op_types_to_quantize=["MatMul", "Attention"],
                per_channel=per_channel,
                reduce_range=reduce_range,
                weight_type=QuantType.QInt8,
                # shape inference does not know the contrib ops' outputs: all are float32
                extra_options={"DefaultTensorType": TensorProto.FLOAT},
            )
            return target.read_bytes()
    finally:
        logging.disable(before)


class OrtModel:
    """One ONNX Runtime session over the encoder graph; `run` is thread-safe (ORT's Run is),
    so several threads may run batches side by side on one session."""

    def __init__(
        self,
        w: _Weights,
        backend: str = "ort-fp32",
        threads: int = 1,
        per_channel: bool = True,
        reduce_range: bool = False,
    ):
        if backend not in BACKENDS:
            raise ModelError(f"unknown encoder backend {backend!r}; one of: {', '.join(BACKENDS)}")
        try:
            import onnxruntime as ort

            model = build_graph(w)
            blob = (
                _quantised(model, per_channel, reduce_range)
                if backend == "ort-int8"
                else model.SerializeToString()
            )
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            options.log_severity_level = 3  # errors only: no warnings on every start
            # do not spin idle threads: the bot shares two cores with everything else
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self.session = ort.InferenceSession(
                blob, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except ModelError:
            raise
        except Exception as exc:  # any failure to build or start: loud, never half-loaded
            raise ModelError(
                f"the {backend} encoder could not be built on ONNX Runtime ({exc})"
            ) from None
        self.backend = backend

    def run(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Last hidden state (batch, length, hidden) for one right-padded batch."""
        feeds = {"input_ids": ids.astype(np.int32), "attention_mask": mask.astype(np.int32)}
        return self.session.run(["last_hidden_state"], feeds)[0]
