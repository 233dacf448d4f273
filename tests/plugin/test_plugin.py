"""The pytest plugin end to end, in pytester projects: collection, results, xdist, cache, failures, options."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from geneb_bench.models.kmer import KmerEmbedder
from geneb_bench.runner.session import BenchItem, GenebSession, Outcome

if TYPE_CHECKING:
    from tests.conftest import Sweep

# -- the tiny project (tests/conftest.py: Sweep) ----------------------------------------------------------
SEEDS = (13, 17)
SCOPE = "reliability+seeds__13__17"  # the tables folder of these runs: their suite and seeds (a variant)
REGIMES = ("full", "10shot", "1shot")
TASKS = (
    # task id, category, motif, rng seed
    ("prom_a", "Promoters", "TATAAAT", 1),
    ("tf_a", "TF Binding", "GGGCGGG", 2),
)


@pytest.fixture
def bench(sweep: Sweep) -> Sweep:
    sweep.seeds, sweep.regimes = ",".join(map(str, SEEDS)), ",".join(REGIMES)
    for task_id, category, motif, seed in TASKS:
        sweep.good_task(task_id, seed, motif, category)
    return sweep


def collected_ids(result: pytest.RunResult) -> list[str]:
    return [line.split("::", 1)[1] for line in result.outlines if line.startswith("test_bench.py::")]


# -- 1. collection ------------------------------------------------------------------------------------


def test_collect_one_item_per_model_task_regime(bench: Sweep) -> None:
    result = bench.pytester.runpytest("--collect-only", "-q", *bench.args(models=("kmer-2", "kmer-3")))
    assert result.ret == pytest.ExitCode.OK
    expected = [
        f"test_geneb[{model}-{task.slug}-{task.task_id}-{regime}]"
        for model in ("kmer-2", "kmer-3")  # model-major: a model's items run back to back
        for task in bench.tasks
        for regime in REGIMES
    ]
    assert collected_ids(result) == expected
    assert not (bench.root / "out").exists()  # collecting computes and writes nothing


@pytest.mark.parametrize(
    ("selection", "wanted"),
    [
        (["-k", "promoters"], lambda i: "-promoters-prom_a-" in i),
        (["-k", "10shot"], lambda i: i.endswith("-10shot]")),
        (["-k", "tf_a and 1shot"], lambda i: i == "test_geneb[kmer-3-tf_binding-tf_a-1shot]"),
        (["-m", "tf_binding"], lambda i: "-tf_binding-tf_a-" in i),
        (["-m", "promoters and not tf_binding"], lambda i: "-promoters-" in i),
        (["-m", "geneb"], lambda i: True),
    ],
    ids=["k-category", "k-regime", "k-expression", "m-category", "m-expression", "m-geneb"],
)
def test_keyword_and_marker_selection(bench: Sweep, selection: list[str], wanted: Any) -> None:
    everything = collected_ids(bench.pytester.runpytest("--collect-only", "-q", *bench.args()))
    assert len(everything) == 6
    result = bench.pytester.runpytest("--collect-only", "-q", "--strict-markers", *selection, *bench.args())
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    chosen = collected_ids(result)
    assert chosen, "the selection matched nothing"
    assert chosen == [i for i in everything if wanted(i)]


def test_category_markers_are_registered(bench: Sweep) -> None:
    result = bench.pytester.runpytest("--markers", *bench.args())
    result.stdout.fnmatch_lines(
        [  # in GENEB category order
            "@pytest.mark.histone_modification: GENEB category Histone Mod.",
            "@pytest.mark.tf_binding: GENEB category TF Binding",
            "@pytest.mark.chromatin_accessibility: GENEB category Chromatin Acc.",
            "@pytest.mark.geneb: *",
        ]
    )


# -- 2. a run writes results, JUnit properties and tables ------------------------------------------------


def test_run_writes_results_junit_and_tables(bench: Sweep) -> None:
    junit = bench.root / "junit.xml"
    result = bench.pytester.runpytest(f"--junitxml={junit}", *bench.args())
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(["*GENEB results (mean over seeds)*", "MCC - full", "*kmer-3*"])

    out = bench.root / "out"
    results = bench.results(out)
    assert sorted(results) == sorted(f"kmer-3/{t.task_id}/{r}" for t in bench.tasks for r in REGIMES)
    categories = {t.task_id: t.category for t in bench.tasks}
    for key, record in results.items():
        model, task_id, regime = key.split("/")
        assert (record["model"], record["task_id"], record["regime"]) == (model, task_id, regime)
        assert record["category"] == categories[task_id]
        assert [s["seed"] for s in record["per_seed"]] == list(SEEDS)
        assert record["mean"]["mcc"] == pytest.approx(sum(s["mcc"] for s in record["per_seed"]) / len(SEEDS))
        assert record["std"]["mcc"] >= 0
        assert (record["n_train"], record["n_test"], record["embedding_dim"]) == (60, 30, 64)
        assert len(record["task_fingerprint"]) == 64
        if regime == "full":
            assert record["mean"]["mcc"] > 0.3, f"no signal in {key}: the probe or the data is broken"

    tables = out / SCOPE  # the suite's own tables folder
    for name in ("leaderboard.md", "leaderboard.csv", "results.csv", "run.json"):
        assert (tables / name).is_file(), name
    assert "# GENEB leaderboard" in (tables / "leaderboard.md").read_text()
    assert f"[{SCOPE}]({SCOPE}/leaderboard.md)" in (out / "index.md").read_text()
    assert len((tables / "results.csv").read_text().strip().splitlines()) == 1 + 6
    run = json.loads((tables / "run.json").read_text())
    assert (run["items"], run["seeds"], run["models"]) == (6, list(SEEDS), ["kmer-3"])

    text = junit.read_text()
    assert text.count('<property name="mcc"') == 6
    cases = list(ET.parse(junit).getroot().iter("testcase"))
    assert len(cases) == 6
    for case in cases:
        props = {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
        record = results[f"{props['geneb_model']}/{props['geneb_task']}/{props['geneb_regime']}"]
        assert float(props["mcc"]) == pytest.approx(record["mean"]["mcc"], abs=1e-6)
        assert Path(props["geneb_result"]).is_file()


# -- 3. xdist ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_xdist_gives_the_same_tables_as_a_serial_run(bench: Sweep) -> None:
    pytest.importorskip("xdist")
    serial = bench.pytester.runpytest(*bench.args(cache="cache-serial", results="serial"))
    serial.assert_outcomes(passed=6)
    parallel = bench.pytester.runpytest_subprocess(
        "-n", "2", *bench.args(cache="cache-xdist", results="xdist"), timeout=300
    )
    parallel.assert_outcomes(passed=6)
    parallel.stdout.fnmatch_lines(["*2 workers*", "*GENEB results (mean over seeds)*"])

    serial_dir, xdist_dir = bench.root / "serial" / SCOPE, bench.root / "xdist" / SCOPE
    for name in ("results.csv", "leaderboard.csv"):
        assert (xdist_dir / name).read_text() == (serial_dir / name).read_text(), name
    serial_results, xdist_results = bench.results("serial"), bench.results("xdist")
    assert sorted(xdist_results) == sorted(serial_results)
    for key, record in serial_results.items():
        assert xdist_results[key]["per_seed"] == record["per_seed"], key
    assert json.loads((xdist_dir / "run.json").read_text())["items"] == 6


# -- 4. the embedding cache ------------------------------------------------------------------------------


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[Any]]:
    """Counts k-mer embedding calls and records whether each item's embeddings came from the cache.

    Works because ``runpytest`` runs in this process (the default), with the classes already imported.
    """
    seen: dict[str, list[Any]] = {"embedded": [], "cached": [], "events": []}
    embed, close, run_item = KmerEmbedder.embed, KmerEmbedder.close, GenebSession.run_item

    def counting_embed(self: KmerEmbedder, sequences: Any) -> Any:
        seen["embedded"].append(len(sequences))
        seen["events"].append(("embed", f"kmer-{self.k}"))
        return embed(self, sequences)

    def counting_close(self: KmerEmbedder) -> None:
        seen["events"].append(("close", f"kmer-{self.k}"))
        close(self)

    def recording_run_item(self: GenebSession, item: BenchItem, **kwargs: Any) -> Outcome:
        outcome = run_item(self, item, **kwargs)
        seen["cached"].append((item.id, outcome.embeddings_cached))
        return outcome

    monkeypatch.setattr(KmerEmbedder, "embed", counting_embed)
    monkeypatch.setattr(KmerEmbedder, "close", counting_close)
    monkeypatch.setattr(GenebSession, "run_item", recording_run_item)
    return seen


def cache_files(cache: Path) -> dict[str, tuple[int, bytes]]:
    """Inode and bytes: a rewrite (temp file + rename) changes the inode; a read only touches the mtime (LRU)."""
    return {
        str(p.relative_to(cache)): (p.stat().st_ino, p.read_bytes()) for p in sorted(cache.rglob("*.npz"))
    }


def test_second_run_reads_embeddings_from_the_cache(bench: Sweep, probe: dict[str, list[Any]]) -> None:
    cache = bench.root / "cache"
    first = bench.pytester.runpytest(*bench.args(results="first"))
    first.assert_outcomes(passed=6)
    assert probe["embedded"] == [90, 90]  # once per task (train + test rows), not once per regime
    assert [cached for _, cached in probe["cached"]] == [False] * 6
    files = cache_files(cache)
    assert len(files) == 2

    probe["embedded"].clear()
    probe["cached"].clear()
    second = bench.pytester.runpytest(*bench.args(results="second"))
    second.assert_outcomes(passed=6)
    assert probe["embedded"] == []  # no model call at all
    assert [cached for _, cached in probe["cached"]] == [True] * 6
    assert cache_files(cache) == files  # nothing rewritten
    a, b = bench.results(bench.root / "first"), bench.results(bench.root / "second")
    assert a.keys() == b.keys()
    for key in a:
        assert (b[key]["per_seed"], b[key]["mean"], b[key]["task_fingerprint"]) == (
            a[key]["per_seed"],
            a[key]["mean"],
            a[key]["task_fingerprint"],
        ), key
    assert (bench.root / "second" / SCOPE / "results.csv").read_text() == (
        bench.root / "first" / SCOPE / "results.csv"
    ).read_text()


def test_changing_one_base_changes_the_fingerprint_and_recomputes(
    bench: Sweep, probe: dict[str, list[Any]]
) -> None:
    bench.pytester.runpytest(*bench.args(results="before")).assert_outcomes(passed=6)
    before = bench.results(bench.root / "before")

    train = bench.tasks[0].train  # prom_a
    lines = train.read_text().splitlines()
    seq, label = lines[3].split(",")
    lines[3] = ("C" if seq[10] != "C" else "G").join([seq[:10], seq[11:]]) + "," + label
    train.write_text("\n".join(lines) + "\n")
    probe["embedded"].clear()
    probe["cached"].clear()

    bench.pytester.runpytest(*bench.args(results="after")).assert_outcomes(passed=6)
    after = bench.results(bench.root / "after")
    for regime in REGIMES:
        changed, same = f"kmer-3/prom_a/{regime}", f"kmer-3/tf_a/{regime}"
        assert after[changed]["task_fingerprint"] != before[changed]["task_fingerprint"]
        assert after[same]["task_fingerprint"] == before[same]["task_fingerprint"]
    # only the edited task is embedded again: all its 90 rows, since k-mer spectra are recomputed rather than
    # kept in the sequence store (a stored model recomputes only the edited sequence: tests/embeddings/test_store)
    assert probe["embedded"] == [90]
    cached = dict(probe["cached"])
    assert not cached["kmer-3-promoters-prom_a-full"]
    assert cached["kmer-3-tf_binding-tf_a-full"]
    assert len(cache_files(bench.root / "cache")) == 3


def test_models_run_one_after_another_and_are_released(bench: Sweep, probe: dict[str, list[Any]]) -> None:
    """Model-major order; the teardown hook closes a model as soon as the next item belongs to another."""
    bench.pytester.runpytest(*bench.args(models=("kmer-2", "kmer-3"))).assert_outcomes(passed=12)
    assert probe["events"] == [
        ("embed", "kmer-2"),
        ("embed", "kmer-2"),
        ("close", "kmer-2"),  # one embedding pass per task
        ("embed", "kmer-3"),
        ("embed", "kmer-3"),
        ("close", "kmer-3"),
    ]
    assert len(bench.results(bench.root / "out")) == 12


# -- 5. a broken task fails its items only ----------------------------------------------------------------


def test_bad_task_fails_its_items_and_the_rest_still_runs(bench: Sweep) -> None:
    bad = bench.tasks[1].test  # tf_a
    lines = bad.read_text().splitlines()
    seq, label = lines[5].split(",")  # data row 5
    lines[5] = f"{seq[:7]}X{seq[8:]},{label}"
    bad.write_text("\n".join(lines) + "\n")

    result = bench.pytester.runpytest(*bench.args())
    result.assert_outcomes(passed=3, failed=3)
    reports = list(bench.reports(result).values())
    failed = [r for r in reports if r.failed]
    assert sorted(r.nodeid.split("[")[1] for r in failed) == sorted(
        f"kmer-3-tf_binding-tf_a-{regime}]" for regime in REGIMES
    )
    for report in failed:
        assert f"{bad} row 5: invalid character 'X' at position 8" in report.longreprtext
    assert all("prom_a" in r.nodeid for r in reports if r.passed)

    results = bench.results(bench.root / "out")
    assert sorted(results) == sorted(f"kmer-3/prom_a/{regime}" for regime in REGIMES)
    result.stdout.fnmatch_lines(["*GENEB results (mean over seeds)*"])
    table = (bench.root / "out" / SCOPE / "results.csv").read_text()
    assert "prom_a" in table
    assert "tf_a" not in table


# -- 6. bad options are usage errors ------------------------------------------------------------------------


def test_unknown_model_is_a_usage_error(bench: Sweep) -> None:
    result = bench.pytester.runpytest(*bench.args(models=("nosuchmodel_xyz",)))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "unknown model 'nosuchmodel_xyz'" in err
    for key in ("kmer-2", "kmer-3", "kmer-6", "random-bert-tiny", "random-gpt2-tiny"):
        assert key in err
    assert not (bench.root / "out").exists()


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--geneb-regimes=full,5shot", "unknown regime '5shot'; known: full, 10shot, 1shot"),
        ("--geneb-seeds=13,x", "geneb: invalid literal"),
        ("--geneb-regimes=,", "must not be empty"),
        ("--geneb-device=tpu", "invalid choice: 'tpu'"),
    ],
)
def test_bad_options_are_usage_errors(bench: Sweep, option: str, message: str) -> None:
    result = bench.pytester.runpytest(*bench.args(), option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()


# -- 7. unrelated projects ------------------------------------------------------------------------------------


def test_unrelated_tests_are_untouched(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_plain="""
        import sys

        def test_x():
            pass

        def test_nothing_heavy_was_imported():
            heavy = ["torch", "sklearn", "pandas", "geneb_bench.runner.session"]
            assert [m for m in heavy if m in sys.modules] == []
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--strict-markers", timeout=120)
    result.assert_outcomes(passed=2)
    assert "GENEB results" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


# -- sweeps: shards, baseline gate, xdist grouping --------------------------------------------------------
def test_shards_partition_the_items_by_model_and_task(bench: Sweep) -> None:
    models = ("kmer-2", "kmer-3")
    full = collected_ids(bench.pytester.runpytest(*bench.args("--collect-only", "-q", models=models)))
    shards = [
        collected_ids(
            bench.pytester.runpytest(
                *bench.args("--collect-only", "-q", f"--geneb-shard={i}/3", models=models)
            )
        )
        for i in range(3)
    ]
    flat = [item for shard in shards for item in shard]
    assert sorted(flat) == sorted(full)  # every item exactly once
    assert len(flat) == len(set(flat))
    for shard in shards:  # a (model, task) group never straddles two shards
        groups = {item.rsplit("-", 1)[0] for item in shard}
        for other in shards:
            if other is not shard:
                assert not groups & {item.rsplit("-", 1)[0] for item in other}
    assert sorted(len(s) for s in shards) == [3, 3, 6]  # 4 groups of 3 items over 3 shards


def test_bad_shard_is_a_usage_error(bench: Sweep) -> None:
    result = bench.pytester.runpytest(*bench.args("--geneb-shard=3/3"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*0 <= i < n*"])


def test_baseline_gate_fails_a_planted_regression_and_passes_otherwise(bench: Sweep) -> None:
    first = bench.pytester.runpytest(*bench.args(results="base"))
    assert first.ret == 0
    ok = bench.pytester.runpytest(*bench.args(f"--geneb-baseline={bench.root / 'base'}", results="again"))
    assert ok.ret == 0  # same numbers: no regression
    planted = (
        bench.root / "base" / "results" / "reliability+seeds__13__17" / "kmer-3" / "prom_a" / "full.json"
    )
    data = json.loads(planted.read_text())
    data["mean"]["mcc"] += 0.5
    for seed in data["per_seed"]:  # a consistent record: a mean that per_seed does not give is refused
        seed["mcc"] += 0.5
    planted.write_text(json.dumps(data))
    gated = bench.pytester.runpytest(*bench.args(f"--geneb-baseline={bench.root / 'base'}", results="gated"))
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.assert_outcomes(passed=5, failed=1)
    gated.stdout.fnmatch_lines(
        ["*MCC regression on kmer-3 / prom_a / full: * vs baseline * (difference -0.*"]
    )
    gated.stdout.fnmatch_lines(["*FAILED macro-MCC regression for kmer-3 (full*"])
    assert next((bench.root / "gated" / "results").rglob("kmer-3/prom_a/full.json")).exists()  # numbers kept


def test_baseline_gate_refuses_a_baseline_measured_with_other_seeds(bench: Sweep) -> None:
    assert bench.pytester.runpytest(*bench.args("--geneb-seeds=17", results="base")).ret == 0
    gated = bench.pytester.runpytest(*bench.args(f"--geneb-baseline={bench.root / 'base'}", results="gated"))
    assert gated.ret == pytest.ExitCode.TESTS_FAILED
    gated.stdout.fnmatch_lines(
        ["*not comparable with the baseline on kmer-3 / prom_a / full: *seeds ((17,) vs (13, 17))"]
    )


SCHEDULER_PROBE = (
    "import pytest, sys\n"
    "@pytest.hookimpl(wrapper=True)\n"
    "def pytest_xdist_make_scheduler(config, log):\n"
    "    scheduler = yield\n"
    "    print('SCHEDULER=' + type(scheduler).__name__)\n"
    "    return scheduler\n"
    "def pytest_sessionfinish(session):\n"
    "    if not hasattr(session.config, 'workerinput'):\n"
    "        print('SESSION_MODULE=' + str('geneb_bench.runner.session' in sys.modules))\n"
)


@pytest.mark.slow
def test_plain_n_uses_loadgroup(bench: Sweep) -> None:
    bench.pytester.makeconftest(SCHEDULER_PROBE)
    plain = bench.pytester.runpytest_subprocess(
        *bench.args("-n", "2", "-v", models=("kmer-2", "kmer-3")), timeout=300
    )
    plain.stdout.fnmatch_lines(["SCHEDULER=CrashSafeLoadGroupScheduling"])
    plain.assert_outcomes(passed=12)
    workers: dict[str, set[str]] = {}
    for line in plain.stdout.lines:  # "[gw1] [ 50%] PASSED test_bench.py::test_geneb[kmer-2-...]"
        if "PASSED" in line and "test_geneb[" in line:
            model = line.split("test_geneb[")[1].split("-promoters")[0].split("-tf_binding")[0]
            workers.setdefault(model, set()).add(line.split("]")[0] + "]")
    assert sorted(workers) == ["kmer-2", "kmer-3"]
    assert all(len(w) == 1 for w in workers.values()), workers  # a model's items stay on one worker
    explicit = bench.pytester.runpytest_subprocess(*bench.args("-n", "2", "--dist", "load"), timeout=300)
    explicit.stdout.fnmatch_lines(["SCHEDULER=LoadScheduling"])


@pytest.mark.slow
def test_dist_from_ini_is_honoured_and_an_unrelated_project_gets_no_session(
    pytester: pytest.Pytester,
) -> None:
    """A lab's own test suite, with geneb-bench installed: xdist as configured, no GENEB session or table."""
    pytester.makeconftest(SCHEDULER_PROBE)
    pytester.makeini("[pytest]\naddopts = --dist load\n")
    pytester.makepyfile(test_lab="def test_a():\n    pass\n\ndef test_b():\n    pass\n")
    result = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", timeout=120)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["SCHEDULER=LoadScheduling", "*SESSION_MODULE=False"])
    assert "GENEB results" not in result.stdout.str()
    plain = pytester.runpytest_subprocess("-n", "2", "-p", "no:cacheprovider", "-o", "addopts=", timeout=120)
    plain.stdout.fnmatch_lines(["SCHEDULER=LoadScheduling"])  # not a GENEB run: xdist's default, untouched


# -- resume ---------------------------------------------------------------------------------------------
def test_rerun_loads_finished_items_unless_told_to_recompute(bench: Sweep) -> None:
    assert bench.pytester.runpytest(*bench.args()).ret == 0
    files = sorted((bench.root / "out" / "results").rglob("*.json"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    again = bench.pytester.runpytest(*bench.args())
    again.stdout.fnmatch_lines(["geneb: 6 of 6 items loaded from earlier results*"])
    assert {p: p.stat().st_mtime_ns for p in files} == stamps  # nothing rewritten
    forced = bench.pytester.runpytest(*bench.args("--geneb-rerun"))
    assert "loaded from earlier results" not in forced.stdout.str()
    assert all(p.stat().st_mtime_ns != stamps[p] for p in files)
    other_seeds = bench.pytester.runpytest(*bench.args("--geneb-seeds=13"))
    assert "loaded from earlier results" not in other_seeds.stdout.str()  # a different protocol run


PAUSE = '''
"""With GENEB_PAUSE_AT=n and GENEB_PAUSE_MARKER=path: item n (1-based) touches the marker and then waits,
so the test's SIGKILL lands mid-sweep, inside an item, every time."""
import os
import time
from pathlib import Path

import pytest

AT = int(os.environ.get("GENEB_PAUSE_AT", "0"))
_seen = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    _seen.append(item.nodeid)
    if AT and len(_seen) == AT:
        Path(os.environ["GENEB_PAUSE_MARKER"]).touch()
        time.sleep(120)
    return (yield)
'''


@pytest.mark.slow
def test_sigkill_mid_sweep_loses_no_finished_item(sweep: Sweep) -> None:
    """SIGKILL of the whole process group inside the 5th of 12 items: the 4 finished results stay whole and
    are resumed as they are; the rest is computed."""
    import os
    import signal
    import subprocess
    import time

    for i, task in enumerate(("prom_a", "prom_b", "prom_c")):
        sweep.good_task(task, seed=i + 1)
    sweep.pytester.makeconftest(PAUSE)
    marker = sweep.root / "paused"
    env = {**os.environ, "GENEB_PAUSE_AT": "5", "GENEB_PAUSE_MARKER": str(marker)}
    proc = subprocess.Popen(
        sweep.command(models=("kmer-2", "kmer-3")),
        cwd=sweep.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), "the sweep never reached its 5th item"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    results = sweep.root / "out" / "results"
    survivors = {p: p.read_bytes() for p in results.rglob("*.json")}
    assert len(survivors) == 4
    for content in survivors.values():
        json.loads(content)  # every file on disk is complete
    done = sweep.run(models=("kmer-2", "kmer-3"))  # no pause: the variables are not set in this process
    done.assert_outcomes(passed=12)
    done.stdout.fnmatch_lines(["geneb: 4 of 12 items loaded from earlier results*"])
    assert len(list(results.rglob("*.json"))) == 12
    assert all(path.read_bytes() == content for path, content in survivors.items())  # kept, not recomputed
