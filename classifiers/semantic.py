"""The semantic layer: what a comment means, not only which words it uses.

Rules cover exact patterns and evasion; paraphrase ("so tired of being alive", "been saving up
my mum's tablets") needs a model of meaning. Each category has a head trained on the exemplar
library in `config/exemplars/*.yaml`: a category's own examples are the positives; every other
category's, and the harmless files' hard negatives, are the negatives. A head has two views of
the same library, and the score is their geometric mean (see Heads): meaning (the sentence
encoder, classifiers/encoder.py: nearest exemplars plus a logistic regression) and words (a
logistic regression on tf-idf n-grams).

- Reproducible: training is deterministic, and the layer's version is a hash of the exemplar
  files, the encoder's weights and this file's HEAD_VERSION. Heads are cached (0600) in
  `models_dir/semantic/` and the user's cache under that hash, so editing an exemplar file
  retrains at next start, re-encoding only the lines that changed.
- Explainable: for every category the verdict carries the nearest exemplar and its cosine
  similarity, so a reason can read "close in meaning to: 'wish I could sleep and never wake up'
  (0.83)".
- Fast where it can be: the words view bounds the score from above, so a comment no tier could
  act on skips the encoder (`floor`), with the same decision.
- Bad input: long comments are read two sentences at a time and the highest score counts;
  empty, emoji-only, right-to-left and zero-width text are scored like any other.
- Failure: a missing or tampered model file raises ModelError at load; `SemanticLayer` logs it
  loudly and returns empty verdicts, so the rules (which always run) decide alone, and the
  layer's description says it is off."""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import structlog
import yaml

from bot.core.errors import ConfigError
from bot.core.models import Category, Verdict
from classifiers.encoder import MiniLMEncoder
from classifiers.model_store import ModelError
from classifiers.normalise import MAX_CHARS, strip_format

log = structlog.get_logger("modbot.classifiers.semantic")

# Change whenever training or scoring changes: it is part of the layer's version hash.
HEAD_VERSION = (
    "heads-3: sqrt(meaning * words); meaning = (2 * knn k=3 T=0.03 + logreg C=4) / 3; "
    "words = logreg C=10 on tf-idf word 1-2 + char_wb 2-5 grams; all balanced"
)
KNN_K = 3  # neighbours per category whose mean similarity is that category's evidence
KNN_TEMPERATURE = 0.03  # softmax temperature over the categories' (and harmless) evidence
KNN_WEIGHT = 2 / 3  # measured on dev: the blend beat either part alone at 2-10% false alarms
HARMLESS = "harmless"
SCORE_PREFIX = "semantic:"
KNOWN = {c.value for c in Category} | {HARMLESS}
WINDOW_CHARS = 600  # longer comments are read in windows (256 tokens is ~900 characters)
MAX_WINDOWS = 400  # 20,000 characters (MAX_CHARS) of one-line sentences; beyond, unchecked
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


@dataclass(frozen=True)
class Exemplar:
    text: str
    category: str
    file: str
    line: int


def score_key(category: str) -> str:
    return SCORE_PREFIX + category


# --- the library ---------------------------------------------------------------------------


def exemplar_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.yaml") if p.is_file())


def _parse_file(path: Path, problems: list[str]) -> list[Exemplar]:
    """One exemplar file, with a file:line for every problem (yaml.compose keeps the marks)."""
    name = path.name
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problems.append(f"{name}{line}: not valid YAML ({exc.problem or exc})")
        return []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        problems.append(f"{name}: cannot be read ({exc})")
        return []
    if not isinstance(root, yaml.MappingNode):
        at = root.start_mark.line + 1 if root is not None else 1
        problems.append(f"{name}:{at}: expected `category:` and `examples:` keys")
        return []
    category, examples = None, None
    for key, value in root.value:
        where = f"{name}:{key.start_mark.line + 1}"
        if key.value == "category":
            if not isinstance(value, yaml.ScalarNode) or value.value not in KNOWN:
                problems.append(
                    f"{where}: category must be one of {', '.join(sorted(KNOWN))}, "
                    f"not {getattr(value, 'value', value)!r}"
                )
                return []
            category = value.value
        elif key.value == "examples":
            if not isinstance(value, yaml.SequenceNode):
                problems.append(f"{where}: examples must be a list of phrases (`- text`)")
                return []
            examples = value
        else:
            problems.append(f"{where}: unknown key {key.value!r} (expected category, examples)")
    if category is None or examples is None:
        problems.append(f"{name}:1: needs both `category:` and `examples:`")
        return []
    found = []
    for node in examples.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.ScalarNode):
            problems.append(f"{name}:{line}: each example must be one line of text")
            continue
        text = node.value.strip()
        if not text:
            problems.append(f"{name}:{line}: empty example")
            continue
        found.append(Exemplar(text, category, name, line))
    if not found:
        problems.append(f"{name}:{examples.start_mark.line + 1}: no examples")
    return found


def load_exemplars(folder: Path) -> list[Exemplar]:
    """Every exemplar in the library, or ConfigError listing each bad file and line."""
    files = exemplar_files(folder)
    if not files:
        raise ConfigError(
            f"classifiers.exemplars_dir: no exemplar files (*.yaml) in {folder}", str(folder)
        )
    problems: list[str] = []
    exemplars: list[Exemplar] = []
    for path in files:
        exemplars += _parse_file(path, problems)
    seen: dict[str, Exemplar] = {}
    unique = []
    for ex in exemplars:
        key = " ".join(ex.text.casefold().split())
        first = seen.get(key)
        if first is None:
            seen[key] = ex
            unique.append(ex)
        elif first.category != ex.category:
            problems.append(
                f"{ex.file}:{ex.line}: {ex.text!r} is also a {first.category} example "
                f"({first.file}:{first.line}): one phrase cannot teach both"
            )
    if problems:
        raise ConfigError(problems, str(folder))
    if not any(ex.category != HARMLESS for ex in unique):
        raise ConfigError(f"{folder}: the library has no category besides harmless", str(folder))
    return unique


def library_hash(folder: Path, encoder_version: str) -> str:
    """What the heads depend on: every exemplar file's name and bytes, the encoder, the code."""
    digest = hashlib.sha256(f"{HEAD_VERSION}\0{encoder_version}\0".encode())
    for path in exemplar_files(folder):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


# --- the heads -----------------------------------------------------------------------------


def _vectorisers(word_vocab=None, char_vocab=None):
    from sklearn.feature_extraction.text import TfidfVectorizer

    common = {"sublinear_tf": True, "dtype": np.float32, "lowercase": True}
    word = TfidfVectorizer(ngram_range=(1, 2), vocabulary=word_vocab, **common)
    char = TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=2, vocabulary=char_vocab, **common
    )
    return word, char


@dataclass(frozen=True)
class Heads:
    """Trained heads plus the library they came from (for the nearest-exemplar reasons).

    Two views of the same library, each a balanced logistic regression per category:
    meaning (the sentence embedding, blended with its nearest neighbours) and words (tf-idf
    over word and character n-grams, which keeps the specifics an embedding blurs: "blades",
    "nudes", "plug"). Measured on dev, each alone found about 0.72 of harmful comments at 2%
    false alarms, and their geometric mean 0.81: a score is high only when both agree."""

    categories: tuple[str, ...]  # one head each, in this order
    coef: np.ndarray  # (heads, dim): the meaning head
    intercept: np.ndarray  # (heads,)
    embeddings: np.ndarray  # (exemplars, dim), unit length
    labels: tuple[str, ...]  # each exemplar's category
    texts: tuple[str, ...]
    word_vocab: tuple[str, ...]  # the words head: n-gram vocabularies, idf and weights
    word_idf: np.ndarray
    char_vocab: tuple[str, ...]
    char_idf: np.ndarray
    lex_coef: np.ndarray  # (heads, word + char features)
    lex_intercept: np.ndarray

    @cached_property
    def _vectorisers(self):
        word, char = _vectorisers(
            {t: i for i, t in enumerate(self.word_vocab)},
            {t: i for i, t in enumerate(self.char_vocab)},
        )
        word.idf_, char.idf_ = self.word_idf, self.char_idf
        return word, char

    def words(self, texts: Sequence[str]) -> np.ndarray:
        """The words view alone: cheap, and an upper bound on the final score (its square
        root), since the meaning view is at most 1."""
        from scipy.sparse import hstack

        word, char = self._vectorisers
        features = hstack([word.transform(texts), char.transform(texts)]).tocsr()
        return _sigmoid(features @ self.lex_coef.T + self.lex_intercept)

    def score(
        self, x: np.ndarray, words: np.ndarray
    ) -> tuple[np.ndarray, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Per row: each head's score in [0, 1] (columns in `categories` order), and for every
        category in the library (harmless too) the nearest exemplar's index and cosine.

        Meaning blends how close the text is to a category's nearest exemplars compared
        with every other category's and harmless's (a softmax over mean top-k similarities:
        local, good at hard negatives) with a logistic regression on the embedding (global,
        good at paraphrase far from any one exemplar)."""
        sims = x @ self.embeddings.T
        labels = np.array(self.labels)
        library = sorted(set(self.labels))
        rows = np.arange(len(x))
        evidence = np.zeros((len(x), len(library)), dtype=np.float64)
        nearest = {}
        for j, category in enumerate(library):
            cols = np.flatnonzero(labels == category)
            block = sims[:, cols]
            k = min(KNN_K, len(cols))
            evidence[:, j] = np.partition(block, -k, axis=1)[:, -k:].mean(axis=1)
            best = block.argmax(axis=1)
            nearest[category] = (cols[best], block[rows, best])
        z = evidence / KNN_TEMPERATURE
        z = np.exp(z - z.max(axis=1, keepdims=True))
        knn = z / z.sum(axis=1, keepdims=True)
        logistic = _sigmoid(x @ self.coef.T + self.intercept)
        columns = [library.index(c) for c in self.categories]
        meaning = KNN_WEIGHT * knn[:, columns] + (1 - KNN_WEIGHT) * logistic
        return np.sqrt(meaning * words), nearest


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(np.asarray(z, dtype=np.float64), -40, 40)))


def train_heads(embeddings: np.ndarray, exemplars: Sequence[Exemplar]) -> Heads:
    """Balanced logistic regressions per category, on the embeddings and on tf-idf n-grams.
    lbfgs and liblinear-free settings are deterministic: the same library gives the same
    heads."""
    from scipy.sparse import hstack
    from sklearn.linear_model import LogisticRegression

    labels = np.array([e.category for e in exemplars])
    texts = [e.text for e in exemplars]
    categories = tuple(sorted(set(labels) - {HARMLESS}))
    word, char = _vectorisers()
    features = hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr()
    coef = np.zeros((len(categories), embeddings.shape[1]), dtype=np.float32)
    intercept = np.zeros(len(categories), dtype=np.float32)
    lex_coef = np.zeros((len(categories), features.shape[1]), dtype=np.float32)
    lex_intercept = np.zeros(len(categories), dtype=np.float32)
    for k, category in enumerate(categories):
        target = labels == category
        model = LogisticRegression(C=4.0, class_weight="balanced", max_iter=5000)
        model.fit(embeddings, target)
        coef[k], intercept[k] = model.coef_[0], model.intercept_[0]
        lexical = LogisticRegression(C=10.0, class_weight="balanced", max_iter=5000)
        lexical.fit(features, target)
        lex_coef[k], lex_intercept[k] = lexical.coef_[0], lexical.intercept_[0]
    return Heads(
        categories,
        coef,
        intercept,
        embeddings.astype(np.float32),
        tuple(labels.tolist()),
        tuple(texts),
        _vocab(word),
        word.idf_.astype(np.float32),
        _vocab(char),
        char.idf_.astype(np.float32),
        lex_coef,
        lex_intercept,
    )


def _vocab(vectoriser) -> tuple[str, ...]:
    ordered = sorted(vectoriser.vocabulary_.items(), key=lambda kv: kv[1])
    return tuple(term for term, _index in ordered)


_ARRAYS = ("coef", "intercept", "embeddings", "word_idf", "char_idf", "lex_coef", "lex_intercept")
_STRINGS = ("categories", "labels", "texts", "word_vocab", "char_vocab")


def _save(path: Path, heads: Heads) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            arrays: dict[str, Any] = {name: getattr(heads, name) for name in _ARRAYS}
            arrays |= {name: np.array(getattr(heads, name), dtype=str) for name in _STRINGS}
            np.savez(handle, **arrays)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path) -> Heads:
    """A cache file: plain arrays only (no pickle), so a planted file cannot run code."""
    with np.load(path, allow_pickle=False) as data:
        values = {name: data[name] for name in _ARRAYS}
        values.update({name: tuple(data[name].tolist()) for name in _STRINGS})
    return Heads(**values)


def _reusable_embeddings(cache_dir: Path, encoder_version: str) -> dict[str, np.ndarray]:
    """Embeddings of exemplars from earlier caches of the same encoder, so an edit to the
    library re-encodes only the lines that changed."""
    known: dict[str, np.ndarray] = {}
    paths = sorted(cache_dir.glob(f"{_encoder_tag(encoder_version)}-*.npz"), key=_mtime)
    for path in paths:
        try:
            with np.load(path, allow_pickle=False) as data:
                texts, embeddings = data["texts"].tolist(), data["embeddings"]
        except (OSError, ValueError, KeyError):
            continue
        if len(texts) == len(embeddings):
            known.update(zip(texts, embeddings, strict=True))
    return known


def shared_cache_dir() -> Path | None:
    """$MODBOT_CACHE_DIR, else $XDG_CACHE_HOME/modbot, else ~/.cache/modbot (None if no home)."""
    if os.environ.get("MODBOT_CACHE_DIR"):
        return Path(os.environ["MODBOT_CACHE_DIR"]) / "semantic"
    base = os.environ.get("XDG_CACHE_HOME")
    try:
        root = Path(base) if base else Path.home() / ".cache"
    except RuntimeError:
        return None
    return root / "modbot" / "semantic"


@contextmanager
def _train_lock(folders: Sequence[Path]) -> Iterator[None]:
    """An exclusive lock file in the first cache folder that can hold one (none: no lock)."""
    for folder in folders:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            handle = os.open(folder / ".train.lock", os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            continue
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield
        finally:
            os.close(handle)
        return
    yield


def _prune(folder: Path, encoder_version: str, keep: int) -> None:
    """Only the newest few caches stay: each library edit writes one."""
    paths = sorted(folder.glob(f"{_encoder_tag(encoder_version)}-*.npz"), key=_mtime)
    for old in paths[:-keep]:
        old.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def _encoder_tag(encoder_version: str) -> str:
    return hashlib.sha256(encoder_version.encode()).hexdigest()[:8]


# --- windows over long comments ------------------------------------------------------------


def windows(text: str) -> list[str]:
    """The comment itself if short; a long one is read two sentences at a time (sliding by
    one), so a disclosure buried at the end of a long post is not averaged away by the rest.
    A sentence longer than a window is cut at spaces."""
    if len(text) <= WINDOW_CHARS:
        return [text]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = sentence.strip()
        while len(sentence) > WINDOW_CHARS:
            cut = sentence.rfind(" ", WINDOW_CHARS // 2, WINDOW_CHARS)
            cut = cut if cut > 0 else WINDOW_CHARS
            pieces.append(sentence[:cut])
            sentence = sentence[cut:].strip()
        if sentence:
            pieces.append(sentence)
    if len(pieces) <= 1:
        return pieces or [text[:WINDOW_CHARS]]
    out = []
    for i in range(len(pieces) - 1):
        pair = f"{pieces[i]} {pieces[i + 1]}"
        out.append(pair if len(pair) <= WINDOW_CHARS else pieces[i])
    if len(pieces[-1]) + len(pieces[-2]) + 1 > WINDOW_CHARS:
        out.append(pieces[-1])
    return list(dict.fromkeys(out))[:MAX_WINDOWS]


# --- the classifier ------------------------------------------------------------------------


class SemanticClassifier:
    """Encoder + heads. Raises ModelError when the encoder's files fail their check."""

    name = "semantic"

    def __init__(
        self,
        exemplars_dir: Path,
        encoder: MiniLMEncoder,
        cache_dir: Path | None,
        floor: float = 0.0,
    ):
        self.exemplars_dir = exemplars_dir
        self.encoder = encoder
        # Below this no category's score can matter to the policy (its lowest review tier).
        # The words view bounds the score from above, so a comment whose bound is under the
        # floor skips the encoder: its decision is the same, faster. Its scores are then
        # those upper bounds and it has no nearest exemplar. 0: always encode.
        self.floor = floor
        self.exemplars = load_exemplars(exemplars_dir)  # ConfigError names file and line
        self.hash = library_hash(exemplars_dir, encoder.version)
        self.version = f"{encoder.version}/heads-{self.hash[:12]}"
        # Where trained heads are kept: models_dir/semantic, then the user's cache (shared by
        # every configuration on the machine, e.g. test runs with their own models_dir).
        self.cache_dirs = [d for d in (cache_dir, shared_cache_dir()) if d is not None]
        self._lock = threading.Lock()
        self._heads: Heads | None = None

    @property
    def categories(self) -> tuple[str, ...]:
        return tuple(sorted({e.category for e in self.exemplars} - {HARMLESS}))

    @property
    def cache_name(self) -> str:
        return f"{_encoder_tag(self.encoder.version)}-{self.hash[:24]}.npz"

    def load(self) -> Heads:
        with self._lock:
            if self._heads is None:
                self.encoder.load()  # the hash check, every load
                self._heads = self._cached() or self._train_once()
        return self._heads

    def _cached(self) -> Heads | None:
        for folder in self.cache_dirs:
            path = folder / self.cache_name
            if not path.is_file():
                continue
            try:
                heads = _load(path)
            except (OSError, ValueError, KeyError) as exc:
                log.warning("semantic head cache unreadable", path=str(path), error=str(exc))
                continue
            if heads.texts == tuple(e.text for e in self.exemplars):
                return heads
        return None

    def _train_once(self) -> Heads:
        """Train, with the other processes of this machine waiting rather than training too."""
        with _train_lock(self.cache_dirs):
            return self._cached() or self._train()

    def _train(self) -> Heads:
        known: dict[str, np.ndarray] = {}
        for folder in reversed(self.cache_dirs):
            known.update(_reusable_embeddings(folder, self.encoder.version))
        texts = [e.text for e in self.exemplars]
        todo = [t for t in dict.fromkeys(texts) if t not in known]
        log.info(
            "training the semantic heads from the exemplar library",
            exemplars=len(texts),
            to_encode=len(todo),
            version=self.version,
        )
        if todo:
            known.update(zip(todo, self.encoder.encode(todo), strict=True))
        embeddings = np.stack([known[t] for t in texts]).astype(np.float32)
        heads = train_heads(embeddings, self.exemplars)
        for folder in self.cache_dirs:
            try:
                _save(folder / self.cache_name, heads)
                _prune(folder, self.encoder.version, keep=3)
            except OSError as exc:
                log.warning("semantic heads not cached", folder=str(folder), error=str(exc))
        return heads

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        if not texts:
            return []
        heads = self.load()
        segments: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            clean = re.sub(r"\s+", " ", strip_format((text or "")[:MAX_CHARS])).strip()
            for window in windows(clean):
                segments.append(window)
                owner.append(i)
        words = heads.words(segments)
        probs = np.sqrt(words)  # upper bounds, replaced below wherever the encoder runs
        encode = np.flatnonzero(probs.max(axis=1) >= self.floor)
        near: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        if len(encode):
            x = self.encoder.encode([segments[i] for i in encode])
            probs[encode], near = heads.score(x, words[encode])
        position = {int(seg): row for row, seg in enumerate(encode)}
        owners = np.array(owner)
        verdicts = []
        for i in range(len(texts)):
            rows = np.flatnonzero(owners == i)
            scores = {
                score_key(c): float(probs[rows, k].max()) for k, c in enumerate(heads.categories)
            }
            encoded = [position[int(r)] for r in rows if int(r) in position]
            nearest = {}
            for category, (index, sim) in near.items():
                best = encoded[int(np.argmax(sim[encoded]))] if encoded else None
                if best is not None:
                    nearest[category] = (heads.texts[int(index[best])], round(float(sim[best]), 3))
            verdicts.append(Verdict(scores, (), self.name, self.version, nearest))
        return verdicts


class SemanticLayer:
    """The semantic classifier, or nothing if its model will not load: loud, once, and the
    rules still decide. `description` says which."""

    name = "semantic"

    def __init__(self, classifier: SemanticClassifier):
        self.classifier = classifier
        self.version = classifier.version
        self.failed: str | None = None

    def load(self) -> bool:
        """Load now (at start-up, so health reports the truth). False if it failed."""
        try:
            self.classifier.load()
        except (ModelError, OSError, ValueError, MemoryError) as exc:
            self._fail(exc)
        return self.failed is None

    def _fail(self, exc: BaseException) -> None:
        self.failed = str(exc) or type(exc).__name__
        self.version = "off"
        log.error(
            "SEMANTIC LAYER OFF: the sentence encoder failed to load; rules only until fixed",
            error=self.failed,
        )

    @property
    def active(self) -> bool:
        return self.failed is None

    @property
    def description(self) -> str:
        if self.failed:
            return f"semantic layer OFF (rules only): {self.failed}"
        c = self.classifier
        source = c.encoder.source or "not loaded yet"
        return (
            f"semantic layer on: {c.encoder.name} from {source}, "
            f"{len(c.categories)} heads from {len(c.exemplars)} exemplars "
            f"(version {c.version})"
        )

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        if self.failed is None:
            try:
                return self.classifier.classify(texts)
            except (ModelError, OSError, ValueError, MemoryError) as exc:
                self._fail(exc)
        return [Verdict() for _ in texts]
