"""Fetch Detoxify weights once, check them, and make them load with no network ever again.

`modbot models fetch TYPE` downloads Detoxify's checkpoint and the Hugging Face config and
tokenizer files of its base model into `models_dir/TYPE/`. The checkpoint's SHA-256 must start
with the hash its release file name carries (torch.hub's convention); the checkpoint is then
rewritten so that `config.arch.args.model_type` names the local folder (detoxify 0.5.4 asks the
hub for the model config otherwise), and a manifest records the SHA-256 of every file, checked
again before each load."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

from bot.core.errors import ModbotError

HF_BASE = "https://huggingface.co"
RELEASES = "https://github.com/unitaryai/detoxify/releases/download/"


class ModelError(ModbotError):
    """Weights missing, corrupt or not fetchable."""


@dataclass(frozen=True)
class ModelSpec:
    checkpoint_url: str
    sha256_prefix: str
    hf_repo: str
    hf_files: tuple[str, ...]


_BERT = ("config.json", "vocab.txt", "tokenizer_config.json")
_ROBERTA = ("config.json", "vocab.json", "merges.txt", "tokenizer_config.json")
_XLMR = ("config.json", "sentencepiece.bpe.model", "tokenizer_config.json")
_ALBERT = ("config.json", "spiece.model", "tokenizer_config.json")

MODELS = {
    "original": ModelSpec(
        RELEASES + "v0.1-alpha/toxic_original-c1212f89.ckpt",
        "c1212f89",
        "google-bert/bert-base-uncased",
        _BERT,
    ),
    "unbiased": ModelSpec(
        RELEASES + "v0.3-alpha/toxic_debiased-c7548aa0.ckpt",
        "c7548aa0",
        "FacebookAI/roberta-base",
        _ROBERTA,
    ),
    "multilingual": ModelSpec(
        RELEASES + "v0.4-alpha/multilingual_debiased-0b549669.ckpt",
        "0b549669",
        "FacebookAI/xlm-roberta-base",
        _XLMR,
    ),
    "original-small": ModelSpec(
        RELEASES + "v0.1.2/original-albert-0e1d6498.ckpt",
        "0e1d6498",
        "albert/albert-base-v2",
        _ALBERT,
    ),
    "unbiased-small": ModelSpec(
        RELEASES + "v0.1.2/unbiased-albert-c8519128.ckpt",
        "c8519128",
        "albert/albert-base-v2",
        _ALBERT,
    ),
}


def save_checkpoint(
    path: Path,
    state_dict: dict,
    classes: list[str],
    model_type: str,
    model_name: str,
    tokenizer_name: str,
) -> Path:
    """Write a checkpoint in Detoxify's own format (the training config it reads, plus the
    weights), as the tests' tiny model and the benchmark's bert-base need it."""
    import torch

    torch.save(
        {
            "config": {
                "arch": {
                    "args": {
                        "model_type": model_type,
                        "model_name": model_name,
                        "tokenizer_name": tokenizer_name,
                        "num_classes": len(classes),
                    }
                },
                "dataset": {"args": {"classes": classes}},
            },
            "state_dict": state_dict,
        },
        path,
    )
    return path


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def model_dir(models_dir: Path, model_type: str) -> Path:
    return models_dir / model_type


def _download(session: requests.Session, url: str, dest: Path, progress=None) -> str:
    try:
        with session.get(url, stream=True, timeout=(10, 120)) as response:
            if response.status_code != 200:
                raise ModelError(f"download failed: HTTP {response.status_code} for {url}")
            total = int(response.headers.get("content-length") or 0)
            digest, done = hashlib.sha256(), 0
            with dest.open("wb") as handle:
                for block in response.iter_content(1 << 20):
                    handle.write(block)
                    digest.update(block)
                    done += len(block)
                    if progress:
                        progress(dest.name, done, total)
            return digest.hexdigest()
    except requests.RequestException as exc:
        raise ModelError(f"download failed for {url}: {exc}") from None


def fetch(
    model_type: str,
    models_dir: Path,
    session: requests.Session | None = None,
    spec: ModelSpec | None = None,
    hf_base: str = HF_BASE,
    progress=None,
) -> Path:
    """Download, verify and prepare one Detoxify model. Returns the checkpoint path."""
    import torch

    spec = spec or MODELS.get(model_type)
    if spec is None:
        raise ModelError(f"unknown Detoxify model {model_type!r}; one of: {', '.join(MODELS)}")
    session = session or requests.Session()
    target = model_dir(models_dir, model_type)
    hf_dir = target / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, str] = {}
    for name in spec.hf_files:
        files[f"hf/{name}"] = _download(
            session, f"{hf_base}/{spec.hf_repo}/resolve/main/{name}", hf_dir / name, progress
        )
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        raw = Path(tmp) / "download.ckpt"
        source_sha = _download(session, spec.checkpoint_url, raw, progress)
        if not source_sha.startswith(spec.sha256_prefix):
            raise ModelError(
                f"checkpoint SHA-256 {source_sha[:16]}… does not match the expected "
                f"{spec.sha256_prefix}…: refusing to use it"
            )
        loaded = torch.load(raw, map_location="cpu", weights_only=False)
        try:
            loaded["config"]["arch"]["args"]["model_type"] = str(hf_dir.resolve())
        except (KeyError, TypeError):
            raise ModelError("the download is not a Detoxify checkpoint") from None
        checkpoint = target / "checkpoint.ckpt"
        torch.save(loaded, checkpoint)
    manifest = {
        "model_type": model_type,
        "source_url": spec.checkpoint_url,
        "source_sha256": source_sha,
        "checkpoint_sha256": sha256_file(checkpoint),
        "files": files,
        "fetched_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return checkpoint


def verify(checkpoint: Path) -> Path:
    """Check the checkpoint and its files against the manifest; returns the local HF folder."""
    target = checkpoint.parent
    manifest_path = target / "manifest.json"
    if not manifest_path.is_file():
        raise ModelError(f"no manifest beside {checkpoint}: run `modbot models fetch` again")
    manifest = json.loads(manifest_path.read_text())
    if sha256_file(checkpoint) != manifest["checkpoint_sha256"]:
        raise ModelError(
            f"{checkpoint} does not match its recorded SHA-256: run `modbot models fetch` again"
        )
    for name, digest in manifest.get("files", {}).items():
        path = target / name
        if not path.is_file() or sha256_file(path) != digest:
            raise ModelError(f"{path} is missing or changed: run `modbot models fetch` again")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at load time
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    return target / "hf"
