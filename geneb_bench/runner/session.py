"""The benchmark session: plans the items, loads tasks and models lazily, runs the probe, writes results.

One per pytest process (each xdist worker has its own). Models are built on first use and released as
soon as the next item belongs to another model; embeddings are computed once per (model, task), kept in
memory for that task's regimes (on the probe's device too, with the torch probe) and cached on disk across
runs.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geneb_bench import __version__
from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.suites import Suite, get_suite
from geneb_bench.data.task import TaskData, TaskSpec
from geneb_bench.embeddings import health
from geneb_bench.embeddings.cache import EmbeddingCache
from geneb_bench.embeddings.engine import PADDING_POLICY
from geneb_bench.embeddings.key import embedding_key
from geneb_bench.embeddings.memory import EmbeddingStore
from geneb_bench.embeddings.store import EmbedStats, SequenceStore
from geneb_bench.models.base import Embedder, ModelSpec
from geneb_bench.models.loading import effective_dtype
from geneb_bench.models.registry import build_embedder
from geneb_bench.probe.registry import get_probe
from geneb_bench.protocol import Regime, protocol_label
from geneb_bench.resources import measure, reset_cuda_peak, tokens_embedded
from geneb_bench.results.provenance import Provenance, canonical
from geneb_bench.results.record import ItemResult, read_result, result_path, scope_name, write_result
from geneb_bench.runner.settings import Settings

ExtraFields = Callable[[ItemResult], Mapping[str, Any]]

# Embedders cheaper to rerun than to read back: k-mer spectra (kmer-6 is 4,096 floats a sequence). They still
# embed each distinct sequence of a task once, but keep nothing in the per-model sequence store.
RECOMPUTED_FAMILIES = frozenset({"kmer"})
# Families whose vectors come from the extraction engine (padded to its width grid): results record the grid.
ENGINE_FAMILIES = frozenset({"hf", "random-transformer", "evo2"})


@dataclass(frozen=True)
class BenchItem:
    """One pytest item: model x task x regime."""

    model: ModelSpec
    task: TaskSpec
    regime: Regime

    @property
    def group(self) -> str:
        """The unit of sharding: one (model, task), so its embeddings are computed once."""
        return f"{self.model.key}::{self.task.task_id}"

    @property
    def id(self) -> str:
        return f"{self.model.slot}-{self.task.slug}-{self.task.task_id}-{self.regime.name}"


@dataclass(frozen=True)
class Outcome:
    result: ItemResult
    path: Path
    embeddings_cached: bool
    resumed: bool = False  # loaded from an earlier run's result file, not recomputed

    def properties(self) -> list[tuple[str, Any]]:
        """What goes to JUnit XML via ``record_property`` (the channel that survives xdist)."""
        r = self.result
        return [
            ("geneb_model", r.model),
            ("geneb_task", r.task_id),
            ("geneb_category", r.category),
            ("geneb_regime", r.regime),
            ("mcc", round(r.mean["mcc"], 6)),
            ("mcc_std", round(r.std["mcc"], 6)),
            ("accuracy", round(r.mean["accuracy"], 6)),
            ("f1", round(r.mean["f1"], 6)),
            ("geneb_result", str(self.path)),
            ("geneb_resumed", self.resumed),
        ]


def _limit_threads() -> None:
    """Under xdist, give each worker its share of the cores (BLAS threads x workers <= cores)."""
    if int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or "1") <= 1:
        return
    from threadpoolctl import threadpool_limits

    from geneb_bench.probe.threads import available_cores

    share = available_cores()

    threadpool_limits(limits=share)
    os.environ.setdefault("OMP_NUM_THREADS", str(share))


class GenebSession:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.suite: Suite = get_suite(settings.suite)
        self.models: list[ModelSpec] = list(settings.specs)
        self.cache = EmbeddingCache(settings.cache_dir, lock_timeout=settings.lock_timeout_s)
        self._tasks: dict[str, TaskData | Exception] = {}
        self._embedders: dict[str, Embedder | Exception] = {}
        self._n_params: dict[str, int | None] = {}
        self.health: dict[tuple[str, str], dict[str, Any]] = {}  # (model, task) -> embeddings.health record
        self.memory = EmbeddingStore(int(settings.memory_gb * 2**30))
        self.sequences = SequenceStore(settings.cache_dir)  # per model: each distinct sequence embedded once
        self.embed_stats: list[tuple[str, str, EmbedStats]] = []  # (model, task, what was computed)
        self._threads_limited = False
        self.token_budgets: dict[tuple[str, str], int] = {}  # (model, task) -> token budget of its vectors
        self.protocol = protocol_label(
            settings.seeds, settings.probe_backend, settings.long_input, settings.probe
        )
        self.scope = scope_name(self.suite.name, self.protocol)  # this run's results folder and table

    def result_path(self, item: BenchItem) -> Path:
        return result_path(
            self.settings.results_dir,
            item.model.slot,
            item.task.task_id,
            item.regime.name,
            self.scope,
            self.model_identity(item.model),
        )

    # -- planning ---------------------------------------------------------------------------------
    def plan(self) -> list[BenchItem]:
        """Model-major order, so a model's items run back to back and it is loaded once."""
        return [
            BenchItem(model, task, regime)
            for model in self.models
            for task in self.suite.tasks
            for regime in self.settings.regimes
        ]

    # -- lazy resources -----------------------------------------------------------------------------
    def task_data(self, spec: TaskSpec) -> TaskData:
        data_dir = self.settings.data_dir
        if data_dir is not None and not data_dir.is_dir():  # one cause, said once, not once per task
            raise TaskUnavailable(
                f"the data directory {data_dir} does not exist (--geneb-data-dir / GENEB_DATA_DIR)"
            )
        if spec.task_id not in self._tasks:
            try:
                self._tasks[spec.task_id] = self.suite.load(spec.task_id, self.settings.data_dir)
            except Exception as exc:  # remembered: the task's other items fail the same way, fast
                self._tasks[spec.task_id] = exc
        data = self._tasks[spec.task_id]
        if isinstance(data, Exception):
            raise data
        return data

    def device(self) -> str:
        if self.settings.device != "auto":
            return self.settings.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def embedder(self, spec: ModelSpec) -> Embedder:
        if spec.key not in self._embedders:
            try:
                built = build_embedder(spec, self.device())
                configure = getattr(built, "configure", None)
                if configure is not None:  # HF models: long-input policy, progress bar (None = auto)
                    configure(
                        long_input=self.settings.long_input, progress=True if self.settings.progress else None
                    )
                self._embedders[spec.key] = built
            except Exception as exc:
                self._embedders[spec.key] = exc
        model = self._embedders[spec.key]
        if isinstance(model, Exception):
            raise model
        return model

    def release_model(self, key: str) -> None:
        model = self._embedders.pop(key, None)
        if model is not None and not isinstance(model, Exception):
            model.close()

    def parameter_count(self, spec: ModelSpec) -> int | None:
        """The model's parameter count for its results (``models.size``), measured once per model."""
        if spec.key not in self._n_params:
            from geneb_bench.models.size import parameter_count

            embedder = self._embedders.get(spec.key)
            self._n_params[spec.key] = parameter_count(
                spec, None if isinstance(embedder, Exception) else embedder
            )
        return self._n_params[spec.key]

    def model_identity(self, spec: ModelSpec) -> dict[str, Any]:
        """The model identity recorded in results: the spec's, plus a non-default long-input policy."""
        identity = spec.identity()
        if spec.family in ENGINE_FAMILIES:  # the padding rule its vectors were computed under
            identity["padding"] = PADDING_POLICY
        if self.settings.long_input != "truncate":
            identity["long_input"] = self.settings.long_input
        return identity

    def cache_parts(self, spec: ModelSpec, data: TaskData) -> dict[str, Any]:
        """Everything that changes the vectors: the embedding cache key."""
        return embedding_key(
            model_identity=spec.identity(),
            task_id=data.spec.task_id,
            task_fingerprint=data.fingerprint(),
            dtype=effective_dtype(str(spec.options.get("dtype", "float32")), self.device()),
            long_input=self.settings.long_input,
        )

    def embeddings(self, spec: ModelSpec, data: TaskData) -> tuple[np.ndarray, np.ndarray, bool]:
        """A task's train and test vectors: from memory, the per-task cache, the sequence store, or the model.

        For a stored family the per-task cache entry is a view: it keeps the task's token counts and batch
        plan, while the vectors live once in the model's sequence store and are gathered from there by content
        hash (a sequence pruned from the store meanwhile is recomputed). K-mer spectra are kept whole.
        """
        key = (spec.key, data.spec.task_id)
        held = self.memory.get(key)
        if held is not None:
            return held.train, held.test, held.cached

        parts = self.cache_parts(spec, data)
        sequences = [*data.train_sequences, *data.test_sequences]
        n_train = len(data.train_sequences)
        # --geneb-reembed: nothing read from (or written to) the sequence store or the per-task cache
        reembed = self.settings.reembed
        persist = spec.family not in RECOMPUTED_FAMILIES and not reembed
        computed: list[np.ndarray] = []  # the vectors computed in this call, when the entry is a view
        embedded: list[int] = []  # how many sequences this call gave the model (token figures cover those)

        def embed_new(new: list[str]) -> np.ndarray:
            embedded.append(len(new))
            return np.asarray(self.embedder(spec).embed(new))

        def from_store() -> tuple[np.ndarray, EmbedStats]:  # the model is loaded only if a sequence is new
            return self.sequences.embed(parts, sequences, embed_new, persist=persist)

        def compute() -> dict[str, np.ndarray]:
            vectors, stats = from_store()
            self.embed_stats.append((spec.key, data.spec.task_id, stats))
            if not np.isfinite(vectors).all():
                bad = int(np.flatnonzero(~np.isfinite(vectors).all(axis=1))[0])
                split, row = ("train", bad) if bad < n_train else ("test", bad - n_train)
                raise ValueError(
                    f"model {spec.key!r} produced NaN/inf embeddings on task {data.spec.task_id!r} "
                    f"({split} row {row + 1}); nothing was cached"
                )
            embedder = self._counting_embedder(spec, sequences, embedded)
            budget = getattr(embedder, "token_budget", None)  # after any out-of-memory back-off: what fitted
            extra = {"token_budget": np.array([budget])} if isinstance(budget, int) else {}
            if persist:
                computed.append(vectors)
                matrices = {"store_view": np.ones(1)}  # the vectors are in the sequence store
            else:
                matrices = {"train": vectors[:n_train], "test": vectors[n_train:]}
            # the embedder's last call covered this task only when it computed every row of it
            covered = stats.computed == len(sequences)
            return {**matrices, **extra, **health.token_arrays(embedder, sequences, covered=covered)}

        if not self._threads_limited:
            _limit_threads()
            self._threads_limited = True
        arrays, cached = self.cache.get_or_compute(parts, compute, bypass=reembed)
        if "train" not in arrays:  # a view: gather the vectors from the sequence store
            if computed:
                vectors = computed[0]
            else:
                vectors, stats = from_store()
                cached = stats.computed == 0
            arrays = {**arrays, "train": vectors[:n_train], "test": vectors[n_train:]}
        if "token_budget" in arrays:  # rows per forward (after an out-of-memory back-off); moves no vector
            self.token_budgets[key] = int(arrays["token_budget"][0])
        self.health[key] = health.assess(
            arrays,
            sequences,
            f"model {spec.key!r}, task {data.spec.task_id!r}",
            dtype=str(parts["dtype"]),
        )
        self.memory.put(key, arrays["train"], arrays["test"], cached)
        return arrays["train"], arrays["test"], cached

    def _counting_embedder(self, spec: ModelSpec, sequences: list[str], embedded: list[int]) -> Any:
        """The embedder that counts the task's token figures (None: no model to count with).

        The sequence store may have served some rows (computed under another task), so the model may not be
        loaded in this process: it is loaded, and ``health.token_arrays`` recounts over the whole task, so a
        result never depends on what ran before it.
        """
        if spec.family in RECOMPUTED_FAMILIES or embedded == [len(set(sequences))]:
            return self._embedders.get(spec.key)
        try:
            return self.embedder(spec)
        except Exception:  # every vector came from the store, and the model cannot load here: no figures
            return None

    # -- running ------------------------------------------------------------------------------------
    def run_item(self, item: BenchItem, extra_fields: ExtraFields | None = None) -> Outcome:
        """Resume or compute ``item``; ``extra_fields`` adds a user's fields to a new result (``extra``)."""
        from geneb_bench.probe.evaluate import evaluate_regime

        data = self.task_data(item.task)
        if not self.settings.rerun:
            finished = self.finished_result(item, data)
            if finished is not None:
                return Outcome(finished, self.result_path(item), True, resumed=True)
        t0 = time.perf_counter()
        reset_cuda_peak()
        seen, tokens_before = len(self.embed_stats), tokens_embedded(self._embedders.get(item.model.key))
        x_train, x_test, cached = self.embeddings(item.model, data)
        computed = sum(stats.computed for *_, stats in self.embed_stats[seen:])
        n_rows = len(data.train_sequences) + len(data.test_sequences)
        bases = sum(map(len, data.train_sequences)) + sum(map(len, data.test_sequences)) if computed else 0
        probe = get_probe(self.settings.probe, self.settings.probe_backend)
        device = self.device() if probe.on_device else "cpu"
        probe_inputs: tuple[Any, Any] = (x_train, x_test)
        if probe.on_device:  # kept on the probe's device for the task's other regimes
            probe_inputs = self.memory.on_device((item.model.key, data.spec.task_id), device)
        t1 = time.perf_counter()
        try:
            regime_result = evaluate_regime(
                probe_inputs[0],
                data.train_labels,
                probe_inputs[1],
                data.test_labels,
                item.regime,
                self.settings.seeds,
                backend=probe.implementation,
                device=device,
                probe=probe.probe,
            )
        except ValueError as exc:  # e.g. non-finite embeddings: the item fails naming model and task
            raise ValueError(f"model {item.model.key!r}, task {data.spec.task_id!r}: {exc}") from exc
        t2 = time.perf_counter()
        result = ItemResult.from_regime(
            regime_result,
            model=item.model.slot,
            task_id=data.spec.task_id,
            category=data.spec.category,
            n_train=len(data.train_sequences),
            n_test=len(data.test_sequences),
            n_classes=data.n_classes,
            embedding_dim=int(x_train.shape[1]),
            task_fingerprint=data.fingerprint(),
            task_revision=data.revision,
            model_identity=self.model_identity(item.model),
            timings={"embed_s": round(t1 - t0, 4), "probe_s": round(t2 - t1, 4)},
            token_budget=self.token_budgets.get((item.model.key, data.spec.task_id)),
            health=health.with_predictions(
                self.health.get((item.model.key, data.spec.task_id)), regime_result.seeds
            ),
            protocol=self.protocol,
            suite=self.suite.name,
            n_params=self.parameter_count(item.model),
            resources=measure(
                computed,
                round(bases * computed / n_rows) if n_rows else 0,
                tokens_before,
                tokens_embedded(self._embedders.get(item.model.key)),
                t1 - t0,
            ).to_dict(),
        )
        if extra_fields is not None and (extra := dict(extra_fields(result))):
            result = dataclasses.replace(result, extra=extra)
        path = write_result(self.settings.results_dir, result)
        return Outcome(result, path, cached)

    def provenance(self, item: BenchItem, data: TaskData) -> Provenance:
        """What this run would measure ``item`` under (compared with an earlier result to resume it)."""
        return Provenance(
            model_identity=canonical(self.model_identity(item.model)),
            task_fingerprint=data.fingerprint(),
            task_revision=data.revision,
            protocol=self.protocol,
            seeds=tuple(self.settings.seeds),
            probe=self.settings.probe,
            probe_implementation=self.settings.probe_backend,
            harness=__version__,
            suite=self.suite.name,
        )

    def finished_result(self, item: BenchItem, data: TaskData) -> ItemResult | None:
        """The result an earlier run wrote for exactly this item, if any (resume).

        Same means: the same ``Provenance`` (``results.provenance``, the definition merge and the tables use
        too). An unreadable or mismatching file is recomputed and overwritten.
        """
        path = self.result_path(item)
        if not path.exists():
            return None
        try:
            previous = read_result(path)
        except ValueError:
            return None
        same = previous.regime == item.regime.name and Provenance.of(previous) == self.provenance(item, data)
        return previous if same else None

    def after_item(self, item: BenchItem, next_item: BenchItem | None) -> None:
        """Release what the next item does not need (the embeddings stay on disk)."""
        if next_item is None or next_item.model.key != item.model.key:
            self.release_model(item.model.key)
            self.memory.release(item.model.key)
        elif next_item.task.task_id != item.task.task_id:
            self.memory.release(item.model.key, item.task.task_id)

    def close(self) -> None:
        for key in list(self._embedders):
            self.release_model(key)
        self.memory.clear()
