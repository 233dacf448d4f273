"""The ``geneb`` command: run the benchmark, list tasks and models, rebuild reports from result files."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from geneb_bench.embeddings.cache import CacheEntry, EmbeddingCache
    from geneb_bench.embeddings.store import SequenceStore, ShardEntry
    from geneb_bench.results.resultset import ResultSet


def _run(args: argparse.Namespace, extra: list[str]) -> int:
    """Run the packaged benchmark through pytest (works outside the repository after ``pip install``)."""
    import pytest

    from geneb_bench import benchmark

    results_dir = Path(args.results_dir)
    argv = [
        benchmark.__file__,
        "-p",
        "no:cacheprovider",
        "-o",
        "junit_family=xunit1",
        f"--rootdir={Path.cwd()}",
        f"--geneb-results-dir={results_dir}",
        f"--junitxml={results_dir / 'junit.xml'}",
        *extra,
    ]
    status = int(pytest.main(argv))
    return _RUN_STATUS.get(status, status)


# pytest's exit statuses as geneb's (docs/options.md, "Exit statuses"): its usage error (4) and a selection that
# matches nothing (5) are usage errors, 2; 0, 1 (a failed item or run) and 2 (interrupted) are already so.
_RUN_STATUS = {4: 2, 5: 2}


def _tasks(args: argparse.Namespace) -> int:
    from geneb_bench.data.suites import get_suite

    suite = get_suite(args.suite)
    if args.check:
        from geneb_bench.data.check import run_check

        data_dir = args.data_dir or os.environ.get("GENEB_DATA_DIR")
        return run_check(suite, Path(data_dir) if data_dir else None, args.json)
    if args.audit:
        from geneb_bench.data.audit import run_audit_command

        known = {t.task_id for t in suite.tasks}
        unknown = [t for t in args.task or [] if t not in known]
        if unknown:  # a bad argument (2), not a task that failed its audit (1)
            raise ValueError(f"suite {suite.name!r} has no task {', '.join(map(repr, unknown))}")

        data_dir = args.data_dir or os.environ.get("GENEB_DATA_DIR")
        return run_audit_command(
            suite,
            Path(data_dir) if data_dir else None,
            _cache_dir(args.cache_dir),
            args.task or [],
            args.json,
            args.refresh,
        )
    rows = [
        {
            "task_id": t.task_id,
            "category": t.category,
            "slug": t.slug,
            "n_classes": t.n_classes,
            "source": t.source,
            "description": t.description,
            "location": str(t.location) if t.location else None,
        }
        for t in suite.tasks
    ]
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    from tabulate import tabulate

    print(
        tabulate(
            [[r["task_id"], r["category"], r["n_classes"] or "?"] for r in rows],
            headers=["task_id", "category", "classes"],
        )
    )
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r["category"])] = counts.get(str(r["category"]), 0) + 1
    print(f"\n{len(rows)} tasks in suite {suite.name!r}: " + ", ".join(f"{c} {n}" for c, n in counts.items()))
    return 0


def _cache_dir(given: str | None) -> Path:
    """``--cache-dir``, else ``$GENEB_CACHE_DIR``, else the user cache dir (as the plugin resolves it)."""
    from geneb_bench.runner.settings import default_cache_dir

    return Path(given).expanduser() if given else default_cache_dir()


def _models(args: argparse.Namespace) -> int:
    from geneb_bench.models.recipe import describe_recipe
    from geneb_bench.models.registry import list_models

    specs = list_models()
    if args.check:
        from geneb_bench.models.check import check_models

        checked = check_models(specs)
        if args.json:
            print(json.dumps([vars(c) for c in checked], indent=2))
            return 0
        rows = [[c.key, c.verdict, c.why, c.revision[:12]] for c in checked]
        print(_wrapped_table(rows, ["key", "here", "why", "revision"], wrap=(2,)))
        runs = sum(c.verdict == "runs" for c in checked)
        print(
            f"\n{runs} of {len(checked)} models would run here, {len(checked) - runs} would be skipped; "
            "as data: geneb models --check --json"
        )
        return 0
    if args.json:
        print(json.dumps([s.metadata() | {"recipe": describe_recipe(s)} for s in specs], indent=2))
        return 0
    from geneb_bench.text import human_count

    # the family is in --json (group already tells a baseline from a GENEB model): room for the keys
    rows = [
        [
            s.key,
            human_count(s.params) if s.params else "",
            s.group,
            s.architecture,
            str(s.source or s.weights_note or s.weights or ""),
        ]
        for s in specs
    ]
    print(_wrapped_table(rows, ["key", "params", "group", "architecture", "weights"], wrap=(3, 4)))
    counts = {g: sum(s.group == g for s in specs) for g in ("geneb", "baseline", "extra")}
    print(
        f"\n{counts['geneb']} GENEB models, {counts['baseline']} baselines, {counts['extra']} extras; "
        "recipes and families: geneb models --json\n"
        "in a run, --geneb-model zoo names the 40 GENEB models, --geneb-model controls every control"
    )
    return 0


def _wrapped_table(rows: list[list[str]], headers: list[str], wrap: tuple[int, ...]) -> str:
    """A plain table as wide as the terminal (at least 120 columns): the columns not in ``wrap`` are
    shown in full (keys are never cut: they are what you type), those in ``wrap`` share the space left
    in proportion to their longest value and wrap within it (at least 16 columns each)."""
    import shutil

    from tabulate import tabulate

    width = max(120, shutil.get_terminal_size((120, 24)).columns)
    longest = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    left = width - sum(longest[i] + 2 for i in range(len(headers)) if i not in wrap)
    total = sum(longest[i] + 2 for i in wrap)
    widths: list[int | None] = [None] * len(headers)
    for i in wrap:
        widths[i] = min(longest[i], max(16, left * (longest[i] + 2) // total - 2))
    return str(tabulate(rows, headers=headers, maxcolwidths=widths))


def _report(args: argparse.Namespace) -> int:
    from geneb_bench.reports.commands import report_extras, report_results
    from geneb_bench.results.render import render_text, write_reports
    from geneb_bench.results.resultset import ResultSet

    results = ResultSet.of_suite(report_results(Path(args.results_dir)), args.results_dir, args.suite)
    frame = results.frame
    if frame.empty:
        raise ValueError(f"no result files under {args.results_dir}")
    if not args.json:
        print(render_text(frame, args.metric, transpose=True))
    from geneb_bench.results.audited import audited_regimes, find_audits, fingerprints, render_audit_text

    args.audit_cache_dir = None if args.no_audit else _cache_dir(args.cache_dir)
    audits = (
        {}
        if args.no_audit
        else find_audits(fingerprints(results), Path(args.results_dir), args.audit_cache_dir)
    )
    if audits and not args.json:
        print(render_audit_text(frame, audits, regimes=audited_regimes(frame)[:1]))
    own_folder = not args.output
    written = write_reports(frame, _report_folder(args, results), audits)
    if not args.json:
        print("\n".join(f"wrote {path}" for path in written))
    extras = report_extras(args, frame, results.results)
    if own_folder:  # after report.html: the index says whether there is one
        from geneb_bench.runner.finish import write_index

        written.append(write_index(Path(args.results_dir)))
        if not args.json:
            print(f"wrote {written[-1]}")
    if args.json:
        from geneb_bench.reports.commands import print_json, report_document

        print_json(report_document(args, frame, audits) | {"written": [str(p) for p in written]} | extras)
    return 0


def _report_folder(args: argparse.Namespace, results: ResultSet) -> Path:
    """``-o`` as given, else the suite's own tables folder ``RESULTS_DIR/<suite>[+variant]`` (as a run
    writes it), which report.html then joins."""
    if args.output:
        return Path(args.output)
    from geneb_bench.runner.finish import table_scope, tables_dir

    args.output = str(tables_dir(Path(args.results_dir), table_scope(results, "")))
    return Path(args.output)


def _slurm(args: argparse.Namespace, extra: list[str]) -> int:
    from geneb_bench.cluster.slurm import SlurmJob, login_download, submit, submit_hint

    results = Path(args.results_dir).resolve()
    job = SlurmJob(
        shards=args.shards,
        results_dir=results,
        cache_dir=Path(args.cache_dir).resolve() if args.cache_dir else results / "cache",
        pytest_args=[a for a in extra if a != "--"],
        partition=args.partition,
        time=args.time,
        cpus_per_task=args.cpus,
        mem=args.mem,
        gpus_per_task=args.gpus,
        python=args.python,
        download=args.download,
        hf_home=Path(args.hf_home).resolve() if args.hf_home else None,
        extra_sbatch=tuple(args.sbatch or ())
        + tuple(
            f"--{name}={value}"
            for name in ("account", "qos", "constraint", "gres")
            if (value := getattr(args, name)) is not None
        ),
    )
    array, merge = job.write(Path(args.scripts_dir).resolve() if args.scripts_dir else results)
    print(f"wrote {array}\nwrote {merge}")
    download = job.download_job(array.parent)
    if job.download == "login" and login_download(job) != 0:
        print("geneb slurm: the download failed (above): nothing submitted; the scripts are written")
        return 1
    if args.submit:
        try:
            array_id, merge_id = submit(array, merge, download)
        except RuntimeError as exc:  # sbatch refused the job (an unknown account, partition...): input
            raise ValueError(f"{exc}; the scripts are written: fix and submit them yourself") from None
        print(f"submitted array job {array_id} ({args.shards} shards) and merge job {merge_id}")
    else:
        print(f"submit with: {submit_hint(array, merge, download)}")
    return 0


def _cache(args: argparse.Namespace) -> int:
    """``geneb cache ls|du|verify|prune``: see, check and trim the embedding cache (verify reads every byte);
    all four cover the per-model sequence store too (``--max-size-gb`` drops the least recently used
    of both until the total fits). ``--json``: the same as one JSON document (sizes in bytes)."""
    from geneb_bench.embeddings.cache import EmbeddingCache
    from geneb_bench.embeddings.store import SequenceStore
    from geneb_bench.runner.settings import default_cache_dir

    root = Path(args.cache_dir) if args.cache_dir else default_cache_dir()
    cache, store = EmbeddingCache(root), SequenceStore(root)
    doc: dict[str, object] = {"action": args.action, "root": str(root)}
    if args.action == "prune":
        return _cache_prune(args, cache, store, doc)
    if args.action == "verify":
        return _cache_verify(args, cache, store, doc)
    return _cache_list(args, cache, store, doc)


def _cache_prune(
    args: argparse.Namespace, cache: EmbeddingCache, store: SequenceStore, doc: dict[str, object]
) -> int:
    from geneb_bench.embeddings.cache import over_budget
    from geneb_bench.reports.commands import print_json

    older = args.older_than_days * 86400 if args.older_than_days is not None else None
    removed = [e.size for e in cache.prune(older_than_s=older, model=args.model)]
    removed += [e.size for e in store.prune(older_than_s=older, model=args.model)]
    if args.max_size_gb is not None:  # one budget over both, least recently used first
        both: list[CacheEntry | ShardEntry] = [*cache.entries(), *store.shards()]
        newest_first = sorted(both, key=lambda e: -e.last_used)
        for entry in over_budget(newest_first, int(args.max_size_gb * 1e9)):
            entry.remove()
            removed.append(entry.size)
    if args.json:
        print_json(doc | {"removed": len(removed), "removed_bytes": sum(removed)})
    else:
        print(f"removed {len(removed)} entries and shards ({sum(removed) / 1e6:.1f} MB) from {doc['root']}")
    return 0


def _cache_verify(
    args: argparse.Namespace, cache: EmbeddingCache, store: SequenceStore, doc: dict[str, object]
) -> int:
    """Every per-task entry and sequence-store shard re-read; exit 1 when one is corrupt (0 once ``--remove``
    deleted them)."""
    from geneb_bench.embeddings.store_verify import verify_shards
    from geneb_bench.reports.commands import print_json

    problems = []
    checked = {"entries": 0, "shards": 0}
    for entry, problem in cache.verify():
        checked["entries"] += 1
        if problem is not None:
            if args.remove:
                entry.path.unlink(missing_ok=True)
            problems.append(
                {"path": str(entry.path), "model": entry.model, "task": entry.task, "problem": problem}
            )
    bad_entries = len(problems)
    for shard, problem in verify_shards(store):
        checked["shards"] += 1
        if problem is not None:
            if args.remove:  # the index first (an unreadable one is not in ``shard.index``)
                shard.vectors.with_suffix(".index").unlink(missing_ok=True)
                shard.remove()
            problems.append(
                {"path": str(shard.vectors), "model": shard.model, "task": "(store)", "problem": problem}
            )
    bad = len(problems)
    if args.json:
        print_json(
            doc
            | {
                "checked": sum(checked.values()),
                "store_shards_checked": checked["shards"],
                "bad": problems,
                "removed": bool(args.remove),
            }
        )
    else:
        for item in problems:
            print(
                f"{'removed' if args.remove else 'BAD'} {item['path']} ({item['model']}, {item['task']}): "
                f"{item['problem']}"
            )
        hint = "" if not bad or args.remove else "; --remove deletes them (they would be recomputed anyway)"
        print(
            f"{checked['entries']} entries checked, {bad_entries} bad; {checked['shards']} store shards "
            f"checked, {bad - bad_entries} bad in {cache.root}{hint}"
        )
    return 1 if bad and not args.remove else 0


def _cache_list(
    args: argparse.Namespace, cache: EmbeddingCache, store: SequenceStore, doc: dict[str, object]
) -> int:
    """``ls`` (every entry and store shard) and ``du`` (per model), each ending with the totals."""
    from tabulate import tabulate

    from geneb_bench.reports.commands import print_json

    entries, shards = cache.entries(), store.shards()
    if args.action == "ls":
        if args.json:
            doc["entries"] = [
                {
                    "model": e.model,
                    "task": e.task,
                    "bytes": e.size,
                    "last_used": _iso(e.last_used),
                    "path": str(e.path),
                }
                for e in entries
            ]
            doc["store_shards"] = [
                {
                    "model": s.model,
                    "sequences": s.sequences,
                    "bytes": s.size,
                    "last_used": _iso(s.last_used),
                    "path": str(s.vectors),
                }
                for s in shards
            ]
        else:
            rows = [
                [
                    e.model,
                    e.task,
                    f"{e.size / 1e6:.2f}",
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(e.last_used)),
                    e.path.name[:16],
                ]
                for e in entries
            ]
            rows += [
                [
                    s.model,
                    f"(store: {s.sequences:,} sequences)",
                    f"{s.size / 1e6:.2f}",
                    time.strftime("%Y-%m-%d %H:%M", time.localtime(s.last_used)),
                    s.vectors.name[:16],
                ]
                for s in shards
            ]
            print(tabulate(rows, headers=["model", "task", "MB", "last used", "entry"]))
    per_model: dict[str, list[int]] = {}  # model -> [cache bytes, store bytes, stored sequences]
    for e in entries:
        per_model.setdefault(e.model, [0, 0, 0])[0] += e.size
    for s in shards:
        counts = per_model.setdefault(s.model, [0, 0, 0])
        counts[1] += s.size
        counts[2] += s.sequences
    if args.action == "du":
        if args.json:
            doc["models"] = [
                {"model": m, "cache_bytes": c, "store_bytes": b, "stored_sequences": n}
                for m, (c, b, n) in sorted(per_model.items())
            ]
        else:
            table = sorted(
                [m, f"{c / 1e6:.1f}", f"{b / 1e6:.1f}", f"{n:,}"] for m, (c, b, n) in per_model.items()
            )
            print(tabulate(table, headers=["model", "task cache MB", "store MB", "stored sequences"]))
    total = sum(c + b for c, b, _ in per_model.values())
    if args.json:
        print_json(doc | {"n_entries": len(entries), "n_store_shards": len(shards), "total_bytes": total})
    else:
        print(f"{len(entries)} entries, {len(shards)} store shards, {total / 1e6:.1f} MB in {doc['root']}")
    return 0


def _iso(timestamp: float) -> str:
    """A file time as ISO 8601 in UTC (the text form shows local minutes)."""
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat(timespec="seconds")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="geneb", description=__doc__)
    parser.add_argument("--version", action="version", version=f"geneb-bench {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run", help="run the benchmark (extra arguments go to pytest, e.g. --geneb-model, -k, -n)"
    )
    run.add_argument("--results-dir", default="reports", help="results directory (default: ./reports)")
    tasks = sub.add_parser("tasks", help="list the tasks of a suite")
    tasks.add_argument(
        "--suite", default="lite", help="lite, geneb or a path to a .toml suite file (default: lite)"
    )
    tasks.add_argument("--json", action="store_true", help="machine-readable output")
    tasks.add_argument(
        "--check",
        action="store_true",
        help="load every task: sizes, classes, balance, lengths, train/test duplicates (leak report)",
    )
    tasks.add_argument(
        "--data-dir", default=None, help="--check/--audit: local GENEB data (default: $GENEB_DATA_DIR)"
    )
    tasks.add_argument(
        "--audit",
        action="store_true",
        help="run seqleak's leak audit on each task as loaded: verdict, failing/warning checks, "
        "no-model MCC (needs geneb-bench[audit]; cached per task content)",
    )
    tasks.add_argument(
        "--task",
        action="append",
        default=None,
        metavar="TASK_ID",
        help="--audit: only this task, repeatable (default: every task of the suite)",
    )
    tasks.add_argument(
        "--cache-dir", default=None, help="--audit: cache (default: $GENEB_CACHE_DIR or the user cache dir)"
    )
    tasks.add_argument("--refresh", action="store_true", help="--audit: recompute cached audits")
    models = sub.add_parser("models", help="list the registered models")
    models.add_argument(
        "--json", action="store_true", help="machine-readable output, with each model's recipe"
    )
    models.add_argument(
        "--check",
        action="store_true",
        help="what a run here would do with each model: runs, or skips and why; pinned revision",
    )
    report = sub.add_parser("report", help="rebuild the leaderboard tables from result files")
    report.add_argument("results_dir", help="a results directory (reports/ by default in a run)")
    report.add_argument(
        "--metric", default="mcc", choices=("mcc", "accuracy", "f1"), help="metric shown (default mcc)"
    )
    report.add_argument(
        "-o",
        "--output",
        default=None,
        help="where to write the tables and report.html (default: RESULTS_DIR/<suite>[+variant], the run's own "
        "tables folder; RESULTS_DIR/index.md lists them)",
    )
    report.add_argument(
        "--compare-published",
        action="store_true",
        help="place the models among the 40 published ones on the same tasks (matched comparison), per "
        "regime and category; lite and custom suites are never placed",
    )
    report.add_argument(
        "--per-task",
        action="store_true",
        help="each task's MCC beside the published models' on it (median, best, and --published ones)",
    )
    report.add_argument(
        "--published",
        action="append",
        metavar="KEY",
        help="with --per-task: also show this published model's per-task MCC (leaderboard key), repeatable (default: none)",
    )
    report.add_argument("--html", action="store_true", help="also write a self-contained report.html")
    report.add_argument(
        "--cache-dir",
        default=None,
        help="task audits cached by `geneb tasks --audit` (default: $GENEB_CACHE_DIR or the user "
        "cache dir); shown beside the MCCs when they match the results' task data",
    )
    report.add_argument("--no-audit", action="store_true", help="leave task audits out of the tables")
    report.add_argument(
        "--json",
        action="store_true",
        help="print one JSON document (tables, notes, files written) instead of the text",
    )
    report.add_argument(
        "--suite",
        default=None,
        help="which suite's results (lite, geneb, a custom suite or a variant folder such as "
        "lite+seeds__1__2__3), when the directory holds several: they never share a table "
        "(default: the only suite there)",
    )
    slurm = sub.add_parser(
        "slurm", help="write (and --submit) a Slurm job array over shards plus a merge job"
    )
    slurm.add_argument("--shards", type=int, required=True, help="number of array tasks (>= 1)")
    slurm.add_argument(
        "--results-dir",
        default="reports",
        help="where shard results and the merged report go (default: ./reports)",
    )
    slurm.add_argument("--cache-dir", default=None, help="shared embedding cache (default: RESULTS/cache)")
    slurm.add_argument("--scripts-dir", default=None, help="where the .sbatch files go (default: RESULTS)")
    slurm.add_argument(
        "--partition", default=None, help="#SBATCH --partition (default: none, the cluster's default)"
    )
    slurm.add_argument("--account", default=None, help="#SBATCH --account (default: none)")
    slurm.add_argument("--qos", default=None, help="#SBATCH --qos (default: none)")
    slurm.add_argument(
        "--constraint", default=None, help="#SBATCH --constraint, e.g. a GPU type (default: none)"
    )
    slurm.add_argument("--gres", default=None, help="#SBATCH --gres, e.g. gpu:a100:1 (default: none)")
    slurm.add_argument(
        "--sbatch",
        action="append",
        metavar="OPTION",
        help="any other #SBATCH line, repeatable, e.g. --sbatch=--mail-type=END (default: none)",
    )
    slurm.add_argument(
        "--time",
        default="24:00:00",
        help="time limit of each shard (default: 24:00:00; the merge job asks 30 min)",
    )
    slurm.add_argument(
        "--cpus", type=int, default=4, help="CPUs per shard (default: 4; the merge job asks 1)"
    )
    slurm.add_argument("--mem", default="32G", help="memory per shard (default: 32G; the merge job asks 4G)")
    slurm.add_argument("--gpus", type=int, default=0, help="GPUs per array task (default: 0)")
    slurm.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter on the compute nodes (default: this one, %(default)s)",
    )
    slurm.add_argument(
        "--download",
        choices=("none", "login", "job"),
        default="none",
        help="fetch the suite's tasks and the models into the hub cache first: login (here, now) or job (a "
        "job the array waits for); the shards then run with HF_HUB_OFFLINE=1 (default: none)",
    )
    slurm.add_argument(
        "--hf-home",
        default=None,
        help="HF_HOME exported to the jobs: a hub cache the nodes share (default: the environment's)",
    )
    slurm.add_argument("--submit", action="store_true", help="call sbatch now")
    cache = sub.add_parser(
        "cache", help="list (ls), size up (du), check (verify) or trim (prune) the embedding cache"
    )
    cache.add_argument(
        "action",
        choices=("ls", "du", "verify", "prune"),
        help="ls: entries; du: size per model; verify: re-read every entry and sequence-store shard and check its checksum; prune: remove",
    )
    cache.add_argument("--remove", action="store_true", help="verify: delete the bad entries")
    cache.add_argument(
        "--json", action="store_true", help="print one JSON document (sizes in bytes) instead of the text"
    )
    cache.add_argument(
        "--cache-dir", default=None, help="the cache (default: $GENEB_CACHE_DIR or the user cache dir)"
    )
    cache.add_argument(
        "--older-than-days",
        type=float,
        default=None,
        help="prune: entries unused this long (default: any age)",
    )
    cache.add_argument(
        "--model", default=None, help="prune: every entry of this model key (default: all models)"
    )
    cache.add_argument(
        "--max-size-gb",
        type=float,
        default=None,
        help="prune: least recently used first until under (default: no size bound)",
    )
    from geneb_bench import download, plan
    from geneb_bench.reports.commands import add_parsers

    add_parsers(sub)
    download.add_parser(sub)
    plan.add_parser(sub)
    return parser


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("geneb-bench")
    except metadata.PackageNotFoundError:
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `geneb models | head`: the reader left; not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command not in {"run", "slurm"}:
        parser.error(f"unrecognised arguments: {' '.join(extra)}")
    from geneb_bench import download, plan
    from geneb_bench.reports.commands import HANDLERS

    handlers = {"tasks": _tasks, "models": _models, "report": _report, "cache": _cache, **HANDLERS}
    handlers |= {"download": download.run, "plan": plan.run}
    try:
        if args.command == "run":
            return _run(args, extra)
        if args.command == "slurm":
            return _slurm(args, extra)
        return handlers[args.command](args)
    except BrokenPipeError:
        raise
    except (ValueError, OSError) as exc:  # refused input, a missing or unreadable file: a usage error
        print(f"geneb {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
