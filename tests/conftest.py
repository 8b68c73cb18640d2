"""Shared fixtures: tiny in-process tokenizers, models and QA files. Never touches the Hub."""

from __future__ import annotations

import json
import os
import string
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_DATASETS_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SQUAD_FEWSHOT = SHARED_DATA / "squad_fewshot"

CONTEXTS = [
    ("Ada Lovelace was born in London in 1815. She worked with Charles Babbage on the "
     "Analytical Engine. Lovelace died in London in 1852."),
    ("The Nile is a river in Africa. It flows north into the Mediterranean Sea. The Nile "
     "is about 6650 kilometres long."),
    ("Marie Curie was born in Warsaw. She moved to Paris in 1891 and won the Nobel Prize "
     "in Physics in 1903 with Pierre Curie."),
]
QUESTIONS = [
    (0, "Where was Ada Lovelace born?", "London"),
    (0, "Who did Lovelace work with?", "Charles Babbage"),
    (0, "When did Lovelace die?", "1852"),
    (1, "Where does the Nile flow?", "north"),
    (1, "How long is the Nile?", "about 6650 kilometres"),
    (2, "Where was Marie Curie born?", "Warsaw"),
    (2, "Where did Curie move in 1891?", "Paris"),
    (2, "Which prize did Curie win?", "Nobel Prize in Physics"),
]


def qa_examples():
    out = []
    for i, (c, q, a) in enumerate(QUESTIONS):
        context = CONTEXTS[c]
        out.append({"id": f"q{i}", "title": "", "context": context, "question": q,
                    "answers": {"text": [a], "answer_start": [context.index(a)]}})
    return out


def write_mrqa(path: Path, examples, qass_suffix: bool = False) -> Path:
    by_context: dict[str, dict] = {}
    for ex in examples:
        rec = by_context.setdefault(ex["context"], {"id": "", "context": ex["context"], "qas": []})
        start, text = ex["answers"]["answer_start"][0], ex["answers"]["text"][0]
        rec["qas"].append({
            "id": ex["id"], "question": ex["question"] + (" [MASK]." if qass_suffix else ""),
            "answers": [text],
            "detected_answers": [{"text": text, "char_spans": [[start, start + len(text) - 1]]}],
        })
    lines = [json.dumps({"header": {"dataset": "SQuAD", "split": "train"}})]
    lines += [json.dumps(r) for r in by_context.values()]
    path.write_text("\n".join(lines) + "\n")
    return path


def tiny_vocab(texts) -> list[str]:
    import re

    words = sorted({w.lower() for t in texts for w in re.findall(r"\w+", t)})
    chars = sorted(set(string.ascii_lowercase + string.digits))
    tokens = (["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(string.punctuation)
              + chars + [f"##{c}" for c in chars] + words)
    return list(dict.fromkeys(tokens))


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """A 2-layer, hidden-32 BERT with a word-level WordPiece vocabulary, saved locally."""
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    out = tmp_path_factory.mktemp("tiny-bert")
    texts = CONTEXTS + [q for _, q, _ in QUESTIONS]
    vocab = {tok: i for i, tok in enumerate(tiny_vocab(texts))}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=True)  # transformers 5.x signature
    tokenizer.save_pretrained(out)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=128)
    import torch

    torch.manual_seed(0)
    BertForMaskedLM(config).save_pretrained(out)
    return out


@pytest.fixture(scope="session")
def tiny_qa_file(tmp_path_factory) -> Path:
    return write_mrqa(tmp_path_factory.mktemp("qa") / "tiny-train.jsonl", qa_examples(),
                      qass_suffix=True)


@pytest.fixture
def shared_data() -> Path:
    """The ../shared/data folder; skip (or fail under NLPKIT_REQUIRE_SHARED_DATA=1) when absent."""
    if SQUAD_FEWSHOT.is_dir():
        return SHARED_DATA
    reason = f"shared data not found at {SHARED_DATA} (developer/CI machines only)"
    if os.environ.get("NLPKIT_REQUIRE_SHARED_DATA") == "1":
        pytest.fail(reason + " but NLPKIT_REQUIRE_SHARED_DATA=1 is set")
    pytest.skip(reason)
