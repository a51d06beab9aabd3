"""Uploading a built dataset folder to the Hugging Face Hub as a dataset repo."""

from __future__ import annotations

from pathlib import Path

from zbb.dataset import MANIFEST
from zbb.errors import DatasetError, ZbbError


def push_to_hub(
    folder: str | Path, repo_id: str, *, token: str | None = None, private: bool = False, revision: str | None = None
) -> str:
    """Create (or reuse) the dataset repo `repo_id` and upload `folder` to it; returns the commit URL.

    The token comes from `token`, else the usual places (HF_TOKEN, `huggingface-cli login`). The card's loading
    examples are rewritten to name the repo before upload.
    """
    from huggingface_hub import HfApi

    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise DatasetError(f"{folder}: not a ZBB dataset folder (no {MANIFEST}); build it first with `zbb build`")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ZbbError(f"--push-to-hub: expected a repo id of the form ORG/NAME, got {repo_id!r}")
    import json

    from zbb.builder.card import render_card
    from zbb.io import atomic_write_text

    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    atomic_write_text(folder / "README.md", render_card(manifest, repo=repo_id))
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
    commit = api.upload_folder(
        folder_path=str(folder),
        repo_id=repo_id,
        repo_type="dataset",
        revision=revision,
        commit_message=f"zbb build {manifest.get('fingerprint', '')[:12]}",
    )
    return str(getattr(commit, "commit_url", None) or commit)
