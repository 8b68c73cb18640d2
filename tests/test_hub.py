"""Model cards from results.json content; pushing a run (offline: a clear error, files ready)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from huggingface_hub.utils import filter_repo_objects

from nlpkit.hub import CHECKPOINT_PATTERNS, metrics_table, push_run_to_hub, render_model_card
from nlpkit.hub_errors import HubUnavailableError
from nlpkit.training.run import card_and_push

RESULTS = {
    "config": {"model_name_or_path": "models/minilm", "head": "qass", "output_dir": "outputs/k16",
               "learning_rate": 3e-5, "hub_model_id": None},
    "recipe": "recipes/splinter/fewshot_qa_tiny.yaml",
    "versions": {"python": "3.11.7", "transformers": "5.23.0", "torch": "2.13.0", "peft": None},
    "data": {"data/train.jsonl": "ab" * 32},
    "metrics": {"eval_exact_match": 12.5, "eval_f1": 20.123, "global_step": 200},
}


def test_fewshot_card_is_filled_from_results():
    card = render_model_card("splinter_fewshot_qa", RESULTS)
    assert "$" not in card  # every placeholder substituted
    assert "# k16" in card  # repo id falls back to the output folder name
    assert "base_model: models/minilm" in card
    assert "(span head: `qass`)" in card
    assert "- Recipe: `recipes/splinter/fewshot_qa_tiny.yaml`" in card
    assert "| eval_f1 | 20.12 |" in card and "| eval_exact_match | 12.50 |" in card
    assert "| global_step | 200 |" in card
    assert "transformers 5.23.0" in card and "torch 2.13.0" in card and "peft" not in card
    assert "`data/train.jsonl` (sha256 `abababababab`)" in card
    assert "@inproceedings{ram-etal-2021-shot" in card and "arxiv.org/abs/2101.00438" in card
    config = json.loads(card.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert config == RESULTS["config"]


def test_card_defaults_and_hub_model_id():
    results = {"config": {"hub_model_id": "me/splinter-tiny"}, "metrics": {}}
    card = render_model_card("splinter_pretraining", results)
    assert "# me/splinter-tiny" in card
    assert "base_model: unknown" in card
    assert "command-line arguments only" in card and "(none recorded)" in card


def test_unknown_placeholder_and_missing_template(tmp_path):
    (tmp_path / "bad.md").write_text("# $repo_id\n$not_a_field\n")
    with pytest.raises(ValueError, match=r"unknown placeholder 'not_a_field'.*known: \["):
        render_model_card("bad", RESULTS, card_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="nope.md"):
        render_model_card("nope", RESULTS, card_dir=tmp_path)


def test_metrics_table_formats_floats_only():
    assert metrics_table({"f1": 1.0, "n": 3, "note": "x"}).splitlines()[2:] == \
        ["| f1 | 1.00 |", "| n | 3 |", "| note | x |"]


def make_run_dir(tmp_path):
    run = tmp_path / "run"
    for name in ["model.safetensors", "config.json", "results.json", "checkpoint-4/optimizer.pt",
                 "checkpoint-4/model.safetensors", "runs/Jan01/events.out", "optimizer.pt",
                 "rng_state.pth"]:
        (run / name).parent.mkdir(parents=True, exist_ok=True)
        (run / name).write_text("x")
    return run


def test_push_offline_raises_after_writing_the_card(tmp_path):
    run = make_run_dir(tmp_path)
    with pytest.raises(HubUnavailableError) as info:
        push_run_to_hub(run, "me/run", card="# my card\n")
    assert (run / "README.md").read_text() == "# my card\n"
    message = str(info.value)
    assert "'me/run'" in message and f"nlpkit push {run} --repo_id me/run" in message
    assert "offline" in message.lower()


def test_push_uploads_without_checkpoints(tmp_path, monkeypatch):
    """With the Hub API stubbed: what upload_folder would send leaves checkpoints out."""
    import huggingface_hub

    calls = {}

    class FakeApi:
        def create_repo(self, repo_id, private, exist_ok):
            calls["create"] = (repo_id, private, exist_ok)

        def upload_folder(self, repo_id, folder_path, ignore_patterns, commit_message):
            calls["upload"] = (repo_id, folder_path, ignore_patterns)
            return SimpleNamespace(commit_url="https://hub.example/me/run/commit/1")

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    run = make_run_dir(tmp_path)
    url = push_run_to_hub(run, "me/run", card="card", private=False)
    assert url == "https://hub.example/me/run/commit/1"
    assert calls["create"] == ("me/run", False, True)
    repo_id, folder, patterns = calls["upload"]
    assert repo_id == "me/run" and folder == str(run) and patterns == CHECKPOINT_PATTERNS
    files = sorted(str(p.relative_to(run)) for p in run.rglob("*") if p.is_file())
    sent = sorted(filter_repo_objects(files, ignore_patterns=patterns))
    assert sent == ["README.md", "config.json", "model.safetensors", "results.json"]


def test_push_on_other_processes_does_nothing(tmp_path):
    run = make_run_dir(tmp_path)
    assert push_run_to_hub(run, "me/run", card="card", is_main_process=False) is None
    assert not (run / "README.md").exists()


def args_for(run, process_index=0):
    return SimpleNamespace(process_index=process_index, output_dir=str(run), hub_model_id=None,
                           hub_private_repo=None)


def test_card_and_push_writes_card_then_fails_offline(tmp_path):
    run = make_run_dir(tmp_path)
    card_and_push(args_for(run), RESULTS, "splinter_fewshot_qa", push_requested=False)
    assert "| eval_f1 | 20.12 |" in (run / "README.md").read_text()
    (run / "README.md").unlink()
    with pytest.raises(HubUnavailableError, match="'run'"):  # repo id: output folder name
        card_and_push(args_for(run), RESULTS, "splinter_fewshot_qa", push_requested=True)
    assert (run / "README.md").is_file()
    (run / "README.md").unlink()
    card_and_push(args_for(run, process_index=1), RESULTS, "splinter_fewshot_qa", True)
    assert not (run / "README.md").exists()
