"""``geneb`` subcommands for reports and analyses (merge, analyze, submission, figures, report extras).

Kept apart from :mod:`geneb_bench.cli` so the command module stays a thin argparse table; every handler
prints plain text tables (or, with ``--json``, one JSON document holding the same information) and returns
an exit status: 0 done, 1 the thing checked failed (an invalid submission), 2 refused or unusable input
(raised as ValueError and turned into 2 by the caller).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from geneb_bench.protocol import REGIMES

if TYPE_CHECKING:
    import pandas as pd

if TYPE_CHECKING:
    from geneb_bench.data.audit import TaskAudit
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


def jsonable(value: Any) -> Any:
    """``value`` with NaN and infinities as None, recursively: JSON has no NaN (``json.dumps`` would write
    an invalid document)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def records(frame: pd.DataFrame, index: bool = False) -> list[dict[str, Any]]:
    """A table as JSON rows (pandas' own writer: numpy scalars as numbers, missing values as null)."""
    shown = frame.reset_index() if index else frame
    rows: list[dict[str, Any]] = json.loads(shown.to_json(orient="records", double_precision=15))
    return rows


def print_json(document: dict[str, Any]) -> None:
    """The one JSON document a ``--json`` command writes to stdout (strict JSON: no NaN)."""
    print(json.dumps(jsonable(document), indent=2, allow_nan=False))


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
    as_json = getattr(args, "json", False)
    say = _silent if as_json else print
    doc: dict[str, Any] = {"analysis": args.analysis, "source": args.source, "regime": args.regime}
    if args.analysis == "scaling":
        c = analyses.scaling(table, args.regime)
        say(f"Spearman(log10 params, {args.regime} macro-MCC) over {c.n} {label}: {c}")
        doc["spearman"] = asdict(c)
        doc["without"] = {}
        for key in args.without or (["evo-1-131k-base"] if published else []):
            if key in set(table["model"]):
                without = analyses.scaling(table, args.regime, exclude=[key])
                say(f"  without {key}: {without}")
                doc["without"][key] = asdict(without)
        per_category = analyses.category_scaling(table, args.regime)
        doc["per_category"] = records(per_category)
        if not as_json:
            print("\nPer category:")
            _print(per_category, floatfmt=".3g")
    elif args.analysis == "winners":
        frame = analyses.winners(table)
        doc["winners"] = records(frame)
        doc["winner_changes"] = []
        if not as_json:
            _print(frame)
        for other in ("10shot", "1shot"):
            if f"{other}_winner" in frame.columns:
                changed, total = analyses.winner_changes(table, "full", other)
                say(f"full vs {other}: the winner differs in {changed} of {total} categories")
                doc["winner_changes"].append(
                    {"regimes": ["full", other], "changed": changed, "categories": total}
                )
    elif args.analysis == "category-corr":
        corr = analyses.category_correlations(table, args.regime)
        doc["spearman"] = records(corr.rename_axis("category"), index=True)
        if not as_json:
            print(f"Spearman correlation between categories over {label} ({args.regime}):")
            _print(corr.round(2), floatfmt=".2f", index=True)
    elif args.analysis == "smaller-beats-larger":
        pairs = analyses.smaller_beats_larger(table, args.ratio, args.regime, min_gap=args.min_gap)
        doc |= {"ratio": args.ratio, "min_gap": args.min_gap, "n_pairs": len(pairs)}
        doc["pairs"] = records(pairs.head(args.top))
        if not as_json:
            print(
                f"{len(pairs)} pairs where a model >= {args.ratio:g}x smaller beats a larger one by > "
                f"{args.min_gap:g} macro-MCC ({args.regime}):"
            )
            _print(pairs.head(args.top), floatfmt=".3g")
    elif args.analysis == "groups":
        groups, test = analyses.group_comparison(table, args.by, args.regime, coarse=not args.raw_labels)
        doc |= {"by": args.by, "groups": records(groups.rename_axis(args.by), index=True)}
        doc["kruskal_wallis"] = asdict(test) if test else None
        if not as_json:
            _print(groups, index=True)
            print(test if test else "too few groups with >= 2 models for a test")
    else:
        if published:
            say("The published table has category scores only: bootstrap over the 13 categories.")
            boot = analyses.bootstrap_categories(table, args.regime, args.n_boot, args.seed)
        else:
            from geneb_bench.results.resultset import ResultSet

            say("Bootstrap over tasks, stratified by category, paired across models.")
            boot = analyses.bootstrap_tasks(
                ResultSet.load(Path(args.source)).frame, args.regime, args.n_boot, args.seed
            )
        doc |= {
            "resampled": "categories" if published else "tasks (stratified by category)",
            "n_boot": args.n_boot,
            "seed": args.seed,
            "level": 0.95,
            "intervals": records(boot),
        }
        if not as_json:
            print(f"{args.n_boot} replicates, seed {args.seed}, 95% percentile intervals ({args.regime}):")
            _print(boot, floatfmt=".3f")
    doc["defects"] = []
    if published:
        from geneb_bench.reports.published import defect_notes

        doc["defects"] = notes = defect_notes(table["model"])
        if notes and not as_json:
            print("\nKnown defects of published rows analysed here:")
            print("\n".join(f"  {line}" for line in notes))
    if as_json:
        print_json(doc)
    return 0


def _silent(*_: object) -> None:
    """``print`` for ``--json`` runs: the text lines' information is in the document instead."""


def merge(args: argparse.Namespace) -> int:
    from geneb_bench.io import results_root
    from geneb_bench.results.merge import merge_dirs

    dirs = [Path(d) for d in args.dirs]
    if all(d.is_dir() and not any(results_root(d).rglob("*.json")) for d in dirs):
        # mistyped paths merge nothing: say so rather than "0 files written" (one empty shard is fine)
        raise ValueError(f"no result files under {', '.join(args.dirs)}")
    report = merge_dirs(dirs, Path(args.output))
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
        if not Path(args.validate).is_file():
            raise ValueError(f"--validate: no such file: {args.validate}")
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


def report_document(
    args: argparse.Namespace, frame: pd.DataFrame, audits: dict[str, TaskAudit]
) -> dict[str, Any]:
    """``geneb report --json``: what the text tables show, as data -- per regime the leaderboard rows
    (rank null where a row is not ranked), and the task audits when there are any."""
    from geneb_bench.results.aggregate import describe_suite, leaderboards, suite_total
    from geneb_bench.results.audited import audit_json, audited_regimes, task_table, without_fail
    from geneb_bench.results.render import ranking_note

    doc: dict[str, Any] = {
        "results_dir": str(args.results_dir),
        "suite": describe_suite(frame),
        "suite_tasks": suite_total(frame),
        "metric": args.metric,
        "leaderboards": [
            {"regime": regime, "ranking": ranking_note(table), "rows": records(table, index=True)}
            for regime, table in leaderboards(frame, args.metric).items()
        ],
        "audit": None,
    }
    if audits:
        regime = audited_regimes(frame)[0]
        doc["audit"] = {
            "tasks": json.loads(audit_json(audits)),
            "regime": regime,
            "per_task": records(task_table(frame, audits, regime)),
            "without_fail": records(without_fail(frame, audits, regime), index=True),
        }
    return doc


def not_ranked_line(row: Mapping[str, Any], placed_below: bool) -> str:
    """Why a (model, regime) row is off the full leaderboard, once (a partial run's k/N is its coverage), and
    where it is placed instead when the matched comparison follows."""
    status = str(row["status"])
    partial = status.startswith("partial")
    why = f"{'partial' if partial else status} ({row['coverage']})"
    where = "; placed among the published models on its tasks below" if partial and placed_below else ""
    return f"{row['model']} ({row['regime']}): not on the full leaderboard: {why}{where}"


def report_extras(
    args: argparse.Namespace, frame: pd.DataFrame, results: Sequence[ItemResult]
) -> dict[str, Any]:
    """Completeness lines for every report, then the published comparison and the HTML file if asked;
    printed, or (``--json``) returned as data only."""
    from geneb_bench.reports.published import results_table
    from geneb_bench.results.notes import failure_lines, read_failures, run_notes

    as_json = getattr(args, "json", False)
    say = _silent if as_json else print
    suite = getattr(args, "suite", None)
    local = results_table(frame)
    partial = local[local["status"] != "complete"]
    data: dict[str, Any] = {
        "not_ranked": records(partial[["model", "regime", "status", "coverage"]]),
        "notes": run_notes(results),  # the results already read: a corrupt file was skipped once
        "published": None,
        "per_task": None,
        "html": None,
    }
    for row in data["not_ranked"]:
        say(not_ranked_line(row, placed_below=bool(args.compare_published)))
    for line in data["notes"]:
        say(f"note: {line}")
    # the last run's failed items, by cause: its run.json, in the suite's tables folder (older runs: the top)
    from geneb_bench.runner.finish import table_scope, tables_dir

    folder = tables_dir(Path(args.results_dir), table_scope(results, ""))
    data["failed"] = read_failures(folder) or read_failures(Path(args.results_dir))
    for line in failure_lines(data["failed"]):
        say(f"failed: {line}")
    if args.compare_published:
        data["published"] = published_comparison(frame, results, local, say)
    if getattr(args, "per_task", False):
        data["per_task"] = per_task_comparison(results, getattr(args, "published", None) or (), say)
    if args.html:
        from geneb_bench.reports.html import write_html

        out = Path(args.output) / "report.html" if args.output else None
        cache = getattr(args, "audit_cache_dir", None)
        data["html"] = str(
            write_html(Path(args.results_dir), out, compare_published=True, cache_dir=cache, suite=suite)
        )
        say(f"wrote {data['html']}")
    return data


def published_comparison(
    frame: pd.DataFrame, results: Sequence[ItemResult], local: pd.DataFrame, say: Any
) -> dict[str, Any]:
    """``--compare-published``: the matched comparison per regime (``reports.matched``), the per-category
    placement on the same tasks, and -- for complete runs -- the full published leaderboard with the user's
    rows, as before. Lite and custom suites and protocol variants are never placed: the reason, nothing else."""
    import pandas as pd

    from geneb_bench.reports.compare import combined_leaderboard, compare_to_published
    from geneb_bench.reports.matched import matched_comparisons, not_placed_reason
    from geneb_bench.reports.published import defect_notes, published_defects

    reason = not_placed_reason(results)
    doc: dict[str, Any] = {"placed": reason is None, "reason": reason, "matched": [], "placement": []}
    doc |= {"leaderboard": [], "defects": []}
    if reason is not None:
        say(f"\nNot placed among the published models: {reason}.")
        return doc
    matched = matched_comparisons(results)
    doc["matched"] = [comparison.as_dict() for comparison in matched.values()]
    for comparison in matched.values():
        say(f"\n{comparison.text()}")
    placement = compare_to_published(frame)
    doc["placement"] = records(placement)
    doc["defects"] = defect_notes(published_defects())
    complete = local["status"] == "complete"
    if complete.any():
        board = combined_leaderboard(local, "full")
        doc["leaderboard"] = records(board[["rank", "model", "provenance", "macro", "status", "defect"]])
    if say is _silent:
        return doc
    for column in ("rank", "would_rank"):
        placement[column] = placement[column].map(lambda v: "" if pd.isna(v) else str(v))
    print(
        "\nPer category, beside the published models on the same tasks (tasks: covered/in GENEB; rank: "
        "complete run; would_rank: complete category; both empty = not comparable, see status):"
    )
    _print(placement.drop(columns=["of"]), floatfmt=".3f")
    if doc["leaderboard"]:
        print("\nFull-data leaderboard with your complete runs:")
        _print(pd.DataFrame(doc["leaderboard"]), floatfmt=".4f")
    print("\nKnown defects of published rows (a correct run of these models is expected to differ):")
    for line in doc["defects"]:
        print(f"  {line}")
    return doc


def per_task_comparison(results: Sequence[ItemResult], published: Sequence[str], say: Any) -> dict[str, Any]:
    """``--per-task``: per regime, each task's MCC of the user's models beside the published values on it
    (median, best, and the published models named with ``--published``); the user's values only, and why,
    for results that are never placed."""
    from geneb_bench.reports.matched import matched_comparisons, not_placed_reason
    from geneb_bench.results.aggregate import tidy

    reason = not_placed_reason(results)
    doc: dict[str, Any] = {"reason": reason, "regimes": []}
    if reason is not None:
        frame = tidy(results)
        say(f"\nPer task (MCC); no published values: {reason}.")
        for regime, sub in frame.groupby("regime", sort=False):
            wide = sub.pivot_table(index=["task_id", "category"], columns="model", values="mcc").reset_index()
            doc["regimes"].append({"regime": regime, "rows": records(wide.rename_axis(columns=None))})
            if say is not _silent:
                print(f"\n{regime}")
                _print(wide, floatfmt=".4f")
        return doc
    for regime, comparison in matched_comparisons(results).items():
        wide = comparison.per_task_wide(published)
        doc["regimes"].append({"regime": regime, "label": comparison.label, "rows": records(wide)})
        if say is not _silent:
            print(f"\nPer task (MCC), {regime}, {comparison.label}: yours beside the 40 published models")
            _print(wide, floatfmt=".4f")
    return doc


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merge_p = sub.add_parser(
        "merge", help="merge result dirs; refuses mixed protocols, task data or revisions"
    )
    merge_p.add_argument("dirs", nargs="+", help="results directories (e.g. one per shard or machine)")
    merge_p.add_argument(
        "-o", "--output", required=True, help="directory the merged results and tables go to"
    )

    an = sub.add_parser("analyze", help="GENEB analyses on the published table or a results dir")
    an.add_argument(
        "analysis",
        choices=ANALYSES,
        help="scaling: rank correlation of size and macro; winners: best model per category; "
        "category-corr: correlations between categories; smaller-beats-larger: such pairs; groups: "
        "macro by architecture/tokenization/data; bootstrap: confidence intervals of the macro",
    )
    an.add_argument("source", nargs="?", default="published", help="'published' (default) or a results dir")
    an.add_argument("--regime", default="full", choices=REGIME_NAMES, help="data regime (default: full)")
    an.add_argument(
        "--without",
        action="append",
        help="scaling: also report rho without this model, repeatable "
        "(default: evo-1-131k-base on the published table)",
    )
    an.add_argument(
        "--ratio", type=float, default=6.0, help="smaller-beats-larger: minimum size ratio (default: 6)"
    )
    an.add_argument(
        "--min-gap", type=float, default=0.0, help="smaller-beats-larger: minimum macro gap (default: 0)"
    )
    an.add_argument("--top", type=int, default=20, help="smaller-beats-larger: rows shown (default: 20)")
    an.add_argument(
        "--by",
        default="architecture",
        choices=("architecture", "tokenization", "pretraining_data"),
        help="groups: the model property to group by (default: architecture)",
    )
    an.add_argument("--raw-labels", action="store_true", help="groups: do not fold labels to families")
    an.add_argument(
        "--n-boot", type=int, default=1000, help="bootstrap: number of replicates (default: 1000)"
    )
    an.add_argument("--seed", type=int, default=0, help="bootstrap: random seed (default: 0)")
    an.add_argument("--json", action="store_true", help="print one JSON document instead of the text")

    subm = sub.add_parser("submission", help="write or validate a GENEB leaderboard submission JSON")
    subm.add_argument(
        "results_dir", nargs="?", help="results of a GENEB-suite run (default: none; give it or --validate)"
    )
    subm.add_argument("--model", help="the model key whose results are submitted (default: none, required)")
    subm.add_argument("-o", "--output", help="the submission file to write (default: none, required)")
    subm.add_argument(
        "--allow-partial",
        action="store_true",
        help="write or accept a partial submission: not all 100 tasks x 3 regimes (marked partial in the file)",
    )
    subm.add_argument(
        "--validate",
        metavar="FILE",
        help="check FILE against the submission schema instead of writing one (default: write)",
    )

    fig = sub.add_parser(
        "figures", help="every registered figure (heatmap, scaling, regimes, winners, yours) as PNG + SVG"
    )
    fig.add_argument("source", nargs="?", default="published", help="'published' (default) or a results dir")
    fig.add_argument("-o", "--output", default="figures", help="output directory (default: ./figures)")
    fig.add_argument("--regime", default="full", choices=REGIME_NAMES, help="data regime (default: full)")
    fig.add_argument(
        "--suite",
        default=None,
        help="which suite's results, when the directory holds several (default: the only one there)",
    )


HANDLERS = {"merge": merge, "analyze": analyze, "submission": submission, "figures": figures_cmd}
