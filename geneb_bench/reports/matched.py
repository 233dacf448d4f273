"""Matched comparison: the user's models ranked among the 40 published ones on exactly the tasks they ran.

Interface (shared by the terminal, ``--json``, report.html and the notebook API, so all show one set of numbers):

* ``published_task_mcc() -> DataFrame``: the published per-task MCC (columns ``regime, model, display,
  provenance, task_id, category, mcc``; 41 leaderboard rows x 100 tasks x 3 regimes), shipped in
  ``reference/geneb_leaderboard_task_mcc.csv``.
* ``matched_comparison(results, regime) -> MatchedComparison | None``: None when the results are never placed
  (lite suite, custom suite, protocol variant; ``not_placed_reason(results)`` says why) or have no task
  with a result of every model in ``regime``. ``matched_comparisons(results)`` gives one per regime present.
* ``MatchedComparison``: ``regime``, ``tasks`` (T), ``categories``, ``label`` ("matched on 3/100 tasks,
  2/13 categories"), ``rows`` (``MatchedRow`` sorted by macro, descending), ``per_task`` (long: ``task_id,
  category, model, key, mcc, published``), ``note``; ``.table()`` (rows as a DataFrame), ``.per_task_wide()``,
  ``.as_dict()`` (the ``--json`` form).
* ``MatchedRow``: ``model`` (display name), ``key``, ``macro``, ``micro``, ``rank`` (1 + the number of rows
  with a strictly higher macro on T), ``rank_low``/``rank_high`` (95% bootstrap interval over the user's test
  rows; None for published rows and for results without recorded outcomes), ``published``, ``n_params``.

How (docs/comparison.md): T is the set of tasks every one of the user's models has a result on in the regime.
Each published model's macro and micro are recomputed from its per-task MCC on T by ``aggregate.leaderboard``
-- the function that aggregates the user's rows: category = mean of its tasks in T, macro = mean of the
categories T covers, micro = mean of the tasks of T. When T is the whole suite the published table's own
macro and micro are used, so a complete run is placed exactly as the full leaderboard places it. Only the 40
official rows are ranked (the self-reported community row is not).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from io import StringIO
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from geneb_bench.categories import CATEGORY_NAMES
from geneb_bench.probe.metrics import BOOTSTRAP_RESAMPLES, CI_LEVEL
from geneb_bench.protocol import PROTOCOL_VERSION, REGIMES, is_protocol
from geneb_bench.results.aggregate import GENEB_SUITE, coverage_text, leaderboard, tidy
from geneb_bench.results.record import ItemResult

GENEB_TOTAL = 100
TASK_MCC_FILE = "geneb_leaderboard_task_mcc.csv"
PUBLISHED_NOTE = (
    "published rows: the authors' per-task MCC (4 decimals) aggregated on the same tasks; they have no "
    "per-row test data, so their scores are held fixed and their ranks have no interval"
)


@cache
def _published_task_mcc() -> pd.DataFrame:
    from geneb_bench.data.suites import geneb_task_specs
    from geneb_bench.reports.published import published_table

    text = resources.files("geneb_bench.reports").joinpath("reference", TASK_MCC_FILE).read_text()
    raw = pd.read_csv(StringIO(text)).rename(columns={"leaderboard_key": "model"})
    category = {s.task_id: s.category for s in geneb_task_specs()}
    unknown = sorted(set(raw["task_id"]) - set(category))
    if unknown:
        raise ValueError(f"{TASK_MCC_FILE}: task ids not in the GENEB suite: {', '.join(unknown[:5])}")
    raw["category"] = raw["task_id"].map(category)
    table = published_table().drop_duplicates("model").set_index("model")
    raw["display"] = raw["model"].map(table["display"])
    raw["provenance"] = raw["model"].map(table["provenance"])
    columns = ["regime", "model", "display", "provenance", "task_id", "category", "mcc"]
    return raw[columns]


def published_task_mcc() -> pd.DataFrame:
    """The published MCC of every leaderboard row on every GENEB task in every regime (a copy)."""
    return _published_task_mcc().copy()


@dataclass(frozen=True)
class MatchedRow:
    model: str  # display name
    key: str  # model key (published: leaderboard key)
    macro: float
    micro: float
    rank: int
    rank_low: int | None
    rank_high: int | None
    published: bool
    n_params: float | None


@dataclass(frozen=True)
class MatchedComparison:
    regime: str
    tasks: tuple[str, ...]
    categories: tuple[str, ...]
    label: str
    rows: list[MatchedRow]
    per_task: pd.DataFrame
    note: str

    @property
    def yours(self) -> list[MatchedRow]:
        return [row for row in self.rows if not row.published]

    def table(self) -> pd.DataFrame:
        """The rows as a DataFrame (rank first); ranks are nullable integers."""
        frame = pd.DataFrame([asdict(r) for r in self.rows])
        frame = frame[
            ["rank", "rank_low", "rank_high", "model", "key", "published", "macro", "micro", "n_params"]
        ]
        for column in ("rank", "rank_low", "rank_high"):
            frame[column] = pd.array(frame[column].tolist(), dtype="Int64")
        return frame

    def per_task_wide(self, published: Sequence[str] = ()) -> pd.DataFrame:
        """Per task of T: each of the user's models' MCC, the published median, best and best model, and a
        column per published key in ``published``."""
        long = self.per_task
        theirs = long[long["published"]]
        mine = long[~long["published"]].pivot_table(index="task_id", columns="model", values="mcc")
        out = pd.DataFrame({"task_id": list(self.tasks)})
        out["category"] = out["task_id"].map(long.drop_duplicates("task_id").set_index("task_id")["category"])
        for model in [r.model for r in self.yours]:
            out[model] = out["task_id"].map(mine[model])
        grouped = theirs.groupby("task_id")["mcc"]
        out["published median"] = out["task_id"].map(grouped.median())
        best = theirs.loc[grouped.idxmax()].set_index("task_id")
        out["published best"] = out["task_id"].map(best["mcc"])
        out["best model"] = out["task_id"].map(best["model"])
        for key in published:
            values = theirs[theirs["key"] == key].set_index("task_id")["mcc"]
            if values.empty:
                raise ValueError(f"unknown published model {key!r}: see `geneb models`")
            out[f"{key} (published)"] = out["task_id"].map(values)
        return out

    def shown(self, around: int | None = 2, top: int = 3) -> pd.DataFrame:
        """The rows as people read them (rank, 95% rank interval, model, params, macro, micro, whose).

        ``around``: keep only the first ``top`` rows and ``around`` rows either side of each of yours, with a
        "..." row where rows are left out; None keeps all.
        """
        from geneb_bench.text import human_count

        keep = set(range(len(self.rows)))
        if around is not None:
            mine = [i for i, r in enumerate(self.rows) if not r.published]
            keep = set(range(min(top, len(self.rows))))
            keep |= {j for i in mine for j in range(i - around, i + around + 1) if 0 <= j < len(self.rows)}
        lines: list[list[str]] = []
        for i, row in enumerate(self.rows):
            if i not in keep:
                if lines and lines[-1][0] != "...":
                    lines.append(["...", "", "", "", "", "", ""])
                continue
            interval = "" if row.rank_low is None else f"{row.rank_low}-{row.rank_high}"
            params = "" if row.n_params is None else human_count(row.n_params)
            whose = "published" if row.published else "yours"
            lines.append(
                [str(row.rank), interval, row.model, params, f"{row.macro:.4f}", f"{row.micro:.4f}", whose]
            )
        columns = ["rank", "rank 95% CI", "model", "params", "macro", "micro", "row"]
        return pd.DataFrame(lines, columns=columns)

    def text(self, around: int | None = 2) -> str:
        """The terminal form: a heading with the label, the (windowed) table, the note."""
        from tabulate import tabulate

        shown = self.shown(around)
        table = tabulate(shown.to_numpy().tolist(), headers=list(shown.columns), disable_numparse=True)
        heading = f"{self.regime}: your models among the 40 published ones, {self.label}"
        return f"{heading}\n{table}\n({self.note})"

    def _repr_html_(self) -> str:
        import html

        caption = html.escape(f"{self.regime}: {self.label}")
        body = self.shown(around=None).to_html(index=False, escape=True)
        return f"<p><b>{caption}</b></p>{body}<p><small>{html.escape(self.note)}</small></p>"

    def __repr__(self) -> str:
        return self.text()

    def as_dict(self) -> dict[str, Any]:
        """The ``--json`` form (and what report.html reads): every row and every per-task value."""
        return {
            "regime": self.regime,
            "label": self.label,
            "tasks": list(self.tasks),
            "categories": list(self.categories),
            "note": self.note,
            "rows": [asdict(r) for r in self.rows],
            "per_task": self.per_task.to_dict(orient="records"),
        }


def not_placed_reason(results: Iterable[ItemResult]) -> str | None:
    """Why these results are never placed among the published models (None: they may be).

    Only GENEB tasks under the protocol are comparable: the lite suite is synthetic, a custom suite's tasks
    are not the published ones, and a protocol variant measured something else.
    """
    items = list(results)
    return _reason([r.suite for r in items], [r.protocol for r in items], [r.task_id for r in items])


def frame_not_placed_reason(frame: pd.DataFrame) -> str | None:
    """``not_placed_reason`` of a tidy frame (``aggregate.tidy``)."""
    suites = frame["suite"] if "suite" in frame.columns else [""] * len(frame)
    protocols = frame["protocol"] if "protocol" in frame.columns else [PROTOCOL_VERSION] * len(frame)
    return _reason(list(suites), list(protocols), list(frame["task_id"]))


def _reason(suites: Sequence[str], protocols: Sequence[str], task_ids: Sequence[str]) -> str | None:
    from geneb_bench.data.suites import geneb_task_specs
    from geneb_bench.reports.published import suite_category_sizes

    if not task_ids:
        return "no results"
    # result files written before the suite was recorded: the suite their task ids come from
    named = {str(s) for s in suites if s} | (
        {suite_category_sizes(task_ids)[0]} if not all(suites) else set()
    )
    if named != {GENEB_SUITE}:
        names = ", ".join(sorted(named))
        if "lite" in named:
            return f"suite {names}: the lite tasks are synthetic, not GENEB tasks; they are never placed"
        return f"suite {names}: custom tasks, not GENEB tasks; they are never placed"
    foreign = sorted(set(task_ids) - {s.task_id for s in geneb_task_specs()})
    if foreign:
        return f"tasks not in the GENEB suite ({', '.join(foreign[:3])}); they are never placed"
    variants = sorted({str(p) for p in protocols if not is_protocol(str(p))})
    if variants:
        return f"protocol variant {', '.join(variants)}, not {PROTOCOL_VERSION}; variants are never placed"
    return None


def _official_on(tasks: Iterable[str], regime: str) -> pd.DataFrame:
    published = _published_task_mcc()
    return published[
        (published["regime"] == regime)
        & (published["provenance"] == "official")
        & published["task_id"].isin(set(tasks))
    ]


def published_board(tasks: Iterable[str], regime: str) -> pd.DataFrame:
    """The 40 official published models on ``tasks`` (GENEB ids) in ``regime``, aggregated as the user's rows
    are (``aggregate.leaderboard``): index the leaderboard key; the categories ``tasks`` cover, macro, micro.

    For the whole suite, the published table itself (its 13 category values, macro and micro), so a complete
    run is compared with exactly the published leaderboard.
    """
    wanted = set(tasks)
    if len(wanted) == GENEB_TOTAL:
        from geneb_bench.reports.published import published_table

        table = published_table(official_only=True)
        table = table[table["regime"] == regime].set_index("model")
        return table[[*CATEGORY_NAMES, "macro", "micro"]].sort_values("macro", ascending=False, kind="stable")
    board = leaderboard(_official_on(wanted, regime), regime)
    return board.drop(columns=["n_tasks", "n_categories", "rank"])


def coverage_label(n_tasks: int, n_categories: int) -> str:
    """``"matched on 3/100 tasks, 2/13 categories"``: the label every matched number carries."""
    return f"matched on {coverage_text(n_tasks, GENEB_TOTAL, n_categories)}"


def _ranks(macros: npt.NDArray[np.float64], among: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """1 + the number of ``among`` strictly above each of ``macros`` (last axis: the values ranked against)."""
    return np.asarray(1 + np.sum(among > macros[..., None], axis=-1), dtype=np.int64)


def _replicates(group: Sequence[ItemResult], n_resamples: int) -> npt.NDArray[np.float64] | None:
    """Bootstrap replicates of one model's macro on T (``results.uncertainty``: tasks resampled
    independently, replicate b of a task the same draw for every model); None without outcomes."""
    from geneb_bench.results.uncertainty import _aggregate, item_draws

    draws = [item_draws(r, n_resamples) for r in group]
    present = [d for d in draws if d is not None]
    if len(present) < len(draws):
        return None
    return _aggregate(np.column_stack(present), [r.category for r in group])


def _number(value: object) -> float | None:
    """A parameter count as a float; None when unknown (NaN, None)."""
    number = float(value) if isinstance(value, int | float | np.number) else float("nan")
    return number if np.isfinite(number) else None


def matched_comparison(
    results: Iterable[ItemResult], regime: str, *, n_resamples: int = BOOTSTRAP_RESAMPLES
) -> MatchedComparison | None:
    """The user's models among the 40 official published ones on the tasks they ran in ``regime``.

    None when ``not_placed_reason(results)`` says they are never placed, or no task has a result of every
    model in ``regime``.
    """
    from geneb_bench.reports.published import model_metadata, recorded_params

    items = list(results)
    if not_placed_reason(items) is not None:
        return None
    mine = [r for r in items if r.regime == regime]
    if not mine:
        return None
    by_model: dict[str, list[ItemResult]] = {}
    for result in mine:
        by_model.setdefault(result.model, []).append(result)
    shared = set.intersection(*({r.task_id for r in group} for group in by_model.values()))
    if not shared:
        return None
    tasks = tuple(sorted(shared))
    user = [r for r in mine if r.task_id in shared]
    theirs = _official_on(shared, regime)
    mine_board = leaderboard(tidy(user), regime)
    their_board = published_board(shared, regime)
    categories = tuple(c for c in CATEGORY_NAMES if c in mine_board.columns)
    measured = recorded_params(user)
    entries: list[dict[str, Any]] = []
    for board, published_rows in ((their_board, True), (mine_board, False)):
        for key, values in board.iterrows():
            info = model_metadata(str(key))
            params = info["params"] if published_rows else measured.get(str(key), info["params"])
            group = sorted((r for r in user if r.model == key), key=lambda r: r.task_id)
            entries.append(
                {"key": str(key), "model": str(info["display"]), "published": published_rows}
                | {"macro": float(values["macro"]), "micro": float(values["micro"])}
                | {"n_params": _number(params)}
                | {"replicates": None if published_rows else _replicates(group, n_resamples)}
            )
    entries.sort(key=lambda e: (-e["macro"], -e["micro"], e["key"], e["published"]))
    macros = np.array([e["macro"] for e in entries])
    rows = []
    tail = (1.0 - CI_LEVEL) / 2.0 * 100.0
    for i, entry in enumerate(entries):
        low = high = None
        if entry["replicates"] is not None:
            # per replicate b: the fixed published macros and the other user rows' replicate b (paired)
            among = np.stack(
                [
                    e["replicates"] if e["replicates"] is not None else np.full(n_resamples, e["macro"])
                    for j, e in enumerate(entries)
                    if j != i
                ],
                axis=-1,
            )
            ranks = _ranks(entry["replicates"], among)
            low = int(np.percentile(ranks, tail, method="lower"))
            high = int(np.percentile(ranks, 100.0 - tail, method="higher"))
        rank = int(_ranks(np.array([entry["macro"]]), np.delete(macros, i))[0])
        rows.append(
            MatchedRow(
                model=entry["model"],
                key=entry["key"],
                macro=entry["macro"],
                micro=entry["micro"],
                rank=rank,
                rank_low=low,
                rank_high=high,
                published=entry["published"],
                n_params=entry["n_params"],
            )
        )
    display = {e["key"]: e["model"] for e in entries if not e["published"]}
    per_task = pd.concat(
        [
            pd.DataFrame(
                {
                    "task_id": theirs["task_id"],
                    "category": theirs["category"],
                    "model": theirs["display"],
                    "key": theirs["model"],
                    "mcc": theirs["mcc"],
                    "published": True,
                }
            ),
            pd.DataFrame(
                {
                    "task_id": [r.task_id for r in user],
                    "category": [r.category for r in user],
                    "model": [display[r.model] for r in user],
                    "key": [r.model for r in user],
                    "mcc": [float(r.mean["mcc"]) for r in user],
                    "published": False,
                }
            ),
        ],
        ignore_index=True,
    ).sort_values(["task_id", "published", "key"], kind="stable", ignore_index=True)
    return MatchedComparison(
        regime=regime,
        tasks=tasks,
        categories=categories,
        label=coverage_label(len(tasks), len(categories)),
        rows=rows,
        per_task=per_task,
        note=_note(by_model, shared, rows, n_resamples),
    )


def _note(
    by_model: dict[str, list[ItemResult]], shared: set[str], rows: list[MatchedRow], n_resamples: int
) -> str:
    parts = [
        "rank: 1 + the number of rows with a higher macro on the same tasks, among the 40 official published "
        f"models and your models; rank interval: {CI_LEVEL:.0%} bootstrap over your test rows "
        f"({n_resamples} replicates)",
        PUBLISHED_NOTE,
    ]
    extra = sorted(m for m, group in by_model.items() if {r.task_id for r in group} - shared)
    if extra:
        parts.append(
            f"tasks that not every one of your models ran are left out ({', '.join(extra)} ran more)"
        )
    bare = [r.model for r in rows if not r.published and r.rank_low is None]
    if bare:
        parts.append(f"no rank interval for {', '.join(bare)}: its result files hold no test outcomes")
    return "; ".join(parts)


def matched_comparisons(results: Iterable[ItemResult]) -> dict[str, MatchedComparison]:
    """One matched comparison per regime present, in protocol order ({} when never placed)."""
    items = list(results)
    out = {}
    for regime in (r.name for r in REGIMES):
        comparison = matched_comparison(items, regime)
        if comparison is not None:
            out[regime] = comparison
    return out
