"""Evaluation: running a loaded pack against prepared facts, the decision for an audience,
and its explanation."""
