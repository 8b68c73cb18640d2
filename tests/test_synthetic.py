"""The synthetic quickstart world (nlpkit.data.synthetic): deterministic, answers aligned,
QA people disjoint from training and pretraining, names recurring inside passages."""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import subprocess
import sys
from collections import Counter

import pytest

from nlpkit.data import synthetic
from nlpkit.data.synthetic import RELATIONS, World, make_quickstart_data, render_biography

SIZES = {"num_pretrain_passages": 150, "num_pretrain_people": 300, "num_train": 64,
         "num_eval": 40}
DIGEST = ("import hashlib, json; from nlpkit.data.synthetic import make_quickstart_data; "
          "print(hashlib.sha256(json.dumps(make_quickstart_data(seed=7, **{sizes})).encode())"
          ".hexdigest())")


@pytest.fixture(scope="module")
def data():
    return make_quickstart_data(seed=0, **SIZES)


def test_same_seed_same_data_in_this_and_another_process(data):
    assert make_quickstart_data(seed=0, **SIZES) == data
    assert make_quickstart_data(seed=1, **SIZES) != data
    here = hashlib.sha256(json.dumps(make_quickstart_data(seed=7, **SIZES)).encode()).hexdigest()
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # set/dict order of str must not matter
    there = subprocess.run([sys.executable, "-c", DIGEST.format(sizes=SIZES)], env=env,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert there == here


def test_answers_align_with_their_contexts(data):
    for example in data["train"] + data["eval"]:
        (text,), (start,) = example["answers"]["text"], example["answers"]["answer_start"]
        assert text and example["context"][start:].startswith(text), example["id"]
        assert example["title"] in example["question"] or example["title"] + "'s" in \
            example["question"]
    assert len({e["id"] for e in data["train"] + data["eval"]}) == len(data["train"]) + len(
        data["eval"])


def test_eval_people_are_not_in_training_or_pretraining(data):
    train_people = {e["title"] for e in data["train"]}
    eval_people = {e["title"] for e in data["eval"]}
    assert len(eval_people) == SIZES["num_eval"] and len(train_people) == SIZES["num_train"]
    assert not train_people & eval_people
    seen = "\n".join(data["pretrain_texts"] + [e["context"] for e in data["train"]])
    for name in eval_people:
        assert name not in seen
        assert name.split()[1] not in seen  # surnames are invented words, unique in the world
    pretraining = "\n".join(data["pretrain_texts"])
    assert not any(name in pretraining for name in train_people)


def test_pretraining_passages_repeat_their_entities(data):
    reserved = synthetic._RESERVED
    recurring = 0
    for text in data["pretrain_texts"]:
        names = Counter(w for w in re.findall(r"\b[A-Z][a-z]+\b", text)
                        if w.lower() not in reserved)
        recurring += any(count >= 2 for count in names.values())
    assert recurring >= 0.95 * len(data["pretrain_texts"])


def test_biographies_state_the_required_fact_in_every_style():
    world = World.generate(3, 30)
    rng = random.Random(0)
    for person in world.people:
        facts = person.facts()
        for style in synthetic.BIO_STYLES:
            for relation in RELATIONS:
                if relation == "founded" and person.founded is None:
                    continue
                passage = render_biography(person, rng, style=style, require=relation)
                start = passage.spans[relation]
                assert passage.text[start:].startswith(facts[relation]), (style, relation)
