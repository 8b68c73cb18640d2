"""QA readers: MRQA JSONL, SQuAD v1.1 JSON, dispatch, round trip, and Hub ids offline."""

from __future__ import annotations

import json

import pytest
from conftest import qa_examples, write_mrqa

from nlpkit.data.mrqa import (
    DataFormatError,
    load_qa_dataset,
    read_mrqa_jsonl,
    read_squad_json,
    write_mrqa_jsonl,
)
from nlpkit.hub_errors import HubUnavailableError, call_hub

CONTEXT = "The Analytical Engine was designed by Charles Babbage in London."


def mrqa_file(tmp_path, records, header=True, name="data.jsonl"):
    lines = [json.dumps({"header": {"dataset": "SQuAD", "split": "train"}})] if header else []
    lines += [r if isinstance(r, str) else json.dumps(r) for r in records]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path


def babbage_record(**qa_overrides):
    qa = {"qid": "b1", "question": "Who designed the Analytical Engine? [MASK].",
          "answers": ["Charles Babbage", "Babbage"],
          "detected_answers": [
              {"text": "Charles Babbage", "char_spans": [[38, 52]]},
              {"text": "Babbage", "char_spans": [[46, 52]]}]}
    qa.update(qa_overrides)
    return {"id": "ctx", "context": CONTEXT, "qas": [qa]}


def test_mrqa_reader_header_suffix_and_inclusive_spans(tmp_path):
    path = mrqa_file(tmp_path, [babbage_record()])
    (ex,) = read_mrqa_jsonl(path)  # the header line is not an example
    assert ex["id"] == "b1"
    assert ex["context"] == CONTEXT
    assert ex["question"] == "Who designed the Analytical Engine?"
    # char_spans ends are inclusive: [38, 52] is the 15 characters of "Charles Babbage".
    assert ex["answers"] == {"text": ["Charles Babbage", "Babbage"], "answer_start": [38, 46]}
    for text, start in zip(ex["answers"]["text"], ex["answers"]["answer_start"]):
        assert CONTEXT[start : start + len(text)] == text


def test_mrqa_reader_keeps_suffix_when_asked(tmp_path):
    (ex,) = read_mrqa_jsonl(mrqa_file(tmp_path, [babbage_record()]), strip_qass_suffix=False)
    assert ex["question"].endswith(" [MASK].")


def test_mrqa_reader_gold_text_is_the_span_not_the_text_field(tmp_path):
    # A span that leaves out a leading "The": the slice is what a span model can predict.
    record = babbage_record(detected_answers=[
        {"text": "The Analytical Engine", "char_spans": [[4, 20]]}])
    (ex,) = read_mrqa_jsonl(mrqa_file(tmp_path, [record]))
    assert ex["answers"] == {"text": ["Analytical Engine"], "answer_start": [4]}


def test_mrqa_reader_on_conftest_file(tiny_qa_file):
    examples = read_mrqa_jsonl(tiny_qa_file)
    expected = qa_examples()
    assert len(examples) == len(expected)
    for got, want in zip(examples, expected):
        assert got["question"] == want["question"]
        assert got["answers"] == want["answers"]


def test_mrqa_reader_several_questions_per_context_and_blank_lines(tmp_path):
    two = babbage_record()
    two["qas"].append({"id": "b2", "question": "Where?", "detected_answers": [
        {"text": "London", "char_spans": [[57, 62]]}]})
    path = mrqa_file(tmp_path, [two, "", two | {"context": CONTEXT + " ", "qas": []}])
    examples = read_mrqa_jsonl(path)
    assert [e["id"] for e in examples] == ["b1", "b2"]
    assert examples[1]["answers"]["text"] == ["London"]


def test_mrqa_malformed_json_names_file_and_line(tmp_path):
    path = mrqa_file(tmp_path, [babbage_record(), '{"context": "x", "qas": [}'])
    with pytest.raises(DataFormatError, match=rf"{path}:3: not valid JSON"):
        read_mrqa_jsonl(path)


@pytest.mark.parametrize("record, field", [
    ({"qas": []}, "context"),
    ({"context": CONTEXT}, "qas"),
    (babbage_record(question=None) | {"qas": [{"id": "x", "detected_answers": []}]}, "question"),
    ({"context": CONTEXT, "qas": [{"id": "x", "question": "q"}]}, "detected_answers"),
])
def test_mrqa_missing_field_is_named(tmp_path, record, field):
    path = mrqa_file(tmp_path, [record])
    with pytest.raises(DataFormatError, match=rf"{path}:2.*missing field '{field}'"):
        read_mrqa_jsonl(path)


@pytest.mark.parametrize("record, match", [
    ([1, 2], "expected a JSON object"),
    ({"context": CONTEXT, "qas": "not a list"}, "'qas' a list"),
    ({"context": CONTEXT, "qas": ["question detected_answers"]}, "expected an object"),
    (babbage_record(detected_answers=["Charles Babbage"]), "list of objects"),
    (babbage_record(detected_answers=[{"char_spans": [[0, 500]]}]), "outside the context"),
    (babbage_record(detected_answers=[{"char_spans": [[5]]}]), "not \\[start, end\\]"),
])
def test_mrqa_malformed_structure(tmp_path, record, match):
    path = mrqa_file(tmp_path, [record])
    with pytest.raises(DataFormatError, match=match) as info:
        read_mrqa_jsonl(path)
    assert f"{path}:2" in str(info.value)


def squad_file(tmp_path, data, name="squad.json"):
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def squad_data():
    return {"version": "1.1", "data": [
        {"title": "Engine", "paragraphs": [{"context": CONTEXT, "qas": [
            {"id": "s1", "question": "Who designed it?", "answers": [
                {"text": "Charles Babbage", "answer_start": 38},
                {"text": "Babbage", "answer_start": 46}]},
            {"id": "s2", "question": "Where?", "answers": [{"text": "London", "answer_start": 57}]},
        ]}]},
        {"title": "Empty", "paragraphs": []},
    ]}


def test_read_squad_json_nested_layout(tmp_path):
    examples = read_squad_json(squad_file(tmp_path, squad_data()))
    assert [e["id"] for e in examples] == ["s1", "s2"]
    assert examples[0]["title"] == "Engine" and examples[0]["context"] == CONTEXT
    assert examples[0]["answers"] == {"text": ["Charles Babbage", "Babbage"],
                                      "answer_start": [38, 46]}


@pytest.mark.parametrize("mutate, match", [
    (lambda d: {"articles": d["data"]}, "'data' list"),
    (lambda d: {"data": ["just a string"]}, r"data\[0\] must be an object"),
    (lambda d: {"data": [{"paragraphs": ["context qas"]}]},
     r"data\[0\]\.paragraphs\[0\]: missing 'context' or 'qas'"),
    (lambda d: {"data": [{"paragraphs": [{"context": "c", "qas": ["question answers"]}]}]},
     r"qas\[0\]: missing 'question' or 'answers'"),
    (lambda d: {"data": [{"paragraphs": [{"context": "c", "qas": [
        {"question": "q", "answers": [{"text": "c"}]}]}]}]}, "answer_start"),
])
def test_read_squad_json_malformed_structure(tmp_path, mutate, match):
    path = squad_file(tmp_path, mutate(squad_data()))
    with pytest.raises(DataFormatError, match=match) as info:
        read_squad_json(path)
    assert str(path) in str(info.value)


def test_read_squad_json_invalid_json_names_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"data": [\n  {"title": }\n]}')
    with pytest.raises(DataFormatError, match=rf"{path}:2: not valid JSON"):
        read_squad_json(path)


def test_load_qa_dataset_dispatches_on_suffix(tmp_path):
    mrqa = load_qa_dataset(str(mrqa_file(tmp_path, [babbage_record()])))
    squad = load_qa_dataset(str(squad_file(tmp_path, squad_data())))
    for ds in (mrqa, squad):
        assert set(ds.column_names) == {"id", "title", "context", "question", "answers"}
    assert mrqa[0]["question"] == "Who designed the Analytical Engine?"
    assert len(squad) == 2 and squad[1]["answers"]["text"] == ["London"]
    kept = load_qa_dataset(str(tmp_path / "data.jsonl"), strip_qass_suffix=False)
    assert kept[0]["question"].endswith("[MASK].")
    other = tmp_path / "data.csv"
    other.write_text("a,b\n")
    with pytest.raises(DataFormatError, match="expected an MRQA .jsonl or a SQuAD v1.1 .json"):
        load_qa_dataset(str(other))


def test_write_mrqa_jsonl_round_trip(tmp_path):
    examples = qa_examples()
    context = examples[0]["context"]
    second = context.index("London", context.index("London") + 1)
    examples[0]["answers"] = {"text": ["London", "London"], "answer_start": [25, second]}
    path = tmp_path / "out" / "rt.jsonl"
    write_mrqa_jsonl(examples, path, dataset_name="SQuAD")
    header = json.loads(path.read_text().splitlines()[0])
    assert header == {"header": {"dataset": "SQuAD", "split": "train"}}
    assert len(path.read_text().splitlines()) == 1 + 3  # grouped by context
    back = read_mrqa_jsonl(path)
    assert [(e["id"], e["question"], e["context"], e["answers"]) for e in back] == \
        [(e["id"], e["question"], e["context"], e["answers"]) for e in examples]
    # the conftest writer (inclusive ends, [MASK] suffix, first answer only) agrees too
    again = read_mrqa_jsonl(write_mrqa(tmp_path / "c.jsonl", back, qass_suffix=True))
    assert [e["question"] for e in again] == [e["question"] for e in examples]
    assert [(e["answers"]["text"][0], e["answers"]["answer_start"][0]) for e in again] == \
        [(e["answers"]["text"][0], e["answers"]["answer_start"][0]) for e in examples]


def test_hub_dataset_offline_is_a_clear_error():
    from nlpkit.data.loading import load_hub_dataset

    with pytest.raises(HubUnavailableError) as info:
        load_hub_dataset("nlpkit-test/no-such-dataset", split="train")
    message = str(info.value)
    assert "dataset 'nlpkit-test/no-such-dataset'" in message
    assert "HF_HUB_OFFLINE=1" in message and "local folder" in message


def test_load_qa_dataset_hub_id_offline():
    with pytest.raises(HubUnavailableError, match="nlpkit-test/squad-like"):
        load_qa_dataset("nlpkit-test/squad-like", split="validation")


def test_hub_model_id_offline_is_a_clear_error():
    from nlpkit.models.splinter_init import load_span_model, load_tokenizer

    with pytest.raises(HubUnavailableError, match="tokenizer 'nlpkit-test/no-such-model'"):
        load_tokenizer("nlpkit-test/no-such-model")
    with pytest.raises(HubUnavailableError, match="model 'nlpkit-test/no-such-model'"):
        load_span_model("nlpkit-test/no-such-model", tokenizer=None, head="standard")


def test_call_hub_lets_other_errors_through(tmp_path):
    def broken_local():
        raise OSError("Error no file named config.json found in directory")

    with pytest.raises(OSError, match="config.json") as info:
        call_hub("model", str(tmp_path), broken_local)  # an existing local path
    assert not isinstance(info.value, HubUnavailableError)

    def wrong_value():
        raise ValueError("config name 'xx' not among ['plain_text']")

    with pytest.raises(ValueError, match="plain_text"):
        call_hub("dataset", "some/id", wrong_value)
    assert call_hub("model", "x", lambda: 42) == 42
