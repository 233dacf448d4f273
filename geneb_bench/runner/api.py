"""The Python API: ``geneb_bench.run(...)`` runs the benchmark without pytest and returns a ``ResultSet``.

The same engine as the pytest plugin (``runner.session``: plan, resume, embed, probe, write), so a script,
a notebook or a pipeline gets the same result files and byte-identical tables as ``pytest suites/``. Per
item, a skip (model or task unavailable) or an error is recorded in ``ResultSet.problems`` and the sweep
goes on: one broken item never takes down the rest.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from geneb_bench.protocol import PROBE, REGIMES, SEEDS, get_regime
from geneb_bench.results.resultset import Problem, ResultSet
from geneb_bench.runner.settings import Settings, default_cache_dir

REGIME_NAMES = tuple(regime.name for regime in REGIMES)


def run(
    models: Sequence[str] = ("baselines",),
    *,
    suite: str = "lite",
    tasks: Sequence[str] | None = None,
    regimes: Sequence[str] = REGIME_NAMES,
    seeds: Sequence[int] = SEEDS,
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
    quiet: bool = False,
) -> ResultSet:
    """Run ``models`` x ``tasks`` (task ids or category slugs of ``suite``; all when None) x ``regimes``.

    Arguments mean what the ``--geneb-*`` options of the same name mean (``pytest --help``); an unknown
    model, regime, probe or probe implementation is a ValueError before anything runs. Results are
    written under ``results_dir`` as the pytest run writes them, then the tables; the returned set holds
    every result of this run. Progress (one step per item; ``tqdm.auto``, so a notebook gets its widget)
    and a closing line go to stderr unless ``quiet``, which also silences the embedding bars.
    """
    from geneb_bench.data.csv_tasks import TaskUnavailable
    from geneb_bench.models.base import ModelUnavailable
    from geneb_bench.models.lockfile import pin_specs
    from geneb_bench.models.registry import expand_model_names, resolve_models
    from geneb_bench.probe.registry import get_probe
    from geneb_bench.runner.finish import write_run_outputs
    from geneb_bench.runner.session import GenebSession

    started = time.time()
    names = expand_model_names(models)
    # hub branches -> commits through the lock file, as the pytest run does (models.lockfile)
    specs = pin_specs(
        resolve_models(names), Path(lock_file).expanduser(), trust_remote_code=trust_remote_code
    )
    settings = Settings(
        suite=suite,
        models=names,
        specs=specs,
        regimes=tuple(get_regime(r) for r in regimes),
        seeds=tuple(int(s) for s in seeds),
        data_dir=Path(data_dir).expanduser() if data_dir else None,
        cache_dir=Path(cache_dir or default_cache_dir()).expanduser().resolve(),
        results_dir=Path(results_dir).expanduser().resolve(),
        device=device,
        rerun=rerun,
        probe=probe,
        probe_backend=get_probe(probe, probe_backend).implementation,  # None: the probe's default
        long_input=long_input,
        memory_gb=memory_gb,
    )
    session = GenebSession(settings)
    wanted = set(tasks) if tasks is not None else None
    plan = [i for i in session.plan() if wanted is None or wanted & {i.task.task_id, i.task.slug}]
    paths: list[Path] = []
    resumed: list[str] = []
    problems: list[Problem] = []
    from tqdm.auto import tqdm

    from geneb_bench.embeddings.engine import set_progress_output

    previous = set_progress_output(_Silent()) if quiet else None
    bar = tqdm(total=len(plan), desc="geneb", unit="item", disable=quiet, file=sys.stderr)
    try:
        for index, item in enumerate(plan):
            bar.set_postfix_str(item.id, refresh=False)
            try:
                outcome = session.run_item(item)
            except (TaskUnavailable, ModelUnavailable) as exc:
                problems.append(Problem(item.id, "skipped", str(exc)))
            except Exception as exc:  # one item's failure is recorded; the sweep goes on
                problems.append(Problem(item.id, "failed", f"{type(exc).__name__}: {exc}"))
            else:
                paths.append(outcome.path)
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
        write_run_outputs(settings, results, resumed, time.time() - started)
    if not quiet:
        print(_closing_line(results, resumed, time.time() - started, settings.results_dir), file=sys.stderr)
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
