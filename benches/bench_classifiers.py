"""Classifier benchmarks, run on demand (`make bench`), never in `make test`.

Measured side by side in one run:
1. rules: modbot's normalisation + Aho-Corasick over at least 2,000 phrases, against
   better-profanity's `contains_profanity` on the same comments;
2. toxicity: a bert-base-sized Detoxify checkpoint (random weights; speed does not depend on
   them), naive one-at-a-time `Detoxify.predict` against modbot's batched path, with the
   largest score difference between the two (skipped, and said so in the JSON, where torch and
   Detoxify are not installed: they are the optional extra modbot[detoxify]);
3. judgement: the whole judgement as the bot runs it (normalisation, rules, the semantic
   layer's words view, sentence encoder and heads, the toxicity backend), batched as a poll
   round is, on school comments (tests/data: the school set and the judgement splits), against
   better-profanity's `contains_profanity` and alt-profanity-check's `predict_prob` on the same
   comments in the same run; `encoder_backend` names the encoder backend it ran on;
4. the sentence encoder alone on the same comments, on each backend (NumPy, ONNX Runtime fp32
   and int8), and in transformers + torch where installed.
The last line printed is one JSON object with every figure."""

from __future__ import annotations

import csv
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from bot.config.settings import REPO_ROOT
from bot.core.models import Category, DecisionAction, Severity
from classifiers.rules import Rule, RulesClassifier, load_rules
from classifiers.toxicity import detoxify_missing

SHARED = REPO_ROOT.parent / "shared" / "data" / "davidson2017" / "labeled_data.csv"


def school_comments() -> list[str]:
    path = REPO_ROOT / "tests" / "data" / "school_comments.jsonl"
    return [json.loads(line)["text"] for line in path.read_text().splitlines()]


def comments(n: int) -> list[str]:
    """The school set, then Davidson's tweets (longer, with entities and mentions)."""
    texts = school_comments()
    if SHARED.exists():
        with SHARED.open(newline="", encoding="utf-8") as handle:
            texts += [row["tweet"] for row in csv.DictReader(handle)]
    else:
        print("davidson2017 not found: using the school set only", file=sys.stderr)
    return [texts[i % len(texts)] for i in range(n)]


def padded_rules() -> list[Rule]:
    """The shipped rules plus better-profanity's word list, so there are >= 2,000 phrases."""
    import better_profanity

    rules = load_rules(REPO_ROOT / "config" / "rules")
    wordlist = Path(better_profanity.__file__).parent / "profanity_wordlist.txt"
    words = tuple(w.strip() for w in wordlist.read_text().splitlines() if w.strip())
    extra = Rule(
        "bench.wordlist",
        Category.PROFANITY,
        Severity.LOW,
        DecisionAction.HIDE,
        "bench",
        None,
        "includes-word",
        words,
    )
    filler = tuple(f"benchphrase{i} term{i}" for i in range(1500))
    more = Rule(
        "bench.filler",
        Category.SPAM,
        Severity.LOW,
        DecisionAction.HIDE,
        "bench",
        None,
        "includes-word",
        filler,
    )
    return [*rules, extra, more]


def bench_rules(texts: list[str]) -> dict:
    from better_profanity import profanity

    rules = padded_rules()
    phrases = sum(len(r.phrases) for r in rules)
    clf = RulesClassifier(rules)
    clf.classify(texts[:100])
    start = time.perf_counter()
    clf.classify(texts)
    ours = len(texts) / (time.perf_counter() - start)
    school = school_comments()
    school = [school[i % len(school)] for i in range(len(texts))]
    start = time.perf_counter()
    clf.classify(school)
    ours_school = len(school) / (time.perf_counter() - start)
    profanity.load_censor_words()
    sample = texts[:2000]
    start = time.perf_counter()
    for text in sample:
        profanity.contains_profanity(text)
    theirs = len(sample) / (time.perf_counter() - start)
    return {
        "rules_phrases": phrases,
        "rules_comments": len(texts),
        "rules_per_second": round(ours),
        "rules_per_second_school_comments": round(ours_school),
        "better_profanity_per_second": round(theirs, 1),
        "rules_speedup": round(ours / theirs, 1),
    }


def build_bert_base(folder: Path, texts: list[str]) -> Path:
    import torch
    import transformers

    from classifiers.model_store import save_checkpoint

    hf = folder / "hf"
    hf.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    seen = set(vocab)
    for text in texts:
        for word in text.lower().split():
            if word not in seen and len(vocab) < 30000:
                seen.add(word)
                vocab.append(word)
    vocab += [f"[unused{i}]" for i in range(30522 - len(vocab))]
    (hf / "vocab.txt").write_text("\n".join(vocab))
    config = transformers.BertConfig(num_labels=6)  # bert-base: 12 layers, 768 hidden
    config.save_pretrained(hf)
    transformers.BertTokenizer(str(hf / "vocab.txt")).save_pretrained(hf)
    torch.manual_seed(0)
    model = transformers.BertForSequenceClassification(config)
    classes = ["toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate"]
    checkpoint = save_checkpoint(
        folder / "checkpoint.ckpt",
        model.state_dict(),
        classes,
        str(hf),
        "BertForSequenceClassification",
        "BertTokenizer",
    )
    return checkpoint


def bench_toxicity(texts: list[str]) -> dict:
    from detoxify import Detoxify

    from classifiers.model_store import sha256_file
    from classifiers.normalise import strip_format
    from classifiers.toxicity import DetoxifyClassifier

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "bench-model"
        folder.mkdir()
        checkpoint = build_bert_base(folder, texts)
        (folder / "manifest.json").write_text(
            json.dumps({"checkpoint_sha256": sha256_file(checkpoint), "files": {}})
        )
        naive = Detoxify(checkpoint=str(checkpoint), huggingface_config_path=str(folder / "hf"))
        ours = DetoxifyClassifier(checkpoint, "bench", batch_size=32)
        ours8 = DetoxifyClassifier(checkpoint, "bench", batch_size=32, int8=True)
        cleaned = [strip_format(t) or " " for t in texts]  # what modbot sends to the model
        ours.classify(texts[:4])
        ours8.classify(texts[:4])
        naive.predict(cleaned[0])
        start = time.perf_counter()
        expected = [naive.predict(t) for t in cleaned]
        naive_rate = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        got = ours.classify(texts)
        batched_rate = len(texts) / (time.perf_counter() - start)
        start = time.perf_counter()
        got8 = ours8.classify(texts)
        int8_rate = len(texts) / (time.perf_counter() - start)

        def worst(results):
            return max(
                abs(e[k] - g.scores[k]) for e, g in zip(expected, results, strict=True) for k in e
            )

        diff, diff8 = worst(got), worst(got8)
    import torch

    return {
        "toxicity_model": "bert-base (random weights)",
        "toxicity_comments": len(texts),
        "torch_threads": torch.get_num_threads(),
        "naive_predict_per_second": round(naive_rate, 1),
        "batched_per_second": round(batched_rate, 1),
        "toxicity_speedup": round(batched_rate / naive_rate, 2),
        "max_score_difference": float(f"{diff:.2e}"),
        "batched_int8_per_second": round(int8_rate, 1),
        "toxicity_int8_speedup": round(int8_rate / naive_rate, 2),
        "max_score_difference_int8": float(f"{diff8:.2e}"),
    }


def judgement_comments() -> list[str]:
    """School comments: what modbot reads (the judgement splits are written as comments on a
    school's page, with the voices and lengths of real ones)."""
    texts = school_comments()
    for name in ("dev", "test"):
        path = REPO_ROOT / "tests" / "data" / "judgement" / f"{name}.jsonl"
        if path.exists():
            texts += [json.loads(line)["text"] for line in path.read_text().splitlines() if line]
    return texts


def bench_reference_encoder(rounds: list[list[str]]) -> dict:
    """The same encoder in transformers + torch (fp32, length-sorted batches of 16, as ours),
    for comparison, where torch is installed."""
    if "torch" in detoxify_missing():
        return {"reference_encoder_skipped": "torch not installed"}
    import torch
    import transformers

    from classifiers.model_store import packaged_encoder_dir

    folder = str(packaged_encoder_dir())
    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = transformers.AutoModel.from_pretrained(folder).eval()

    def encode(batch: list[str]) -> None:
        ordered = sorted(batch, key=len)
        with torch.inference_mode():
            for i in range(0, len(ordered), 16):
                inputs = tokenizer(
                    ordered[i : i + 16],
                    padding=True,
                    truncation=True,
                    max_length=256,
                    return_tensors="pt",
                )
                model(**inputs)

    encode(rounds[0][:32])
    start = time.perf_counter()
    for batch in rounds:
        encode(batch)
    rate = sum(len(b) for b in rounds) / (time.perf_counter() - start)
    return {"reference_torch_encoder_comments_per_s": round(rate, 1)}


def bench_encoder_backends(rounds: list[list[str]]) -> dict:
    """The encoder alone on every comment, on each backend, side by side: best of two passes,
    interleaved, so a burst of load from elsewhere does not decide the comparison."""
    from classifiers.encoder import MiniLMEncoder
    from classifiers.encoder_onnx import onnxruntime_available

    names = ["numpy", "ort-fp32", "ort-int8"] if onnxruntime_available() else ["numpy"]
    encoders = {name: MiniLMEncoder(backend=name).load() for name in names}
    best = dict.fromkeys(names, 0.0)
    count = sum(len(b) for b in rounds)
    for _ in range(2):
        for name, encoder in encoders.items():
            encoder.encode(rounds[0][:32])
            start = time.perf_counter()
            for batch in rounds:
                encoder.encode(batch)
            best[name] = max(best[name], count / (time.perf_counter() - start))
    result = {"numpy_encoder_comments_per_s": round(best["numpy"], 1)}
    if "ort-fp32" in best:
        result["ort_encoder_comments_per_s"] = round(best["ort-fp32"], 1)
        result["ort_int8_encoder_comments_per_s"] = round(best["ort-int8"], 1)
    else:
        result["ort_encoder_skipped"] = "onnxruntime not installed"
    return result


def bench_judgement(texts: list[str], round_size: int = 256) -> dict:
    from better_profanity import profanity
    from profanity_check import predict_prob

    from bot.app import build_classifier
    from bot.config.settings import load_settings

    settings = load_settings()
    settings = settings.model_copy(
        update={"classifiers": settings.classifiers.model_copy(update={"semantic": True})}
    )
    classifiers = build_classifier(settings)  # loads the encoder and heads (trains if needed)
    print(f"judgement layers: {classifiers.layers}", file=sys.stderr)
    if classifiers.semantic is None or not classifiers.semantic.active:
        raise SystemExit("the semantic layer did not load: see the error above")
    judge = classifiers.combined
    judge.classify(texts[:round_size])  # warm: first-call set-up is not throughput
    rounds = [texts[i : i + round_size] for i in range(0, len(texts), round_size)]
    start = time.perf_counter()
    for batch in rounds:
        judge.classify(batch)
    ours = len(texts) / (time.perf_counter() - start)
    heads = classifiers.semantic.classifier.load()
    floor = classifiers.semantic.classifier.floor
    skipped = float((heads.words(texts).max(axis=1) ** 0.5 < floor).mean())

    profanity.load_censor_words()
    start = time.perf_counter()
    for text in texts:
        profanity.contains_profanity(text)
    better = len(texts) / (time.perf_counter() - start)
    predict_prob(texts[:10])
    start = time.perf_counter()
    for batch in rounds:
        predict_prob(batch)
    check = len(texts) / (time.perf_counter() - start)
    encoder = classifiers.semantic.classifier.encoder
    return {
        **bench_reference_encoder(rounds),
        **bench_encoder_backends(rounds),
        "encoder_backend": encoder.backend,
        "judgement_comments": len(texts),
        "judgement_round_size": round_size,
        "judgement_layers": classifiers.layers,
        "judgement_encoder_skipped_fraction": round(skipped, 3),
        "judgement_comments_per_s": round(ours, 1),
        "better_profanity_comments_per_s": round(better, 1),
        "profanity_check_comments_per_s": round(check, 1),
        "judgement_vs_better_profanity": round(ours / better, 2),
        "cpus": os.cpu_count(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    n_rules = int(os.environ.get("BENCH_RULES_COMMENTS", "50000"))
    n_tox = int(os.environ.get("BENCH_TOXICITY_COMMENTS", "256"))
    results = {}
    print(f"rules: {n_rules} comments...", file=sys.stderr)
    results.update(bench_rules(comments(n_rules)))
    missing = detoxify_missing()
    if missing:
        reason = f"{' and '.join(missing)} not installed (optional extra modbot[detoxify])"
        print(f"toxicity: skipped: {reason}", file=sys.stderr)
        results["toxicity_skipped"] = reason
    else:
        print(f"toxicity: {n_tox} comments on a bert-base-sized model...", file=sys.stderr)
        results.update(bench_toxicity(comments(n_tox)[::-1]))
    texts = judgement_comments()
    print(f"judgement: {len(texts)} school comments, whole judgement...", file=sys.stderr)
    results.update(bench_judgement(texts))
    for key, value in results.items():
        print(f"  {key}: {value}", file=sys.stderr)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
