"""The steering hook: adds `coef[b] * mu` to one transformer layer's output, per batch row (imports torch).

Graph-safe by construction: `mu` and `coef` are allocated once on the model's device and the hook only reads them,
so when moshi's LMGen captures the step in a CUDA graph the captured add keeps reading the same memory, and
`set_coefficients` updates `coef` in place (`copy_`) between steps. tests/test_runner_cuda.py checks it on a GPU:
under moshi's captured graphs it steers exactly as eagerly, from the onset step on (run there on an H200).

Works on any torch module whose output is a tensor [B, ..., D] or a tuple whose first item is one (Hugging Face
decoder layers): Moshi's `lm.transformer.layers[i]`, or `model.model.layers[i]`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from zbb.errors import SteeringError
from zbb.steering.vector import PerceptionVector


class SteeringHook:
    """A forward hook on `layer` adding `coef.view(B, 1, .., 1) * mu` to its output.

    `vector` is a `PerceptionVector` or a 1-D array of the layer's width; `batch_size` rows each get their own
    coefficient (0 until `set_coefficients`). Use as a context manager, or call `remove()`.
    """

    def __init__(
        self,
        layer: torch.nn.Module,
        vector: PerceptionVector | np.ndarray | torch.Tensor,
        batch_size: int,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        raw = vector.vector if isinstance(vector, PerceptionVector) else vector
        mu = raw.detach() if isinstance(raw, torch.Tensor) else torch.from_numpy(np.array(raw, dtype=np.float32))
        if mu.dim() != 1:
            raise SteeringError(f"steering vector must be 1-D; got shape {tuple(mu.shape)}")
        if batch_size < 1:
            raise SteeringError(f"batch_size must be >= 1; got {batch_size}")
        if device is None:
            param = next(layer.parameters(), None)
            device = param.device if param is not None else torch.device("cpu")
        self.batch_size = batch_size
        # Both live on the device for the hook's lifetime: a captured CUDA graph reads these very tensors.
        self.mu = mu.to(device=device, dtype=dtype).clone()
        self.coef = torch.zeros(batch_size, device=device, dtype=dtype)
        self._handle: Any = layer.register_forward_hook(self._hook)

    # ---------------------------------------------------------------------------------------- the hook
    def _add(self, hidden: torch.Tensor) -> torch.Tensor:
        if hidden.shape[-1] != self.mu.shape[0]:
            raise SteeringError(
                f"steering vector has width {self.mu.shape[0]} but the layer outputs {hidden.shape[-1]}"
            )
        shape = (-1,) + (1,) * (hidden.dim() - 1)
        return hidden + (self.coef.view(shape) * self.mu).to(hidden.dtype)

    def _hook(self, module: torch.nn.Module, inputs: Any, output: Any) -> Any:
        if isinstance(output, torch.Tensor):
            return self._add(output)
        if isinstance(output, tuple) and output and isinstance(output[0], torch.Tensor):
            return (self._add(output[0]), *output[1:])
        raise SteeringError(f"cannot steer {type(module).__name__}: its output is {type(output).__name__}")

    # ----------------------------------------------------------------------------------------- control
    def set_coefficients(self, coefficients: Sequence[float]) -> None:
        """The coefficient of each batch row for the next step(s); written in place into `coef`."""
        if len(coefficients) != self.batch_size:
            raise SteeringError(f"{len(coefficients)} coefficients for a batch of {self.batch_size}")
        self.coef.copy_(torch.tensor(coefficients, dtype=self.coef.dtype))

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def __enter__(self) -> SteeringHook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()
