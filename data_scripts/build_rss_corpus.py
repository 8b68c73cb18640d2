"""Build recurring span selection (RSS) pretraining rows once and save them with ``save_to_disk``.

Source: passages from a folder or file of ``.txt`` (one passage per line) / ``.jsonl`` (a
``text`` or ``context`` field per line) files, or a Hub text dataset id, read with
``nlpkit.data.rss.load_text_corpus`` (a malformed JSONL line is reported with its file and
line). Rows are built with ``RSSBuilder`` (``Dataset.map``, ``--num_proc`` processes): each
window of at most ``--max_seq_length`` tokens with recurring spans becomes one
``SplinterForPreTraining`` input, with only its real questions (``RSSCollator`` pads them
per batch).

Output: ``<output_dir>`` readable with ``datasets.load_from_disk`` (columns ``input_ids``,
``attention_mask``, ``token_type_ids``, ``question_positions``, ``start_positions``,
``end_positions``), the tokenizer the ids belong to in ``<output_dir>/tokenizer`` (with
``[QUESTION]`` added when it lacked one: the model needs the same ids) and the statistics
printed at the end in ``<output_dir>/rss_stats.json``.

    python data_scripts/build_rss_corpus.py --corpus data/wiki_text --tokenizer bert-base-uncased \
        --output_dir data/rss-bert-512 --max_seq_length 512 --num_proc 2

Rows depend only on the passages, the tokenizer and the options (randomness comes from
``--seed`` and each text), not on ``--num_proc`` or batching.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from nlpkit.data.rss import RSSBuilder, build_rss_dataset, load_text_corpus
from nlpkit.models.splinter_init import ensure_question_token, load_tokenizer


def corpus_stats(rows, num_passages: int) -> dict:
    """Sequences, questions and tokens per sequence, computed with Arrow (no Python lists)."""
    import pyarrow.compute as pc

    stats = {"passages": num_passages, "sequences": len(rows)}
    for name, column in (("questions", "question_positions"), ("tokens", "input_ids")):
        counts = pc.list_value_length(rows.data.column(column))
        low_high = pc.min_max(counts).as_py() if len(rows) else {"min": 0, "max": 0}
        stats[f"{name}_total"] = pc.sum(counts).as_py() or 0
        stats[f"{name}_per_sequence"] = {
            "mean": round(stats[f"{name}_total"] / max(1, len(rows)), 2),
            "min": low_high["min"], "max": low_high["max"]}
    return stats


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", required=True,
                        help="Folder/file of .txt/.jsonl passages, or a Hub text dataset id.")
    parser.add_argument("--tokenizer", required=True, help="Tokenizer path or Hub id (fast).")
    parser.add_argument("--output_dir", required=True, type=Path)
    parser.add_argument("--text_column", default="text", help="Passage field of JSONL/Hub data.")
    parser.add_argument("--max_seq_length", type=int, default=512, help="Tokens per sequence.")
    parser.add_argument("--max_span_length", type=int, default=10, help="Longest recurring span.")
    parser.add_argument("--max_questions", type=int, default=30,
                        help="[QUESTION] tokens per sequence at most.")
    parser.add_argument("--seed", type=int, default=0, help="Which occurrence is kept.")
    parser.add_argument("--num_proc", type=int, default=None, help="Processes for Dataset.map.")
    parser.add_argument("--overwrite", action="store_true", help="Replace a non-empty output_dir.")
    args = parser.parse_args(argv)

    if args.output_dir.exists() and any(args.output_dir.iterdir()) and not args.overwrite:
        parser.error(f"{args.output_dir} is not empty; pass --overwrite to replace it.")
    tokenizer = load_tokenizer(args.tokenizer)
    ensure_question_token(tokenizer)
    builder = RSSBuilder(tokenizer, max_seq_length=args.max_seq_length,
                         max_span_length=args.max_span_length,
                         max_questions=args.max_questions, seed=args.seed)
    corpus = load_text_corpus(args.corpus, text_column=args.text_column)
    rows = build_rss_dataset(corpus, builder, num_proc=args.num_proc)
    rows.save_to_disk(str(args.output_dir))
    tokenizer.save_pretrained(str(args.output_dir / "tokenizer"))

    stats = corpus_stats(rows, len(corpus))
    stats["options"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    (args.output_dir / "rss_stats.json").write_text(json.dumps(stats, indent=2) + "\n")
    q, t = stats["questions_per_sequence"], stats["tokens_per_sequence"]
    print(f"{stats['passages']} passages -> {stats['sequences']} RSS sequences "
          f"(windows without a recurring span are dropped)")
    print(f"questions per sequence: mean {q['mean']}, min {q['min']}, max {q['max']} "
          f"({stats['questions_total']} in all)")
    print(f"tokens per sequence: mean {t['mean']}, min {t['min']}, max {t['max']}")
    print(f"saved to {args.output_dir} (tokenizer in {args.output_dir / 'tokenizer'})")
    return stats


if __name__ == "__main__":
    main(sys.argv[1:])
