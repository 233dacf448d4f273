"""How much a model's vectors and MCCs move when only the token budget (the batch plan) changes.

    python benchmarks/budget_sensitivity.py                          # random-bert-tiny, lite suite, 8192 vs 512
    python benchmarks/budget_sensitivity.py --budgets 8192 1024 --model random-bert-tiny

Why: until engine version 2 a sequence's vector depended, in the last float bits, on which sequences shared
its batch (each batch was padded to its longest member), and the batches follow the token budget -- which
an out-of-memory back-off lowers. Since version 2 every sequence is computed at the width of its own length
(``engine.PADDING_POLICY``), so the budget must move nothing: this prints, per task, the largest absolute
vector difference between the budgets and the mean MCC (over the protocol seeds) of every regime at each
budget, then how many items moved and by how much at most (expected: 0 and none). Nothing is cached or
written.
"""

from __future__ import annotations

import argparse

import numpy as np

from geneb_bench.data.suites import get_suite
from geneb_bench.models.registry import build_embedder, resolve_model
from geneb_bench.probe.evaluate import evaluate_regime
from geneb_bench.protocol import REGIMES, SEEDS


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="random-bert-tiny")
    parser.add_argument("--suite", default="lite")
    parser.add_argument("--budgets", type=int, nargs=2, default=(8192, 512))
    args = parser.parse_args()
    suite = get_suite(args.suite)
    embedder = build_embedder(resolve_model(args.model), "cpu")
    moved, largest_mcc, largest_vec, items = 0, 0.0, 0.0, 0
    print(f"{'task':34s} {'max|dv|':>9s}  " + "  ".join(f"{r.name:>17s}" for r in REGIMES))
    for spec in suite.tasks:
        data = suite.load(spec.task_id)
        sequences = [*data.train_sequences, *data.test_sequences]
        n_train = len(data.train_sequences)
        vectors = []
        for budget in args.budgets:
            embedder.token_budget = budget  # type: ignore[attr-defined]  # HF embedders only
            vectors.append(embedder.embed(sequences))
        diff = float(np.abs(vectors[0] - vectors[1]).max())
        largest_vec = max(largest_vec, diff)
        cells = []
        for regime in REGIMES:
            mccs = [
                evaluate_regime(
                    v[:n_train], data.train_labels, v[n_train:], data.test_labels, regime, SEEDS
                ).mean("mcc")
                for v in vectors
            ]
            change = abs(mccs[0] - mccs[1])
            items += 1
            moved += change > 0
            largest_mcc = max(largest_mcc, change)
            cells.append(f"{mccs[0]:.4f}/{mccs[1]:.4f}")
        print(f"{spec.task_id:34s} {diff:9.2e}  " + "  ".join(f"{c:>17s}" for c in cells))
    embedder.close()
    print(
        f"\n{args.model}, budgets {args.budgets[0]} vs {args.budgets[1]}: max |vector difference| {largest_vec:.3e}; "
        f"mean MCC changed in {moved} of {items} items, by at most {largest_mcc:.4f}"
    )


if __name__ == "__main__":
    main()
