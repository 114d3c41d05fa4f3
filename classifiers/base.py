"""The classifier protocol: batch-first, so a model can pad and run many comments at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from bot.core.models import Verdict


@runtime_checkable
class Classifier(Protocol):
    name: str
    version: str

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        """One Verdict per text, in the same order. Must not raise on odd text."""
        ...


class Combined:
    """Runs several classifiers and merges their verdicts text by text."""

    def __init__(self, *parts: Classifier):
        self.parts = parts
        self.name = "+".join(p.name for p in parts)
        self.version = "+".join(p.version for p in parts)

    def classify(self, texts: Sequence[str]) -> list[Verdict]:
        merged = [Verdict() for _ in texts]
        for part in self.parts:
            for i, verdict in enumerate(part.classify(texts)):
                merged[i] = merged[i].merge(verdict)
        return merged
