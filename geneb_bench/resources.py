"""What an item cost, measured where it ran: tokens computed, seconds, tokens/s and peak memory.

Recorded in each result (``ItemResult.resources``) so a plan (``geneb plan``) can be compared with what
happened, and a user learns the throughput of each model on their hardware. Peak host memory is the
process's maximum resident set (``resource.getrusage``: it never goes down, so it is the peak of the run so
far); peak GPU memory is ``torch.cuda.max_memory_allocated``, reset at the start of each item.
"""

from __future__ import annotations

import resource
import sys
from dataclasses import asdict, dataclass
from typing import Any

MB = 1024 * 1024


def peak_rss_bytes() -> int:
    """The process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def _cuda() -> Any | None:
    torch = sys.modules.get("torch")  # never import torch for this: a k-mer run has no use for it
    if torch is None or not torch.cuda.is_available() or not torch.cuda.is_initialized():
        return None
    return torch.cuda


def reset_cuda_peak() -> None:
    cuda = _cuda()
    if cuda is not None:
        cuda.reset_peak_memory_stats()


def cuda_peak_bytes() -> int | None:
    cuda = _cuda()
    return None if cuda is None else int(cuda.max_memory_allocated())


def tokens_embedded(embedder: object | None) -> int | None:
    """Tokens the embedder's engine has run through the model so far; None for models without tokens."""
    engine = getattr(embedder, "engine", None)
    count = getattr(engine, "tokens_embedded", None)
    return count if isinstance(count, int) else None


@dataclass(frozen=True)
class ItemResources:
    sequences: int  # sequences embedded for this item (0: its vectors came from the cache)
    bases: int  # their total length in bases
    tokens: int | None  # tokens through the model (None: a model without tokens, e.g. k-mer)
    embed_s: float
    peak_rss_mb: float
    peak_cuda_mb: float | None

    @property
    def tokens_per_s(self) -> float | None:
        if self.tokens is None or self.embed_s <= 0 or self.tokens == 0:
            return None
        return self.tokens / self.embed_s

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["embed_s"] = round(self.embed_s, 4)
        data["tokens_per_s"] = None if self.tokens_per_s is None else round(self.tokens_per_s, 1)
        data["peak_rss_mb"] = round(self.peak_rss_mb, 1)
        if self.peak_cuda_mb is not None:
            data["peak_cuda_mb"] = round(self.peak_cuda_mb, 1)
        return data


def measure(
    sequences: int, bases: int, tokens_before: int | None, tokens_after: int | None, embed_s: float
) -> ItemResources:
    tokens = None if tokens_after is None else tokens_after - (tokens_before or 0)
    cuda = cuda_peak_bytes()
    return ItemResources(
        sequences=sequences,
        bases=bases,
        tokens=tokens,
        embed_s=embed_s,
        peak_rss_mb=peak_rss_bytes() / MB,
        peak_cuda_mb=None if cuda is None else cuda / MB,
    )
