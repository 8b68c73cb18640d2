"""Export Wikipedia text found in local QA/LAMA files as an RSS pretraining corpus (JSONL).

Source: contexts of MRQA JSONL / SQuAD JSON files (e.g. the Splinter few-shot splits) and
the evidence sentences of LAMA T-REx / Google-RE files (``[MASK]`` put back as the object's
surface form; the sentences of one subject joined into one passage, so its name recurs).
Output: ``<out>/wikipedia.jsonl`` with one ``{"text": ...}`` passage a line, ready for
``nlpkit.scripts.splinter_pretrain --corpus <out>``.

    python data_scripts/export_wikipedia_text.py --out data/rss_corpus \
        --qa ../shared/data/squad_fewshot --lama ../shared/data/lama/TREx \
        --exclude ../shared/data/squad_fewshot/squad-train-seed-46-num-examples-1024_qass.jsonl

``--exclude`` drops every context that appears in the given QA files (keep the text you
evaluate on out of pretraining). Passages are de-duplicated; the order is sorted, so reruns
give byte-identical files.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

from nlpkit.data.mrqa import load_qa_dataset


def _files(paths: list[str], suffixes: tuple[str, ...]) -> list[Path]:
    out = []
    for path in map(Path, paths):
        if path.is_dir():
            out += sorted(p for p in path.rglob("*") if p.suffix in suffixes)
        elif path.is_file():
            out.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder.")
    return out


def qa_contexts(paths: list[str]) -> set[str]:
    contexts: set[str] = set()
    for path in _files(paths, (".jsonl", ".json")):
        contexts.update(load_qa_dataset(str(path))["context"])
    return contexts


def lama_passages(paths: list[str], max_sentences: int = 12) -> set[str]:
    """One passage per subject: its unique evidence sentences with the object filled in."""
    by_subject: dict[str, dict[str, None]] = defaultdict(dict)
    for path in _files(paths, (".jsonl",)):
        with path.open(encoding="utf-8") as handle:
            for line_number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    fact = json.loads(line)
                except json.JSONDecodeError as err:
                    raise ValueError(f"{path}, line {line_number}: malformed JSON ({err.msg}).") from None
                subject = fact.get("sub_label")
                for evidence in fact.get("evidences", []):  # T-REx
                    sentence = evidence.get("masked_sentence", "")
                    surface = evidence.get("obj_surface") or fact.get("obj_label", "")
                    by_subject[subject][sentence.replace("[MASK]", surface)] = None
                for sentence in fact.get("masked_sentences", []):  # Google-RE
                    by_subject[subject][sentence.replace("[MASK]", fact.get("obj_label", ""))] = None
    return {" ".join(list(sentences)[:max_sentences]) for sentences in by_subject.values()
            if len(sentences) > 1}


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="Output folder.")
    parser.add_argument("--qa", nargs="*", default=[], help="MRQA/SQuAD files or folders.")
    parser.add_argument("--lama", nargs="*", default=[], help="LAMA JSONL files or folders.")
    parser.add_argument("--exclude", nargs="*", default=[], help="QA files whose contexts to drop.")
    args = parser.parse_args(argv)
    excluded = qa_contexts(args.exclude)
    contexts = qa_contexts(args.qa) - excluded
    lama = lama_passages(args.lama)
    passages = sorted(contexts | lama)
    out = Path(args.out) / "wikipedia.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as handle:
        for text in passages:
            handle.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    words = sum(len(t.split()) for t in passages)
    print(f"{out}: {len(passages)} passages ({len(contexts)} QA contexts after excluding "
          f"{len(excluded)}, {len(lama)} LAMA subjects), {words} words")
    return out


if __name__ == "__main__":
    main()
