"""Comments in, decisions out, actions carried out: the pipeline, the pure policy, the executor."""
