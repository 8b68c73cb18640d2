"""data_scripts/make_fewshot_splits.py: names, counts, determinism, nesting, round trip, errors."""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
from pathlib import Path

import pytest

from nlpkit.data.mrqa import DataFormatError, load_qa_dataset

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "make_fewshot_splits", ROOT / "data_scripts" / "make_fewshot_splits.py")
splits = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(splits)

NUM_CONTEXTS, QUESTIONS_PER_CONTEXT = 20, 2  # a pool of 40 questions


def _paragraphs():
    for c in range(NUM_CONTEXTS):
        context = (f"Shop {c} opened in {1900 + c}. It sells {c + 2} kinds of bread and "
                   f"is run by Baker{c}.")
        qas = []
        for q, (question, answer) in enumerate([
            (f"When did shop {c} open?", str(1900 + c)),
            (f"Who runs shop {c}?", f"Baker{c}"),
        ][:QUESTIONS_PER_CONTEXT]):
            qas.append({"id": f"c{c}q{q}", "question": question,
                        "answers": [{"text": answer, "answer_start": context.index(answer)}]})
        yield context, qas


@pytest.fixture
def squad_json(tmp_path) -> Path:
    data = {"version": "1.1", "data": [{"title": "Shops", "paragraphs": [
        {"context": context, "qas": qas} for context, qas in _paragraphs()]}]}
    path = tmp_path / "train-v1.1.json"
    path.write_text(json.dumps(data))
    return path


@pytest.fixture
def mrqa_jsonl(tmp_path) -> Path:
    lines = [json.dumps({"header": {"dataset": "SQuAD", "split": "train"}})]
    for context, qas in _paragraphs():
        lines.append(json.dumps({"context": context, "qas": [
            {"id": qa["id"], "question": qa["question"] + " [MASK].",
             "answers": [a["text"] for a in qa["answers"]],
             "detected_answers": [{"text": a["text"], "char_spans": [
                 [a["answer_start"], a["answer_start"] + len(a["text"]) - 1]]}
                 for a in qa["answers"]]} for qa in qas]}))
    path = tmp_path / "SQuAD.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _ids(path: Path) -> list[str]:
    return list(load_qa_dataset(str(path))["id"])


def test_names_counts_and_qass_copies(squad_json, tmp_path):
    out = tmp_path / "splits"
    written = splits.make_splits(squad_json, out, num_examples=[4, 8], seeds=[1, 2], qass=True)
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"squad-train-seed-{s}-num-examples-{k}{q}.jsonl"
        for s in (1, 2) for k in (4, 8) for q in ("", "_qass"))
    assert sorted(p.name for p in written) == names
    for path in written:
        k = int(re.search(r"num-examples-(\d+)", path.name).group(1))
        assert len(load_qa_dataset(str(path))) == k
    plain = out / "squad-train-seed-1-num-examples-8.jsonl"
    qass = out / "squad-train-seed-1-num-examples-8_qass.jsonl"
    raw_questions = [qa["question"] for line in qass.read_text().splitlines()[1:]
                     for qa in json.loads(line)["qas"]]
    assert raw_questions and all(q.endswith("? [MASK].") for q in raw_questions)
    # the reader strips the suffix: both files hold the same examples
    assert load_qa_dataset(str(qass)).to_list() == load_qa_dataset(str(plain)).to_list()
    assert json.loads(plain.read_text().splitlines()[0]) == {
        "header": {"dataset": "squad", "split": "train"}}


def test_round_trip_keeps_questions_answers_and_spans(mrqa_jsonl, tmp_path):
    source = {ex["id"]: ex for ex in load_qa_dataset(str(mrqa_jsonl)).to_list()}
    written = splits.make_splits(mrqa_jsonl, tmp_path / "out", num_examples=[16], seeds=[7])
    # the MRQA header names the dataset; the " [MASK]." suffix of the input is not carried over
    assert [p.name for p in written] == ["squad-train-seed-7-num-examples-16.jsonl"]
    assert "[MASK]" not in written[0].read_text()
    sampled = load_qa_dataset(str(written[0])).to_list()
    assert len({ex["id"] for ex in sampled}) == 16
    for ex in sampled:
        original = source[ex["id"]]
        assert (ex["context"], ex["question"], ex["answers"]) == (
            original["context"], original["question"], original["answers"])
        for text, start in zip(ex["answers"]["text"], ex["answers"]["answer_start"]):
            assert ex["context"][start:start + len(text)] == text


def test_same_seed_same_bytes_other_seed_other_questions(squad_json, tmp_path):
    a = splits.make_splits(squad_json, tmp_path / "a", num_examples=[8], seeds=[42, 43])
    b = splits.make_splits(squad_json, tmp_path / "b", num_examples=[8], seeds=[42, 43])
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert set(_ids(a[0])) != set(_ids(a[1]))


@pytest.mark.parametrize("nested", [False, True])
def test_a_split_does_not_depend_on_the_other_sizes_asked_for(squad_json, tmp_path, nested):
    alone = splits.make_splits(squad_json, tmp_path / "a", [8], [5], nested=nested)
    among = splits.make_splits(squad_json, tmp_path / "b", [4, 8, 16], [5], nested=nested)
    assert alone[0].read_bytes() == among[1].read_bytes()


def test_nested_splits_are_prefixes_independent_ones_are_not(squad_json, tmp_path):
    ks = [4, 8, 16, 32]
    nested = splits.make_splits(squad_json, tmp_path / "n", ks, [42, 43], nested=True)
    independent = splits.make_splits(squad_json, tmp_path / "i", ks, [42, 43])
    contained = []
    for files, is_nested in ((nested, True), (independent, False)):
        for seed_files in (files[:4], files[4:]):  # written seed by seed, K ascending
            ids = [set(_ids(p)) for p in seed_files]
            inside = [small < large for small, large in itertools.pairwise(ids)]
            if is_nested:
                assert all(inside)
            contained += [] if is_nested else inside
    assert not all(contained)


def test_unanswerable_and_repeated_questions_are_dropped(tmp_path):
    context = "Rome is in Italy. Paris is in France."
    qas = [{"id": "a", "question": "Where is Rome?",
            "answers": [{"text": "Italy", "answer_start": 11}]},
           {"id": "b", "question": "Where is Oslo?", "answers": []},  # SQuAD 2.0 style
           {"id": "a", "question": "Where is Rome again?",
            "answers": [{"text": "Italy", "answer_start": 11}]},
           {"id": "c", "question": "Where is Paris?",
            "answers": [{"text": "France", "answer_start": 30}]}]
    path = tmp_path / "v2.json"
    path.write_text(json.dumps({"data": [{"title": "t", "paragraphs": [
        {"context": context, "qas": qas}]}]}))
    examples = splits.read_training_set(path)
    pool, dropped = splits.answerable_pool(examples, path)
    assert [ex["id"] for ex in pool] == ["a", "c"]
    assert dropped["no_answer"] == 1 and dropped["repeated_id"] == 1
    with pytest.raises(ValueError, match="num_examples 3 exceeds the 2 answerable"):
        splits.make_splits(path, tmp_path / "out", [3], [1])


def test_bad_input_names_file_and_line(squad_json, mrqa_jsonl, tmp_path):
    lines = mrqa_jsonl.read_text().splitlines()
    lines[3] = lines[3][:-5]  # truncated JSON on line 4
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{broken}:4")):
        splits.make_splits(broken, tmp_path / "out", [4], [1])

    outside = json.loads(squad_json.read_text())
    outside["data"][0]["paragraphs"][0]["qas"][0]["answers"][0]["answer_start"] = 10_000
    bad_span = tmp_path / "bad-span.json"
    bad_span.write_text(json.dumps(outside))
    with pytest.raises(DataFormatError, match=r"bad-span\.json.*'c0q0'.*outside its context"):
        splits.make_splits(bad_span, tmp_path / "out", [4], [1])

    csv = tmp_path / "x.csv"
    csv.write_text("question,answer\n")
    with pytest.raises(DataFormatError, match="expected a SQuAD v1.1 .json or an MRQA .jsonl"):
        splits.make_splits(csv, tmp_path / "out", [4], [1])
    with pytest.raises(FileNotFoundError, match="missing.json"):
        splits.make_splits(tmp_path / "missing.json", tmp_path / "out", [4], [1])
    with pytest.raises(ValueError, match="positive"):
        splits.make_splits(squad_json, tmp_path / "out", [0], [1])


def test_command_line(squad_json, tmp_path, capsys):
    out = tmp_path / "cli"
    written = splits.main(["--input", str(squad_json), "--output_dir", str(out),
                           "--dataset_name", "shops", "--num_examples", "4", "16",
                           "--seeds", "42", "43", "--qass", "--nested"])
    assert len(written) == 8 and (out / "shops-train-seed-43-num-examples-16_qass.jsonl").is_file()
    assert "40 answerable" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="exceeds the 40 answerable questions"):
        splits.main(["--input", str(squad_json), "--output_dir", str(out), "--num_examples", "41"])


@pytest.mark.shared_data
def test_paper_splits_parse_with_k_examples(shared_data):
    files = sorted((shared_data / "squad_fewshot").glob("squad-train-seed-*-num-examples-*.jsonl"))
    assert files
    pattern = re.compile(r"squad-train-seed-(\d+)-num-examples-(\d+)(_qass)?\.jsonl")
    for path in files:
        match = pattern.fullmatch(path.name)
        assert match, f"unexpected file name {path.name}"
        dataset = load_qa_dataset(str(path))
        assert len(dataset) == int(match.group(2)), path.name
        assert len(set(dataset["id"])) == len(dataset), path.name
        assert all(ex["answers"]["text"] for ex in dataset), path.name
        assert not any(q.endswith("[MASK].") for q in dataset["question"]), path.name
    plain = shared_data / "squad_fewshot" / "squad-train-seed-42-num-examples-16.jsonl"
    qass = shared_data / "squad_fewshot" / "squad-train-seed-42-num-examples-16_qass.jsonl"
    assert load_qa_dataset(str(plain)).to_list() == load_qa_dataset(str(qass)).to_list()


@pytest.mark.shared_data
def test_splits_from_a_paper_file_round_trip(shared_data, tmp_path):
    source = shared_data / "squad_fewshot" / "squad-train-seed-42-num-examples-128_qass.jsonl"
    written = splits.make_splits(source, tmp_path, [16, 64], [42], qass=True)
    assert [p.name for p in written] == [
        "squad-train-seed-42-num-examples-16.jsonl", "squad-train-seed-42-num-examples-16_qass.jsonl",
        "squad-train-seed-42-num-examples-64.jsonl", "squad-train-seed-42-num-examples-64_qass.jsonl"]
    by_id = {ex["id"]: ex for ex in load_qa_dataset(str(source)).to_list()}
    for path in written:
        for ex in load_qa_dataset(str(path)).to_list():
            assert ex == {**by_id[ex["id"]], "title": ex["title"]}
