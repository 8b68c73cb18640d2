"""SQuAD v1.1 exact match and F1, computed exactly as the official v1.1 evaluation script does.

The official script (``evaluate-v1.1.py``) normalises answers by lower-casing, removing
punctuation, removing the articles a/an/the and collapsing whitespace, in that order; F1 is the
bag-of-tokens overlap between prediction and gold answer; each question takes the best score over
its gold answers; unanswered questions count 0; totals are percentages over all questions.

The same numbers are exposed as a local ``evaluate`` module so that

    evaluate.load(squad_metric_path())

works offline and takes the inputs of the Hub's ``squad`` metric.
"""

from __future__ import annotations

import re
import string
import warnings
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

_PUNCTUATION = frozenset(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(s: str) -> str:
    """Lower text and remove punctuation, articles and extra whitespace (official order)."""
    text = s.lower()
    text = "".join(ch for ch in text if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def f1_score(prediction: str, ground_truth: str) -> float:
    """Token-overlap F1 between normalised prediction and gold answer; 0 without common tokens."""
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = Counter(prediction_tokens) & Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0.0
    precision = num_same / len(prediction_tokens)
    recall = num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction: str, ground_truth: str) -> bool:
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def metric_max_over_ground_truths(
    metric_fn: Callable[[str, str], float], prediction: str, ground_truths: Sequence[str]
) -> float:
    """Best score of ``prediction`` against any of the gold answers."""
    if not ground_truths:
        # The official script would crash on max() of an empty list; say why instead.
        raise ValueError("A question has no gold answers; SQuAD v1.1 needs at least one per id.")
    return max(metric_fn(prediction, gt) for gt in ground_truths)


def squad_v1_scores(
    predictions: Mapping[str, str], references: Mapping[str, Sequence[str]]
) -> dict[str, float]:
    """Average EM and F1 (in percent) over every id in ``references``.

    Args:
        predictions: question id -> predicted answer text. Ids not in ``references`` are ignored.
        references: question id -> list of gold answer texts.

    Returns:
        ``{"exact_match": ..., "f1": ..., "num_examples": len(references)}``. A reference id with
        no prediction scores 0 (as in the official script); a warning says how many were missing.
    """
    if not references:
        raise ValueError("No references given: SQuAD scores are averaged over reference ids.")
    exact_match = f1 = 0.0
    missing = 0
    for qid, ground_truths in references.items():
        if isinstance(ground_truths, str):
            raise TypeError(
                f"References for id {qid!r} must be a list of answer texts, not a single string."
            )
        if qid not in predictions:
            missing += 1
            continue
        prediction = predictions[qid]
        exact_match += metric_max_over_ground_truths(exact_match_score, prediction, ground_truths)
        f1 += metric_max_over_ground_truths(f1_score, prediction, ground_truths)
    if missing:
        warnings.warn(
            f"{missing} of {len(references)} questions have no prediction and score 0.",
            stacklevel=2,
        )
    total = len(references)
    return {
        "exact_match": 100.0 * exact_match / total,
        "f1": 100.0 * f1 / total,
        "num_examples": total,
    }


def squad_metric_path() -> str:
    """Folder of the local ``evaluate`` module: ``evaluate.load(squad_metric_path())``."""
    return str(Path(__file__).resolve().parent / "squad_metric")
