"""The Python API: ``geneb_bench.run(...)`` runs the benchmark without pytest and returns a ``ResultSet``.

The same engine as the pytest plugin (``runner.session``: plan, resume, embed, probe, write), so a script,
a notebook or a pipeline gets the same result files and byte-identical tables as ``pytest suites/``. Per
item, a skip (model or task unavailable) or an error is recorded in ``ResultSet.problems`` and the sweep
goes on: one broken item never takes down the rest.

Arguments are checked as the command line's options are, with the same code and messages
(``preflight.check_settings``; ``runner.finish.run_verdict`` for a run that measured too little), before
any work. A single string is one model, regime or task (``"kmer-3"``, not five letters); seeds may be one
int or the command line's ``"13,17"``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from geneb_bench.locks import LockTimeout
from geneb_bench.protocol import PROBE, REGIMES, SEEDS, get_regime
from geneb_bench.results.resultset import Problem, ResultSet
from geneb_bench.runner.settings import Settings, default_cache_dir

REGIME_NAMES = tuple(regime.name for regime in REGIMES)


class RunFailed(RuntimeError):
    """The run measured too little (a selected model produced nothing, or no item did) or its tables could
    not be written. ``results`` holds what it did measure: every result file is kept."""

    def __init__(self, message: str, results: ResultSet) -> None:
        super().__init__(message)
        self.results = results


def _names(value: str | Iterable[str], what: str) -> tuple[str, ...]:
    """One name, or several: a str is one name (never its letters); anything else must be strs."""
    names = (value,) if isinstance(value, str) else tuple(value)
    bad = [n for n in names if not isinstance(n, str)]
    if bad:
        raise TypeError(f"{what}: expected names (str), got {bad[0]!r} ({type(bad[0]).__name__})")
    return names


def _seeds(value: int | str | Iterable[int]) -> tuple[int, ...]:
    """``13``, ``"13,17"`` (as ``--geneb-seeds``) or ``[13, 17]``; a bool or a float is not a seed."""
    if isinstance(value, str):
        parts: Iterable[object] = [p.strip() for p in value.split(",") if p.strip()]
    elif isinstance(value, int):
        parts = [value]
    else:
        parts = list(value)
    seeds: list[int] = []
    for part in parts:
        if isinstance(part, str) and part.lstrip("-").isdigit():
            part = int(part)
        if isinstance(part, bool) or not isinstance(part, int):
            raise ValueError(
                f"--geneb-seeds: {part!r} is not a valid probe seed (an integer). Fix: non-negative integers "
                "below 4294967296, e.g. the protocol's seeds=(13, 17, 42, 123, 997)"
            )
        seeds.append(part)
    return tuple(seeds)


def run(
    models: str | Sequence[str] = ("baselines",),
    *,
    suite: str = "lite",
    tasks: str | Sequence[str] | None = None,
    regimes: str | Sequence[str] = REGIME_NAMES,
    seeds: int | str | Sequence[int] = SEEDS,
    data_dir: Path | str | None = None,
    cache_dir: Path | str | None = None,
    results_dir: Path | str = "reports",
    device: str = "auto",
    probe: str = PROBE,
    probe_backend: str | None = None,
    long_input: str = "truncate",
    rerun: bool = False,
    memory_gb: float = 4.0,
    trust_remote_code: bool = False,
    lock_file: Path | str = "geneb.lock",
    lock_timeout_s: float = 1800.0,
    allow_skips: bool = False,
    quiet: bool = False,
) -> ResultSet:
    """Run ``models`` x ``tasks`` (task ids or category slugs of ``suite``; all when None) x ``regimes``.

    Arguments mean what the ``--geneb-*`` options of the same name mean (``pytest --help``); a bad one (an
    unknown model, regime, task, probe; a seed outside numpy's range; a results folder that is a file) is a
    ValueError before anything runs, with the command line's message. Results are written under
    ``results_dir`` as the pytest run writes them, then the tables; the returned set holds every result of
    this run. A selected model that produced no result, or a run that produced none, raises ``RunFailed``
    (``allow_skips=True``: returned with the reasons in ``problems``, as ``--geneb-allow-skips``).
    Progress (one step per item; ``tqdm.auto``, so a notebook gets its widget) and a closing line go to
    stderr unless ``quiet``, which also silences the embedding bars.
    """
    from tqdm.auto import tqdm

    from geneb_bench.data.csv_tasks import TaskUnavailable
    from geneb_bench.embeddings.engine import set_progress_output
    from geneb_bench.models.base import ModelUnavailable
    from geneb_bench.models.lockfile import pin_specs
    from geneb_bench.models.registry import did_you_mean, expand_model_names, resolve_models
    from geneb_bench.preflight import check_settings
    from geneb_bench.probe.registry import get_probe
    from geneb_bench.runner.finish import run_verdict, write_run_outputs
    from geneb_bench.runner.session import GenebSession

    started = time.time()
    names = expand_model_names(_names(models, "models"))
    wanted = set(_names(tasks, "tasks")) if tasks is not None else None
    if not names:
        raise ValueError("models must not be empty (default: the built-in baselines)")
    if wanted is not None and not wanted:
        raise ValueError("tasks must not be empty: pass task ids or category slugs, or None for every task")
    # hub branches -> commits through the lock file, as the pytest run does (models.lockfile)
    specs = pin_specs(
        resolve_models(names), Path(lock_file).expanduser(), trust_remote_code=trust_remote_code
    )
    settings = Settings(
        suite=suite,
        models=names,
        specs=specs,
        regimes=tuple(get_regime(r) for r in _names(regimes, "regimes")),
        seeds=_seeds(seeds),
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        cache_dir=Path(cache_dir or default_cache_dir()).expanduser().resolve(),
        results_dir=Path(results_dir).expanduser().resolve(),
        device=device,
        rerun=rerun,
        probe=probe,
        probe_backend=get_probe(probe, probe_backend).implementation,  # None: the probe's default
        long_input=long_input,
        memory_gb=memory_gb,
        lock_timeout_s=lock_timeout_s,
        allow_skips=allow_skips,
    )
    check_settings(settings)
    session = GenebSession(settings)
    if wanted is not None:
        known = {name for task in session.suite.tasks for name in (task.task_id, task.slug)}
        unknown = sorted(wanted - known)
        if unknown:
            session.close()
            raise ValueError(
                f"suite {session.suite.name!r} has no task {', '.join(map(repr, unknown))}: "
                f"{did_you_mean(unknown[0], known)}tasks are task ids or category slugs "
                f"(geneb tasks --suite {suite} lists them)"
            )
    plan = [i for i in session.plan() if wanted is None or wanted & {i.task.task_id, i.task.slug}]
    paths: list[Path] = []
    resumed: list[str] = []
    problems: list[Problem] = []
    measured: dict[str, int] = dict.fromkeys((s.key for s in specs), 0)
    broken: set[str] = set()  # models whose load failed, or one of whose items failed
    previous = set_progress_output(_Silent()) if quiet else None
    bar = tqdm(total=len(plan), desc="geneb", unit="item", disable=quiet, file=sys.stderr)
    try:
        for index, item in enumerate(plan):
            bar.set_postfix_str(item.id, refresh=False)
            try:
                outcome = session.run_item(item)
            except ModelUnavailable as exc:
                problems.append(Problem(item.id, "skipped", str(exc)))
                broken.add(item.model.key)
            except TaskUnavailable as exc:
                problems.append(Problem(item.id, "skipped", str(exc)))
            except Exception as exc:  # one item's failure is recorded; the sweep goes on
                problems.append(Problem(item.id, "failed", f"{type(exc).__name__}: {exc}"))
                broken.add(item.model.key)
            else:
                paths.append(outcome.path)
                measured[item.model.key] += 1
                if outcome.resumed:
                    resumed.append(str(outcome.path))
            finally:
                session.after_item(item, plan[index + 1] if index + 1 < len(plan) else None)
                bar.update()
    finally:
        bar.close()
        session.close()
        if quiet:
            set_progress_output(previous)
    results = ResultSet.from_paths(paths, problems=problems)
    if len(results):
        try:
            write_run_outputs(settings, results, resumed, time.time() - started)
        except (OSError, ValueError, LockTimeout) as exc:  # as the pytest run: a full disk, a held lock
            raise RunFailed(
                f"could not write the tables in {settings.results_dir}: {exc}. Every item's result file is "
                f"intact; once fixed, rebuild the tables with: geneb report {settings.results_dir}",
                results,
            ) from exc
    if not quiet:
        print(_closing_line(results, resumed, time.time() - started, settings.results_dir), file=sys.stderr)
    verdict = run_verdict([m for m in broken if not measured[m]], len(problems), len(set(paths)))
    if not plan:
        verdict = "nothing was measured: the selection holds no item"
    if verdict is not None and not allow_skips:
        causes = list(dict.fromkeys(f"{p.kind}: {p.message.splitlines()[0]}" for p in problems))
        shown = "; ".join(causes[:3]) + (f"; and {len(causes) - 3} more causes" if len(causes) > 3 else "")
        raise RunFailed(f"{verdict}{': ' + shown if shown else ''} (allow_skips=True accepts this)", results)
    return results


class _Silent:
    """The embedding engine's progress output when ``quiet``: no bar."""

    def open(self, total: int, progress: bool | None) -> None:
        return None


def _closing_line(results: ResultSet, resumed: list[str], seconds: float, results_dir: Path) -> str:
    skipped = sum(p.kind == "skipped" for p in results.problems)
    failed = len(results.problems) - skipped
    return (
        f"geneb: {len(results)} results ({len(resumed)} resumed), {skipped} skipped, {failed} failed in "
        f"{seconds:.0f} s; written under {results_dir}; show with the returned ResultSet "
        "(.leaderboard(), .compare_published(), .per_task(), .report())"
    )
