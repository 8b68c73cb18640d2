"""The quickstart end to end at toy size: data, tokenizer, RSS pretraining, four few-shot runs,
the comparison table, and a rerun that reuses every finished step."""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from nlpkit.cli import main as cli_main
from nlpkit.scripts import quickstart

TOY = ["--num_pretrain_passages", "120", "--num_eval", "12", "--num_examples", "4", "8",
       "--vocab_size", "600", "--hidden_size", "32", "--num_hidden_layers", "2",
       "--max_seq_length", "64", "--pretrain_steps", "6", "--pretrain_batch_size", "4",
       "--finetune_min_steps", "3"]


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quickstart")
    return out, quickstart.main([*TOY, "--output_dir", str(out)])


def test_quickstart_compares_rss_with_random_init(toy_run):
    out, result = toy_run
    assert set(result["rows"]) == {"no RSS (random init)", "RSS pretrained"}
    for by_k in result["rows"].values():
        assert set(by_k) == {4, 8}
        for k, run in by_k.items():
            metrics = run["metrics"]
            assert metrics["eval_num_examples"] == 12
            assert 0 <= metrics["eval_exact_match"] <= metrics["eval_f1"] <= 100
            assert metrics["num_train_examples"] == k
    table = (out / "results.md").read_text()
    assert "| no RSS (random init) |" in table and "| RSS pretrained |" in table
    assert "K=4 F1" in table and "K=8 F1" in table
    assert (out / "fewshot" / "f1_vs_k.png").stat().st_size > 0
    # The K files are nested (K=4 within K=8) and questions in eval are about other people.
    small, large = (out / "data" / f"synthetic-train-seed-42-num-examples-{k}.jsonl"
                    for k in (4, 8))
    assert set(small.read_text().splitlines()[1:]) <= set(large.read_text().splitlines()[1:])


def test_quickstart_pretraining_changed_the_random_init(toy_run):
    out, _ = toy_run
    pretrain = json.loads((out / "rss-pretrained" / "results.json").read_text())
    assert pretrain["metrics"]["global_step"] == 6
    before = load_file(out / "random-init" / "model.safetensors")
    after = load_file(out / "rss-pretrained" / "model.safetensors")
    key = "splinter.encoder.layer.0.attention.self.query.weight"
    assert before[key].shape == after[key].shape
    assert not before[key].equal(after[key])


def test_quickstart_rerun_reuses_finished_steps(toy_run, capsys):
    out, result = toy_run
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("results.json")}
    cli_main(["quickstart", *TOY, "--output_dir", str(out)])
    assert {p: p.stat().st_mtime_ns for p in out.rglob("results.json")} == stamps
    printed = capsys.readouterr().out
    assert result["table"] in printed
