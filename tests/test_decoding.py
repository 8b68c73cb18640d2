"""N-best span decoding on hand-built windows (no model, no tokenizer)."""

from __future__ import annotations

import numpy as np

from nlpkit.evaluation.span_decoding import decode_spans

CONTEXT = "Roman numerals were used in Rome until 1500 by many scribes"
WORDS = CONTEXT.split(" ")


def at(word: str) -> int:
    """Token index of ``word`` in ``window(word_offsets(CONTEXT))``: after [CLS] q q q [SEP]."""
    return 5 + WORDS.index(word)


def word_offsets(context: str, subword_split: dict[str, int] | None = None):
    """Character offsets of the words of ``context`` (optionally split into two pieces)."""
    out, pos = [], 0
    for word in context.split(" "):
        start = context.index(word, pos)
        cut = (subword_split or {}).get(word)
        if cut:
            out += [(start, start + cut), (start + cut, start + len(word))]
        else:
            out.append((start, start + len(word)))
        pos = start + len(word)
    return out


def window(context_offsets, question_len=3):
    """[CLS] question... [SEP] context... [SEP]: offsets None outside the context."""
    return [None] * (question_len + 2) + list(context_offsets) + [None]


def logits_for(offsets, start_scores: dict[int, float], end_scores: dict[int, float]):
    s = np.zeros(len(offsets))
    e = np.zeros(len(offsets))
    for k, v in start_scores.items():
        s[k] = v
    for k, v in end_scores.items():
        e[k] = v
    return s, e


def one_example(offsets, s, e, **kwargs):
    examples = {"id": ["a"], "context": [CONTEXT]}
    features = {"example_id": ["a"], "offset_mapping": [offsets]}
    return decode_spans(examples, features, np.array([s]), np.array([e]), **kwargs)["a"]


def test_best_valid_span():
    offsets = window(word_offsets(CONTEXT))
    s, e = logits_for(offsets, {at("used"): 5.0}, {at("in"): 5.0})
    assert one_example(offsets, s, e) == "used in"


def test_end_before_start_is_never_chosen():
    offsets = window(word_offsets(CONTEXT))
    # Highest start after highest end: the decoder must take the best pair with end >= start.
    s, e = logits_for(offsets, {at("Rome"): 9.0, at("numerals"): 3.0},
                      {at("were"): 9.0, at("until"): 1.0})
    # (numerals, were): 3 + 9 beats (Rome, until): 9 + 1; (Rome, were) would be 18.
    assert one_example(offsets, s, e) == "numerals were"


def test_max_answer_length_counts_tokens():
    offsets = window(word_offsets(CONTEXT))
    s, e = logits_for(offsets, {at("Roman"): 10.0, at("Rome"): 2.0},
                      {at("many"): 10.0, at("in"): 1.0})
    long = CONTEXT[: CONTEXT.index(" scribes")]  # Roman .. many: 10 tokens, score 20
    assert one_example(offsets, s, e, max_answer_length=20) == long
    assert one_example(offsets, s, e, max_answer_length=10) == long
    # at 9 tokens: (Rome, many) 6 tokens, score 12, beats (Roman, in) 5 tokens, score 11
    assert one_example(offsets, s, e, max_answer_length=9) == "Rome until 1500 by many"
    # at 4 tokens neither pair fits; (Rome, Rome) scores 2 and loses to any pair worth 10
    assert len(one_example(offsets, s, e, max_answer_length=4).split()) <= 4


def test_question_and_special_tokens_are_skipped():
    offsets = window(word_offsets(CONTEXT))
    # [CLS] (0) and question tokens (1-4) carry the highest scores; the last [SEP] too.
    s, e = logits_for(offsets, {0: 50.0, 2: 40.0, len(offsets) - 1: 30.0, at("Rome"): 1.0},
                      {0: 50.0, 3: 40.0, len(offsets) - 1: 30.0, at("Rome"): 1.0})
    assert one_example(offsets, s, e) == "Rome"


def test_n_best_size_limits_candidates():
    offsets = window(word_offsets(CONTEXT))
    # The question tokens take the top-3 start scores: with n_best_size=3 no valid start is left.
    s, e = logits_for(offsets, {1: 9.0, 2: 8.0, 3: 7.0, at("numerals"): 1.0},
                      {at("numerals"): 5.0})
    assert one_example(offsets, s, e, n_best_size=3) == ""
    assert one_example(offsets, s, e, n_best_size=4) == "numerals"


def test_no_valid_span_gives_empty_string():
    offsets = [None] * 6
    s, e = logits_for(offsets, {1: 1.0}, {2: 1.0})
    assert one_example(offsets, s, e) == ""


def test_best_span_across_windows_of_one_example():
    words = word_offsets(CONTEXT)
    w1, w2 = window(words[:6]), window(words[4:])  # overlapping windows
    s1, e1 = logits_for(w1, {6: 4.0}, {6: 4.0})  # w1[6] = "numerals", score 8
    s2, e2 = logits_for(w2, {6: 6.0}, {7: 6.0})  # w2[6], w2[7] = words[5], words[6]
    examples = {"id": ["a", "b"], "context": [CONTEXT, CONTEXT]}
    # Features of two examples interleaved: grouping is by example_id, not by position.
    features = {"example_id": ["a", "b", "a"], "offset_mapping": [w1, w1, w2]}
    width = max(len(w1), len(w2))

    def pad(x):
        return np.pad(x, (0, width - len(x)), constant_values=-100.0)

    sb, eb = logits_for(w1, {9: 1.0}, {9: 1.0})  # w1[9] = "in"
    start = np.stack([pad(s1), pad(sb), pad(s2)])
    end = np.stack([pad(e1), pad(eb), pad(e2)])
    predictions = decode_spans(examples, features, start, end)
    assert predictions == {"a": "Rome until", "b": "in"}
    # the same windows with the first one scoring higher
    start[0, 6] = end[0, 6] = 10.0
    assert decode_spans(examples, features, start, end)["a"] == "numerals"


def test_example_without_features_gets_empty_string():
    offsets = window(word_offsets(CONTEXT))
    s, e = logits_for(offsets, {6: 1.0}, {6: 1.0})
    examples = {"id": ["a", "missing"], "context": [CONTEXT, "other"]}
    features = {"example_id": ["a"], "offset_mapping": [offsets]}
    assert decode_spans(examples, features, np.array([s]), np.array([e])) == \
        {"a": "numerals", "missing": ""}


def test_snap_to_words_widens_subword_fragments():
    # "numerals" split as "nu" + "merals", "scribes" as "scri" + "bes".
    offsets = window(word_offsets(CONTEXT, {"numerals": 2, "scribes": 4}))
    frag = offsets.index((CONTEXT.index("numerals") + 2, CONTEXT.index("numerals") + 8))
    s, e = logits_for(offsets, {frag: 5.0}, {frag: 5.0})
    assert one_example(offsets, s, e, snap_to_words=False) == "merals"
    assert one_example(offsets, s, e, snap_to_words=True) == "numerals"
    head = offsets.index((CONTEXT.index("scribes"), CONTEXT.index("scribes") + 4))
    s, e = logits_for(offsets, {head - 1: 5.0}, {head: 5.0})  # "many scri"
    assert one_example(offsets, s, e, snap_to_words=False) == "many scri"
    assert one_example(offsets, s, e) == "many scribes"  # at the end of the context


def test_snap_to_words_keeps_punctuation_boundaries():
    context = "He paid $1,500 (in cash)."
    offsets = [None, (0, 2), (3, 7), (8, 9), (9, 10), (10, 11), (11, 14), (15, 16), (16, 18),
               (19, 23), (23, 24), (24, 25), None]
    s, e = logits_for(offsets, {4: 5.0}, {6: 5.0})
    examples = {"id": ["p"], "context": [context]}
    features = {"example_id": ["p"], "offset_mapping": [offsets]}
    assert decode_spans(examples, features, np.array([s]), np.array([e]))["p"] == "1,500"
    s, e = logits_for(offsets, {8: 5.0}, {9: 5.0})
    assert decode_spans(examples, features, np.array([s]), np.array([e]))["p"] == "in cash"


def test_custom_column_names():
    offsets = window(word_offsets(CONTEXT))
    s, e = logits_for(offsets, {at("Rome"): 1.0}, {at("Rome"): 1.0})
    examples = {"qid": ["z"], "passage": [CONTEXT]}
    features = {"example_id": ["z"], "offset_mapping": [offsets]}
    out = decode_spans(examples, features, [s], [e], id_column="qid", context_column="passage")
    assert out == {"z": "Rome"}
