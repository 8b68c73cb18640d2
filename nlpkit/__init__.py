"""nlpkit: recipes for knowledge in language models and few-shot question answering."""

__version__ = "0.1.0"
