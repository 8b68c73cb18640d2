"""N-best span decoding: from per-window start/end logits to one answer string per question."""

from __future__ import annotations

from collections import defaultdict

import numpy as np


def _snap_to_words(context: str, start: int, end: int) -> tuple[int, int]:
    """Widen [start, end) so it neither starts nor ends inside a word.

    Sub-word models trained on a handful of examples can pick "meral" out of "numerals";
    the legacy SQuAD decoder mapped spans back to whole words and so does this.
    """
    while start > 0 and context[start - 1].isalnum() and context[start].isalnum():
        start -= 1
    while end < len(context) and context[end - 1].isalnum() and context[end].isalnum():
        end += 1
    return start, end


def decode_spans(examples, features, start_logits, end_logits, n_best_size: int = 20,
                 max_answer_length: int = 10, snap_to_words: bool = True,
                 id_column: str = "id", context_column: str = "context") -> dict[str, str]:
    """Best valid span per example over all its windows.

    ``features`` must carry ``example_id`` and ``offset_mapping`` (``None`` outside the context),
    as produced by :func:`nlpkit.data.qa_features.prepare_eval_features`. ``max_answer_length``
    counts tokens. An example with no valid span gets the empty string.
    """
    by_example = defaultdict(list)
    for feat_idx, ex_id in enumerate(features["example_id"]):
        by_example[ex_id].append(feat_idx)
    offsets_all = features["offset_mapping"]
    predictions = {}
    for ex_id, context in zip(examples[id_column], examples[context_column]):
        best_score, best = -np.inf, (0, 0)
        for feat_idx in by_example.get(ex_id, []):
            s_logits, e_logits = start_logits[feat_idx], end_logits[feat_idx]
            offsets = offsets_all[feat_idx]
            n = min(len(offsets), len(s_logits))
            s_top = np.argsort(s_logits[:n])[-1 : -n_best_size - 1 : -1]
            e_top = np.argsort(e_logits[:n])[-1 : -n_best_size - 1 : -1]
            for s in s_top:
                if offsets[s] is None:
                    continue
                for e in e_top:
                    if offsets[e] is None or e < s or e - s + 1 > max_answer_length:
                        continue
                    score = s_logits[s] + e_logits[e]
                    if score > best_score:
                        best_score, best = score, (offsets[s][0], offsets[e][1])
        start, end = best
        if snap_to_words and end > start:
            start, end = _snap_to_words(context, start, end)
        predictions[ex_id] = context[start:end]
    return predictions
