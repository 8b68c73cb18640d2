"""Recurring span selection (nlpkit.data.rss): span finding against the plain pairwise
algorithm, masking invariants, label padding for RoBERTa-style pad ids, corpus loading, and
data_scripts/build_rss_corpus.py."""

from __future__ import annotations

import importlib.util
import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import tiny_vocab
from transformers import BertTokenizerFast, SplinterConfig, SplinterForPreTraining

from nlpkit.data.rss import (
    QUESTION_TOKEN,
    RSS_COLUMNS,
    RSSBuilder,
    RSSCollator,
    build_rss_dataset,
    load_text_corpus,
)
from nlpkit.data.rss_spans import find_recurring_spans, find_spans_batch
from nlpkit.data.synthetic import make_quickstart_data

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The one copy of the plain pairwise algorithm lives in the benchmark.
reference_recurring_spans = _load(ROOT / "benchmarks" / "rss_speed.py").reference_recurring_spans
build_rss_corpus = _load(ROOT / "data_scripts" / "build_rss_corpus.py")

TEXTS = [
    ("Ada Lovelace was born in London. Ada Lovelace worked with Charles Babbage. Babbage and "
     "Ada Lovelace met in London."),
    ("The Analytical Engine was designed by Charles Babbage; the Analytical Engine was never "
     "built. Babbage built the Difference Engine instead."),
    "Photosynthesis needs light. Photosynthesis needs water, and photosynthesis releases oxygen.",
    "In the end, in the end of the day, it is what it is.",
    "Nothing recurs here at all.",
]


def make_tokenizer(texts, pad_first: bool = False) -> BertTokenizerFast:
    """Word-level WordPiece vocabulary, except that words of 9+ letters split into two pieces
    (``phot ##osynthesis``). ``pad_first``: [UNK] is id 0 and [PAD] 1 (RoBERTa-like)."""
    tokens = []
    for t in tiny_vocab(texts):
        tokens += [t[:4], "##" + t[4:]] if len(t) >= 9 and not t.startswith("[") else [t]
    tokens = list(dict.fromkeys(tokens))
    if pad_first:
        tokens[0], tokens[1] = tokens[1], tokens[0]
    tokenizer = BertTokenizerFast(vocab={t: i for i, t in enumerate(tokens)}, do_lower_case=True)
    tokenizer.add_special_tokens({"additional_special_tokens": [QUESTION_TOKEN]})
    return tokenizer


@pytest.fixture(scope="module")
def synthetic_texts() -> list[str]:
    return make_quickstart_data(seed=0, num_pretrain_passages=200, num_eval=10)["pretrain_texts"]


@pytest.fixture(scope="module")
def tokenizer(synthetic_texts) -> BertTokenizerFast:
    return make_tokenizer(TEXTS + synthetic_texts)


def rows_as_list(rows: dict[str, list]) -> list[dict]:
    return [dict(zip(rows, values)) for values in zip(*rows.values())]


def check_rows(rows: dict[str, list], builder: RSSBuilder, exact_groups: bool = False) -> None:
    """Every invariant of a masked row, recomputed from ``source_ids`` / ``masked_spans``."""
    tok = builder.tokenizer
    question_id = builder.question_token_id
    assert rows["input_ids"], "no rows"
    for row in rows_as_list(rows):
        ids, src, spans = row["input_ids"], row["source_ids"], row["masked_spans"]
        questions = row["question_positions"]
        starts, ends = row["start_positions"], row["end_positions"]
        assert ids[0] == tok.cls_token_id and ids[-1] == tok.sep_token_id
        assert len(ids) <= builder.max_seq_length
        assert row["attention_mask"] == [1] * len(ids) and row["token_type_ids"] == [0] * len(ids)
        assert 1 <= len(questions) <= builder.max_questions
        assert len(questions) == len(starts) == len(ends) == len(spans)
        assert question_id not in src
        assert [i for i, t in enumerate(ids) if t == question_id] == questions
        # Putting each masked span back where its [QUESTION] is gives the source window.
        rebuilt, source_index, masked = [], [], iter(spans)
        for t in ids[1:-1]:
            if t == question_id:
                a, b = next(masked)
                rebuilt += src[a:b]
                source_index.append(None)
            else:
                source_index.append(len(rebuilt))
                rebuilt.append(t)
        assert rebuilt == src
        pieces = tok.convert_ids_to_tokens(src)
        word_start = [not p.startswith("##") for p in pieces] + [True]
        groups: dict[int, tuple[int, list[int]]] = {}
        for (a, b), start, end in zip(spans, starts, ends):
            assert 1 <= b - a <= builder.max_span_length
            assert word_start[a] and word_start[b], "spans are whole words"
            assert not all(builder.skip[t] for t in src[a:b]), "not only stopwords/punctuation"
            # The label span is the kept occurrence: unmasked, and the same text as the masked one.
            assert ids[start:end + 1] == src[a:b]
            assert question_id not in ids[start:end + 1]
            assert builder.label_pad_id not in (start, end)
            kept = source_index[start - 1]
            assert kept is not None and kept not in [s for s, _ in spans]
            groups.setdefault(kept, (b - a, [kept]))[1].append(a)
        if exact_groups:  # no question cap hit: masked + kept occurrences = the groups found
            found = find_recurring_spans(src, word_start[:-1], builder.skip[src],
                                         builder.max_span_length)
            assert sorted((k, sorted(occ)) for k, occ in groups.values()) == sorted(found)


# -- find_recurring_spans -----------------------------------------------------------------

@pytest.mark.parametrize(("tokens", "word_start", "skip", "expected"), [
    # longest first; the shorter "5 6" keeps only one free occurrence, so it is not selected
    ([5, 6, 7, 1, 5, 6, 7, 2, 5, 6], None, None, [(3, [0, 4])]),
    # overlapping occurrences of "1 1" cannot both be used; "1" can
    ([1, 1, 1], None, None, [(1, [0, 1, 2])]),
    # a span ends at a word boundary: "10 11" (word 10+11 is whole) ...
    ([10, 11, 12, 10, 11, 13], [1, 0, 1, 1, 0, 1], None, [(2, [0, 3])]),
    # ... but a match ending inside a word is shortened, here to nothing
    ([10, 11, 12, 10, 11, 14], [1, 0, 0, 1, 0, 0], None, []),
    # spans made only of skip tokens are not selected; one non-skip token is enough
    ([1, 2, 3, 1, 2, 4], None, [1, 2], []),
    ([1, 2, 3, 1, 2, 4], None, [1], [(2, [0, 3])]),
    # the longest group first, then shorter ones in order of first occurrence
    ([1, 2, 3, 9, 8, 1, 2, 3, 7, 8], None, None, [(3, [0, 5]), (1, [4, 9])]),
    # max_span_length caps a match; the rest forms its own group
    (list(range(1, 13)) * 2, None, None, [(10, [0, 12]), (2, [10, 22])]),
    ([], None, None, []),
])
def test_find_recurring_spans_by_hand(tokens, word_start, skip, expected):
    word_start = [True] * len(tokens) if word_start is None else [bool(w) for w in word_start]
    skip = [t in (skip or []) for t in tokens]
    assert find_recurring_spans(tokens, word_start, skip, max_span_length=10) == expected
    assert reference_recurring_spans(tokens, word_start, skip, 10) == expected


def random_passage(rng: random.Random, skip_table: list[bool]):
    n, vocab = rng.randint(0, 70), rng.randint(1, len(skip_table))
    tokens = [rng.randrange(vocab) for _ in range(n)]
    start_rate = rng.choice([0.5, 0.8, 1.0])
    word_start = [rng.random() < start_rate for _ in range(n)]
    return tokens, word_start, [skip_table[t] for t in tokens]  # skip depends on the token


def test_find_recurring_spans_matches_reference_on_random_passages():
    for seed in range(400):
        rng = random.Random(seed)
        skip_table = [rng.random() < rng.choice([0.0, 0.3, 0.7]) for _ in range(rng.randint(1, 8))]
        tokens, word_start, skip = random_passage(rng, skip_table)
        k = rng.randint(1, 6)
        assert find_recurring_spans(tokens, word_start, skip, k) == \
            reference_recurring_spans(tokens, word_start, skip, k), seed


def test_batched_span_finding_matches_reference():
    """Many passages at once (the hash-table path, collisions included) = one by one."""
    for seed in range(6):
        rng = random.Random(seed)
        skip_table = [rng.random() < 0.3 for _ in range(40)]
        passages = [random_passage(rng, skip_table) for _ in range(150)]
        flat = [np.array([x for p in passages for x in p[i]]) for i in range(3)]
        offsets = np.cumsum([0] + [len(p[0]) for p in passages])
        k = rng.randint(1, 10)
        got = find_spans_batch(flat[0].astype(np.int64), flat[1].astype(bool),
                                flat[2].astype(bool), offsets, k)
        assert got == [reference_recurring_spans(*p, k) for p in passages], seed


# -- RSSBuilder -----------------------------------------------------------------------------

def test_masking_invariants_on_texts_with_repetitions(tokenizer):
    builder = RSSBuilder(tokenizer, max_seq_length=64, max_span_length=10, max_questions=30,
                         debug=True)
    rows = builder({"text": TEXTS + ["", None, "   "]})
    assert len(rows["input_ids"]) == 4  # the last text has no recurring span; blanks skipped
    check_rows(rows, builder, exact_groups=True)
    words = [tokenizer.decode(row["source_ids"][a:b]) for row in rows_as_list(rows)
             for a, b in row["masked_spans"]]
    # longest first: "photosynthesis" (two pieces) recurs only inside "photosynthesis needs"
    # except once, and "the" alone is a stopword
    assert set(words) == {"ada lovelace", "babbage", "in london.", "the analytical engine was",
                          "built", "photosynthesis needs", "in the end"}


def test_masking_invariants_on_synthetic_passages(tokenizer, synthetic_texts):
    builder = RSSBuilder(tokenizer, max_seq_length=128, max_questions=30, debug=True)
    rows = builder({"text": synthetic_texts})
    check_rows(rows, builder)
    assert len(rows["input_ids"]) >= len(synthetic_texts)  # long passages give several windows
    assert np.mean([len(q) for q in rows["question_positions"]]) > 3
    capped = RSSBuilder(tokenizer, max_seq_length=48, max_span_length=3, max_questions=3,
                        debug=True)
    check_rows(capped({"text": synthetic_texts}), capped)


def test_builder_is_deterministic_and_independent_of_batching(tokenizer, synthetic_texts):
    texts = synthetic_texts[:60]
    builder = RSSBuilder(tokenizer, max_seq_length=96, seed=3)
    whole = builder({"text": texts})
    assert whole == RSSBuilder(tokenizer, max_seq_length=96, seed=3)({"text": texts})
    parts = [builder({"text": texts[i:i + 7]}) for i in range(0, len(texts), 7)]
    assert whole == {name: [x for part in parts for x in part[name]] for name in whole}
    other_seed = RSSBuilder(tokenizer, max_seq_length=96, seed=4)({"text": texts})
    assert other_seed["input_ids"] != whole["input_ids"]


def test_span_finding_on_windows_that_are_not_contiguous(tokenizer, synthetic_texts):
    builder = RSSBuilder(tokenizer, max_seq_length=40)
    tokens, word_start, windows = builder.tokenize(synthetic_texts[:20])
    assert len(windows) > 20  # long passages were cut
    every = builder.spans_in_windows(tokens, word_start, windows)
    assert builder.spans_in_windows(tokens, word_start, windows[1::3]) == every[1::3]
    assert builder.spans_in_windows(tokens, word_start, []) == []


def test_build_rss_dataset_maps_a_text_dataset(tokenizer):
    import datasets

    rows = build_rss_dataset(datasets.Dataset.from_dict({"text": TEXTS}),
                             RSSBuilder(tokenizer, max_seq_length=64))
    assert rows.column_names == list(RSS_COLUMNS) and len(rows) == 4


def test_roberta_style_pad_id_never_hides_a_label():
    """pad id 1: the loss ignores label 1, so the window's first token is never the kept one."""
    texts = ["Lovelace met Babbage in London. Lovelace wrote notes.",
             "London is big. Babbage lived in London, and London liked Babbage."] * 3
    tokenizer = make_tokenizer(texts, pad_first=True)
    assert tokenizer.pad_token_id == 1
    first_is_question = 0
    for seed in range(20):
        builder = RSSBuilder(tokenizer, max_seq_length=32, seed=seed, debug=True)
        assert builder.label_pad_id == 1
        rows = builder({"text": texts})
        check_rows(rows, builder, exact_groups=True)
        first_is_question += sum(1 in row for row in rows["question_positions"])
    assert first_is_question == 20 * len(texts)  # "lovelace"/"london" at 0 is always masked
    # Any pad id: a group whose kept occurrence would start or end there keeps another one ...
    texts = ["Old big Rome. Rome.", "Hello big Rome big Rome."]
    tokenizer = make_tokenizer(texts)
    for seed in range(10):
        rows = RSSBuilder(tokenizer, seed=seed, label_pad_id=3, debug=True)({"text": texts[:1]})
        # [CLS] old big [QUESTION] rome . [SEP]: "rome ." at 3 would be ignored by the loss
        assert rows["question_positions"] == [[3]] and rows["start_positions"] == [[4]]
        # ... or, when every choice lands there, the group is left unmasked (here: no row).
        assert RSSBuilder(tokenizer, seed=seed, label_pad_id=3)({"text": texts[1:]}) == \
            {name: [] for name in RSS_COLUMNS}
        assert RSSBuilder(tokenizer, seed=seed)({"text": texts[1:]})["question_positions"] in (
            [[2]], [[4]])


def test_builder_needs_the_question_token():
    texts = ["Paris is in France. Paris is big."]
    tokenizer = BertTokenizerFast(vocab={t: i for i, t in enumerate(tiny_vocab(texts))})
    with pytest.raises(ValueError, match=r"no \[QUESTION\] token.*add_special_tokens"):
        RSSBuilder(tokenizer)


# -- RSSCollator ----------------------------------------------------------------------------

def test_collator_pads_questions_with_the_label_pad_id():
    features = [
        {"input_ids": [2, 7, 9, 5, 3], "attention_mask": [1] * 5, "token_type_ids": [0] * 5,
         "question_positions": [3], "start_positions": [2], "end_positions": [2]},
        {"input_ids": [2, 5, 7, 5, 8, 9, 3], "attention_mask": [1] * 7, "token_type_ids": [0] * 7,
         "question_positions": [1, 3], "start_positions": [4, 2], "end_positions": [5, 2]},
    ]
    batch = RSSCollator(pad_token_id=1, label_pad_id=1, pad_to_multiple_of=4)(features)
    assert all(t.dtype == torch.long for t in batch.values())
    assert batch["input_ids"].tolist() == [[2, 7, 9, 5, 3, 1, 1, 1], [2, 5, 7, 5, 8, 9, 3, 1]]
    assert batch["attention_mask"].tolist() == [[1] * 5 + [0] * 3, [1] * 7 + [0]]
    assert batch["question_positions"].tolist() == [[3, 0], [1, 3]]
    assert batch["start_positions"].tolist() == [[2, 1], [4, 2]]
    assert batch["end_positions"].tolist() == [[2, 1], [5, 2]]
    # Padded label slots are exactly what SplinterForPreTraining ignores (pad id 1 here).
    config = SplinterConfig(vocab_size=12, hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, intermediate_size=32, pad_token_id=1,
                            question_token_id=5, max_position_embeddings=16)
    torch.manual_seed(0)
    model = SplinterForPreTraining(config).eval()
    with torch.no_grad():
        out = model(**batch)
    real = batch["attention_mask"][:, None, :].expand(-1, 2, -1) == 0
    ce = torch.nn.functional.cross_entropy
    expected = []
    for logits, labels in ((out.start_logits, batch["start_positions"]),
                           (out.end_logits, batch["end_positions"])):
        logits = logits.masked_fill(real, torch.finfo(logits.dtype).min)
        keep = [(0, 0), (1, 0), (1, 1)]  # the real questions
        expected.append(ce(torch.stack([logits[i, j] for i, j in keep]),
                           torch.tensor([int(labels[i, j]) for i, j in keep])))
    assert out.loss.item() == pytest.approx(((expected[0] + expected[1]) / 2).item(), rel=1e-5)


# -- load_text_corpus -----------------------------------------------------------------------

def test_load_text_corpus_reads_txt_and_jsonl(tmp_path):
    (tmp_path / "a.txt").write_text("First passage.\n\nSecond passage.\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.jsonl").write_text(
        json.dumps({"text": "Third passage.", "id": 1}) + "\n" + json.dumps({"text": ""}) + "\n")
    (tmp_path / "sub" / "squad.jsonl").write_text(
        json.dumps({"header": {"dataset": "SQuAD"}}) + "\n"
        + json.dumps({"context": "A context.", "qas": []}) + "\n")
    dataset = load_text_corpus(str(tmp_path))
    assert dataset.column_names == ["text"]
    assert sorted(dataset["text"]) == ["A context.", "First passage.", "Second passage.",
                                       "Third passage."]
    assert load_text_corpus(str(tmp_path / "a.txt"))["text"] == ["First passage.",
                                                                 "Second passage."]


def test_load_text_corpus_names_the_malformed_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + '{"text": "broken\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl, line 2: malformed JSON"):
        load_text_corpus(str(tmp_path))
    bad.write_text(json.dumps({"text": "fine"}) + "\n" + json.dumps(["a list"]) + "\n")
    with pytest.raises(TypeError, match=r"bad\.jsonl, line 2: expected a JSON object"):
        load_text_corpus(str(bad))


# -- data_scripts/build_rss_corpus.py -------------------------------------------------------

def test_build_rss_corpus_saves_rows_tokenizer_and_stats(tmp_path, synthetic_texts, capsys):
    import datasets

    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("\n".join(synthetic_texts[:30]) + "\n")
    tokenizer_dir = tmp_path / "tokenizer"
    BertTokenizerFast(vocab={t: i for i, t in enumerate(tiny_vocab(synthetic_texts))},
                      do_lower_case=True).save_pretrained(tokenizer_dir)  # no [QUESTION] yet
    out = tmp_path / "rows"
    argv = ["--corpus", str(tmp_path / "corpus"), "--tokenizer", str(tokenizer_dir),
            "--output_dir", str(out), "--max_seq_length", "64", "--max_questions", "5"]
    stats = build_rss_corpus.main(argv)
    rows = datasets.load_from_disk(str(out))
    assert rows.column_names == list(RSS_COLUMNS) and len(rows) == stats["sequences"] > 30
    assert stats["passages"] == 30
    per_sequence = stats["questions_per_sequence"]
    assert 1 <= per_sequence["min"] <= per_sequence["max"] <= 5
    assert stats["questions_total"] == sum(len(q) for q in rows["question_positions"])
    assert json.loads((out / "rss_stats.json").read_text())["sequences"] == len(rows)
    saved = BertTokenizerFast.from_pretrained(out / "tokenizer")
    question_id = saved.convert_tokens_to_ids(QUESTION_TOKEN)
    assert question_id == len(saved) - 1  # added, and the rows use it
    assert all(row["input_ids"][q] == question_id
               for row in rows for q in row["question_positions"])
    assert "RSS sequences" in capsys.readouterr().out
    with pytest.raises(SystemExit):  # refuses to overwrite
        build_rss_corpus.main(argv)
