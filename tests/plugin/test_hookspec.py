"""The extension hooks, from a pytester project's conftest.py: models, suites and result fields; and the
README's worked examples, run as they are written there."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from geneb_bench.data import suites
from geneb_bench.models import registry

if TYPE_CHECKING:
    from tests.conftest import Sweep

README = Path(__file__).resolve().parents[2] / "docs" / "extending.md"


def readme_example(name: str) -> str:
    """The code block after ``<!-- example: NAME -->`` in the README."""
    match = re.search(rf"<!-- example: {re.escape(name)} -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert match, f"README has no example {name!r}"
    return match.group(1)


@pytest.fixture
def clean_registries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a test's conftest registers (families, models, suites) is gone after the test."""
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    monkeypatch.setattr(registry.FAMILIES, "_entries", dict(registry.FAMILIES._entries))
    monkeypatch.setattr(suites, "_REGISTERED", dict(suites._REGISTERED))


@pytest.mark.usefixtures("clean_registries")
def test_a_model_registered_in_conftest_runs_as_a_geneb_item(sweep: Sweep) -> None:
    """The README's example: a user's own torch module, wrapped in a few lines, runs as GENEB items."""
    sweep.good_task("good_a")
    sweep.pytester.makeconftest(readme_example("conftest-model"))
    result = sweep.run(models=("my-dna-model", "kmer-3"))
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(["*my-dna-model*"])
    results = sweep.results()
    assert sorted(results) == [
        f"{m}/good_a/{r}" for m in ("kmer-3", "my-dna-model") for r in ("1shot", "full")
    ]
    mine = results["my-dna-model/good_a/full"]
    assert mine["model_identity"] == {
        "key": "my-dna-model",
        "family": "my-lab",
        "source": None,
        "revision": None,
        "options": {"dim": 16},
    }
    assert mine["embedding_dim"] == 16
    assert len(sweep.cache_entries()) == 2


@pytest.mark.usefixtures("clean_registries")
def test_a_model_of_an_unknown_family_fails_its_items_naming_the_family(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    sweep.pytester.makeconftest(
        "from geneb_bench.models.base import ModelSpec\n\n"
        "def pytest_geneb_register_models(config):\n"
        "    return [ModelSpec(key='orphan', family='nobody-registered-this')]\n"
    )
    result = sweep.run("--geneb-no-controls", models=("orphan",))
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*unknown model family 'nobody-registered-this'; known: kmer, *"])


@pytest.mark.usefixtures("clean_registries")
def test_a_registered_model_may_not_take_a_builtin_key(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    sweep.pytester.makeconftest(
        "from geneb_bench.models.base import ModelSpec\n\n"
        "def pytest_geneb_register_models(config):\n"
        "    return [ModelSpec(key='kmer-3', family='kmer', options={'k': 4})]\n"
    )
    result = sweep.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*geneb: model key 'kmer-3' is already registered*"])


@pytest.mark.usefixtures("clean_registries")
def test_suites_and_result_fields_from_hooks(sweep: Sweep) -> None:
    """A suite registered by the tasks hook is selectable by name; result fields land under ``extra``."""
    sweep.good_task("good_a")
    sweep.pytester.makeconftest(
        "from pathlib import Path\n\n"
        "def pytest_geneb_register_tasks(config):\n"
        "    return Path(__file__).parent / 'suite.toml'  # its name: 'reliability'\n\n"
        "def pytest_geneb_result_fields(result, item):\n"
        "    return {'lab_run': 'run-7', 'item': item.name, 'mcc_x100': round(result.mean['mcc'] * 100)}\n"
    )
    result = sweep.run("--geneb-suite=reliability")
    result.assert_outcomes(passed=2)
    full = sweep.results()["kmer-3/good_a/full"]
    assert full["extra"] == {
        "lab_run": "run-7",
        "item": "test_geneb[kmer-3-promoters-good_a-full]",
        "mcc_x100": round(full["mean"]["mcc"] * 100),
    }
    # resumed: the file (and its extra) is kept as written
    again = sweep.run("--geneb-suite=reliability")
    again.stdout.fnmatch_lines(["geneb: 2 of 2 items loaded from earlier results*"])
    assert sweep.results()["kmer-3/good_a/full"] == full


@pytest.mark.usefixtures("clean_registries")
def test_result_fields_that_are_not_json_fail_the_item_and_write_nothing(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    sweep.regimes = "full"
    sweep.pytester.makeconftest(
        "def pytest_geneb_result_fields(result, item):\n    return {'when': object()}\n"
    )
    result = sweep.run()
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*TypeError: pytest_geneb_result_fields: the fields must be JSON values*"])
    assert sweep.results() == {}


def test_unknown_probe_is_a_usage_error(sweep: Sweep) -> None:
    sweep.good_task("good_a")
    result = sweep.run("--geneb-probe=ridge")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*geneb: unknown probe 'ridge'; known: logistic-regression*"])
    result = sweep.run("--geneb-probe-backend=jax")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*unknown implementation 'jax' of probe 'logistic-regression'; known: sklearn, torch*"]
    )


def test_the_readme_probe_module_runs_and_is_recorded(sweep: Sweep) -> None:
    """The README's one-module ridge probe, imported from conftest.py, selected with --geneb-probe."""
    from geneb_bench.probe.registry import PROBES

    sweep.good_task("good_a")
    sweep.regimes = "full"
    (sweep.root / "my_ridge.py").write_text(readme_example("probe-module"))
    sweep.pytester.syspathinsert()
    sweep.pytester.makeconftest("import my_ridge  # registers the probe\n")
    try:
        result = sweep.run("--geneb-probe=ridge")
        result.assert_outcomes(passed=1)
        full = sweep.results()["kmer-3/good_a/full"]
        assert (full["probe"], full["probe_backend"]) == ("ridge", "sklearn")
        assert full["mean"]["mcc"] > 0.3  # the planted motif is found
    finally:
        PROBES.unregister("ridge.sklearn")


def test_non_geneb_runs_only_gain_the_hookspecs(pytester: pytest.Pytester) -> None:
    """The plugin stays inert: a lab's own test suite sees the hook specifications and nothing else."""
    pytester.makeconftest(
        "def pytest_configure(config):\n"
        "    names = [n for n in dir(config.hook) if n.startswith('pytest_geneb_')]\n"
        "    print('HOOKS=' + ','.join(sorted(names)))\n"
    )
    pytester.makepyfile(test_lab="def test_a():\n    pass\n")
    result = pytester.runpytest("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["HOOKS=pytest_geneb_register_models,pytest_geneb_register_tasks,pytest_geneb_result_fields"]
    )
    assert "GENEB" not in result.stdout.str()
