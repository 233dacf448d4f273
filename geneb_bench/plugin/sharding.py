"""Deterministic, balanced shards of a sweep for ``--geneb-shard i/n``.

The unit is a (model, task) group, never a single item, so the embeddings of one task are computed on
one machine only. Groups are assigned longest-processing-time first (heaviest group to the lightest
shard, ties broken by key), which depends only on the set of groups, not on collection order: every
machine computes the same assignment, and the shards together cover every item exactly once.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Mapping


def parse_shard(text: str) -> tuple[int, int]:
    """``"i/n"`` (0-based i) -> (i, n), with a usage message on anything else."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match:
        raise ValueError(f"--geneb-shard must look like i/n (e.g. 0/4), got {text!r}")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--geneb-shard {text!r}: need 0 <= i < n and n >= 1")
    return index, count


def assign_shards(weights: Mapping[str, float], count: int) -> dict[str, int]:
    """Map each group key to a shard in ``range(count)``, balancing the summed weights."""
    loads = [(0.0, shard) for shard in range(count)]
    heapq.heapify(loads)
    assignment: dict[str, int] = {}
    for key in sorted(weights, key=lambda k: (-weights[k], k)):
        load, shard = heapq.heappop(loads)
        assignment[key] = shard
        heapq.heappush(loads, (load + weights[key], shard))
    return assignment
