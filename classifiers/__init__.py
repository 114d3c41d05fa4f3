"""Classifiers: text in, scores and rule hits out. Batch-first, no I/O at import time."""
