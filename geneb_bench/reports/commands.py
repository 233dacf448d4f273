"""``geneb`` subcommands for reports and analyses (merge, analyze, submission, figures, report extras).

Kept apart from :mod:`geneb_bench.cli` so the command module stays a thin argparse table; every handler
prints plain text tables and returns an exit status (2 for refused input, via ValueError in the caller).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from geneb_bench.protocol import REGIMES

if TYPE_CHECKING:
    import pandas as pd

if TYPE_CHECKING:
    from geneb_bench.results.record import ItemResult

ANALYSES = ("scaling", "winners", "category-corr", "smaller-beats-larger", "groups", "bootstrap")
REGIME_NAMES = tuple(
    r.name for r in REGIMES
)  # not analyses.REGIME_NAMES: building the parser imports no scipy


def _print(frame: pd.DataFrame, floatfmt: str = ".3f", index: bool = False) -> None:
    from tabulate import tabulate

    shown = frame.reset_index() if index else frame
    print(
        tabulate(
            shown.to_numpy().tolist(),
            headers=[str(c) for c in shown.columns],
            tablefmt="simple",
            floatfmt=floatfmt,
        )
    )


def _source_table(source: str) -> tuple[pd.DataFrame, bool]:
    """(table, is_published); for the published table only the 40 official rows are analysed."""
    from geneb_bench.reports import analyses
    from geneb_bench.reports.published import load_table

    table = load_table(source)
    published = source == "published"
    return (analyses.official(table) if published else table), published


def analyze(args: argparse.Namespace) -> int:
    from geneb_bench.reports import analyses

    table, published = _source_table(args.source)
    label = "official published models" if published else f"models in {args.source}"
    if args.analysis == "scaling":
        c = analyses.scaling(table, args.regime)
        print(f"Spearman(log10 params, {args.regime} macro-MCC) over {c.n} {label}: {c}")
        for key in args.without or (["evo-1-131k-base"] if published else []):
            if key in set(table["model"]):
                print(f"  without {key}: {analyses.scaling(table, args.regime, exclude=[key])}")
        print("\nPer category:")
        _print(analyses.category_scaling(table, args.regime), floatfmt=".3g")
    elif args.analysis == "winners":
        frame = analyses.winners(table)
        _print(frame)
        for other in ("10shot", "1shot"):
            if f"{other}_winner" in frame.columns:
                changed, total = analyses.winner_changes(table, "full", other)
                print(f"full vs {other}: the winner differs in {changed} of {total} categories")
    elif args.analysis == "category-corr":
        corr = analyses.category_correlations(table, args.regime)
        print(f"Spearman correlation between categories over {label} ({args.regime}):")
        _print(corr.round(2), floatfmt=".2f", index=True)
    elif args.analysis == "smaller-beats-larger":
        pairs = analyses.smaller_beats_larger(table, args.ratio, args.regime, min_gap=args.min_gap)
        print(
            f"{len(pairs)} pairs where a model >= {args.ratio:g}x smaller beats a larger one by > "
            f"{args.min_gap:g} macro-MCC ({args.regime}):"
        )
        _print(pairs.head(args.top), floatfmt=".3g")
    elif args.analysis == "groups":
        groups, test = analyses.group_comparison(table, args.by, args.regime, coarse=not args.raw_labels)
        _print(groups, index=True)
        print(test if test else "too few groups with >= 2 models for a test")
    else:
        if published:
            print("The published table has category scores only: bootstrap over the 13 categories.")
            boot = analyses.bootstrap_categories(table, args.regime, args.n_boot, args.seed)
        else:
            from geneb_bench.results.resultset import ResultSet

            print("Bootstrap over tasks, stratified by category, paired across models.")
            boot = analyses.bootstrap_tasks(
                ResultSet.load(Path(args.source)).frame, args.regime, args.n_boot, args.seed
            )
        print(f"{args.n_boot} replicates, seed {args.seed}, 95% percentile intervals ({args.regime}):")
        _print(boot, floatfmt=".3f")
    if published:
        from geneb_bench.reports.published import defect_notes

        notes = defect_notes(table["model"])
        if notes:
            print("\nKnown defects of published rows analysed here:")
            print("\n".join(f"  {line}" for line in notes))
    return 0


def merge(args: argparse.Namespace) -> int:
    from geneb_bench.results.merge import merge_dirs

    report = merge_dirs([Path(d) for d in args.dirs], Path(args.output))
    for note in report.differing_scores:
        print(f"note: {note}", file=sys.stderr)
    print(
        f"merged {len(args.dirs)} dirs into {args.output}: {len(report.written)} files written, "
        f"{report.duplicates} identical duplicates collapsed"
    )
    return 0


def submission(args: argparse.Namespace) -> int:
    from geneb_bench.reports import submission as sub

    if args.validate:
        errors = sub.validate_file(Path(args.validate), allow_partial=args.allow_partial)
        for error in errors[:50]:
            print(f"invalid: {error}", file=sys.stderr)
        if errors:
            print(f"{args.validate}: {len(errors)} problem(s)", file=sys.stderr)
            return 1
        print(f"{args.validate}: valid GENEB submission (schema {sub.SCHEMA_VERSION})")
        return 0
    if not args.results_dir or not args.model or not args.output:
        raise ValueError("give RESULTS_DIR --model KEY -o FILE, or --validate FILE")
    data = sub.build_submission(Path(args.results_dir), args.model, allow_partial=args.allow_partial)
    path = sub.write_submission(data, Path(args.output))
    n = sum(len(v) for v in data["results"].values())
    print(f"wrote {path}: {n} task x regime results" + (" (PARTIAL)" if data.get("partial") else ""))
    return 0


def figures_cmd(args: argparse.Namespace) -> int:
    import pandas as pd

    from geneb_bench.reports.figures import write_figures
    from geneb_bench.reports.published import published_table, results_table

    table = published_table()
    if args.source != "published":
        table = pd.concat([table, results_table(Path(args.source), suite=args.suite)], ignore_index=True)
    for name, paths in write_figures(table, Path(args.output), args.regime).items():
        print(f"{name}: " + ", ".join(str(p) for p in paths))
    return 0


def report_results(results_dir: Path) -> list[tuple[ItemResult, Path]]:
    """The results ``geneb report`` tabulates: a corrupt file is skipped with a warning (not the end of the
    report), and a task renamed between runs -- another id, the same data (fingerprint) -- counts once,
    as its newest result file, with one note per renaming."""
    from geneb_bench.io import results_root
    from geneb_bench.results.record import read_result

    newest: dict[tuple[str, ...], tuple[float, ItemResult, Path]] = {}
    renamed: set[tuple[str, str]] = set()
    for path in sorted(results_root(results_dir).rglob("*.json")):
        try:
            result, mtime = read_result(path), path.stat().st_mtime
        except (ValueError, OSError) as exc:
            print(f"geneb report: warning: skipped {exc}; rerun its item to recompute it", file=sys.stderr)
            continue
        # a renaming changes nothing else: results measured differently stay apart (and the table refuses them)
        seeds = ",".join(str(s.get("seed")) for s in result.per_seed)
        key = (
            result.model,
            result.regime,
            result.task_fingerprint,
            result.protocol,
            result.probe,
            result.probe_backend,
            seeds,
        )
        held = newest.get(key)
        if held is not None and held[1].task_id != result.task_id:
            old, new = sorted((held, (mtime, result, path)), key=lambda entry: entry[0])
            renamed.add((old[1].task_id, new[1].task_id))
            newest[key] = new
        elif held is None or mtime >= held[0]:
            newest[key] = (mtime, result, path)
    for old_id, new_id in sorted(renamed):
        print(
            f"geneb report: note: tasks {old_id!r} and {new_id!r} hold the same data (same fingerprint): "
            f"counted once, as {new_id!r} (the newer results)",
            file=sys.stderr,
        )
    return sorted(((result, path) for _, result, path in newest.values()), key=lambda entry: entry[1])


def report_extras(args: argparse.Namespace, frame: pd.DataFrame, results: Sequence[ItemResult]) -> None:
    """Completeness lines for every report, then the published comparison and the HTML file if asked."""
    import pandas as pd

    from geneb_bench.reports.published import results_table
    from geneb_bench.results.notes import run_notes

    suite = getattr(args, "suite", None)
    local = results_table(frame)
    partial = local[local["status"] != "complete"]
    for _, row in partial.iterrows():
        print(f"{row['model']} ({row['regime']}): not ranked: {row['status']} ({row['coverage']})")
    for line in run_notes(results):  # the results already read: a corrupt file was skipped once
        print(f"note: {line}")
    if args.compare_published:
        from geneb_bench.reports.compare import combined_leaderboard, compare_to_published

        placement = compare_to_published(frame)
        for column in ("rank", "would_rank"):
            placement[column] = placement[column].map(lambda v: "" if pd.isna(v) else str(v))
        print(
            "\nAmong the 40 published models (rank: complete run; would_rank: complete category; "
            "both empty = not comparable, see status):"
        )
        _print(placement.drop(columns=["of"]), floatfmt=".3f")
        board = combined_leaderboard(local, "full")
        print("\nFull-data leaderboard with your models:")
        _print(board[["rank", "model", "provenance", "macro", "status", "defect"]], floatfmt=".4f")
        from geneb_bench.reports.published import defect_notes

        print("\nKnown defects of published rows (a correct run of these models is expected to differ):")
        for line in defect_notes(board.loc[board["defect"] != "", "model"]):
            print(f"  {line}")
    if args.html:
        from geneb_bench.reports.html import write_html

        out = Path(args.output) / "report.html" if args.output else None
        cache = getattr(args, "audit_cache_dir", None)
        print(
            f"wrote {write_html(Path(args.results_dir), out, compare_published=True, cache_dir=cache, suite=suite)}"
        )


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merge_p = sub.add_parser(
        "merge", help="merge result dirs; refuses mixed protocols, task data or revisions"
    )
    merge_p.add_argument("dirs", nargs="+")
    merge_p.add_argument("-o", "--output", required=True)

    an = sub.add_parser("analyze", help="GENEB analyses on the published table or a results dir")
    an.add_argument("analysis", choices=ANALYSES)
    an.add_argument("source", nargs="?", default="published", help="'published' (default) or a results dir")
    an.add_argument("--regime", default="full", choices=REGIME_NAMES)
    an.add_argument("--without", action="append", help="scaling: also report rho without this model")
    an.add_argument("--ratio", type=float, default=6.0, help="smaller-beats-larger: minimum size ratio")
    an.add_argument("--min-gap", type=float, default=0.0, help="smaller-beats-larger: minimum macro gap")
    an.add_argument("--top", type=int, default=20, help="smaller-beats-larger: rows shown")
    an.add_argument(
        "--by", default="architecture", choices=("architecture", "tokenization", "pretraining_data")
    )
    an.add_argument("--raw-labels", action="store_true", help="groups: do not fold labels to families")
    an.add_argument("--n-boot", type=int, default=1000)
    an.add_argument("--seed", type=int, default=0)

    subm = sub.add_parser("submission", help="write or validate a GENEB leaderboard submission JSON")
    subm.add_argument("results_dir", nargs="?")
    subm.add_argument("--model")
    subm.add_argument("-o", "--output")
    subm.add_argument("--allow-partial", action="store_true")
    subm.add_argument("--validate", metavar="FILE")

    fig = sub.add_parser(
        "figures", help="every registered figure (heatmap, scaling, regimes, winners, yours) as PNG + SVG"
    )
    fig.add_argument("source", nargs="?", default="published", help="'published' or a results dir")
    fig.add_argument("-o", "--output", default="figures")
    fig.add_argument("--regime", default="full", choices=REGIME_NAMES)
    fig.add_argument("--suite", default=None, help="which suite's results (when the directory holds several)")


HANDLERS = {"merge": merge, "analyze": analyze, "submission": submission, "figures": figures_cmd}
