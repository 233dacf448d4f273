"""Embeddings held in memory between the regimes of a task: on the host, and on the probe's device.

A task's three regimes reuse one (model, task) pair; with the torch probe on a GPU the pair is copied to the
device once and stays there until the task's last regime, instead of crossing the bus per item. The store
is an LRU bounded in bytes (host and device copies both count), so a long sweep cannot grow without limit.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Key = tuple[str, str]  # (model key, task id)
DEFAULT_MAX_BYTES = 4 * 2**30


@dataclass
class Held:
    train: np.ndarray
    test: np.ndarray
    cached: bool  # read from the disk cache (not computed in this process)
    on_device: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # device -> (train, test) tensors

    @property
    def nbytes(self) -> int:
        host = self.train.nbytes + self.test.nbytes
        return host + sum(
            0 if str(t.device) == "cpu" else t.element_size() * t.nelement()  # cpu tensors share host memory
            for pair in self.on_device.values()
            for t in pair
        )


class EmbeddingStore:
    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._held: OrderedDict[Key, Held] = OrderedDict()

    def __contains__(self, key: Key) -> bool:
        return key in self._held

    def __len__(self) -> int:
        return len(self._held)

    @property
    def nbytes(self) -> int:
        return sum(h.nbytes for h in self._held.values())

    def get(self, key: Key) -> Held | None:
        held = self._held.get(key)
        if held is not None:
            self._held.move_to_end(key)
        return held

    def put(self, key: Key, train: np.ndarray, test: np.ndarray, cached: bool) -> Held:
        held = self._held[key] = Held(train, test, cached)
        self._held.move_to_end(key)
        self._evict(keep=key)
        return held

    def on_device(self, key: Key, device: str) -> tuple[Any, Any]:
        """The pair as tensors on ``device``, copied once per key (on the CPU: shared with the arrays)."""
        import torch

        held = self._held[key]
        if device not in held.on_device:
            held.on_device[device] = (
                torch.as_tensor(held.train, device=device),
                torch.as_tensor(held.test, device=device),
            )
            self._evict(keep=key)
        return held.on_device[device]

    def release(self, model: str, task: str | None = None) -> None:
        """Drop a model's pairs (or one task's): what the next items will not need."""
        for key in [k for k in self._held if k[0] == model and (task is None or k[1] == task)]:
            del self._held[key]

    def clear(self) -> None:
        self._held.clear()

    def _evict(self, keep: Key) -> None:
        """Least recently used first; the entry in use stays even when it alone exceeds the bound."""
        while self.nbytes > self.max_bytes and len(self._held) > 1:
            oldest = next(iter(self._held))
            if oldest == keep:
                self._held.move_to_end(oldest)
                oldest = next(iter(self._held))
            del self._held[oldest]
