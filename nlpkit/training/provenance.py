"""What a results.json records besides metrics: versions, git state, data hashes."""

from __future__ import annotations

import hashlib
import importlib.metadata
import platform
import subprocess
from pathlib import Path

PACKAGES = ("nlpkit", "torch", "transformers", "datasets", "accelerate", "tokenizers", "evaluate",
            "peft")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(cwd: str | Path | None = None) -> dict[str, object]:
    """Commit and dirty flag of the nlpkit checkout (``None`` outside a git checkout)."""
    cwd = Path(cwd or Path(__file__).resolve().parents[2])

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                                 timeout=10, check=True)
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_hashes(sources: list[str | None]) -> dict[str, str]:
    """sha256 of each local data file; Hub dataset ids are recorded by name."""
    out = {}
    for source in sources:
        if not source:
            continue
        path = Path(source)
        if path.is_file():
            out[str(path)] = file_sha256(path)
        elif path.is_dir():
            for f in sorted(p for p in path.rglob("*") if p.is_file()):
                out[str(f)] = file_sha256(f)
        else:
            out[source] = "hub-dataset (not hashed)"
    return out
