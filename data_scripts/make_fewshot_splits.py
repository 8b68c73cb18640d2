"""Make few-shot QA training splits: K questions per seed, written as MRQA JSONL.

Source: any extractive-QA training set as SQuAD v1.1 JSON (``train-v1.1.json``) or MRQA
JSONL (e.g. MRQA's ``SQuAD.jsonl``); read with ``nlpkit.data.mrqa``, so a malformed file is
reported with its path and line (JSONL) or entry (JSON).

Output: ``<output_dir>/<dataset>-train-seed-<seed>-num-examples-<K>.jsonl`` for every seed
and K, in the layout of the Splinter paper's splits (written with ``write_mrqa_jsonl``:
a header line, then one context per line with its sampled questions; answer spans have
inclusive ends). With ``--qass`` each split is also written as ``..._qass.jsonl``, whose
questions end with `` [MASK].`` like the paper's ``_qass`` files (nlpkit strips it on load).

    python data_scripts/make_fewshot_splits.py --input train-v1.1.json --dataset_name squad \
        --output_dir data/squad_fewshot --num_examples 16 32 64 128 256 512 1024 \
        --seeds 42 43 44 45 46 --qass

Sampling: questions (not contexts) are drawn uniformly without replacement from the
answerable questions, in input order, after dropping repeated ids. The draw depends only on
the seed, K (unless nested) and the input, so rerunning gives byte-identical files.

- Default, independent: every (seed, K) is its own draw. The paper's files are not nested
  either (4 of the seed-42 K=16 questions are in its K=32 split, 113 of K=512 in K=1024:
  more than chance, so their draws for one seed were related in a way not reproduced
  here; across seeds the overlap is at chance level).
- ``--nested``: one shuffle per seed; K takes its first K questions, so for a seed every
  smaller split is inside every larger one (learning curves then differ only by the
  added questions).

Questions without an answer (SQuAD 2.0's impossible ones) are dropped and counted.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nlpkit.data.mrqa import (
    QASS_SUFFIX,
    DataFormatError,
    read_mrqa_jsonl,
    read_squad_json,
    write_mrqa_jsonl,
)

DEFAULT_NUM_EXAMPLES = [16, 32, 64, 128, 256, 512, 1024]
DEFAULT_SEEDS = [42, 43, 44, 45, 46]


def split_name(dataset: str, seed: int, k: int, qass: bool = False) -> str:
    return f"{dataset}-train-seed-{seed}-num-examples-{k}{'_qass' if qass else ''}.jsonl"


def mrqa_header_dataset(path: Path) -> str | None:
    """The ``header.dataset`` of an MRQA file's first line, if it has one."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    return None  # the reader reports it with file and line
                header = record.get("header") if isinstance(record, dict) else None
                return header.get("dataset") if isinstance(header, dict) else None
    return None


def read_training_set(path: str | Path) -> list[dict[str, Any]]:
    """SQuAD-layout examples from a .json (SQuAD v1.1) or .jsonl (MRQA) file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: input file not found.")
    if path.suffix == ".jsonl":
        return read_mrqa_jsonl(path)  # strips a " [MASK]." suffix: the splits are written plain
    if path.suffix == ".json":
        return read_squad_json(path)
    raise DataFormatError(f"{path}: expected a SQuAD v1.1 .json or an MRQA .jsonl file.")


def answerable_pool(examples: list[dict[str, Any]],
                    source: Path) -> tuple[list[dict], dict[str, int]]:
    """Drop questions without answers and repeated ids; check answers lie in their context."""
    pool, seen = [], set()
    dropped = {"no_answer": 0, "repeated_id": 0, "answer_text_differs": 0}
    for ex in examples:
        answers = ex["answers"]
        if not answers["text"]:
            dropped["no_answer"] += 1
            continue
        if ex["id"] in seen:
            dropped["repeated_id"] += 1
            continue
        for text, start in zip(answers["text"], answers["answer_start"]):
            if not text or start < 0 or start + len(text) > len(ex["context"]):
                raise DataFormatError(
                    f"{source}: question id {ex['id']!r}: answer {text!r} at character {start} "
                    f"lies outside its context (length {len(ex['context'])}).")
            if ex["context"][start:start + len(text)] != text:
                dropped["answer_text_differs"] += 1  # kept: the span, not the text, is the gold
        seen.add(ex["id"])
        pool.append(ex)
    return pool, dropped


def sample_indices(pool_size: int, k: int, seed: int, nested: bool) -> list[int]:
    """Indices of the K sampled questions; deterministic in (pool_size, k, seed, nested)."""
    if k > pool_size:
        raise ValueError(f"num_examples {k} exceeds the {pool_size} answerable questions.")
    if nested:
        order = list(range(pool_size))
        random.Random(seed).shuffle(order)
        return order[:k]
    return random.Random(f"seed-{seed}-num-examples-{k}").sample(range(pool_size), k)


def with_qass_suffix(examples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**ex, "question": ex["question"] + QASS_SUFFIX} for ex in examples]


def make_splits(input_path: str | Path, output_dir: str | Path, num_examples: Sequence[int],
                seeds: Sequence[int], dataset_name: str | None = None, qass: bool = False,
                nested: bool = False) -> list[Path]:
    """Write every (seed, K) split; return the written paths."""
    input_path, output_dir = Path(input_path), Path(output_dir)
    if not num_examples or any(k <= 0 for k in num_examples):
        raise ValueError(f"num_examples must be positive integers, got {list(num_examples)}.")
    if not seeds:
        raise ValueError("Give at least one seed.")
    examples = read_training_set(input_path)
    pool, dropped = answerable_pool(examples, input_path)
    if max(num_examples) > len(pool):
        raise ValueError(f"{input_path}: num_examples {max(num_examples)} exceeds the "
                         f"{len(pool)} answerable questions in the file.")
    header = mrqa_header_dataset(input_path) if input_path.suffix == ".jsonl" else None
    name = dataset_name or (header or "squad").lower()
    written = []
    for seed in seeds:
        for k in num_examples:
            split = [pool[i] for i in sample_indices(len(pool), k, seed, nested)]
            for is_qass in (False, True) if qass else (False,):
                path = output_dir / split_name(name, seed, k, is_qass)
                write_mrqa_jsonl(with_qass_suffix(split) if is_qass else split, path,
                                 dataset_name=header or name)
                written.append(path)
    print(f"{input_path}: {len(examples)} questions, {len(pool)} answerable and unique "
          f"(dropped: {dropped}); wrote {len(written)} files to {output_dir} "
          f"({'nested' if nested else 'independent'} samples).")
    return written


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--input", required=True, help="SQuAD v1.1 .json or MRQA .jsonl "
                        "training set.")
    parser.add_argument("--output_dir", required=True, help="Folder for the split files.")
    parser.add_argument("--dataset_name", default=None, help="File name prefix (default: the "
                        "MRQA header's dataset, lower-cased, or 'squad' for .json input).")
    parser.add_argument("--num_examples", type=int, nargs="+", default=DEFAULT_NUM_EXAMPLES,
                        help="K values (questions per split).")
    parser.add_argument("--seeds", type=int, nargs="+", default=DEFAULT_SEEDS,
                        help="One split per seed and K (the paper: 42-46).")
    parser.add_argument("--qass", action="store_true", help="Also write *_qass.jsonl with "
                        "the ' [MASK].' question suffix of the paper's files.")
    parser.add_argument("--nested", action="store_true", help="One shuffle per seed: smaller "
                        "K inside larger K (default: an independent draw per seed and K).")
    return parser


def main(argv: Sequence[str] | None = None) -> list[Path]:
    args = build_parser().parse_args(argv)
    try:
        return make_splits(args.input, args.output_dir, args.num_examples, args.seeds,
                           dataset_name=args.dataset_name, qass=args.qass, nested=args.nested)
    except (DataFormatError, FileNotFoundError, ValueError) as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
