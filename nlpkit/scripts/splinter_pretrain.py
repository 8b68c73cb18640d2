"""Recurring span selection (RSS) pretraining of a Splinter model (Ram et al. 2021).

    accelerate launch -m nlpkit.scripts.splinter_pretrain \
        --config recipes/splinter/pretrain_minilm_rss.yaml --output_dir outputs/minilm-rss

From scratch (``init_checkpoint`` unset: a tokenizer and the encoder size are given) or
continued from any BERT/RoBERTa/Splinter checkpoint. Reads: parse config -> load corpus ->
RSS rows (``Dataset.map``, or streaming) -> model -> Trainer -> train (resumable) ->
results.json, model card, optional push. Fine-tune the output with ``fewshot_qa --head qass``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from transformers import SplinterConfig, SplinterForPreTraining, Trainer

from nlpkit.config import parse_config
from nlpkit.data.rss import RSSBuilder, RSSCollator, build_rss_dataset, load_text_corpus
from nlpkit.models.splinter_init import ensure_question_token, load_splinter, load_tokenizer
from nlpkit.training.arguments import NlpkitTrainingArguments
from nlpkit.training.run import (
    apply_step_rule,
    card_and_push,
    setup_logging,
    take_push_request,
    train_with_resume,
    write_results,
)

logger = logging.getLogger(__name__)


@dataclass
class PretrainModelArguments:
    init_checkpoint: str | None = field(default=None, metadata={"help": "BERT/RoBERTa/Splinter "
                                        "path or Hub id to start from; unset: from scratch."})
    tokenizer_name_or_path: str | None = field(default=None, metadata={"help": "Defaults to "
                                               "init_checkpoint; required from scratch."})
    hidden_size: int = field(default=256, metadata={"help": "From scratch only."})
    num_hidden_layers: int = field(default=4, metadata={"help": "From scratch only."})
    num_attention_heads: int = field(default=4, metadata={"help": "From scratch only."})
    intermediate_size: int = field(default=1024, metadata={"help": "From scratch only."})
    max_position_embeddings: int = field(default=512, metadata={"help": "From scratch only."})

    def __post_init__(self):
        if not self.init_checkpoint and not self.tokenizer_name_or_path:
            raise ValueError("Give init_checkpoint, or tokenizer_name_or_path to pretrain from "
                             "scratch.")


@dataclass
class RSSDataArguments:
    corpus: str = field(metadata={"help": "Folder/file of .txt/.jsonl passages or a Hub text "
                        "dataset id."})
    text_column: str = field(default="text", metadata={"help": "Text field of the corpus."})
    streaming: bool = field(default=False, metadata={"help": "Stream the corpus (larger than "
                            "memory); needs max_steps."})
    max_seq_length: int = field(default=512, metadata={"help": "Tokens per sequence."})
    max_span_length: int = field(default=10, metadata={"help": "Longest recurring span."})
    max_questions: int = field(default=30, metadata={"help": "[QUESTION] tokens per sequence."})
    validation_sequences: int = field(default=0, metadata={"help": "Hold out N sequences and "
                                      "report their RSS loss (not with streaming)."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "num_proc."})


@dataclass
class PretrainTrainingArguments(NlpkitTrainingArguments):
    learning_rate: float = field(default=1e-4, metadata={"help": "Peak learning rate."})
    per_device_train_batch_size: int = field(default=32, metadata={"help": "Sequences per device."})
    num_train_epochs: float = field(default=1, metadata={"help": "Passes over the corpus."})
    warmup_steps: float = field(default=0.06, metadata={"help": "Warmup (ratio if < 1)."})
    save_strategy: str = field(default="steps", metadata={"help": "Checkpoint to resume from."})
    save_steps: float = field(default=500, metadata={"help": "Checkpoint every N steps."})
    model_card: str = field(default="splinter_pretraining", metadata={"help": "Template in "
                            "model_cards/."})


def build_model(model_args: PretrainModelArguments, tokenizer):
    if model_args.init_checkpoint:
        return load_splinter(SplinterForPreTraining, model_args.init_checkpoint, tokenizer)
    question_id = ensure_question_token(tokenizer)
    config = SplinterConfig(
        vocab_size=len(tokenizer), hidden_size=model_args.hidden_size,
        num_hidden_layers=model_args.num_hidden_layers,
        num_attention_heads=model_args.num_attention_heads,
        intermediate_size=model_args.intermediate_size,
        max_position_embeddings=model_args.max_position_embeddings,
        pad_token_id=tokenizer.pad_token_id, question_token_id=question_id)
    return SplinterForPreTraining(config)


def main(argv=None, callbacks=None) -> dict:
    model_args, data_args, args, recipe = parse_config(
        [PretrainModelArguments, RSSDataArguments, PretrainTrainingArguments], argv,
        return_recipe=True)
    setup_logging(args)
    push = take_push_request(args)
    if data_args.streaming and args.max_steps <= 0:
        raise ValueError("streaming=true needs max_steps: a stream has no known length.")

    tokenizer = load_tokenizer(model_args.tokenizer_name_or_path or model_args.init_checkpoint)
    model = build_model(model_args, tokenizer)  # adds [QUESTION] to the tokenizer if missing
    builder = RSSBuilder(tokenizer, max_seq_length=data_args.max_seq_length,
                         max_span_length=data_args.max_span_length,
                         max_questions=data_args.max_questions, seed=args.seed)
    with args.main_process_first(desc="RSS rows"):
        corpus = load_text_corpus(data_args.corpus, streaming=data_args.streaming,
                                  text_column=data_args.text_column)
        rows = build_rss_dataset(corpus, builder, num_proc=data_args.preprocessing_num_workers)
    eval_rows = None
    if data_args.validation_sequences and not data_args.streaming:
        split = rows.train_test_split(test_size=data_args.validation_sequences, seed=args.seed)
        rows, eval_rows = split["train"], split["test"]
    if not data_args.streaming:
        logger.info("%d RSS sequences, %.1f questions each on average", len(rows),
                    sum(sum(1 for p in q if p) for q in rows["question_positions"]) / max(1, len(rows)))
        apply_step_rule(args, len(rows))

    if not args.label_names:  # Trainer infers none for a *ForPreTraining class: no eval loss
        args.label_names = ["start_positions", "end_positions"]
    trainer = Trainer(model=model, args=args, train_dataset=rows, eval_dataset=eval_rows,
                      data_collator=RSSCollator(pad_token_id=tokenizer.pad_token_id,
                                                pad_to_multiple_of=8,
                                                label_pad_id=model.config.pad_token_id),
                      processing_class=tokenizer, callbacks=callbacks)
    metrics = train_with_resume(trainer, args)
    if eval_rows is not None:
        metrics.update(trainer.evaluate())
    results = write_results(args, (model_args, data_args, args), metrics, [data_args.corpus],
                            recipe, extra={"head": "rss-pretraining"})
    card_and_push(args, results, args.model_card, push)
    return results


if __name__ == "__main__":
    main()
