"""Shared API (used by `zbb run` and by `zbb probe` / `zbb steer fit`): model backends by name.

`load_backend(name, model_id=None, device="cpu", ...)` returns a `Backend`: the Mimi codec, the LM, the text
tokenizer (None for `tiny`), the sample rate, the frame size, and `layers`, the transformer blocks a steering hook
attaches to. Entries are lazy "module:attr" strings, so torch and moshi are imported only when one is loaded.

    moshi        Kyutai's `moshi` package: a Hub id (default kyutai/moshiko-pytorch-bf16) or a local folder
    personaplex  NVIDIA's fork of moshi (same import name), detected by its voice-prompt API; its own environment
    tiny         random weights, a few thousand parameters: tests, demos, benchmarks on CPU
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from zbb.errors import RunnerError, ZbbError
from zbb.registry import Registry


@dataclass
class Backend:
    """A loaded full-duplex model, ready to stream.

    `mimi` is moshi's `MimiModel`, `lm` its `LMModel` (Any: torch objects at a trust boundary). `frame_size` is
    samples per model step at `sample_rate` (1920 at 24 kHz: 80 ms). `lm_gen_defaults` are the sampling settings
    the checkpoint ships (LMGen keyword arguments). `model_id` is a Hub id, a local folder or a tiny-model name;
    `revision` the resolved commit (or a seed, for tiny) where known.
    """

    name: str
    model_id: str
    mimi: Any
    lm: Any
    text_tokenizer: Any | None
    sample_rate: int
    frame_size: int
    device: str
    dtype: str
    revision: str | None = None
    lm_gen_defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> Sequence[Any]:
        """The LM's transformer blocks (`lm.transformer.layers`): hook points, each outputs [B, 1, D] per step."""
        return self.lm.transformer.layers

    @property
    def num_layers(self) -> int:
        return len(self.layers)

    @property
    def dim(self) -> int:
        """Width of the residual stream (what a perception vector for this model must have)."""
        return int(self.lm.dim)

    def layer(self, index: int, base: int = 0) -> Any:
        """The block at `index` counted from `base` (0 or 1); a RunnerError when out of range."""
        from zbb.errors import RunnerError

        if base not in (0, 1):
            raise RunnerError(f"layer base must be 0 or 1; got {base!r}")
        position = index - base
        if not 0 <= position < self.num_layers:
            first, last = base, self.num_layers - 1 + base
            raise RunnerError(
                f"layer {index} (counting from {base}) is out of range: {self.model_id} has layers {first}..{last}"
            )
        return self.layers[position]

    def make_lm_gen(self, **decoding: Any) -> Any:
        """A moshi `LMGen` over this LM: the checkpoint's defaults, overridden by `decoding`."""
        from moshi.models import LMGen

        return LMGen(self.lm, **{**self.lm_gen_defaults, **decoding})

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model_id": self.model_id,
            "revision": self.revision,
            "device": self.device,
            "dtype": self.dtype,
            "num_layers": self.num_layers,
            "dim": self.dim,
            "sample_rate": self.sample_rate,
            "frame_size": self.frame_size,
        }


#: name -> loader(model_id=None, device="cpu", dtype=None, revision=None, **options) -> Backend
BACKENDS: Registry[Callable[..., Backend]] = Registry("model backend")
BACKENDS.register("moshi", "zbb.runner.loaders:load_moshi")
BACKENDS.register("personaplex", "zbb.runner.loaders:load_personaplex")
BACKENDS.register("tiny", "zbb.runner.loaders:load_tiny")


def check_device(device: str, error: type[ZbbError] = RunnerError) -> None:
    """Refuse a torch device this machine lacks (CUDA absent, a GPU index past the last, no MPS, a malformed
    string), as `error`, before any dataset, weights or Hub is touched. Without torch nothing is checked here
    (loading a backend then says what to install)."""
    try:
        import torch
    except ImportError:
        return
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise error(f"--device {device!r}: not a torch device; expected cpu, cuda, cuda:N or mps") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            why = (
                f"no NVIDIA GPU or driver is visible to torch {torch.__version__} (a CUDA {torch.version.cuda} build)"
                if torch.version.cuda
                else f"torch {torch.__version__} is a CPU-only build"
            )
            raise error(
                f"--device {device}: CUDA is not available on this machine: {why}; use --device cpu, or run on a "
                "machine with a CUDA GPU and a CUDA build of torch"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise error(f"--device {device}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    elif dev.type == "mps" and not torch.backends.mps.is_available():
        raise error(f"--device {device}: MPS (Apple GPU) is not available on this machine; use --device cpu")


def load_backend(
    name: str,
    model_id: str | None = None,
    device: str = "cpu",
    *,
    dtype: str | None = None,
    revision: str | None = None,
    **options: Any,
) -> Backend:
    """Load backend `name` (see the module docstring) onto `device`.

    `model_id` is a Hub id or local folder (None: the backend's default), `dtype` "bfloat16"/"float16"/"float32"
    (None: the backend's default), `revision` a Hub revision. An unknown name suggests close matches; a missing
    package or fork is a RunnerError saying what to install.
    """
    loader = BACKENDS.get(name)
    return loader(model_id=model_id, device=device, dtype=dtype, revision=revision, **options)
