"""The benchmark item: collected by pytest once per model x task x regime (see the plugin's parametrisation).

Kept in the package so ``geneb run`` works after a plain ``pip install``; the repository's ``suites/``
imports it.
"""

from __future__ import annotations

from typing import Any

import pytest

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.models.base import ModelUnavailable
from geneb_bench.plugin import result_fields
from geneb_bench.plugin.baseline import Baseline
from geneb_bench.results.notes import one_line
from geneb_bench.runner.session import BenchItem, GenebSession


def test_geneb(
    geneb_item: BenchItem,
    geneb_session: GenebSession,
    geneb_baseline: Baseline | None,
    record_property: Any,
    request: pytest.FixtureRequest,
) -> None:
    """Embed the task with the model (cached), fit the probe for every seed, record MCC/accuracy/F1."""
    failure: str | None = None
    try:
        outcome = geneb_session.run_item(geneb_item, extra_fields=result_fields(request.node))
    except (TaskUnavailable, ModelUnavailable) as exc:  # the run report groups these by cause
        cause = "model" if isinstance(exc, ModelUnavailable) else "task"
        record_property("geneb_skip", cause)
        record_property("geneb_model", geneb_item.model.slot)
        record_property("geneb_task", geneb_item.task.task_id)
        pytest.skip(str(exc))
    except (ValueError, OSError, RuntimeError) as exc:  # bad data, degenerate embeddings, a failed write
        failure = one_line(exc)
    if failure is not None:  # outside the except: no chained traceback either
        # the cause in one line (the run report lists failed items by cause); a harness bug -- any other
        # exception -- keeps its traceback
        for name, value in (
            ("geneb_failed", failure),
            ("geneb_model", geneb_item.model.slot),
            ("geneb_task", geneb_item.task.task_id),
            ("geneb_regime", geneb_item.regime.name),
        ):
            record_property(name, value)
        pytest.fail(failure, pytrace=False)
    for name, value in outcome.properties():
        record_property(name, value)
    if geneb_baseline is not None and (regression := geneb_baseline.check_item(outcome.result)):
        pytest.fail(regression, pytrace=False)
