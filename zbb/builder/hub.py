"""Uploading a built dataset folder to the Hugging Face Hub as a dataset repo."""

from __future__ import annotations

from pathlib import Path

from zbb.dataset import MANIFEST
from zbb.errors import DatasetError, ZbbError, printable


def check_repo_id(repo_id: str) -> None:
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise ZbbError(f"--push-to-hub: expected a repo id of the form ORG/NAME, got {printable(repo_id)!r}")


def check_push_access(repo_id: str, *, token: str | None = None) -> str:
    """Before a build that ends in a push: the repo id's form, a token, and a Hub that answers (one request).
    Returns the Hub user name; a ZbbError saying what to do otherwise, so no build is spent on a push that
    cannot happen."""
    from zbb.hub import check_access

    check_repo_id(repo_id)
    try:
        return check_access(token)
    except ZbbError as exc:
        raise ZbbError(f"--push-to-hub {repo_id}: cannot push, so nothing was built: {exc}") from exc


def push_to_hub(
    folder: str | Path, repo_id: str, *, token: str | None = None, private: bool = False, revision: str | None = None
) -> str:
    """Create (or reuse) the dataset repo `repo_id` and upload `folder` to it; returns the commit URL.

    The token comes from `token`, else the usual places (HF_TOKEN, `hf auth login`). The card's loading
    examples are rewritten to name the repo before upload. A failed upload (network, token, HTTP) is a ZbbError
    naming the repo and saying how to push the folder, which is kept as it is, later.
    """
    from huggingface_hub import HfApi

    from zbb.hub import failures, reason

    folder = Path(folder)
    if not (folder / MANIFEST).is_file():
        raise DatasetError(f"{folder}: not a ZBB dataset folder (no {MANIFEST}); build it first with `zbb build`")
    check_repo_id(repo_id)
    import json

    from zbb.builder.card import render_card
    from zbb.io import atomic_write_text

    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    atomic_write_text(folder / "README.md", render_card(manifest, repo=repo_id))
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", exist_ok=True, private=private)
        commit = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="dataset",
            revision=revision,
            commit_message=f"zbb build {manifest.get('fingerprint', '')[:12]}",
        )
    except failures() as exc:
        raise ZbbError(
            f"pushing {folder} to the Hub dataset {repo_id} failed: {reason(exc)}. The dataset is kept at {folder}; "
            f"push it later with `hf upload {repo_id} {folder} . --repo-type dataset{' --private' * private}`"
        ) from exc
    return str(getattr(commit, "commit_url", None) or commit)
