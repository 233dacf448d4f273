"""The published GENEB leaderboard, shipped in the package, and results dirs in the same wide form.

Source (cite this when you use the numbers): D. Ledneva, A. Nuridinov, S. Kuznetsov, "GENEB: Why Genomic
Models Are Hard to Compare", ICML 2026 (arXiv 2606.04525). Numbers transcribed from the authors' public
leaderboard (GitHub ``darlednik/GENEB``, ``leaderboard/leaderboard.json`` at commit 9642d481, after the
"fix model sizes" revision; Apache-2.0) into ``reference/geneb_leaderboard_mcc.csv`` (MCC: macro, micro and
the 13 category scores per model and regime; 40 official rows + 1 self-reported community row per regime)
and ``reference/geneb_models.csv`` (parameters, architecture, tokenization, pretraining data).

Every analysis works on one *wide table*: one row per (regime, model) with ``macro``, ``micro``, the 13
category columns, ``params``, metadata, ``provenance`` ("official", "self-reported" or "local"),
``n_tasks``, ``coverage``, ``suite`` and ``status``. Only a complete GENEB-suite run under the protocol has
``status = "complete"``; partial runs carry "partial: k/N tasks", lite and custom suites and protocol
variants say so, and nothing downstream ranks them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from importlib import resources
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.protocol import REGIMES
from geneb_bench.results.aggregate import coverage_text, frame_suite, leaderboard, rankable_run
from geneb_bench.results.aggregate import suite_category_sizes as _suite_sizes
from geneb_bench.results.record import ItemResult
from geneb_bench.results.resultset import ResultSet

CITATION = (
    'Ledneva, Nuridinov, Kuznetsov. "GENEB: Why Genomic Models Are Hard to Compare." ICML 2026 '
    "(arXiv 2606.04525); leaderboard darlednik/GENEB@9642d481."
)
META_COLUMNS = ("architecture", "tokenization", "pretraining_data")
COMPLETE = "complete"


def _reference_csv(name: str) -> pd.DataFrame:
    text = resources.files("geneb_bench.reports").joinpath("reference", name).read_text()
    return pd.read_csv(StringIO(text))


@cache
def _published_models() -> pd.DataFrame:
    return _reference_csv("geneb_models.csv").set_index("leaderboard_key")


def published_models() -> pd.DataFrame:
    """Metadata of the 40 models, indexed by leaderboard key (params as the authors print them)."""
    return _published_models().copy()


@cache
def _published() -> pd.DataFrame:
    raw = _reference_csv("geneb_leaderboard_mcc.csv")
    table = raw.rename(columns={"leaderboard_key": "model", "macro_mcc": "macro", "micro_mcc": "micro"})
    table["params"] = table["params"].astype(float)
    meta = _published_models()
    for column in META_COLUMNS:
        table[column] = table["model"].map(meta[column]).fillna("")
    table["n_tasks"] = 100
    table["coverage"] = coverage_text(100, 100, len(CATEGORY_NAMES))
    table["suite"] = "geneb"
    table["status"] = COMPLETE
    defects = published_defects()
    table["defect"] = table["model"].map(lambda m: defects[m][0] if m in defects else "")
    return table


@cache
def _published_defects() -> pd.DataFrame:
    return _reference_csv("published_defects.csv").set_index("leaderboard_key")


def published_defects() -> dict[str, tuple[str, str]]:
    """Known defects of published rows: leaderboard key -> (short label, reason with the evidence).

    Data (``reference/published_defects.csv``, from the public GENEB runtime's evidence), so every report
    marks the same rows for the same reason: a user whose correct run differs from such a row learns why.
    """
    frame = _published_defects()
    return {str(k): (str(r["defect"]), str(r["reason"])) for k, r in frame.iterrows()}


def defect_notes(models: Iterable[object]) -> list[str]:
    """One line per published model among ``models`` whose row has a known defect."""
    defects = published_defects()
    seen = dict.fromkeys(str(m) for m in models)
    return [f"published {m} row: {defects[m][0]}: {defects[m][1]}" for m in seen if m in defects]


def published_table(official_only: bool = False) -> pd.DataFrame:
    """The published MCC leaderboard as a wide table (123 rows, or the 120 official ones)."""
    table = _published().copy()
    if official_only:
        table = table[table["provenance"] == "official"]
    return table.reset_index(drop=True)


def suite_category_sizes(task_ids: Iterable[str]) -> tuple[str, dict[str, int]]:
    """Which suite these task ids come from, and how many tasks each of its categories has.

    GENEB ids map to the 100-task suite, lite ids to the lite suite; anything else is a custom suite whose
    size is what was observed (so it can only be judged against itself).
    """
    from geneb_bench.data.lite import LITE_TASKS
    from geneb_bench.data.suites import geneb_task_specs

    ids = set(task_ids)
    for name, specs in (("geneb", geneb_task_specs()), ("lite", LITE_TASKS)):
        if ids and ids <= {s.task_id for s in specs}:
            sizes: dict[str, int] = {}
            for spec in specs:
                sizes[spec.category] = sizes.get(spec.category, 0) + 1
            return name, sizes
    return "custom", {}


def partial_label(n_tasks: int, total: int) -> str:
    return COMPLETE if n_tasks >= total else f"partial: {n_tasks}/{total} tasks"


def _frame_sizes(frame: pd.DataFrame) -> tuple[str, str, dict[str, int]]:
    """(suite, protocol, tasks per category) of a tidy frame: recorded in the results; inferred from the task
    ids for result files written before the suite was recorded."""
    suite, protocol = frame_suite(frame)
    if suite:
        return suite, protocol, _suite_sizes(suite)
    inferred, sizes = suite_category_sizes(frame["task_id"])
    return inferred, protocol, sizes


def run_status(suite: str, protocol: str, n_tasks: int, total: int) -> str:
    """ "complete" only for a rankable run (``aggregate.rankable_run``); otherwise what keeps it unranked."""
    if rankable_run(suite, protocol, n_tasks):
        return COMPLETE
    if protocol and protocol != "geneb-1.0":
        return f"variant {protocol}: not ranked"
    if suite == "lite":
        return f"lite: {total} synthetic tasks, not GENEB"
    if suite != "geneb":
        return f"{suite} suite: not GENEB tasks"
    return partial_label(n_tasks, total)


def model_metadata(model: str) -> dict[str, object]:
    """Params and metadata for a local row: from the published table if the key is a published model,
    else from the registry (built-in models), else unknown."""
    meta = _published_models()
    official = _published()
    if model in meta.index:
        row = official[official["model"] == model].iloc[0]
        return {"params": float(row["params"]), "display": row["display"]} | {
            c: str(meta.loc[model, c]) for c in META_COLUMNS
        }
    from geneb_bench.models.registry import list_models

    for spec in list_models():
        if spec.key == model:
            return {
                "params": float(spec.params) if spec.params else np.nan,
                "display": spec.display_name or model,
                "architecture": spec.architecture,
                "tokenization": spec.tokenization,
                "pretraining_data": spec.pretraining_data,
            }
    return {"params": np.nan, "display": model} | dict.fromkeys(META_COLUMNS, "")


def recorded_params(results: Iterable[ItemResult]) -> dict[str, float]:
    """Per model, the parameter count its results recorded at run time (the largest, if they differ)."""
    counts: dict[str, float] = {}
    for result in results:
        if result.n_params is not None:
            counts[result.model] = max(counts.get(result.model, 0.0), float(result.n_params))
    return counts


def results_table(
    source: Path | pd.DataFrame | ResultSet, metric: str = "mcc", suite: str | None = None
) -> pd.DataFrame:
    """A results dir (or a ``ResultSet``, or a tidy frame) as a wide table, with completeness per row.

    ``n_tasks``/``status`` compare each (model, regime) against the whole suite the tasks come from, so a run
    of 14 of the 100 GENEB tasks is "partial: 14/100 tasks" even though its macro is computable. From result
    files (not a bare frame) two things are added: a model outside the published table gets the parameter
    count its run recorded (read from the checkpoint, ``models.size``), and every row gets ``macro_std``,
    ``macro_ci_low`` and ``macro_ci_high`` at the end (``results.uncertainty``).
    """
    loaded: ResultSet | None = None
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        loaded = source if isinstance(source, ResultSet) else ResultSet.load(Path(source), suite=suite)
        frame = loaded.frame
    if frame.empty:
        raise ValueError(f"no result files under {source}")
    suite, protocol, sizes = _frame_sizes(frame)
    total = sum(sizes.values()) or int(frame["task_id"].nunique())
    rows = []
    present = set(frame["regime"])
    for regime in [r.name for r in REGIMES if r.name in present]:
        board = leaderboard(frame, str(regime), metric)
        for model, values in board.iterrows():
            row: dict[str, object] = {"regime": regime, "model": model, "provenance": "local", "suite": suite}
            row |= model_metadata(str(model))
            for column in (*CATEGORY_NAMES, "macro", "micro"):
                row[column] = values.get(column, np.nan)
            row["n_tasks"] = int(values["n_tasks"])
            row["coverage"] = coverage_text(int(values["n_tasks"]), total, int(values["n_categories"]))
            row["protocol"] = protocol
            row["status"] = run_status(suite, protocol, int(values["n_tasks"]), total)
            rows.append(row)
    table = pd.DataFrame(rows)
    if loaded is None:
        return table
    from geneb_bench.results.uncertainty import with_uncertainty

    measured = recorded_params(loaded.results)
    own = [m not in _published_models().index and m in measured for m in table["model"]]
    table.loc[own, "params"] = [measured[m] for m, o in zip(table["model"], own, strict=True) if o]
    return with_uncertainty(table, loaded.results)


def category_status(frame: pd.DataFrame, model: str, regime: str) -> dict[str, str]:
    """Per category: "complete" or "partial: k/n tasks" for one model's run (tidy frame)."""
    suite, protocol, sizes = _frame_sizes(frame)
    sub = frame[(frame["model"] == model) & (frame["regime"] == regime)]
    counts = sub.groupby("category")["task_id"].nunique()
    if suite != "geneb" or protocol != "geneb-1.0":
        label = run_status(suite, protocol, 0, sum(sizes.values()))
        return dict.fromkeys(CATEGORY_NAMES, label)
    return {
        c: partial_label(int(counts.get(c, 0)), sizes.get(c, int(counts.get(c, 0)))) for c in CATEGORY_NAMES
    }


def load_table(source: str | Path | None = None, suite: str | None = None) -> pd.DataFrame:
    """``None``/"published": the published table; otherwise a results directory (one suite of it)."""
    if source is None or str(source) == "published":
        return published_table()
    return results_table(Path(source), suite=suite)


def family(label: object) -> str:
    """Coarse group of a metadata label: the text before any parenthesis ("T-dec (Llama-style)" -> "T-dec")."""
    text = re.sub(r"\s*\(.*", "", str(label or "")).strip()
    return text or "unknown"
