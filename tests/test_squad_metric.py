"""SQuAD v1.1 EM/F1 against hand-computed values, and the local `evaluate` module offline."""

import warnings

import pytest

from nlpkit.evaluation.squad import (
    exact_match_score,
    f1_score,
    metric_max_over_ground_truths,
    normalize_answer,
    squad_metric_path,
    squad_v1_scores,
)


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("The Eiffel Tower", "eiffel tower"),
        ("  Paris,\tFrance! ", "paris france"),
        ("an apple a day", "apple day"),
        # Articles are removed only as whole words: "another", "theatre" stay.
        ("Another theatre", "another theatre"),
        # Punctuation goes before articles are removed, so "the-end" -> "theend" keeps "theend".
        ("the-end", "theend"),
        # ...and "a." becomes the article "a", which is then removed.
        ("Plan a.", "plan"),
        ("", ""),
    ],
)
def test_normalize_answer(raw, normalized):
    assert normalize_answer(raw) == normalized


def test_exact_match_ignores_case_articles_and_punctuation():
    assert exact_match_score("the Eiffel Tower", "Eiffel Tower")
    assert exact_match_score("Eiffel Tower.", "eiffel  tower")
    assert not exact_match_score("Eiffel", "Eiffel Tower")


def test_f1_partial_overlap():
    # precision 1/2, recall 1/1 -> 2 * 0.5 * 1 / 1.5
    assert f1_score("Paris France", "Paris") == pytest.approx(2 / 3)
    # precision 2/3, recall 2/2 -> 0.8; the article "the" does not count as a token.
    assert f1_score("the Eiffel Tower in Paris", "Eiffel Tower") == pytest.approx(
        2 * (2 / 4) * 1 / (2 / 4 + 1)
    )
    assert f1_score("in 1850 he", "1850") == pytest.approx(2 * (1 / 3) / (1 / 3 + 1))


def test_f1_counts_repeated_tokens_once_per_occurrence():
    # common = min(counts): "new" x1; precision 1/3, recall 1/2 -> 0.4
    assert f1_score("new new york", "new jersey") == pytest.approx(0.4)


def test_f1_zero_cases():
    assert f1_score("", "Paris") == 0.0
    assert f1_score("London", "Paris") == 0.0
    # Only articles/punctuation: nothing left after normalisation.
    assert f1_score("the", "a") == 0.0
    assert exact_match_score("the", "a")  # both normalise to "" (official behaviour)


def test_max_over_ground_truths():
    golds = ["Paris", "Paris, France", "the city of Paris"]
    assert metric_max_over_ground_truths(exact_match_score, "paris france", golds) == 1
    # vs "Paris": 2/3; vs "Paris, France": 1; best is 1.
    assert metric_max_over_ground_truths(f1_score, "Paris France", golds) == 1.0
    # vs "city of Paris" (3 tokens): p=1/1, r=1/3 -> 0.5; vs "Paris": 1.
    assert metric_max_over_ground_truths(f1_score, "city", golds) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="no gold answers"):
        metric_max_over_ground_truths(f1_score, "x", [])


def test_squad_v1_scores_average_by_hand():
    predictions = {"q1": "the Eiffel Tower", "q2": "Paris France"}
    references = {"q1": ["Eiffel Tower"], "q2": ["Paris", "Lyon"]}
    scores = squad_v1_scores(predictions, references)
    # q1: EM 1, F1 1. q2: EM 0, F1 2/3. Averages in percent.
    assert scores["exact_match"] == pytest.approx(50.0)
    assert scores["f1"] == pytest.approx(100 * (1 + 2 / 3) / 2)
    assert scores["num_examples"] == 2


def test_missing_predictions_score_zero_and_warn_once():
    references = {"q1": ["Paris"], "q2": ["Lyon"], "q3": ["Nice"]}
    predictions = {"q1": "Paris", "extra": "ignored"}
    with pytest.warns(UserWarning, match="2 of 3 questions have no prediction") as record:
        scores = squad_v1_scores(predictions, references)
    assert len(record) == 1
    assert scores["exact_match"] == pytest.approx(100 / 3)
    assert scores["f1"] == pytest.approx(100 / 3)
    assert scores["num_examples"] == 3


def test_no_warning_when_all_answered_and_errors_are_clear():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        squad_v1_scores({"q": ""}, {"q": ["Paris"]})
    with pytest.raises(ValueError, match="No references"):
        squad_v1_scores({"q": "x"}, {})
    with pytest.raises(TypeError, match="list of answer texts"):
        squad_v1_scores({"q": "x"}, {"q": "Paris"})


def test_evaluate_load_offline_matches_direct_scores(monkeypatch):
    evaluate = pytest.importorskip("evaluate")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    golds = {
        "q1": (["Eiffel Tower"], [4]),
        "q2": (["Paris", "Paris, France"], [0, 0]),
        "q3": (["1850"], [10]),
        "q4": (["Talo Verimund"], [3]),
    }
    preds = {"q1": "the Eiffel Tower", "q2": "in Paris France", "q3": "1851", "q4": "Verimund"}
    metric = evaluate.load(squad_metric_path())
    result = metric.compute(
        predictions=[{"id": k, "prediction_text": v} for k, v in preds.items()],
        references=[
            {"id": k, "answers": {"text": texts, "answer_start": starts}}
            for k, (texts, starts) in golds.items()
        ],
    )
    direct = squad_v1_scores(preds, {k: texts for k, (texts, _) in golds.items()})
    assert set(result) == {"exact_match", "f1"}
    assert result["exact_match"] == pytest.approx(direct["exact_match"]) == pytest.approx(25.0)
    # F1: q1 1; q2 best is "Paris, France" (p=2/3, r=1) over "Paris" (p=1/3, r=1);
    # q3 0; q4 p=1, r=1/2.
    q2 = 2 * (2 / 3) * 1 / (2 / 3 + 1)
    q4 = 2 * 1 * (1 / 2) / (1 + 1 / 2)
    assert result["f1"] == pytest.approx(direct["f1"]) == pytest.approx(100 * (1 + q2 + q4) / 4)
