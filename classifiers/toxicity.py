"""Toxicity scores from a model, loaded lazily, once, thread-safely; never at import time.

Backends:
- `detoxify`: the Detoxify transformer models, from a local checkpoint (fully offline). It
  needs torch, which the default install leaves out (several GB as a CUDA build): it is the
  optional extra `modbot[detoxify]`, and without it modbot falls back and says why.
- `profanity-check`: alt-profanity-check's TF-IDF + linear SVM, shipped inside its package,
  so modbot still works where the Detoxify weights are absent (this machine, an air-gapped
  school).
`select_backend` picks one and says which, loudly, so nobody mistakes one for the other."""

from __future__ import annotations

import importlib.util
import os
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import structlog

from bot.core.errors import ConfigError
from bot.core.models import Verdict
from classifiers.base import Classifier
from classifiers.normalise import MAX_CHARS, strip_format

IDENTITY_TERMS = re.compile(
    r"\b(?:gay|gays|lesbian|lesbians|bisexual|bi|trans|transgender|queer|lgbt\w*|muslim|muslims|"
    r"islam|islamic|jewish|jew|jews|christian|christians|hindu|sikh|black|white|asian|african|"
    r"disabled|disability|autistic|autism|deaf|blind|immigrant|immigrants|refugee|refugees|"
    r"polish|romanian|pakistani|indian|chinese|arab|traveller|travellers|gypsy|roma)\b",
    re.IGNORECASE,
)


class ProfanityCheckClassifier:
    """alt-profanity-check, debiased: a linear bag-of-words model scores identity words
    ("gay", "Muslim") as toxic on their own, so a text that names an identity is also scored
    with those words replaced by a neutral one, and the lower score is kept. Slurs and hateful
    phrases are the rules' job and are unaffected."""

    name = "profanity-check"

    def __init__(self) -> None:
        self.version = metadata.version("alt-profanity-check")
        self._lock = threading.Lock()
        self._predict = None

    def _model(self):
        with self._lock:
            if self._predict is None:
                from profanity_check import predict_prob

                self._predict = predict_prob
        return self._predict

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        if not texts:
            return []
        cleaned = [strip_format((t or "")[:MAX_CHARS]) or " " for t in texts]
        predict = self._model()
        probs = [float(p) for p in predict(cleaned)]
        named = [i for i, t in enumerate(cleaned) if IDENTITY_TERMS.search(t)]
        if named:
            neutral = predict([IDENTITY_TERMS.sub("person", cleaned[i]) for i in named])
            for i, p in zip(named, neutral, strict=True):
                probs[i] = min(probs[i], float(p))
        return [Verdict({"profanity": p}, (), self.name, self.version) for p in probs]


DETOXIFY_INSTALL = (
    "install the CPU build of torch and Detoxify: `make install-torch`, or "
    "`deploy/install-torch-cpu.sh PYTHON -e '.[detoxify]'` (see README, Install)"
)


def detoxify_missing() -> list[str]:
    """The packages the Detoxify backend needs that are not installed (found without importing
    torch, which takes seconds)."""
    missing = []
    for name in ("torch", "detoxify"):
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(name)
    return missing


def _not_installed(missing: list[str]) -> str:
    return f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed"


def detoxify_checkpoint(models_dir: Path, model_type: str) -> Path:
    return models_dir / model_type / "checkpoint.ckpt"


def quantize_int8(model):
    """Dynamic int8 quantisation of the Linear layers: about twice as fast on a CPU. Opt-in
    (`classifiers.int8`): check with `modbot evaluate` that decisions stay the same first."""
    import warnings

    import torch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.ao is deprecated in favour of torchao
        return torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)


class DetoxifyClassifier:
    """Detoxify from a local checkpoint; batched, sorted by length to keep padding small."""

    name = "detoxify"

    def __init__(
        self,
        checkpoint: Path,
        model_type: str,
        batch_size: int = 32,
        max_tokens: int = 512,
        threads: int | None = None,
        int8: bool = False,
    ):
        self.checkpoint = checkpoint
        self.model_type = model_type
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.int8 = int8
        self.threads = threads or max(1, min(4, os.cpu_count() or 1))
        try:
            detoxify_version = metadata.version("detoxify")
        except metadata.PackageNotFoundError:  # fails at first use, and WithFallback takes over
            detoxify_version = "not-installed"
        self.version = f"{model_type}@detoxify-{detoxify_version}"
        self._lock = threading.Lock()
        self._model = None

    def _load(self):
        with self._lock:
            if self._model is None:
                import torch
                from detoxify import Detoxify

                from classifiers.model_store import verify

                hf_dir = verify(self.checkpoint)
                if self.threads:
                    torch.set_num_threads(self.threads)
                self._model = Detoxify(
                    checkpoint=str(self.checkpoint),
                    device="cpu",
                    huggingface_config_path=str(hf_dir),
                )
                self._model.model.eval()
                if self.int8:
                    self._model.model = quantize_int8(self._model.model)
        return self._model

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        if not texts:
            return []
        import torch

        model = self._load()
        cleaned = [strip_format((t or "")[:MAX_CHARS]) or " " for t in texts]
        order = sorted(range(len(cleaned)), key=lambda i: len(cleaned[i]))
        results: dict[int, dict[str, float]] = {}
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            batch = [cleaned[i] for i in idx]
            inputs = model.tokenizer(
                batch,
                return_tensors="pt",
                truncation=True,
                padding=True,
                max_length=self.max_tokens,
            )
            with torch.inference_mode():
                logits = model.model(**inputs)[0]
            probs = torch.sigmoid(logits).cpu().numpy()
            for row, i in zip(probs, idx, strict=True):
                results[i] = {c: float(row[k]) for k, c in enumerate(model.class_names)}
        return [Verdict(results[i], (), self.name, self.version) for i in range(len(cleaned))]


class ExcusedWordsAside:
    """A toxicity backend that also reads each comment with the words the rules excused made
    neutral ("a cock pheasant", "Dick King-Smith", "the ass in the nativity") and keeps the
    lower score: a word-level model cannot tell a word's senses apart, and the rules'
    exceptions and senses can. Nothing the rules did not excuse is read twice."""

    def __init__(self, backend: Classifier, innocent: Callable[[str], str | None]):
        self.backend = backend
        self.innocent = innocent

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def version(self) -> str:
        return self.backend.version

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        verdicts = self.backend.classify(texts)
        second = [(i, t) for i, t in enumerate(map(self.innocent, texts)) if t is not None]
        if not second:
            return verdicts
        rescored = self.backend.classify([t for _i, t in second])
        for (i, _t), again in zip(second, rescored, strict=True):
            first = verdicts[i]
            scores = {k: min(v, again.scores.get(k, v)) for k, v in first.scores.items()}
            verdicts[i] = replace(first, scores=scores)
        return verdicts


class WithFallback:
    """The preferred model, or, if its weights fail to load, the fallback (said loudly once)."""

    def __init__(self, primary, fallback):
        self.primary = primary
        self.fallback = fallback
        self.failed: str | None = None
        self.name, self.version = primary.name, primary.version

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        if self.failed is None:
            from classifiers.model_store import ModelError

            try:
                return self.primary.classify(texts)
            except (ModelError, ImportError, OSError, ValueError, RuntimeError) as exc:
                self.failed = str(exc)
                self.name, self.version = self.fallback.name, self.fallback.version
                structlog.get_logger("modbot.classifiers").error(
                    "toxicity model failed to load; using the offline fallback",
                    error=str(exc),
                    fallback=self.fallback.name,
                )
        return self.fallback.classify(texts)


def select_backend(
    backend: str, models_dir: Path, model_type: str, batch_size: int = 32, int8: bool = False
):
    """Returns (classifier or None, a sentence saying which backend is active and why)."""
    checkpoint = detoxify_checkpoint(models_dir, model_type)
    if backend == "none":
        return None, "no toxicity model (rules only)"
    missing = detoxify_missing() if backend in ("auto", "detoxify") else []
    have_weights = checkpoint.is_file()
    if backend in ("auto", "detoxify") and have_weights and not missing:
        model = DetoxifyClassifier(checkpoint, model_type, batch_size, int8=int8)
        return (
            WithFallback(model, ProfanityCheckClassifier()),
            f"detoxify {model_type} from {checkpoint}",
        )
    if backend == "detoxify":
        problems = []
        if missing:
            problems.append(f"{_not_installed(missing)}: {DETOXIFY_INSTALL}")
        if not have_weights:
            problems.append(f"no weights at {checkpoint}: run `modbot models fetch {model_type}`")
        raise ConfigError("classifiers.backend: detoxify chosen but " + "; ".join(problems))
    fallback = ProfanityCheckClassifier()
    if backend != "auto":
        why = "chosen in the configuration"
    elif have_weights:
        why = (
            f"Detoxify weights are at {checkpoint} but {_not_installed(missing)}: "
            f"{DETOXIFY_INSTALL}"
        )
    else:
        why = f"Detoxify weights not found at {checkpoint}"
        if missing:
            why += f"; {_not_installed(missing)} either"
    return fallback, f"profanity-check {fallback.version} (offline fallback: {why})"
