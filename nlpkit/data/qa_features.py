"""Turn QA examples into model features with sliding windows and offset mappings.

``doc_stride`` follows transformers' ``run_qa.py``: it is the number of context tokens two
consecutive windows SHARE (the tokenizer's ``stride``), not the step between window starts as
in the legacy ``run_squad.py`` that the original Splinter code builds on. With the defaults
(384 tokens, stride 128) a long context is covered by windows that overlap by 128 tokens.

Training labels are token indices of the answer in each window; a window that does not contain
the whole answer points at the first token ([CLS]), as in BERT's SQuAD recipe.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass
class AlignmentReport:
    """How many gold answers matched their context as given, after a search, or not at all."""

    exact: int = 0
    realigned: int = 0
    unalignable_ids: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"answers aligned: {self.exact} exact, {self.realigned} found elsewhere in the "
            f"context, {len(self.unalignable_ids)} unalignable"
            + (f" (ids: {', '.join(self.unalignable_ids[:10])}"
               + (" ..." if len(self.unalignable_ids) > 10 else "") + ")"
               if self.unalignable_ids else "")
        )


def align_answers(dataset):
    """Check every answer against its context; fix offsets that are off; report the rest.

    Returns ``(dataset_without_unalignable_examples, AlignmentReport)``. Examples whose first
    answer cannot be found in the context are removed from TRAINING data only through this
    function, and their ids are in the report (the caller logs it and writes it to results).
    """
    report = AlignmentReport()
    keep, new_answers = [], []
    for idx, (context, answers, ex_id) in enumerate(
        zip(dataset["context"], dataset["answers"], dataset["id"])
    ):
        texts, starts = list(answers["text"]), list(answers["answer_start"])
        if not texts:
            report.unalignable_ids.append(ex_id)
            continue
        text, start = texts[0], starts[0]
        if context[start : start + len(text)] == text:
            report.exact += 1
        else:
            found = [i for i in _find_all(context, text)]
            if not found:
                report.unalignable_ids.append(ex_id)
                continue
            starts[0] = min(found, key=lambda i: abs(i - start))
            report.realigned += 1
        keep.append(idx)
        new_answers.append({"text": texts, "answer_start": starts})
    if report.unalignable_ids:
        logger.warning("Dropping %d training examples: %s", len(report.unalignable_ids), report.summary())
    kept = dataset.select(keep)
    kept = kept.remove_columns("answers").add_column("answers", new_answers)
    return kept, report


def _find_all(context: str, text: str):
    start = context.find(text)
    while text and start != -1:
        yield start
        start = context.find(text, start + 1)


def _encode(examples, tokenizer, max_seq_length, doc_stride, question_suffix):
    questions = [q.lstrip() + question_suffix for q in examples["question"]]
    return tokenizer(
        questions,
        examples["context"],
        truncation="only_second",
        max_length=max_seq_length,
        stride=doc_stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )


def prepare_train_features(examples, tokenizer, max_seq_length=384, doc_stride=128,
                           question_suffix=""):
    """Batched ``Dataset.map`` function: windows with ``start_positions``/``end_positions``."""
    enc = _encode(examples, tokenizer, max_seq_length, doc_stride, question_suffix)
    sample_map = enc.pop("overflow_to_sample_mapping")
    offsets_all = enc.pop("offset_mapping")
    enc["start_positions"], enc["end_positions"] = [], []
    for i, offsets in enumerate(offsets_all):
        answers = examples["answers"][sample_map[i]]
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        seq_ids = enc.sequence_ids(i)
        ctx_start = seq_ids.index(1)
        ctx_end = len(seq_ids) - 1 - seq_ids[::-1].index(1)
        if offsets[ctx_start][0] > start_char or offsets[ctx_end][1] < end_char:
            enc["start_positions"].append(0)
            enc["end_positions"].append(0)
            continue
        tok_start = ctx_start
        while tok_start <= ctx_end and offsets[tok_start][1] <= start_char:
            tok_start += 1
        tok_end = ctx_end
        while tok_end >= ctx_start and offsets[tok_end][0] >= end_char:
            tok_end -= 1
        enc["start_positions"].append(tok_start)
        enc["end_positions"].append(tok_end)
    return enc


def prepare_eval_features(examples, tokenizer, max_seq_length=384, doc_stride=128,
                          question_suffix=""):
    """Batched ``Dataset.map`` function: windows with ``example_id`` and context-only offsets."""
    enc = _encode(examples, tokenizer, max_seq_length, doc_stride, question_suffix)
    sample_map = enc.pop("overflow_to_sample_mapping")
    enc["example_id"] = []
    for i in range(len(enc["input_ids"])):
        seq_ids = enc.sequence_ids(i)
        enc["example_id"].append(examples["id"][sample_map[i]])
        enc["offset_mapping"][i] = [
            tuple(o) if seq_ids[k] == 1 else None for k, o in enumerate(enc["offset_mapping"][i])
        ]
    return enc
