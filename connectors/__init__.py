"""Connectors: each platform's comments in as `Comment`s, typed actions out."""
