"""The embedded default: RSS pretraining vs none, few-shot QA, on a synthetic world (offline).

    nlpkit quickstart                       # about 8 minutes on 2 idle CPU cores
    nlpkit quickstart --output_dir outputs/qs --pretrain_steps 400   # quicker, weaker

No Hub, no downloaded weights, no external data. The steps mirror the Splinter study:

1. generate a synthetic encyclopedic world (``nlpkit.data.synthetic``): biographies and
   place/organisation articles in several styles, where names recur inside passages, and
   questions about people held out from the few-shot training pool;
2. write the corpus and the few-shot splits (MRQA JSONL, K = 16 and 128, seed 42) and
   train a small WordPiece tokenizer with ``[QUESTION]``;
3. pretrain a tiny Splinter (4 layers, hidden 128) with recurring span selection
   (``nlpkit.scripts.splinter_pretrain``); the same architecture left at its random
   initialisation is the "no RSS" baseline;
4. fine-tune both with the QASS head on K examples (``nlpkit.scripts.fewshot_qa``) and
   evaluate SQuAD EM/F1 on the held-out questions;
5. print the comparison table and write ``results.md`` and ``f1_vs_k.png``.

Every step writes to ``output_dir``; rerunning resumes pretraining from its last checkpoint
and skips finished fine-tuning runs. The written data and model are what the tiny recipes in
``recipes/splinter/*_tiny.yaml`` point at.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from nlpkit.config import parse_config

logger = logging.getLogger(__name__)

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "[QUESTION]"]


@dataclass
class QuickstartArguments:
    output_dir: str = field(default="outputs/quickstart", metadata={"help": "Everything goes here."})
    seed: int = field(default=0, metadata={"help": "Seed of the synthetic world and of pretraining."})
    num_pretrain_passages: int = field(default=20000, metadata={"help": "Corpus size."})
    num_eval: int = field(default=500, metadata={"help": "Held-out evaluation questions."})
    num_examples: list[int] = field(default_factory=lambda: [16, 128],
                                    metadata={"help": "Few-shot training set sizes K."})
    finetune_seed: int = field(default=42, metadata={"help": "Seed of the few-shot split and run."})
    head: str = field(default="qass", metadata={"help": "Span head for fine-tuning: qass/standard."})
    vocab_size: int = field(default=4000, metadata={"help": "WordPiece vocabulary size."})
    hidden_size: int = field(default=128, metadata={"help": "Tiny Splinter width."})
    num_hidden_layers: int = field(default=4, metadata={"help": "Tiny Splinter depth."})
    max_seq_length: int = field(default=128, metadata={"help": "Tokens per sequence/window."})
    pretrain_steps: int = field(default=1200, metadata={"help": "RSS pretraining steps."})
    pretrain_batch_size: int = field(default=32, metadata={"help": "RSS sequences per step."})
    pretrain_learning_rate: float = field(default=5e-4, metadata={"help": "RSS peak lr."})
    finetune_learning_rate: float = field(default=1e-4, metadata={"help": "Few-shot lr (the "
                                          "paper's 3e-5 is for a base-size model)."})
    finetune_min_steps: int = field(default=200, metadata={"help": "Paper: max(10 epochs, 200)."})


def _write_data(args: QuickstartArguments, data_dir: Path) -> dict[str, Path]:
    """Generate the world; write corpus, few-shot splits and eval file; return their paths."""
    import random

    from nlpkit.data.mrqa import write_mrqa_jsonl
    from nlpkit.data.synthetic import make_quickstart_data

    data = make_quickstart_data(seed=args.seed, num_pretrain_passages=args.num_pretrain_passages,
                                num_eval=args.num_eval)
    corpus = data_dir / "corpus" / "pretrain.jsonl"
    corpus.parent.mkdir(parents=True, exist_ok=True)
    with corpus.open("w", encoding="utf-8") as handle:
        for text in data["pretrain_texts"]:
            handle.write(json.dumps({"text": text}) + "\n")
    pool = list(data["train"])
    random.Random(args.finetune_seed).shuffle(pool)
    paths = {"corpus": corpus.parent, "eval": data_dir / "synthetic-eval.jsonl"}
    write_mrqa_jsonl(data["eval"], paths["eval"], dataset_name="synthetic")
    for k in args.num_examples:
        if k > len(pool):
            raise ValueError(f"num_examples {k} exceeds the synthetic training pool ({len(pool)}).")
        path = data_dir / f"synthetic-train-seed-{args.finetune_seed}-num-examples-{k}.jsonl"
        write_mrqa_jsonl(pool[:k], path, dataset_name="synthetic")  # nested: K=16 within K=128
        paths[k] = path
    paths["texts"] = data["pretrain_texts"] + [ex["question"] for ex in data["train"]]
    return paths


def _train_tokenizer(texts: list[str], vocab_size: int, out: Path):
    """A lower-cased BERT-style WordPiece tokenizer (with ``[QUESTION]``) trained on ``texts``."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers.trainers import WordPieceTrainer
    from transformers import AutoTokenizer, BertTokenizerFast

    if (out / "tokenizer.json").is_file():
        return AutoTokenizer.from_pretrained(out)
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.train_from_iterator(texts, WordPieceTrainer(vocab_size=vocab_size,
                                                    special_tokens=SPECIAL_TOKENS,
                                                    show_progress=False))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tokenizer = BertTokenizerFast(tokenizer_object=tok, do_lower_case=True)
    tokenizer.add_special_tokens({"additional_special_tokens": ["[QUESTION]"]})
    tokenizer.save_pretrained(out)
    return tokenizer


def _random_init(args: QuickstartArguments, tokenizer, out: Path) -> None:
    """The no-RSS baseline: the pretraining architecture at its (seeded) random init."""
    import torch
    from transformers import SplinterConfig, SplinterForPreTraining

    if (out / "config.json").is_file():
        return
    torch.manual_seed(args.seed)
    config = SplinterConfig(
        vocab_size=len(tokenizer), hidden_size=args.hidden_size,
        num_hidden_layers=args.num_hidden_layers, num_attention_heads=4,
        intermediate_size=4 * args.hidden_size, max_position_embeddings=args.max_seq_length,
        pad_token_id=tokenizer.pad_token_id,
        question_token_id=tokenizer.convert_tokens_to_ids("[QUESTION]"))
    SplinterForPreTraining(config).save_pretrained(out)
    tokenizer.save_pretrained(out)


def _pretrain(args: QuickstartArguments, paths, tokenizer_dir: Path, out: Path) -> dict:
    from nlpkit.scripts import splinter_pretrain

    if (out / "results.json").is_file():
        return json.loads((out / "results.json").read_text())
    return splinter_pretrain.main([
        "--tokenizer_name_or_path", str(tokenizer_dir), "--corpus", str(paths["corpus"]),
        "--hidden_size", str(args.hidden_size), "--num_hidden_layers", str(args.num_hidden_layers),
        "--num_attention_heads", "4", "--intermediate_size", str(4 * args.hidden_size),
        "--max_position_embeddings", str(args.max_seq_length),
        "--max_seq_length", str(args.max_seq_length),
        "--max_steps", str(args.pretrain_steps),
        "--per_device_train_batch_size", str(args.pretrain_batch_size),
        "--learning_rate", str(args.pretrain_learning_rate), "--warmup_steps", "0.06",
        "--save_steps", str(max(1, args.pretrain_steps // 4)),
        "--logging_steps", str(max(1, args.pretrain_steps // 10)),
        "--seed", str(args.seed), "--output_dir", str(out), "--log_level", "warning",
        "--dataloader_pin_memory", "false",
    ])


def _finetune(args: QuickstartArguments, model_dir: Path, train_file: Path, eval_file: Path,
              out: Path) -> dict:
    from nlpkit.scripts import fewshot_qa

    if (out / "results.json").is_file():
        return json.loads((out / "results.json").read_text())
    return fewshot_qa.main([
        "--model_name_or_path", str(model_dir), "--head", args.head,
        "--train_file", str(train_file), "--eval_file", str(eval_file),
        "--max_seq_length", str(args.max_seq_length), "--doc_stride", str(args.max_seq_length // 4),
        "--learning_rate", str(args.finetune_learning_rate),
        "--min_train_steps", str(args.finetune_min_steps), "--logging_steps", "50",
        "--per_device_eval_batch_size", "64",
        "--seed", str(args.finetune_seed), "--output_dir", str(out), "--log_level", "warning",
        "--dataloader_pin_memory", "false",
    ])


def comparison_table(rows: dict[str, dict[int, dict]], num_examples: list[int]) -> str:
    """Markdown table: one row per model, EM/F1 per K."""
    header = "| model | " + " | ".join(f"K={k} EM | K={k} F1" for k in num_examples) + " |"
    lines = [header, "|---|" + "---|---|" * len(num_examples)]
    for name, by_k in rows.items():
        cells = []
        for k in num_examples:
            metrics = by_k[k]["metrics"]
            cells.append(f"{metrics['eval_exact_match']:.1f} | {metrics['eval_f1']:.1f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> dict:
    (args,) = parse_config([QuickstartArguments], argv)
    logging.basicConfig(format="%(asctime)s %(message)s", level=logging.WARNING)
    logging.getLogger("nlpkit").setLevel(logging.WARNING)  # the steps below report briefly
    import datasets
    import transformers

    datasets.disable_progress_bars()  # keep the training bars, drop per-step data/saving bars
    transformers.utils.logging.disable_progress_bar()
    start = time.time()
    out = Path(args.output_dir)
    say = lambda message: print(f"[quickstart {time.time() - start:5.0f}s] {message}", flush=True)

    say(f"1/4 generating the synthetic world ({args.num_pretrain_passages} passages) -> {out}/data")
    paths = _write_data(args, out / "data")
    say("2/4 training a WordPiece tokenizer")
    tokenizer = _train_tokenizer(paths["texts"], args.vocab_size, out / "tokenizer")
    _random_init(args, tokenizer, out / "random-init")
    say(f"3/4 RSS pretraining, {args.pretrain_steps} steps of {args.pretrain_batch_size} sequences")
    pretrain = _pretrain(args, paths, out / "tokenizer", out / "rss-pretrained")
    say(f"    RSS loss {pretrain['metrics'].get('train_loss', float('nan')):.3f} "
        f"({pretrain['metrics'].get('train_wall_seconds', 0):.0f} s)")

    models = {"no RSS (random init)": out / "random-init", "RSS pretrained": out / "rss-pretrained"}
    rows: dict[str, dict[int, dict]] = {}
    for name, model_dir in models.items():
        rows[name] = {}
        for k in args.num_examples:
            say(f"4/4 fine-tuning '{name}' on K={k} ({args.head} head), evaluating on "
                f"{args.num_eval} held-out questions")
            run_dir = out / "fewshot" / f"{model_dir.name}-{args.head}-k{k}"
            rows[name][k] = _finetune(args, model_dir, paths[k], paths["eval"], run_dir)
            metrics = rows[name][k]["metrics"]
            say(f"    EM {metrics['eval_exact_match']:.1f} F1 {metrics['eval_f1']:.1f}")

    table = comparison_table(rows, args.num_examples)
    (out / "results.md").write_text(
        f"# Quickstart: RSS pretraining vs none (synthetic world, {args.head} head, "
        f"seed {args.finetune_seed}, {args.num_eval} held-out questions)\n\n{table}")
    from nlpkit.sweep import aggregate

    logging.getLogger("nlpkit.sweep").setLevel(logging.WARNING)
    aggregate(out / "fewshot", quiet=True)  # f1_vs_k.png and the per-run table
    print(f"\nSQuAD EM/F1 on held-out synthetic questions (took {time.time() - start:.0f} s):\n")
    print(table)
    print(f"Written: {out / 'results.md'}, {out / 'fewshot' / 'f1_vs_k.png'}")
    return {"rows": rows, "table": table, "wall_seconds": time.time() - start}


if __name__ == "__main__":
    main()
