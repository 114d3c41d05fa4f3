"""The nouns (records), the one error tree, the injected clock and logging: used by every layer."""
