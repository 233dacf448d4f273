"""What a reader must know beside the numbers: split provenance per task, embedding health, and why a seed
scored MCC 0 (constant predictions), a short k-shot draw; and the items that failed, by cause. Printed once
per task / (model, task) in the run summary and by ``geneb report``; the figures themselves are in each
result file, the failed items in ``run.json``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from geneb_bench.embeddings.health import summary_lines
from geneb_bench.probe.sampling import short_draw_note
from geneb_bench.results.record import ItemResult


def run_notes(results: Iterable[ItemResult]) -> list[str]:
    """Lines in result order: each task's provenance once, each (model, task)'s health once, seed notes."""
    lines: list[str] = []
    tasks: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for r in results:
        if r.task_id not in tasks:
            tasks.add(r.task_id)
            # how the data was cut (split, subsample, dropped rows) is a sentence; a bare version or commit
            # ("lite-1", a hub sha) says nothing a reader needs beside the numbers
            if r.task_revision and " " in r.task_revision.strip():
                lines.append(f"task {r.task_id}: {r.task_revision}")
        if r.health and (r.model, r.task_id) not in pairs:
            pairs.add((r.model, r.task_id))
            lines += summary_lines(r.model, r.task_id, r.health)
        short = _short_draw(r)
        if short:
            lines.append(f"{r.model} / {r.task_id} / {r.regime}: {short}")
        by_note: dict[str, list[str]] = {}
        for seed in r.per_seed:
            if seed.get("note"):
                by_note.setdefault(str(seed["note"]), []).append(str(seed["seed"]))
        lines += [
            f"{r.model} / {r.task_id} / {r.regime}: {note} (seed {', '.join(seeds)})"
            for note, seeds in by_note.items()
        ]
    return lines


def _short_draw(result: ItemResult) -> str | None:
    """The k-shot shortfall of ``result`` (every seed draws the same number of rows), or None."""
    from geneb_bench.protocol import get_regime

    try:
        shots = get_regime(result.regime).shots
    except ValueError:
        return None
    drawn = {s.get("n_train") for s in result.per_seed}
    if shots is None or len(drawn) != 1 or not isinstance(n := drawn.pop(), int):
        return None
    return short_draw_note(shots, result.n_classes, n)


FAILED_KEY = "failed"  # run.json: failed items by cause, [{"cause": ..., "items": ["model / task / regime"]}]


def one_line(exc: BaseException) -> str:
    """An item's failure as one line: the message (which names the file, row, model or task), white space
    folded; the exception's type only when the message is empty."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def group_failures(failures: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
    """(cause, item) pairs -> one entry per cause with its items, the most frequent cause first."""
    by_cause: dict[str, list[str]] = {}
    for cause, item in failures:
        by_cause.setdefault(cause, []).append(item)
    ordered = sorted(by_cause.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [{"cause": cause, "items": sorted(items)} for cause, items in ordered]


def failure_lines(groups: Iterable[Mapping[str, Any]], shown: int = 4) -> list[str]:
    """Human lines: ``N item(s): cause`` and the first items."""
    lines = []
    for group in groups:
        items = list(group["items"])
        more = f" and {len(items) - shown} more" if len(items) > shown else ""
        lines.append(f"{len(items)} item(s) ({', '.join(items[:shown])}{more}): {group['cause']}")
    return lines


def read_failures(results_dir: Path) -> list[dict[str, Any]]:
    """The failed items the last run in ``results_dir`` recorded in its run.json ([] when none or unreadable)."""
    import json

    try:
        groups = json.loads((Path(results_dir) / "run.json").read_text()).get(FAILED_KEY, [])
    except (OSError, ValueError, AttributeError):
        return []
    valid = isinstance(groups, list) and all(
        isinstance(g, dict) and isinstance(g.get("cause"), str) and isinstance(g.get("items"), list)
        for g in groups
    )
    return groups if valid else []
