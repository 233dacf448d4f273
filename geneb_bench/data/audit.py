"""``geneb tasks --audit``: seqleak's leak linter run on each task exactly as the harness loaded it.

``tasks --check`` counts exact train/test copies (instant). A task can leak in ways that check cannot see:
near-copies, shifted windows, negatives built by shuffling the positives, a motif table or a k-mer rule that
solves the task without any model. seqleak (PyPI, Apache-2.0) measures those; this module feeds it the
sequences, labels and splits the probe sees (after normalisation, seeded splits and subsampling), keeps
its verdict, the checks that warn or fail and the best no-model rule's test MCC, and caches the report per
task fingerprint and seqleak version, so a 100k-row task is audited once. seqleak's checks are used as
they are; nothing here re-implements them.
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.suites import Suite
from geneb_bench.data.task import TaskData
from geneb_bench.io import atomic_write_text

SEQLEAK_REQUIREMENT = "seqleak>=0.4.1,<0.5"  # the range the tests run against
INSTALL_HINT = "pip install 'geneb-bench[audit]'  (or: pip install 'seqleak>=0.4.1,<0.5')"
VERDICTS = ("PASS", "WARN", "FAIL")
SCHEMA = "geneb.audit/1"


class AuditUnavailable(RuntimeError):
    """seqleak is not installed (or is outside the tested range): the message carries the install command."""


def seqleak_version() -> str:
    """The installed seqleak's version, checked against ``SEQLEAK_REQUIREMENT``."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.specifiers import SpecifierSet

    try:
        found = version("seqleak")
    except PackageNotFoundError:
        raise AuditUnavailable(f"the task audit needs seqleak: {INSTALL_HINT}") from None
    wanted = SpecifierSet(SEQLEAK_REQUIREMENT.removeprefix("seqleak"))
    if found not in wanted:
        raise AuditUnavailable(
            f"seqleak {found} is installed; geneb-bench is tested with {SEQLEAK_REQUIREMENT}: {INSTALL_HINT}"
        )
    return found


@dataclass(frozen=True)
class Flag:
    """A check that reached WARN or FAIL: seqleak's id, its statistic (what is measured), value and levels."""

    check: str
    status: str
    value: float | None
    warn: float | None
    fail: float | None
    statistic: str = ""

    def short(self) -> str:
        level = self.fail if self.status == "FAIL" and self.fail is not None else self.warn
        value = "?" if self.value is None else f"{self.value:.3f}"
        return f"{self.check} {value} >= {level:g}" if level is not None else f"{self.check} {value}"


@dataclass(frozen=True)
class TaskAudit:
    """One task's audit; ``status`` is ok, unavailable (no data here) or error (bad data, or seqleak failed)."""

    task_id: str
    category: str
    status: str = "ok"
    message: str = ""
    verdict: str = ""  # PASS, WARN or FAIL (status ok only)
    flags: tuple[Flag, ...] = ()  # FAIL checks first, then WARN
    baseline_mcc: float | None = (
        None  # best no-model rule, test MCC (seqleak selects it on test: an upper bound)
    )
    baseline_rule: str = ""
    lookup_mcc: float | None = None  # nearest-training lookup, test MCC
    fingerprint: str = ""
    seqleak_version: str = ""
    seconds: float = 0.0  # wall time of the seqleak run that produced the report
    cached: bool = field(default=False, compare=False)

    @property
    def failing(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.status == "FAIL")

    @property
    def warning(self) -> tuple[Flag, ...]:
        return tuple(f for f in self.flags if f.status == "WARN")

    def reason(self) -> str:
        """One line: why the task got its verdict (for gates and tables)."""
        if self.status != "ok":
            return self.message
        if not self.flags:
            return "no check reached its warning threshold"
        return "; ".join(f"{f.status} {f.short()}" for f in self.flags)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("cached")
        return data | {"cached": self.cached}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TaskAudit:
        fields = dict(data)
        fields["flags"] = tuple(Flag(**f) for f in fields.get("flags", ()))
        return cls(**fields)


def summarise(report: dict[str, Any], data: TaskData, version: str, seconds: float) -> TaskAudit:
    """The parts of a seqleak report (schema seqleak.audit/1) shown beside the MCCs."""
    flags = []
    for check_id, check in report["checks"].items():
        if check["status"] in ("WARN", "FAIL"):
            threshold = check.get("threshold") or {}
            flags.append(
                Flag(
                    check_id,
                    check["status"],
                    _number(check.get("value")),
                    _number(threshold.get("warn")),
                    _number(threshold.get("fail")),
                    str(check.get("statistic") or ""),
                )
            )
    flags.sort(key=lambda f: f.status != "FAIL")
    best = report.get("best_rule") or {}
    lookup = report.get("lookup_baseline") or {}
    return TaskAudit(
        task_id=data.spec.task_id,
        category=data.spec.category,
        verdict=str(report["verdict"]["status"]),
        flags=tuple(flags),
        baseline_mcc=_number(best.get("value")) if best.get("metric", "mcc") == "mcc" else None,
        baseline_rule=str(best.get("family", "")),
        lookup_mcc=_number(lookup.get("value")),
        fingerprint=data.fingerprint(),
        seqleak_version=version,
        seconds=round(seconds, 2),
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def write_inputs(data: TaskData, directory: Path) -> tuple[Path, Path]:
    """The loaded splits as seqleak reads them (``sequence,label`` CSV, labels 0..C-1 as the probe sees them)."""
    paths = []
    for name, seqs, labels in (
        ("train", data.train_sequences, data.train_labels),
        ("test", data.test_sequences, data.test_labels),
    ):
        path = directory / f"{name}.csv"
        lines = ["sequence,label", *(f"{s},{int(y)}" for s, y in zip(seqs, labels.tolist(), strict=True))]
        path.write_text("\n".join(lines) + "\n", encoding="ascii")
        paths.append(path)
    return paths[0], paths[1]


def run_seqleak(data: TaskData) -> tuple[dict[str, Any], str, float]:
    """seqleak's audit of the loaded task with its default settings (as ``seqleak audit`` runs it)."""
    version = seqleak_version()
    from seqleak.audit import load_task, run_audit, write_json

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="geneb-audit-") as tmp:
        train, test = write_inputs(data, Path(tmp))
        task = load_task(train=[str(train)], test=[str(test)], task_name=data.spec.task_id)
        report, _items = run_audit(
            task,
            quiet=True,
            version=version,
            workdir=tmp,
            argv=["geneb", "tasks", "--audit", data.spec.task_id],
        )
        write_json(
            report, Path(tmp) / "report.json"
        )  # seqleak's own serialisation (NaN -> null, numpy -> JSON)
        report = json.loads((Path(tmp) / "report.json").read_text(encoding="utf-8"))
    return report, version, time.perf_counter() - started


class AuditCache:
    """``<cache>/audit/<fingerprint>.seqleak-<version>.json``: the summary and seqleak's full report."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root) / "audit"

    def path_for(self, fingerprint: str, version: str) -> Path:
        return self.root / f"{fingerprint}.seqleak-{version}.json"

    def read(self, fingerprint: str, version: str | None = None) -> TaskAudit | None:
        """The cached audit of this task content: for ``version``, or else the newest seqleak version cached."""
        if version is not None:
            candidates = [self.path_for(fingerprint, version)]
        else:
            candidates = sorted(
                self.root.glob(f"{fingerprint}.seqleak-*.json"), key=_version_key, reverse=True
            )
        for path in candidates:
            try:
                entry = json.loads(path.read_text(encoding="utf-8"))
                audit = TaskAudit.from_json(entry["summary"])
            except (OSError, ValueError, KeyError, TypeError):
                continue  # absent, torn by hand or from another schema: audit again
            if audit.fingerprint == fingerprint:
                return TaskAudit.from_json(entry["summary"] | {"cached": True})
        return None

    def write(self, audit: TaskAudit, report: dict[str, Any]) -> Path:
        entry = {"schema": SCHEMA, "summary": audit.to_json(), "report": report}
        return atomic_write_text(
            self.path_for(audit.fingerprint, audit.seqleak_version), json.dumps(entry, indent=1) + "\n"
        )


def _version_key(path: Path) -> tuple[int, ...]:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(path.stem.rsplit(".seqleak-", 1)[1]).release
    except (IndexError, InvalidVersion):
        return ()


def audit_data(data: TaskData, cache_dir: Path | None = None, refresh: bool = False) -> TaskAudit:
    """The task's audit: from the cache when this content was audited by this seqleak version, else computed.

    A seqleak failure becomes an ``error`` row for this task; it never propagates.
    """
    version = seqleak_version()
    cache = AuditCache(cache_dir) if cache_dir is not None else None
    if cache is not None and not refresh and (hit := cache.read(data.fingerprint(), version)) is not None:
        return hit
    try:
        report, version, seconds = run_seqleak(data)
        audit = summarise(report, data, version, seconds)
    except AuditUnavailable:
        raise
    except Exception as exc:  # seqleak's own failure on this input: reported for this task only
        return TaskAudit(
            data.spec.task_id,
            data.spec.category,
            status="error",
            message=f"{data.spec.task_id}: seqleak failed: {type(exc).__name__}: {exc}",
            fingerprint=data.fingerprint(),
            seqleak_version=version,
        )
    if cache is not None:
        cache.write(audit, report)
    return audit


def audit_suite(
    suite: Suite,
    data_dir: Path | None,
    cache_dir: Path | None = None,
    task_ids: Iterable[str] = (),
    refresh: bool = False,
) -> Iterator[TaskAudit]:
    """Each task (or the named ones), loaded as the benchmark loads it; failures become rows, not crashes."""
    known = {spec.task_id: spec for spec in suite.tasks}
    for task_id in list(task_ids) or list(known):
        if task_id not in known:
            yield TaskAudit(
                task_id, "", status="error", message=f"suite {suite.name!r} has no task {task_id!r}"
            )
            continue
        spec = known[task_id]
        try:
            data = suite.load(spec.task_id, data_dir)
        except TaskUnavailable as exc:
            yield TaskAudit(spec.task_id, spec.category, status="unavailable", message=str(exc))
            continue
        except (SequenceError, ValueError) as exc:
            yield TaskAudit(spec.task_id, spec.category, status="error", message=str(exc))
            continue
        yield audit_data(data, cache_dir, refresh)


def render_line(audit: TaskAudit) -> str:
    """``VERDICT task  no-model MCC x  checks``: the line ``geneb tasks --audit`` prints per task."""
    if audit.status != "ok":
        return f"{audit.status.upper():<5} {audit.task_id}: {audit.message}"
    mcc = "n/a" if audit.baseline_mcc is None else f"{audit.baseline_mcc:.3f}"
    flags = "; ".join(f"{f.status} {f.short()}" for f in audit.flags) or "-"
    return f"{audit.verdict:<5} {audit.task_id}  no-model MCC {mcc}  {flags}"


def render_summary(audits: list[TaskAudit]) -> str:
    """The closing lines: unavailable tasks (summarised) and the verdict counts."""
    lines = []
    missing = [a for a in audits if a.status == "unavailable"]
    if missing:
        lines.append(f"{len(missing)} task(s) unavailable, e.g. {missing[0].message}")
    ok = [a for a in audits if a.status == "ok"]
    counts = ", ".join(f"{sum(a.verdict == v for a in ok)} {v}" for v in VERDICTS)
    lines.append(
        f"\n{len(ok)} audited ({counts}; {sum(a.cached for a in ok)} from the cache), "
        f"{sum(a.status == 'error' for a in audits)} with errors, {len(missing)} unavailable. "
        "no-model MCC: seqleak's best rule without a model, chosen on test (an upper bound)."
    )
    return "\n".join(lines)


def render_audits(audits: list[TaskAudit]) -> str:
    lines = [render_line(a) for a in audits if a.status != "unavailable"]
    return "\n".join([*lines, render_summary(audits)])


def run_audit_command(
    suite: Suite,
    data_dir: Path | None,
    cache_dir: Path | None,
    task_ids: list[str],
    as_json: bool,
    refresh: bool = False,
) -> int:
    """Print the audit (a line per task as it finishes, or JSON); exit 1 when a task could not be audited,
    2 without seqleak."""
    try:
        seqleak_version()
    except AuditUnavailable as exc:
        print(f"geneb tasks --audit: {exc}", file=sys.stderr)
        return 2
    audits = []
    for audit in audit_suite(suite, data_dir, cache_dir, task_ids, refresh):
        audits.append(audit)
        if not as_json and audit.status != "unavailable":
            print(render_line(audit), flush=True)
    print(json.dumps([a.to_json() for a in audits], indent=2) if as_json else render_summary(audits))
    return int(any(a.status == "error" for a in audits))
