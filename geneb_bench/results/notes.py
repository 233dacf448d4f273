"""What a reader must know beside the numbers: split provenance per task, embedding health, and why a seed
scored MCC 0 (constant predictions). Printed once per task / (model, task) in the run summary and by
``geneb report``; the figures themselves are in each result file."""

from __future__ import annotations

from collections.abc import Iterable

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
