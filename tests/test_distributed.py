"""The few-shot script under `accelerate launch`: two CPU processes (gloo) and one.

On CPU, `accelerate launch --cpu --num_processes 2` starts ONE process; two need
`--multi_gpu` with the script's Accelerator on CPU (`--use_cpu true`), see FACTS.md.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import qa_examples, write_mrqa

REPO = Path(__file__).resolve().parents[1]
TIMEOUT_S = 300


@pytest.fixture(scope="module")
def qa_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dist-data")
    examples = qa_examples()
    return (write_mrqa(folder / "train_qass.jsonl", examples[:5], qass_suffix=True),
            write_mrqa(folder / "eval_qass.jsonl", examples, qass_suffix=True))


def launch(num_processes: int, model_dir: Path, files, out: Path) -> subprocess.CompletedProcess:
    train, evaluation = files
    launcher = [sys.executable, "-m", "accelerate.commands.launch",
                *(["--multi_gpu"] if num_processes > 1 else []),
                "--num_processes", str(num_processes), "--num_machines", "1",
                "--mixed_precision", "no", "--dynamo_backend", "no"]
    script = ["-m", "nlpkit.scripts.fewshot_qa", "--model_name_or_path", str(model_dir),
              "--head", "qass", "--train_file", str(train), "--eval_file", str(evaluation),
              "--output_dir", str(out), "--max_seq_length", "64", "--doc_stride", "16",
              "--max_steps", "3", "--per_device_train_batch_size", "2",
              "--per_device_eval_batch_size", "2", "--learning_rate", "1e-3",
              "--use_cpu", "true", "--seed", "0"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
           "CUDA_VISIBLE_DEVICES": "", "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": "1",  # two processes on two cores, next to other work
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([*launcher, *script], cwd=REPO, env=env, capture_output=True, check=False,
                          text=True, timeout=TIMEOUT_S)
    assert proc.returncode == 0, f"launch failed ({proc.returncode}):\n{proc.stderr[-4000:]}"
    return proc


def check(out: Path, world_size: int) -> dict:
    results = json.loads((out / "results.json").read_text())
    assert results["world_size"] == world_size
    assert results["config"]["use_cpu"] is True
    metrics = results["metrics"]
    assert metrics["global_step"] == 3
    assert metrics["eval_num_examples"] == 3
    assert 0.0 <= metrics["eval_exact_match"] <= 100.0 and 0.0 <= metrics["eval_f1"] <= 100.0
    assert metrics["train_loss"] > 0
    state = json.loads((out / "trainer_state.json").read_text())
    assert state["global_step"] == 3
    assert (out / "model.safetensors").is_file()
    return results


def test_two_cpu_processes(tiny_model_dir, qa_files, tmp_path):
    out = tmp_path / "ddp2"
    proc = launch(2, tiny_model_dir, qa_files, out)
    check(out, world_size=2)
    log = proc.stdout + proc.stderr
    # both ranks ran: the effective batch is 2 processes x 2 per device
    assert "Total train batch size (w. parallel, distributed & accumulation) = 4" in log


def test_one_process_launch(tiny_model_dir, qa_files, tmp_path):
    out = tmp_path / "single"
    proc = launch(1, tiny_model_dir, qa_files, out)
    check(out, world_size=1)
    log = proc.stdout + proc.stderr
    assert "Total train batch size (w. parallel, distributed & accumulation) = 2" in log
