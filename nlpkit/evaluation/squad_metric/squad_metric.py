"""Local `evaluate` module for SQuAD v1.1 EM/F1, loadable offline.

    import evaluate
    from nlpkit.evaluation.squad import squad_metric_path

    squad = evaluate.load(squad_metric_path())
    squad.compute(
        predictions=[{"id": "q1", "prediction_text": "Paris"}],
        references=[{"id": "q1", "answers": {"text": ["Paris"], "answer_start": [12]}}],
    )  # {"exact_match": 100.0, "f1": 100.0}

Inputs are those of the Hub's `squad` metric; the scores come from `nlpkit.evaluation.squad`,
which follows the official v1.1 evaluation script. `evaluate` copies this file into its module
cache, so it must stay a single file named like its folder and import nlpkit absolutely.
"""

import datasets
import evaluate

from nlpkit.evaluation.squad import squad_v1_scores

_CITATION = """\
@inproceedings{rajpurkar-etal-2016-squad,
    title = "{SQ}u{AD}: 100,000+ Questions for Machine Comprehension of Text",
    author = "Rajpurkar, Pranav and Zhang, Jian and Lopyrev, Konstantin and Liang, Percy",
    booktitle = "Proceedings of EMNLP",
    year = "2016",
}
"""

_DESCRIPTION = """\
Exact match and token-level F1 of SQuAD v1.1, in percent, computed as the official v1.1
evaluation script does (normalise: lower case, drop punctuation, drop a/an/the, collapse
whitespace; best score over the gold answers; questions without a prediction score 0).
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions: list of {"id": str, "prediction_text": str}.
    references: list of {"id": str, "answers": {"text": list[str], "answer_start": list[int]}}.
Returns:
    exact_match: percentage of questions whose normalised prediction equals a gold answer.
    f1: average best token-overlap F1 over the gold answers, in percent.
"""


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class SquadMetric(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": {
                        "id": datasets.Value("string"),
                        "prediction_text": datasets.Value("string"),
                    },
                    "references": {
                        "id": datasets.Value("string"),
                        "answers": datasets.Sequence(
                            {
                                "text": datasets.Value("string"),
                                "answer_start": datasets.Value("int32"),
                            }
                        ),
                    },
                }
            ),
            reference_urls=["https://rajpurkar.github.io/SQuAD-explorer/"],
        )

    def _compute(self, predictions, references):
        pred_by_id = {p["id"]: p["prediction_text"] for p in predictions}
        gold_by_id = {r["id"]: list(r["answers"]["text"]) for r in references}
        scores = squad_v1_scores(pred_by_id, gold_by_id)
        return {"exact_match": scores["exact_match"], "f1": scores["f1"]}
