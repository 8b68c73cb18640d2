"""Sliding-window QA features: labels point at the gold answer, eval offsets decode back to it."""

from __future__ import annotations

import itertools
import logging

import datasets
import numpy as np
import pytest
from conftest import qa_examples

from nlpkit.data.mrqa import load_qa_dataset
from nlpkit.data.qa_features import (
    AlignmentReport,
    align_answers,
    prepare_eval_features,
    prepare_train_features,
)
from nlpkit.evaluation.span_decoding import decode_spans
from nlpkit.evaluation.squad import squad_v1_scores
from nlpkit.models.splinter_init import QUESTION_TOKEN, ensure_question_token, load_tokenizer

# Short windows so that every context is split into several overlapping windows.
WINDOW = {"max_seq_length": 24, "doc_stride": 6}


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    return load_tokenizer(str(tiny_model_dir))


@pytest.fixture(scope="module")
def qass_tokenizer(tiny_model_dir):
    tok = load_tokenizer(str(tiny_model_dir))
    ensure_question_token(tok)
    return tok


@pytest.fixture(scope="module")
def examples():
    return datasets.Dataset.from_list(qa_examples())


def context_span(enc, i):
    """(first, last) token index of the context in window ``i``."""
    seq = enc.sequence_ids(i)
    return seq.index(1), len(seq) - 1 - seq[::-1].index(1)


def test_train_labels_decode_to_gold_text_in_every_window_that_holds_it(tokenizer, examples):
    batch = examples[:]
    enc = prepare_train_features(batch, tokenizer, **WINDOW)
    offsets = tokenizer(  # prepare_train_features pops the offsets; recompute the same windows
        [q.lstrip() for q in batch["question"]], batch["context"], truncation="only_second",
        max_length=WINDOW["max_seq_length"], stride=WINDOW["doc_stride"],
        return_overflowing_tokens=True, return_offsets_mapping=True)
    assert len(enc["input_ids"]) == len(offsets["input_ids"])
    sample_map = offsets["overflow_to_sample_mapping"]
    windows_per_example = np.bincount(sample_map)
    assert windows_per_example.min() >= 2, "the test needs several windows per context"
    labelled = set()
    for i, (s, e) in enumerate(zip(enc["start_positions"], enc["end_positions"])):
        ex = batch["answers"][sample_map[i]]
        gold, gold_start = ex["text"][0], ex["answer_start"][0]
        context = batch["context"][sample_map[i]]
        first, last = context_span(offsets, i)
        om = offsets["offset_mapping"][i]
        window_chars = (om[first][0], om[last][1])
        holds = window_chars[0] <= gold_start and gold_start + len(gold) <= window_chars[1]
        if holds:
            assert first <= s <= e <= last
            assert context[om[s][0] : om[e][1]] == gold
            labelled.add(sample_map[i])
        else:
            assert (s, e) == (0, 0)  # [CLS]
    assert labelled == set(range(len(batch["id"])))  # every answer is labelled somewhere


def test_doc_stride_is_the_overlap_between_windows(tokenizer, examples):
    enc = prepare_eval_features(examples[:1], tokenizer, **WINDOW)
    spans = []
    for offs in enc["offset_mapping"]:
        ctx = [o for o in offs if o is not None]
        spans.append(ctx)
    for prev, nxt in itertools.pairwise(spans):
        shared = [o for o in nxt if o in prev]
        assert len(shared) == WINDOW["doc_stride"]


def test_eval_features_with_perfect_logits_give_gold_answers(tokenizer, examples):
    batch = examples[:]
    features = datasets.Dataset.from_dict(dict(prepare_eval_features(batch, tokenizer, **WINDOW)))
    assert set(features["example_id"]) == set(batch["id"])
    assert len(features) > len(batch)
    width = max(len(ids) for ids in features["input_ids"])
    start_logits = np.full((len(features), width), -10.0)
    end_logits = np.full((len(features), width), -10.0)
    gold = {ex["id"]: ex["answers"] for ex in examples}
    hits = 0
    for i, (ex_id, offsets) in enumerate(zip(features["example_id"], features["offset_mapping"])):
        start_char = gold[ex_id]["answer_start"][0]
        end_char = start_char + len(gold[ex_id]["text"][0])
        s = [k for k, o in enumerate(offsets) if o is not None and o[0] <= start_char < o[1]]
        e = [k for k, o in enumerate(offsets) if o is not None and o[0] < end_char <= o[1]]
        if s and e:
            start_logits[i, s[0]] = end_logits[i, e[0]] = 10.0
            hits += 1
    assert hits >= len(batch)
    for snap in (True, False):
        predictions = decode_spans(examples, features, start_logits, end_logits,
                                   snap_to_words=snap)
        assert predictions == {ex["id"]: ex["answers"]["text"][0] for ex in examples}
    references = {ex["id"]: ex["answers"]["text"] for ex in examples}
    scores = squad_v1_scores(predictions, references)
    assert scores["exact_match"] == 100.0 and scores["f1"] == 100.0


def test_eval_offsets_are_none_outside_the_context(tokenizer, examples):
    enc = prepare_eval_features(examples[:2], tokenizer, **WINDOW)
    for i, offsets in enumerate(enc["offset_mapping"]):
        seq = enc.sequence_ids(i)
        assert [o is not None for o in offsets] == [s == 1 for s in seq]
    assert enc["example_id"][0] == "q0"


def test_qass_input_holds_the_question_token_once_per_window(qass_tokenizer, tiny_qa_file):
    examples = load_qa_dataset(str(tiny_qa_file))  # the _qass file: ' [MASK].' stripped
    qid = qass_tokenizer.convert_tokens_to_ids(QUESTION_TOKEN)
    assert qid != qass_tokenizer.unk_token_id
    enc = prepare_train_features(examples[:], qass_tokenizer, question_suffix=f" {QUESTION_TOKEN}.",
                                 **WINDOW)
    for i, ids in enumerate(enc["input_ids"]):
        assert ids.count(qid) == 1
        assert enc.sequence_ids(i)[ids.index(qid)] == 0  # in the question segment
        assert qass_tokenizer.mask_token_id not in ids  # the file's [MASK] suffix is gone
    tokens = qass_tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    assert tokens[: tokens.index("[SEP]") + 1] == \
        ["[CLS]", "where", "was", "ada", "lovelace", "born", "?", QUESTION_TOKEN, ".", "[SEP]"]
    # the labels are unchanged by the suffix: still decoding to the gold answers
    assert any(s > 0 for s in enc["start_positions"])


def test_qass_file_without_stripping_would_feed_mask(tokenizer, tiny_qa_file):
    examples = load_qa_dataset(str(tiny_qa_file), strip_qass_suffix=False)
    enc = prepare_train_features(examples[:1], tokenizer, **WINDOW)
    assert tokenizer.mask_token_id in enc["input_ids"][0]


def test_align_answers_reports_realigned_and_unalignable(examples, caplog):
    rows = qa_examples()
    rows[1]["answers"]["answer_start"] = [rows[1]["answers"]["answer_start"][0] + 3]  # off by 3
    rows[2]["answers"] = {"text": ["Paris"], "answer_start": [0]}  # not in this context
    rows[3]["answers"] = {"text": [], "answer_start": []}  # no answer at all
    ds = datasets.Dataset.from_list(rows)
    with caplog.at_level(logging.WARNING, logger="nlpkit.data.qa_features"):
        kept, report = align_answers(ds)
    assert isinstance(report, AlignmentReport)
    assert report.exact == len(rows) - 3 and report.realigned == 1
    assert report.unalignable_ids == ["q2", "q3"]
    assert "2 unalignable" in report.summary() and "q2, q3" in report.summary()
    assert "Dropping 2" in caplog.text and "q2" in caplog.text
    assert len(kept) == len(rows) - 2 and "q2" not in kept["id"]
    fixed = kept[kept["id"].index("q1")]
    assert fixed["context"][fixed["answers"]["answer_start"][0]:].startswith("Charles Babbage")


def test_align_answers_realigns_to_the_nearest_occurrence():
    context = "London is big. Ada was born in London. London again."
    row = {"id": "x", "title": "", "context": context, "question": "Where?",
           "answers": {"text": ["London"], "answer_start": [29]}}  # one char before the 2nd
    kept, report = align_answers(datasets.Dataset.from_list([row]))
    assert report.realigned == 1 and not report.unalignable_ids
    assert kept[0]["answers"]["answer_start"] == [context.index("London", 1)]


def test_align_answers_clean_data_is_untouched(examples):
    kept, report = align_answers(examples)
    assert report.exact == len(examples) and report.realigned == 0
    assert report.summary().startswith(f"answers aligned: {len(examples)} exact")
    assert kept["answers"] == examples["answers"]


def test_map_with_dataset_api(tokenizer, examples):
    """The functions are used through Dataset.map(batched=True) by the scripts."""
    feats = examples.map(prepare_train_features, fn_kwargs=dict(tokenizer=tokenizer, **WINDOW),
                         batched=True, remove_columns=examples.column_names)
    assert {"input_ids", "attention_mask", "start_positions", "end_positions"} <= \
        set(feats.column_names)
    assert all(len(ids) <= WINDOW["max_seq_length"] for ids in feats["input_ids"])
    evals = examples.map(prepare_eval_features, fn_kwargs=dict(tokenizer=tokenizer, **WINDOW),
                         batched=True, remove_columns=examples.column_names)
    assert {"example_id", "offset_mapping"} <= set(evals.column_names)
    assert len(evals) == len(feats)
