"""Smoke runs of RSS pretraining (from scratch and from the tiny BERT), then QASS fine-tuning."""

from __future__ import annotations

import json
import math

import pytest
import torch
from conftest import qa_examples, write_mrqa
from safetensors.torch import load_file
from transformers import TrainerCallback

from nlpkit.scripts import fewshot_qa, splinter_pretrain

QUERY = "encoder.layer.0.attention.self.query.weight"
# Passages whose names and places recur (words of the tiny vocabulary only).
PASSAGES = [
    ("Ada Lovelace was born in London in 1815. Lovelace worked with Charles Babbage in London. "
    "Charles Babbage and Ada Lovelace worked on the Analytical Engine."),
    ("Marie Curie was born in Warsaw. Marie Curie moved to Paris. In Paris Marie Curie won the "
    "Nobel Prize in Physics with Pierre Curie."),
    ("The Nile is a river in Africa. The Nile flows north into the Mediterranean Sea. The Nile "
    "is about 6650 kilometres long."),
    "Lovelace died in London in 1852. Babbage worked in London on the Analytical Engine.",
]
COMMON = ["--max_seq_length", "64", "--max_span_length", "4", "--max_steps", "3",
          "--per_device_train_batch_size", "2", "--learning_rate", "1e-3", "--logging_steps", "1",
          "--use_cpu", "true", "--seed", "0"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rss-corpus")
    (folder / "part1.txt").write_text("\n".join(PASSAGES[:2]) + "\n")
    (folder / "nested").mkdir()
    (folder / "nested" / "part2.txt").write_text("\n\n".join(PASSAGES[2:]) + "\n")
    return folder


class Snapshot(TrainerCallback):
    """Copy of the first query weight when training starts (from-scratch weights are not saved)."""

    def __init__(self):
        self.weight = None

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        self.weight = model.get_parameter("splinter." + QUERY).detach().clone()


def saved_query(folder):
    return load_file(folder / "model.safetensors")["splinter." + QUERY]


def check_pretrain_results(out, results):
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["head"] == "rss-pretraining" == results["head"]
    metrics = on_disk["metrics"]
    assert metrics["global_step"] == 3
    assert metrics["train_loss"] > 0 and metrics["train_loss"] == pytest.approx(
        results["metrics"]["train_loss"])
    assert len(on_disk["data"]) == 2  # both corpus files hashed
    assert on_disk["versions"]["transformers"]
    config = json.loads((out / "config.json").read_text())
    assert config["model_type"] == "splinter"
    tokenizer = json.loads((out / "tokenizer.json").read_text())
    added = {t["content"]: t["id"] for t in tokenizer["added_tokens"]}
    assert added["[QUESTION]"] == config["question_token_id"]
    return config


def test_pretrain_from_scratch(tiny_model_dir, corpus, tmp_path):
    out = tmp_path / "scratch"
    snapshot = Snapshot()
    results = splinter_pretrain.main(
        ["--tokenizer_name_or_path", str(tiny_model_dir), "--corpus", str(corpus),
         "--hidden_size", "32", "--num_hidden_layers", "2", "--num_attention_heads", "2",
         "--intermediate_size", "64", "--max_position_embeddings", "128",
         "--validation_sequences", "1", "--output_dir", str(out), *COMMON], callbacks=[snapshot])
    config = check_pretrain_results(out, results)
    eval_loss = results["metrics"]["eval_loss"]  # held-out RSS loss of the one validation row
    assert math.isfinite(eval_loss) and eval_loss > 0
    assert config["hidden_size"] == 32 and config["num_hidden_layers"] == 2
    assert not torch.allclose(snapshot.weight, saved_query(out))
    assert (out / "README.md").is_file()


@pytest.fixture(scope="module")
def pretrained_from_bert(tiny_model_dir, corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("rss") / "from-bert"
    results = splinter_pretrain.main(
        ["--init_checkpoint", str(tiny_model_dir), "--corpus", str(corpus),
         "--output_dir", str(out), *COMMON])
    return out, results


def test_pretrain_from_bert_checkpoint(tiny_model_dir, pretrained_from_bert):
    out, results = pretrained_from_bert
    config = check_pretrain_results(out, results)
    assert config["hidden_size"] == 32
    bert = load_file(tiny_model_dir / "model.safetensors")["bert." + QUERY]
    after = saved_query(out)
    assert bert.shape == after.shape
    assert not torch.allclose(bert, after), "pretraining did not change the encoder"


def test_pretrained_model_fine_tunes_with_qass_head(pretrained_from_bert, tmp_path):
    model_dir, _ = pretrained_from_bert
    examples = qa_examples()
    train = write_mrqa(tmp_path / "train_qass.jsonl", examples[:5], qass_suffix=True)
    evaluation = write_mrqa(tmp_path / "eval_qass.jsonl", examples, qass_suffix=True)
    out = tmp_path / "fewshot"
    results = fewshot_qa.main(
        ["--model_name_or_path", str(model_dir), "--head", "qass", "--train_file", str(train),
         "--eval_file", str(evaluation), "--output_dir", str(out), "--max_seq_length", "64",
         "--doc_stride", "16", "--max_steps", "2", "--per_device_train_batch_size", "4",
         "--learning_rate", "1e-3", "--use_cpu", "true"])
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert metrics["global_step"] == 2 and metrics["eval_num_examples"] == 3
    assert "eval_f1" in metrics and results["config"]["model_name_or_path"] == str(model_dir)
    # the QASS head weights come from pretraining (same names), and fine-tuning moved them
    pre = load_file(model_dir / "model.safetensors")
    post = load_file(out / "model.safetensors")
    qass = [k for k in pre if k.startswith("splinter_qass.")]
    assert qass and all(k in post for k in qass)
    assert any(not torch.equal(pre[k], post[k]) for k in qass)
