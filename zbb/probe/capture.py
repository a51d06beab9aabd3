"""Forward hooks that copy the residual stream of chosen transformer layers at every model step (torch)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zbb.errors import ProbeError


class LayerCapture:
    """Copy the output of `layers[i]` for each i in `indices` (0-based list positions) at every forward call.

    A block's output is the residual stream: a tensor [B, T, D] (Moshi, T = 1 per streaming step) or a tuple whose
    first item is that tensor (Hugging Face decoder layers). The last position is kept, detached and cast to
    float32 on the model's device, so a step costs one small copy per layer. Use as a context manager; hooks are
    removed on exit even when the loop raises. No indices: no hooks (a plain run). `counts[i]` says how many times layer i fired, so a caller can
    check that each layer was seen exactly once per step.
    """

    def __init__(self, layers: Sequence[Any], indices: Sequence[int]):
        n = len(layers)
        wanted = list(dict.fromkeys(int(i) for i in indices))
        bad = [i for i in wanted if not 0 <= i < n]
        if bad:
            raise ProbeError(f"layer position(s) {bad} out of range: the model has layers 0..{n - 1} (0-based)")
        self.indices: tuple[int, ...] = tuple(sorted(wanted))
        self._layers = layers
        self._handles: list[Any] = []
        self._states: dict[int, list[Any]] = {i: [] for i in self.indices}

    @property
    def counts(self) -> dict[int, int]:
        return {i: len(v) for i, v in self._states.items()}

    def _hook(self, index: int) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            tensor = output[0] if isinstance(output, tuple) else output
            self._states[index].append(tensor[:, -1].detach().float())

        return hook

    def __enter__(self) -> LayerCapture:
        for i in self.indices:
            self._handles.append(self._layers[i].register_forward_hook(self._hook(i)))
        return self

    def __exit__(self, *_: Any) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def clear(self) -> None:
        for states in self._states.values():
            states.clear()

    def stacked(self) -> Any:
        """The captured states as one float32 tensor [B, T, L, D] (L in `indices` order); every layer must have
        fired the same number of times."""
        import torch

        counts = set(self.counts.values())
        if len(counts) != 1:
            raise ProbeError(f"layers fired unequal numbers of times: {self.counts}")
        if counts == {0}:
            raise ProbeError("no step was captured")
        per_layer = [torch.stack(self._states[i], dim=1) for i in self.indices]  # each [B, T, D]
        return torch.stack(per_layer, dim=2)
