"""Extractive-QA examples from MRQA JSONL (the Splinter few-shot splits), SQuAD v1.1 JSON or the Hub.

Every reader returns examples in the SQuAD layout that the rest of nlpkit uses::

    {"id", "title", "context", "question", "answers": {"text": [...], "answer_start": [...]}}

MRQA specifics handled here:
- the first line is ``{"header": {...}}``; every other line is one context with its ``qas``;
- ``detected_answers[].char_spans`` are ``[start, end]`` with an INCLUSIVE end; the answer text
  used for training and as gold is the context slice of each span (a few spans differ from the
  ``text`` field, e.g. a leading "The" left out; the slice is what a span model can predict);
- in ``*_qass.jsonl`` files every question ends with `` [MASK].``, the QASS question-token
  placeholder. It is stripped by default; the QASS head appends its own question token later.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

QASS_SUFFIX = " [MASK]."


class DataFormatError(ValueError):
    """A data file that does not have the expected format; names the file and line/field."""


def _strip_suffix(question: str, strip: bool) -> str:
    if strip and question.endswith(QASS_SUFFIX):
        return question[: -len(QASS_SUFFIX)]
    return question


def _answers_from_spans(context: str, detected: list[dict], where: str) -> dict[str, list]:
    texts, starts = [], []
    if not isinstance(detected, list) or not all(isinstance(a, dict) for a in detected):
        raise DataFormatError(f"{where}: detected_answers must be a list of objects.")
    for answer in detected:
        for span in answer.get("char_spans", []):
            if not (isinstance(span, (list, tuple)) and len(span) == 2):
                raise DataFormatError(f"{where}: char_spans entry {span!r} is not [start, end].")
            start, end = int(span[0]), int(span[1])
            if not 0 <= start <= end < len(context):
                raise DataFormatError(
                    f"{where}: char span [{start}, {end}] lies outside the context "
                    f"(length {len(context)})."
                )
            if start not in starts:
                texts.append(context[start : end + 1])
                starts.append(start)
    return {"text": texts, "answer_start": starts}


def read_mrqa_jsonl(path: str | Path, strip_qass_suffix: bool = True) -> list[dict[str, Any]]:
    """Read an MRQA JSONL file; malformed lines raise ``DataFormatError`` naming file and line."""
    path = Path(path)
    examples: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise DataFormatError(f"{where}: not valid JSON ({err.msg}).") from err
            if not isinstance(record, dict):
                raise DataFormatError(f"{where}: expected a JSON object, got {type(record).__name__}.")
            if "header" in record:
                continue
            for key in ("context", "qas"):
                if key not in record:
                    raise DataFormatError(f"{where}: missing field '{key}'.")
            context = record["context"]
            if not isinstance(context, str) or not isinstance(record["qas"], list):
                raise DataFormatError(f"{where}: 'context' must be a string and 'qas' a list.")
            for qa_no, qa in enumerate(record["qas"]):
                qa_where = f"{where} (qas[{qa_no}])"
                if not isinstance(qa, dict):
                    raise DataFormatError(
                        f"{qa_where}: expected an object, got {type(qa).__name__}.")
                for key in ("question", "detected_answers"):
                    if key not in qa:
                        raise DataFormatError(f"{qa_where}: missing field '{key}'.")
                examples.append({
                    "id": str(qa.get("id") or qa.get("qid") or f"{path.stem}-{line_no}-{qa_no}"),
                    "title": str(record.get("title", "")),
                    "context": context,
                    "question": _strip_suffix(qa["question"], strip_qass_suffix),
                    "answers": _answers_from_spans(context, qa["detected_answers"], qa_where),
                })
    return examples


def read_squad_json(path: str | Path) -> list[dict[str, Any]]:
    """Read a SQuAD v1.1 JSON file (``{"data": [{"title", "paragraphs": [...]}]}``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataFormatError(f"{path}:{err.lineno}: not valid JSON ({err.msg}).") from err
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise DataFormatError(f"{path}: expected a top-level object with a 'data' list (SQuAD v1.1).")
    examples = []
    for a_no, article in enumerate(data["data"]):
        if not isinstance(article, dict) or not isinstance(article.get("paragraphs", []), list):
            raise DataFormatError(
                f"{path}: data[{a_no}] must be an object with a 'paragraphs' list.")
        for p_no, paragraph in enumerate(article.get("paragraphs", [])):
            where = f"{path}: data[{a_no}].paragraphs[{p_no}]"
            # isinstance first: `"context" in "some string"` would test for a substring.
            if not isinstance(paragraph, dict) or not {"context", "qas"} <= paragraph.keys():
                raise DataFormatError(f"{where}: missing 'context' or 'qas'.")
            context = paragraph["context"]
            for q_no, qa in enumerate(paragraph["qas"]):
                q_where = f"{where}.qas[{q_no}]"
                if not isinstance(qa, dict) or "question" not in qa or "answers" not in qa:
                    raise DataFormatError(f"{q_where}: missing 'question' or 'answers'.")
                try:
                    answers = {
                        "text": [a["text"] for a in qa["answers"]],
                        "answer_start": [int(a["answer_start"]) for a in qa["answers"]],
                    }
                except (KeyError, TypeError, ValueError) as err:
                    raise DataFormatError(f"{q_where}.answers: each needs 'text' and 'answer_start'.") from err
                examples.append({
                    "id": str(qa.get("id", f"{a_no}-{p_no}-{q_no}")),
                    "title": str(article.get("title", "")),
                    "context": context,
                    "question": qa["question"],
                    "answers": answers,
                })
    return examples


def load_qa_dataset(source: str, split: str = "train", strip_qass_suffix: bool = True):
    """A ``datasets.Dataset`` of QA examples from a local .jsonl/.json file or a Hub dataset id."""
    import datasets

    path = Path(source)
    if path.suffix == ".jsonl":
        return datasets.Dataset.from_list(read_mrqa_jsonl(path, strip_qass_suffix))
    if path.suffix == ".json":
        return datasets.Dataset.from_list(read_squad_json(path))
    if path.exists():
        raise DataFormatError(f"{path}: expected an MRQA .jsonl or a SQuAD v1.1 .json file.")
    from nlpkit.data.loading import load_hub_dataset

    dataset = load_hub_dataset(source, split=split)
    missing = {"id", "context", "question", "answers"} - set(dataset.column_names)
    if missing:
        raise DataFormatError(
            f"Hub dataset '{source}' (split {split}) lacks SQuAD columns {sorted(missing)}; "
            f"it has {dataset.column_names}."
        )
    if "title" not in dataset.column_names:
        dataset = dataset.add_column("title", [""] * len(dataset))
    return dataset.select_columns(["id", "title", "context", "question", "answers"])


def write_mrqa_jsonl(examples: list[dict[str, Any]], path: str | Path, dataset_name: str) -> None:
    """Write SQuAD-layout examples as MRQA JSONL, grouping questions by context (inclusive ends)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    by_context: dict[str, dict[str, Any]] = {}
    for ex in examples:
        record = by_context.setdefault(
            ex["context"], {"id": "", "title": ex.get("title", ""), "context": ex["context"], "qas": []}
        )
        spans = [
            {"text": t, "char_spans": [[s, s + len(t) - 1]]}
            for t, s in zip(ex["answers"]["text"], ex["answers"]["answer_start"])
        ]
        record["qas"].append({
            "id": ex["id"], "question": ex["question"],
            "answers": list(dict.fromkeys(ex["answers"]["text"])), "detected_answers": spans,
        })
    with path.open("w", encoding="utf-8") as handle:
        handle.write(json.dumps({"header": {"dataset": dataset_name, "split": "train"}}) + "\n")
        for record in by_context.values():
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
