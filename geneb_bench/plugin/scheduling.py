"""xdist's ``loadgroup`` scheduler, made to survive a worker that dies mid-item.

A plain ``-n N`` runs the sweep under ``loadgroup`` (see ``pytest_configure``). Workers do die in week-long
sweeps: the kernel's OOM killer, a pre-empted node, a segfault in a model's kernel. pytest-xdist 3.8's
``loadgroup`` scheduler then hangs for ever (a dead worker's finished units go back on the queue, a
replacement waits for a "next item" that never comes: xdist issues #1323, #1327, #1378) or stops the
run with ``INTERNALERROR KeyError`` (a replacement scheduled before its collection is in: #1189, #1362).
Seen here with pytest 9.2 / xdist 3.8.0: one ``SIGKILL`` in a 4-item sweep hung 3 runs of 3 and ended
another with the ``KeyError`` (tests/reliability/test_faults.py has the scenario).

It also groups by itself: xdist 3.8 names an item's group by appending ``@group`` to ``item._nodeid``, which
pytest 9.2 no longer reads (``nodeid`` comes from ``_id``), so every item became its own group and a model was
loaded on every worker. Here the group of a benchmark item comes from the plan (its model key), found by the
parametrize id in the node id; other tests keep xdist's rule.

For crashes, this subclass changes only what a crash touches: only unfinished work goes back on the queue, the item
the worker died on is not run again (xdist reports it failed; the next run's resume computes it), a
worker is scheduled only once its collection is in, and a worker given the last unit is told that nothing
more is coming.
"""

from __future__ import annotations

from typing import Any

from xdist.scheduler import LoadGroupScheduling


class CrashSafeLoadGroupScheduling(LoadGroupScheduling):  # type: ignore[misc]  # xdist is untyped here
    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        from geneb_bench.plugin import get_session

        self.model_of_param = {item.id: item.model.key for item in get_session(config).plan()}

    def _split_scope(self, nodeid: str) -> str:
        """A benchmark item's group is its model; anything else as xdist decides (``@group`` or the node id)."""
        if "@" not in nodeid and nodeid.endswith("]"):
            model = self.model_of_param.get(nodeid.partition("[")[2][:-1])
            if model is not None:
                return f"geneb-model:{model}"
        return str(super()._split_scope(nodeid))

    def remove_node(self, node: Any) -> str | None:
        workload: dict[str, dict[str, bool]] = self.assigned_work.pop(node)
        pending = [nodeid for unit in workload.values() for nodeid, done in unit.items() if not done]
        if not pending:
            return None
        crashitem = pending[0]  # items of a unit run in order: the first unfinished one was running
        for scope, unit in workload.items():
            unit.pop(crashitem, None)
            if unit and not all(unit.values()):
                self.workqueue[scope] = {nodeid: False for nodeid, done in unit.items() if not done}
        for other in list(self.assigned_work):
            self._reschedule(other)
        return crashitem

    def _reschedule(self, node: Any) -> None:
        if node in self.registered_collections:  # a replacement still collecting gets work once it is done
            super()._reschedule(node)

    def _assign_work_unit(self, node: Any) -> None:
        super()._assign_work_unit(node)
        if not self.workqueue and not node.shutting_down:
            node.shutdown()  # nothing more will come: let the worker run its last item now
