"""The backend loaders registered in `zbb.runner.backends` (torch and moshi are imported here, on first use)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from zbb.errors import RunnerError
from zbb.runner.backends import Backend

DEFAULT_MOSHI = "kyutai/moshiko-pytorch-bf16"
DEFAULT_PERSONAPLEX = "nvidia/personaplex-7b-v1"
TINY_ID = "zbb/tiny-random-moshi"

_INSTALL = (
    "install torch (CPU: pip install torch --index-url https://download.pytorch.org/whl/cpu) and "
    "`pip install moshi==0.2.13 --no-deps einops safetensors sentencepiece` (python3 tasks.py test does both)"
)


def _import_moshi(backend: str) -> Any:
    # torch.compile adds ~20 s a process and little on a one-frame loop; an empty NO_TORCH_COMPILE lets moshi compile.
    os.environ.setdefault("NO_TORCH_COMPILE", "1")
    try:
        import moshi.models
        import torch  # noqa: F401
    except ImportError as exc:
        raise RunnerError(f"backend {backend!r} needs torch and moshi ({exc}); {_INSTALL}") from None
    return moshi


def is_personaplex(moshi_module: Any) -> bool:
    """NVIDIA's fork is imported as `moshi` too; its LMGen has the voice/system prompt API Kyutai's lacks."""
    lm_gen = getattr(getattr(moshi_module, "models", None), "LMGen", None)
    return (
        lm_gen is not None
        and hasattr(lm_gen, "load_voice_prompt_embeddings")
        and hasattr(lm_gen, "step_system_prompts")
    )


def _torch_dtype(name: str | None, default: str, device: str) -> tuple[Any, str]:
    import torch

    name = name or (default if device != "cpu" else "float32")
    table = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}
    if name not in table:
        raise RunnerError(f"unknown dtype {name!r}; expected one of {', '.join(table)}")
    return table[name], name


def _hub_revision(repo: str, revision: str | None) -> str | None:
    """The commit a Hub id resolves to (from the local cache when offline); None when it cannot be told."""
    try:
        from huggingface_hub import HfApi

        return str(HfApi().model_info(repo, revision=revision).sha)
    except Exception:  # provenance only: a run without network still runs, recording the requested revision
        return revision


def load_moshi(
    model_id: str | None = None, device: str = "cpu", dtype: str | None = None, revision: str | None = None, **_: Any
) -> Backend:
    """Kyutai's Moshi from a Hub id (default kyutai/moshiko-pytorch-bf16) or a local folder with its config.json."""
    moshi = _import_moshi("moshi")
    if is_personaplex(moshi):
        raise RunnerError("this environment's `moshi` is NVIDIA's PersonaPlex fork: use --backend personaplex")
    from moshi.models import loaders

    model_id = model_id or DEFAULT_MOSHI
    torch_dtype, dtype_name = _torch_dtype(dtype, "bfloat16", device)
    folder = Path(model_id)
    try:
        if folder.is_dir():
            info = _local_checkpoint(loaders, folder)
            resolved = revision
        else:
            info = loaders.CheckpointInfo.from_hf_repo(model_id, revision=revision)
            resolved = _hub_revision(model_id, revision)
        mimi = info.get_mimi(device=device)
        lm = info.get_moshi(device=device, dtype=torch_dtype)
        tokenizer = info.get_text_tokenizer()
    except (OSError, ValueError) as exc:
        raise RunnerError(f"cannot load Moshi from {model_id!r}: {exc}") from None
    return _backend("moshi", model_id, resolved, mimi, lm, tokenizer, device, dtype_name, dict(info.lm_gen_config))


def _local_checkpoint(loaders: Any, folder: Path) -> Any:
    """A CheckpointInfo for a local copy of a Hub repo (config.json naming its files, or the default names)."""
    import json

    config = folder / "config.json"
    names: dict[str, Any] = json.loads(config.read_text()) if config.is_file() else {}
    paths = {
        "moshi_weights": folder / names.get("moshi_name", loaders.MOSHI_NAME),
        "mimi_weights": folder / names.get("mimi_name", loaders.MIMI_NAME),
        "tokenizer": folder / names.get("tokenizer_name", loaders.TEXT_TOKENIZER_NAME),
    }
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise RunnerError(f"{folder}: not a Moshi checkpoint folder; missing {', '.join(missing)}")
    return loaders.CheckpointInfo.from_hf_repo(
        str(folder), config_path=str(config) if config.is_file() else None, **paths
    )


def load_personaplex(
    model_id: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    revision: str | None = None,
    **_: Any,
) -> Backend:
    """NVIDIA's PersonaPlex (gated weights nvidia/personaplex-7b-v1, or a local folder) through its moshi fork.

    The fork pins old torch/numpy and shares Kyutai's import name, so it lives in its own environment with zbb
    installed there; run `zbb run --backend personaplex` from that environment. Untested here (no fork, no GPU).
    """
    moshi = _import_moshi("personaplex")
    if not is_personaplex(moshi):
        version = getattr(moshi, "__version__", "?")
        raise RunnerError(
            f"backend 'personaplex' needs NVIDIA's moshi fork, but this environment's moshi {version} is Kyutai's "
            "(its LMGen has no load_voice_prompt_embeddings). PersonaPlex pins old torch/numpy: make a separate "
            "environment, `git clone https://github.com/NVIDIA/personaplex && pip install ./personaplex/moshi`, "
            "`pip install zbb` there, and run `zbb run --backend personaplex` with that environment's zbb"
        )
    from huggingface_hub import hf_hub_download
    from moshi.models import loaders

    model_id = model_id or DEFAULT_PERSONAPLEX
    torch_dtype, dtype_name = _torch_dtype(dtype, "bfloat16", device)
    folder = Path(model_id)

    def fetch(name: str) -> str:
        if folder.is_dir():
            return str(folder / name)
        return hf_hub_download(model_id, name, revision=revision)

    try:
        import sentencepiece

        mimi = loaders.get_mimi(fetch(loaders.MIMI_NAME), device=device)
        lm = loaders.get_moshi_lm(fetch(loaders.MOSHI_NAME), device=device, dtype=torch_dtype)
        tokenizer = sentencepiece.SentencePieceProcessor(fetch(loaders.TEXT_TOKENIZER_NAME))
    except (OSError, ValueError) as exc:
        raise RunnerError(f"cannot load PersonaPlex from {model_id!r}: {exc}") from None
    resolved = revision if folder.is_dir() else _hub_revision(model_id, revision)
    return _backend("personaplex", model_id, resolved, mimi, lm, tokenizer, device, dtype_name, {})


#: The tiny random Moshi of RUNNER.md: Mimi with 4 codebooks of 32 bins, an LM of 6 layers of width 32.
TINY_MIMI: dict[str, dict[str, Any]] = {
    "seanet": {"dimension": 16, "n_filters": 2},
    "quantizer": {"dimension": 8, "n_q": 4, "bins": 32, "input_dimension": 16, "output_dimension": 16},
    "transformer": {
        "d_model": 16,
        "num_heads": 2,
        "num_layers": 1,
        "dim_feedforward": 32,
        "input_dimension": 16,
        "output_dimensions": [16],
    },
}
TINY_LM: dict[str, Any] = {
    "dim": 32,
    "num_layers": 6,
    "num_heads": 2,
    "hidden_scale": 2,
    "n_q": 8,
    "dep_q": 4,
    "card": 32,
    "text_card": 64,
    "context": 100,
    "depformer_dim": 16,
    "depformer_num_layers": 1,
    "depformer_num_heads": 1,
    "depformer_dim_feedforward": 32,
    "depformer_context": 4,
    "delays": [0, 0, 1, 1, 1, 0, 1, 1, 1],
}


def load_tiny(
    model_id: str | None = None,
    device: str = "cpu",
    dtype: str | None = None,
    revision: str | None = None,
    seed: int = 0,
    **_: Any,
) -> Backend:
    """A random-weight Moshi small enough for CPU tests (~60 ms a frame); the same `seed` gives the same weights."""
    _import_moshi("tiny")
    import torch
    from moshi.models import loaders

    torch_dtype, dtype_name = _torch_dtype(dtype or "float32", "float32", device)
    mimi_cfg = {
        "sample_rate": loaders.SAMPLE_RATE,
        "channels": 1,
        "frame_rate": loaders.FRAME_RATE,
        "seanet": {**loaders._seanet_kwargs, **TINY_MIMI["seanet"]},
        "quantizer": dict(TINY_MIMI["quantizer"]),
        "transformer": {**loaders._transformer_kwargs, **TINY_MIMI["transformer"]},
    }
    state = torch.random.get_rng_state()
    torch.manual_seed(seed)  # weights from the seed, without disturbing the caller's random stream
    try:
        mimi = loaders.get_mimi(None, mimi_cfg, device=device, num_codebooks=TINY_LM["dep_q"])
        lm = loaders.get_moshi_lm(None, lm_kwargs={**loaders._lm_kwargs, **TINY_LM}, device=device, dtype=torch_dtype)
    finally:
        torch.random.set_rng_state(state)
    mimi.eval()
    lm.eval()
    return _backend("tiny", model_id or TINY_ID, f"seed-{seed}", mimi, lm, None, device, dtype_name, {})


def _backend(
    name: str,
    model_id: str,
    revision: str | None,
    mimi: Any,
    lm: Any,
    tokenizer: Any,
    device: str,
    dtype: str,
    lm_gen_defaults: dict[str, Any],
) -> Backend:
    frame_size = int(round(mimi.sample_rate / mimi.frame_rate))
    return Backend(
        name=name,
        model_id=model_id,
        revision=revision,
        mimi=mimi,
        lm=lm,
        text_tokenizer=tokenizer,
        sample_rate=int(mimi.sample_rate),
        frame_size=frame_size,
        device=str(device),
        dtype=dtype,
        lm_gen_defaults=lm_gen_defaults,
    )
