"""Check the model files modbot uses against their pinned SHA-256 and load them once.

Run by the Docker build (so an image with a corrupt or swapped model is never built) and by
hand after an install:  python deploy/verify_models.py [--models-dir DIR]
Exit 0: every file matches and the encoder loads; 1: a file is missing or changed (named)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=None,
        help="classifiers.models_dir (a fetched copy there is preferred to the package's)",
    )
    args = parser.parse_args(argv)

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the modbot beside this file
    from classifiers import encoder, model_store

    try:
        folder = model_store.encoder_dir(args.models_dir)
        for name, digest in model_store.MINILM_FILES.items():
            model_store.read_verified(folder, name)
            print(f"ok  {digest[:16]}…  {folder / name}")
        # The encoder's own check, under whichever name it offers, then one real load.
        own_check = getattr(encoder, "verify", None) or getattr(encoder, "verify_files", None)
        if callable(own_check):
            own_check(args.models_dir)
        encoder.MiniLMEncoder(args.models_dir).load()
    except model_store.ModelError as exc:
        print(f"verify_models: {exc}", file=sys.stderr)
        return 1
    print(f"{model_store.MINILM}: {len(model_store.MINILM_FILES)} files match; the encoder loads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
