"""Thin shells over the use cases: parse input, call a service, render the answer."""
