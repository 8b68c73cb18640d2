"""Smoke runs of the few-shot QA script on the tiny BERT: heads, LoRA, results.json, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from conftest import qa_examples, write_mrqa
from safetensors.torch import load_file
from transformers import TrainerCallback

from nlpkit.scripts import fewshot_qa

QUERY = "encoder.layer.0.attention.self.query.weight"


@pytest.fixture(scope="module")
def qa_files(tmp_path_factory):
    """Train on the first two contexts, evaluate on the third (held out)."""
    folder = tmp_path_factory.mktemp("fewshot-data")
    examples = qa_examples()
    train = write_mrqa(folder / "train_qass.jsonl", examples[:5], qass_suffix=True)
    evaluation = write_mrqa(folder / "eval_qass.jsonl", examples, qass_suffix=True)
    return train, evaluation


def run_args(model_dir, files, out, *extra):
    train, evaluation = files
    return ["--model_name_or_path", str(model_dir), "--train_file", str(train),
            "--eval_file", str(evaluation), "--output_dir", str(out),
            "--max_seq_length", "64", "--doc_stride", "16", "--max_steps", "3",
            "--per_device_train_batch_size", "4", "--per_device_eval_batch_size", "8",
            "--learning_rate", "1e-3", "--logging_steps", "1", "--use_cpu", "true",
            "--seed", "0", *extra]


def encoder_weight(path: Path) -> torch.Tensor:
    state = load_file(path / "model.safetensors")
    (key,) = [k for k in state if k.endswith(QUERY)]
    return state[key]


def check_results(out: Path, results: dict, head: str) -> dict:
    on_disk = json.loads((out / "results.json").read_text())
    assert on_disk["metrics"] == json.loads(json.dumps(results["metrics"]))
    metrics = on_disk["metrics"]
    for key in ("eval_exact_match", "eval_f1"):
        assert 0.0 <= metrics[key] <= 100.0
    assert metrics["eval_num_examples"] == 3  # the 5 training questions' contexts are held out
    assert metrics["num_train_examples"] == 5 and metrics["global_step"] == 3
    assert metrics["train_loss"] > 0
    assert on_disk["config"]["head"] == head and on_disk["config"]["max_seq_length"] == 64
    assert on_disk["config"]["learning_rate"] == pytest.approx(1e-3)
    assert on_disk["versions"]["transformers"] and on_disk["versions"]["torch"]
    assert on_disk["world_size"] == 1
    assert len(on_disk["data"]) == 2  # train and eval files, hashed
    assert all(len(h) == 64 for h in on_disk["data"].values())
    assert "git" in on_disk and "commit" in on_disk["git"]
    card = (out / "README.md").read_text()
    assert "| eval_f1 |" in card and f"`{head}`" in card
    return on_disk


@pytest.mark.parametrize("head", ["standard", "qass"])
def test_fewshot_run_changes_weights_and_writes_results(tiny_model_dir, qa_files, tmp_path, head):
    out = tmp_path / f"run-{head}"
    results = fewshot_qa.main(run_args(tiny_model_dir, qa_files, out, "--head", head))
    check_results(out, results, head)
    before, after = encoder_weight(tiny_model_dir), encoder_weight(out)
    assert before.shape == after.shape
    assert not torch.allclose(before, after), "fine-tuning did not change the encoder"
    config = json.loads((out / "config.json").read_text())
    if head == "qass":
        assert config["model_type"] == "splinter"
        tokenizer = json.loads((out / "tokenizer.json").read_text())
        added = {t["content"]: t["id"] for t in tokenizer["added_tokens"]}
        assert added["[QUESTION]"] == config["question_token_id"]
    else:
        assert config["architectures"] == ["BertForQuestionAnswering"]


def test_fewshot_lora_trains_adapters_and_head(tiny_model_dir, qa_files, tmp_path):
    out = tmp_path / "run-lora"
    results = fewshot_qa.main(run_args(tiny_model_dir, qa_files, out, "--head", "standard",
                                       "--use_lora", "true", "--lora_r", "4"))
    check_results(out, results, "standard")
    assert results["config"]["use_lora"] is True
    adapter_config = json.loads((out / "adapter_config.json").read_text())
    assert adapter_config["r"] == 4 and set(adapter_config["target_modules"]) == {"query", "value"}
    state = load_file(out / "adapter_model.safetensors")
    lora_b = [v for k, v in state.items() if "lora_B" in k]
    assert lora_b and any(v.abs().sum() > 0 for v in lora_b), "LoRA B starts at zero; it must move"
    head = [k for k in state if "qa_outputs" in k]
    assert head, "the span head is saved next to the adapters (modules_to_save)"
    assert not any(QUERY in k and "lora" not in k for k in state), "base weights not in adapter"


class StopAt(TrainerCallback):
    """Simulate an interruption after a checkpoint has been written."""

    def __init__(self, step: int):
        self.step = step

    def on_step_end(self, args, state, control, **kwargs):
        if state.global_step == self.step:
            raise KeyboardInterrupt(f"interrupted at step {self.step}")


def test_fewshot_resumes_after_interruption(tiny_model_dir, qa_files, tmp_path):
    out = tmp_path / "run-resume"
    argv = run_args(tiny_model_dir, qa_files, out, "--head", "qass", "--max_steps", "4",
                    "--save_strategy", "steps", "--save_steps", "2")
    with pytest.raises(KeyboardInterrupt, match="step 3"):
        fewshot_qa.main(argv, callbacks=[StopAt(3)])
    assert (out / "checkpoint-2").is_dir()
    assert not (out / "results.json").exists()
    results = fewshot_qa.main(argv)
    metrics = json.loads((out / "results.json").read_text())["metrics"]
    assert metrics["resumed_from_checkpoint"] == str(out / "checkpoint-2")
    assert metrics["global_step"] == 4 == results["metrics"]["global_step"]
    assert "eval_f1" in metrics
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 4 and state["max_steps"] == 4
    # auto_resume off: a fresh run from step 0
    fresh = fewshot_qa.main(argv + ["--auto_resume", "false", "--max_steps", "2"])
    assert fresh["metrics"]["resumed_from_checkpoint"] is None
    assert fresh["metrics"]["global_step"] == 2


def test_fewshot_step_rule_without_max_steps(tiny_model_dir, qa_files, tmp_path):
    """max(num_train_epochs epochs, min_train_steps): 5 windows at batch 4 = 2 steps/epoch."""
    out = tmp_path / "run-steps"
    argv = run_args(tiny_model_dir, qa_files, out, "--head", "standard", "--max_steps", "-1",
                    "--num_train_epochs", "1", "--min_train_steps", "3")
    argv.remove("--eval_file")
    argv.remove(str(qa_files[1]))
    results = fewshot_qa.main(argv)
    assert results["metrics"]["global_step"] == 3
    assert "eval_f1" not in results["metrics"]  # no eval_file: train only
