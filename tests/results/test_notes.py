"""Notes beside the numbers: split provenance only when it says how the data was cut; seed notes grouped."""

from __future__ import annotations

import dataclasses

from geneb_bench.results.notes import run_notes
from geneb_bench.results.record import ItemResult


def _result(task: str, revision: str | None, notes: list[str | None]) -> ItemResult:
    return ItemResult(
        model="m",
        task_id=task,
        category="Promoters",
        regime="1shot",
        mean={"mcc": 0.0, "accuracy": 0.5, "f1": 0.3},
        std={"mcc": 0.0, "accuracy": 0.0, "f1": 0.0},
        per_seed=[{"seed": s, "note": n} for s, n in zip((13, 17), notes, strict=True)],
        n_train=2,
        n_test=2,
        n_classes=2,
        embedding_dim=2,
        task_fingerprint="fp",
        task_revision=revision,
        model_identity={"key": "m"},
        timings={},
        versions={},
    )


def test_a_bare_revision_is_not_a_note_but_a_split_is() -> None:
    plain = _result("lite_a", "lite-1", [None, None])
    split = _result(
        "mine", "8 dev rows dropped; stratified split test_fraction=0.2 seed=4 (26/6)", [None, None]
    )
    assert run_notes([plain, dataclasses.replace(plain, regime="full")]) == []
    assert run_notes([split, dataclasses.replace(split, regime="full")]) == [
        f"task mine: {split.task_revision}"
    ]


def test_seed_notes_are_grouped_by_text() -> None:
    lines = run_notes([_result("t", None, ["constant", "constant"])])
    assert lines == ["m / t / 1shot: constant (seed 13, 17)"]


def test_a_short_k_shot_draw_is_noted() -> None:
    """Was: 10-shot with 3 training rows of a class drew 13 rows without a word."""
    base = _result("t", None, [None, None])
    short = dataclasses.replace(
        base, regime="10shot", per_seed=[{"seed": s, "n_train": 13, "note": None} for s in (13, 17)]
    )
    assert run_notes([short]) == [
        "m / t / 10shot: 13 training rows drawn where 10 per class x 2 classes would be 20: at least one "
        "class has fewer than 10 training rows, and all its rows were used (min(k, n_c), the protocol's draw)"
    ]
    full = dataclasses.replace(short, per_seed=[{"seed": s, "n_train": 20} for s in (13, 17)])
    assert run_notes([full]) == [], "10 per class: no note"
    assert run_notes([dataclasses.replace(short, regime="full")]) == [], "the full regime draws all rows"
