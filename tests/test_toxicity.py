"""The real Detoxify loading path, offline, on a tiny checkpoint the test builds itself; and
what modbot does where torch and Detoxify are not installed (the default install)."""

from __future__ import annotations

import hashlib
import importlib.abc
import json
import socket
import sys

import pytest
import responses
from click.testing import CliRunner

from bot.core.errors import ConfigError
from classifiers.model_store import ModelError, ModelSpec, fetch, save_checkpoint, verify
from classifiers.toxicity import (
    DetoxifyClassifier,
    WithFallback,
    detoxify_missing,
    select_backend,
)

needs_torch = pytest.mark.skipif(
    bool(detoxify_missing()),
    reason=f"{' and '.join(detoxify_missing())} not installed: Detoxify is the optional extra "
    "modbot[detoxify] (`make install-torch` adds the CPU build of torch where one is obtainable)",
)

CLASSES = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
WORDS = [
    "[PAD]",
    "[UNK]",
    "[CLS]",
    "[SEP]",
    "[MASK]",
    *[
        "the",
        "a",
        "you",
        "are",
        "is",
        "idiot",
        "lovely",
        "well",
        "done",
        "school",
        "kill",
        "trip",
        "thanks",
    ],
    *[chr(c) for c in range(97, 123)],
]
TEXTS = ["you are an idiot", "lovely trip", "", "well done the school " * 30, "😀 x"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*_a, **_k):
        raise OSError("network access attempted in a test")

    monkeypatch.setattr(socket.socket, "connect", refuse)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A 2-layer BERT in Detoxify's checkpoint format, plus its HF config and vocab files."""
    import torch
    import transformers

    root = tmp_path_factory.mktemp("tiny")
    hf = root / "hf"
    hf.mkdir()
    (hf / "vocab.txt").write_text("\n".join(WORDS))
    config = transformers.BertConfig(
        vocab_size=len(WORDS),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        num_labels=len(CLASSES),
    )
    config.save_pretrained(hf)
    transformers.BertTokenizer(str(hf / "vocab.txt")).save_pretrained(hf)
    torch.manual_seed(7)
    model = transformers.BertForSequenceClassification(config)
    checkpoint = save_checkpoint(
        root / "tiny.ckpt",
        model.state_dict(),
        CLASSES,
        "bert-base-uncased",  # as in the real checkpoints: a hub name, rewritten by fetch
        "BertForSequenceClassification",
        "BertTokenizer",
    )
    files = {p.name: p.read_bytes() for p in hf.iterdir()}
    return checkpoint.read_bytes(), files


def serve(tiny, spec_prefix: str | None = None) -> ModelSpec:
    blob, files = tiny
    url = "https://releases.example/tiny-abc.ckpt"
    responses.add(responses.GET, url, body=blob, headers={"content-length": str(len(blob))})
    for name, body in files.items():
        responses.add(
            responses.GET, f"https://hub.example/tiny/bert/resolve/main/{name}", body=body
        )
    prefix = spec_prefix or hashlib.sha256(blob).hexdigest()[:8]
    return ModelSpec(url, prefix, "tiny/bert", tuple(files))


@needs_torch
@responses.activate
def test_fetch_checks_the_hash_and_loads_offline_through_detoxify(tiny, tmp_path):
    import torch

    spec = serve(tiny)
    checkpoint = fetch("unbiased-small", tmp_path, spec=spec, hf_base="https://hub.example")
    manifest = json.loads((checkpoint.parent / "manifest.json").read_text())
    assert manifest["source_sha256"].startswith(spec.sha256_prefix)
    assert set(manifest["files"]) == {f"hf/{n}" for n in spec.hf_files}
    loaded = torch.load(checkpoint, weights_only=False)
    assert loaded["config"]["arch"]["args"]["model_type"] == str(
        (checkpoint.parent / "hf").resolve()
    )

    responses.reset()  # from here on, any HTTP request would fail
    model, description = select_backend("auto", tmp_path, "unbiased-small")
    assert description.startswith("detoxify unbiased-small")
    verdicts = model.classify(TEXTS)
    assert isinstance(model, WithFallback) and model.failed is None
    assert set(verdicts[0].scores) == {
        "toxicity",
        "severe_toxicity",
        "obscene",
        "threat",
        "insult",
        "identity_attack",
    }
    # the batched path agrees with Detoxify's own predict, one text at a time
    from detoxify import Detoxify

    reference = Detoxify(
        checkpoint=str(checkpoint), huggingface_config_path=str(verify(checkpoint))
    )
    for text, verdict in zip(TEXTS, verdicts, strict=True):
        expected = reference.predict(text or " ")
        worst = max(abs(expected[k] - verdict.scores[k]) for k in expected)
        assert worst < 1e-4, (text, worst)


@needs_torch
@responses.activate
def test_a_checkpoint_with_the_wrong_hash_is_refused(tiny, tmp_path):
    spec = serve(tiny, spec_prefix="00000000")
    with pytest.raises(ModelError, match="does not match the expected 00000000"):
        fetch("original", tmp_path, spec=spec, hf_base="https://hub.example")
    assert not (tmp_path / "original" / "checkpoint.ckpt").exists()


@needs_torch
@responses.activate
def test_a_changed_checkpoint_falls_back_loudly(tiny, tmp_path):
    checkpoint = fetch("original", tmp_path, spec=serve(tiny), hf_base="https://hub.example")
    with checkpoint.open("ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(ModelError, match="recorded SHA-256"):
        verify(checkpoint)
    model, _ = select_backend("auto", tmp_path, "original")
    [verdict] = model.classify(["hello"])
    assert model.failed and "SHA-256" in model.failed
    assert model.name == "profanity-check" and "profanity" in verdict.scores


def test_explicit_detoxify_without_weights_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="modbot models fetch unbiased"):
        select_backend("detoxify", tmp_path, "unbiased")


def test_auto_without_weights_names_the_fallback(tmp_path):
    model, description = select_backend("auto", tmp_path, "unbiased-small")
    assert model.name == "profanity-check"
    assert "offline fallback" in description and str(tmp_path) in description


@needs_torch
def test_model_is_not_loaded_until_first_use(tmp_path):
    clf = DetoxifyClassifier(tmp_path / "missing.ckpt", "original")
    assert clf._model is None
    with pytest.raises(ModelError):
        clf.classify(["x"])


@needs_torch
@responses.activate
def test_int8_path_stays_close_to_the_full_model(tiny, tmp_path):
    checkpoint = fetch("original", tmp_path, spec=serve(tiny), hf_base="https://hub.example")
    full = DetoxifyClassifier(checkpoint, "original").classify(TEXTS)
    int8 = DetoxifyClassifier(checkpoint, "original", int8=True).classify(TEXTS)
    worst = max(
        abs(a.scores[k] - b.scores[k]) for a, b in zip(full, int8, strict=True) for k in a.scores
    )
    assert 0 < worst < 0.05  # quantised (not identical), and close


class BlockDetoxify(importlib.abc.MetaPathFinder):
    """As on the default install: `import torch` and `import detoxify` fail."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("torch", "detoxify"):
            raise ModuleNotFoundError(f"No module named {name!r} (not installed in this test)")
        return None


@pytest.fixture
def without_detoxify(monkeypatch):
    for name in list(sys.modules):
        if name.partition(".")[0] in ("torch", "detoxify"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "meta_path", [BlockDetoxify(), *sys.meta_path])
    assert detoxify_missing() == ["torch", "detoxify"]


def fake_weights(models_dir, model_type="unbiased-small"):
    checkpoint = models_dir / model_type / "checkpoint.ckpt"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(b"weights fetched earlier, with torch")
    return checkpoint


def test_weights_without_torch_fall_back_to_profanity_check_and_say_how(without_detoxify, tmp_path):
    fake_weights(tmp_path)
    model, description = select_backend("auto", tmp_path, "unbiased-small")
    assert model.name == "profanity-check"
    assert "torch and detoxify are not installed" in description
    assert "install-torch-cpu.sh" in description and "offline fallback" in description
    [verdict] = model.classify(["you absolute idiot"])
    assert verdict.scores["profanity"] > 0.5


def test_explicit_detoxify_without_torch_is_a_config_error_naming_the_key(
    without_detoxify, tmp_path
):
    fake_weights(tmp_path)
    with pytest.raises(ConfigError, match=r"classifiers.backend: .*torch and detoxify are not"):
        select_backend("detoxify", tmp_path, "unbiased-small")


def test_a_broken_torch_install_falls_back_at_first_use(without_detoxify, tmp_path):
    """find_spec can see a package that then fails to import: the fallback still takes over."""
    model = WithFallback(
        DetoxifyClassifier(fake_weights(tmp_path), "unbiased-small"),
        select_backend("profanity-check", tmp_path, "x")[0],
    )
    [verdict] = model.classify(["hello"])
    assert model.name == "profanity-check" and "profanity" in verdict.scores
    assert "torch" in model.failed


def test_config_check_says_detoxify_is_not_installed(without_detoxify, tmp_path):
    from bot.faces.cli import cli
    from tests.conftest import write_config

    config = write_config(tmp_path)
    text = config.read_text().replace('backend = "none"', 'backend = "auto"')
    config.write_text(text.replace('models_dir = "../var/models"', f'models_dir = "{tmp_path}"'))
    fake_weights(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "check"])
    assert result.exit_code == 0, result.output
    assert "Toxicity backend: profanity-check" in result.output
    assert "torch and detoxify are not installed" in result.output
