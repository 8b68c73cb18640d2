"""Model-side code transformers does not have (e.g. starting Splinter from a BERT checkpoint)."""
