"""Few-shot extractive QA fine-tuning (Ram et al. 2021), standard or QASS span head.

    accelerate launch -m nlpkit.scripts.fewshot_qa \
        --config recipes/splinter/fewshot_splinter_base.yaml \
        --train_file squad-train-seed-42-num-examples-16_qass.jsonl --output_dir outputs/k16-s42

Reads: parse config -> load data -> load model -> Trainer -> train (resumable) -> n-best
decoding + SQuAD EM/F1 on held-out questions -> results.json, model card, optional push.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from transformers import DataCollatorWithPadding, Trainer

from nlpkit.config import parse_config
from nlpkit.data.mrqa import load_qa_dataset
from nlpkit.data.qa_features import align_answers, prepare_eval_features, prepare_train_features
from nlpkit.evaluation.span_decoding import decode_spans
from nlpkit.evaluation.squad import squad_v1_scores
from nlpkit.models.splinter_init import QUESTION_TOKEN, load_span_model, load_tokenizer
from nlpkit.training.arguments import NlpkitTrainingArguments
from nlpkit.training.lora import LoraArguments, maybe_wrap_lora
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
class ModelArguments:
    model_name_or_path: str = field(metadata={"help": "Local path or Hub id of the encoder."})
    tokenizer_name_or_path: str | None = field(default=None, metadata={"help": "Defaults to "
                                               "model_name_or_path."})
    head: str = field(default="standard", metadata={"help": "'standard' start/end head or "
                      "'qass' (Splinter's question-aware span selection, [QUESTION] appended)."})

    def __post_init__(self):
        if self.head not in ("standard", "qass"):
            raise ValueError(f"head must be 'standard' or 'qass', got '{self.head}'.")


@dataclass
class DataArguments:
    train_file: str = field(metadata={"help": "MRQA .jsonl, SQuAD .json or Hub dataset id."})
    eval_file: str | None = field(default=None, metadata={"help": "Evaluation data (same "
                                  "formats); none: train only."})
    eval_split: str = field(default="validation", metadata={"help": "Split for Hub eval data."})
    max_eval_examples: int | None = field(default=None, metadata={"help": "Evaluate on the "
                                          "first N held-out questions."})
    held_out: bool = field(default=True, metadata={"help": "Drop eval questions whose context "
                           "or id occurs in the training data."})
    max_seq_length: int = field(default=384, metadata={"help": "Tokens per window."})
    doc_stride: int = field(default=128, metadata={"help": "Tokens shared by consecutive "
                            "windows (run_qa.py meaning, not the legacy step size)."})
    max_answer_length: int = field(default=10, metadata={"help": "Longest answer in tokens."})
    n_best_size: int = field(default=20, metadata={"help": "Start/end candidates per window."})
    snap_to_words: bool = field(default=True, metadata={"help": "Widen predicted spans to "
                                "whole words."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "num_proc."})

    def __post_init__(self):
        if self.doc_stride >= self.max_seq_length // 2:
            raise ValueError(f"doc_stride ({self.doc_stride}) must be well below max_seq_length "
                             f"({self.max_seq_length}); it is the overlap between windows.")


@dataclass
class FewShotTrainingArguments(NlpkitTrainingArguments):
    learning_rate: float = field(default=3e-5, metadata={"help": "Paper: 3e-5."})
    per_device_train_batch_size: int = field(default=12, metadata={"help": "Paper: 12."})
    num_train_epochs: float = field(default=10, metadata={"help": "Paper: 10 (or 200 steps)."})
    min_train_steps: int = field(default=200, metadata={"help": "Paper: at least 200 steps."})
    warmup_steps: float = field(default=0.1, metadata={"help": "Paper: 10% warmup."})
    save_strategy: str = field(default="no", metadata={"help": "Few-shot runs are short; "
                               "set 'steps' to checkpoint (and resume) long ones."})
    model_card: str = field(default="splinter_fewshot_qa", metadata={"help": "Template in "
                            "model_cards/."})


def held_out_filter(eval_ds, train_ds):
    train_contexts, train_ids = set(train_ds["context"]), set(train_ds["id"])
    return eval_ds.filter(lambda ex: ex["context"] not in train_contexts
                          and ex["id"] not in train_ids, desc="held-out filter")


def main(argv=None, callbacks=None) -> dict:
    model_args, data_args, lora_args, args, recipe = parse_config(
        [ModelArguments, DataArguments, LoraArguments, FewShotTrainingArguments], argv,
        return_recipe=True)
    setup_logging(args)
    push = take_push_request(args)

    tokenizer = load_tokenizer(model_args.tokenizer_name_or_path or model_args.model_name_or_path)
    model = load_span_model(model_args.model_name_or_path, tokenizer, model_args.head)
    model = maybe_wrap_lora(model, lora_args, model_args.head)
    suffix = f" {QUESTION_TOKEN}." if model_args.head == "qass" else ""
    window = {"tokenizer": tokenizer, "max_seq_length": data_args.max_seq_length,
              "doc_stride": data_args.doc_stride, "question_suffix": suffix}

    with args.main_process_first(desc="QA features"):
        train_examples, alignment = align_answers(load_qa_dataset(data_args.train_file))
        train_features = train_examples.map(
            prepare_train_features, fn_kwargs=window, batched=True,
            remove_columns=train_examples.column_names,
            num_proc=data_args.preprocessing_num_workers, desc="train windows")
        eval_examples = eval_features = None
        if data_args.eval_file:
            eval_examples = load_qa_dataset(data_args.eval_file, split=data_args.eval_split)
            if data_args.held_out:
                eval_examples = held_out_filter(eval_examples, train_examples)
            if len(eval_examples) == 0:  # say so now, not after training
                raise ValueError(f"{data_args.eval_file}: no evaluation questions left (held_out="
                                 f"{data_args.held_out} drops those sharing a training context).")
            if data_args.max_eval_examples:
                eval_examples = eval_examples.select(
                    range(min(data_args.max_eval_examples, len(eval_examples))))
            eval_features = eval_examples.map(
                prepare_eval_features, fn_kwargs=window, batched=True,
                remove_columns=eval_examples.column_names,
                num_proc=data_args.preprocessing_num_workers, desc="eval windows")
    logger.info("%d training questions -> %d windows; %s", len(train_examples),
                len(train_features), alignment.summary())
    apply_step_rule(args, len(train_features))

    trainer = Trainer(model=model, args=args, train_dataset=train_features,
                      data_collator=DataCollatorWithPadding(tokenizer, pad_to_multiple_of=8),
                      processing_class=tokenizer, callbacks=callbacks)
    metrics = train_with_resume(trainer, args)
    metrics.update(num_train_examples=len(train_examples), num_train_windows=len(train_features),
                   alignment=alignment.summary(), unalignable_ids=alignment.unalignable_ids)

    if eval_examples is not None:
        model_inputs = eval_features.remove_columns(["example_id", "offset_mapping"])
        output = trainer.predict(model_inputs)
        start_logits, end_logits = output.predictions[:2]
        predictions = decode_spans(eval_examples, eval_features, start_logits, end_logits,
                                   n_best_size=data_args.n_best_size,
                                   max_answer_length=data_args.max_answer_length,
                                   snap_to_words=data_args.snap_to_words)
        references = {ex["id"]: ex["answers"]["text"] for ex in eval_examples}
        scores = squad_v1_scores(predictions, references)
        metrics.update({f"eval_{k}": v for k, v in scores.items()},
                       eval_runtime=output.metrics.get("test_runtime"))
        logger.info("EM %.2f F1 %.2f on %d held-out questions", scores["exact_match"],
                    scores["f1"], len(eval_examples))

    results = write_results(args, (model_args, data_args, lora_args, args), metrics,
                            [data_args.train_file, data_args.eval_file], recipe)
    card_and_push(args, results, args.model_card, push)
    return results


if __name__ == "__main__":
    main()
