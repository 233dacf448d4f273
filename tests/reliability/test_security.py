"""Security: no code runs unless the user allowed it for that model at a pinned commit; weights, caches,
results and task files are data, never pickles; ids never become paths outside the output folders.

Every hostile payload here would create a marker file if it ran; each test checks that it did not.
"""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from geneb_bench.data.suites import get_suite
from geneb_bench.embeddings.cache import EmbeddingCache, cache_key
from geneb_bench.models.base import ModelSpec, ModelUnavailable
from geneb_bench.models.loading import check_loadable
from geneb_bench.models.random_init import build_random_model, char_tokenizer
from geneb_bench.models.registry import build_embedder, resolve_model

if TYPE_CHECKING:
    from tests.conftest import Sweep


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.system, (f"touch {self.marker}",)


# ---- remote code -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "revision", [None, "main", "v1.0", "abc1234", "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "refs/pr/1"]
)
def test_remote_code_at_an_unpinned_revision_is_refused_with_the_fix(revision: str | None) -> None:
    spec = ModelSpec(
        key="dna",
        family="hf",
        source="someorg/dna-model",
        revision=revision,
        options={"trust_remote_code": True},
    )
    with pytest.raises(ModelUnavailable) as info:
        check_loadable(spec)
    message = str(info.value)
    assert (
        f"refused to run remote code from 'someorg/dna-model' at revision {revision or 'unpinned'}" in message
    )
    assert "trust_remote_code executes the repository's Python" in message
    assert "[revision=<40-hex commit you reviewed>]" in message


def test_remote_code_at_a_pinned_commit_passes_the_check() -> None:
    spec = ModelSpec(
        key="dna",
        family="hf",
        source="someorg/dna-model",
        revision="0123456789abcdef" * 2 + "01234567",
        options={"trust_remote_code": True},
    )
    check_loadable(spec)  # no error: the load itself is what decides next


@pytest.mark.usefixtures("transformers_imported")
def test_sweep_refuses_unpinned_remote_code_before_any_download(
    sweep: Sweep, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused per model: its items are skipped with the reason, the other model runs, and transformers is
    never asked to fetch or import anything for the refused one."""
    import transformers

    def forbidden(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("from_pretrained called for a refused model")

    for auto in ("AutoTokenizer", "AutoModel", "AutoModelForMaskedLM", "AutoConfig"):
        monkeypatch.setattr(getattr(transformers, auto), "from_pretrained", forbidden)
    sweep.good_task("good_a")
    result = sweep.run(
        models=(
            "kmer-3",
            "someorg/dna-model[trust_remote_code=true]",
            "hyenadna-medium-160k-seqlen-hf[revision=main]",
        )
    )  # the zoo pin moved to a branch
    result.assert_outcomes(passed=2, skipped=4)
    for item, report in sweep.reports(result).items():
        if item.startswith("kmer-3"):
            assert report.passed
            continue
        assert report.skipped, item
        assert "refused to run remote code" in str(report.longrepr)
        assert "allowed only at a pinned commit" in str(report.longrepr)
    assert sorted(sweep.results()) == ["kmer-3/good_a/1shot", "kmer-3/good_a/full"]


HYENA_KEY = "hyenadna-medium-160k-seqlen-hf"
PAYLOAD = "\nimport pathlib\npathlib.Path({marker!r}).touch()\n"


def _tampered(hyena_folder: Path, marker: Path, file: str = "modeling_hyena.py") -> Path:
    """The real HyenaDNA folder with a payload appended to one code file (``touch marker`` on import)."""
    path = hyena_folder / file
    path.write_text(path.read_text(encoding="utf-8") + PAYLOAD.format(marker=str(marker)), encoding="utf-8")
    return hyena_folder


@pytest.mark.usefixtures("hf_offline")
def test_local_folder_remote_code_runs_only_at_its_pinned_bytes(hyena_folder: Path, tmp_path: Path) -> None:
    """Was: ``KEY[path=DIR]`` lent the zoo recipe's trust_remote_code to whatever DIR held; code appended to
    a copy of the HyenaDNA folder ran with exit 0. The shared folder's three code files are the pinned bytes
    of model_files.csv (checked here first), so the pristine copy runs and says why."""
    from geneb_bench.models.loading import RemoteCodeNotice
    from geneb_bench.models.verify import release_for, sha256_file

    pinned = {f.name: f.sha256 for f in release_for(HYENA_KEY).files}  # type: ignore[union-attr]
    code = sorted(p.name for p in hyena_folder.glob("*.py"))
    assert code == ["configuration_hyena.py", "modeling_hyena.py", "tokenization_hyena.py"]
    assert all(sha256_file(hyena_folder / name) == pinned[name] for name in code)

    with pytest.warns(RemoteCodeNotice) as notes:
        build_embedder(resolve_model(f"{HYENA_KEY}[path={hyena_folder}]"), "cpu").close()
    (note,) = [str(n.message) for n in notes if n.category is RemoteCodeNotice]
    assert (
        "its 3 code file(s) (configuration_hyena.py, modeling_hyena.py, tokenization_hyena.py) match" in note
    )
    assert "LongSafari/hyenadna-medium-160k-seqlen-hf@7ebf71773d22 (model_files.csv)" in note

    marker = tmp_path / "ran"
    folder = _tampered(hyena_folder, marker)
    with pytest.raises(ModelUnavailable) as info:
        build_embedder(resolve_model(f"{HYENA_KEY}[path={folder}]"), "cpu")
    assert not marker.exists(), "the appended code ran"
    message = str(info.value)
    actual = sha256_file(folder / "modeling_hyena.py")
    assert f"refused to run the remote code in {folder.resolve()}: modeling_hyena.py has sha256 " in message
    assert actual[:16] in message
    assert pinned["modeling_hyena.py"][:16] in message
    assert f"'{HYENA_KEY}[path={folder.resolve()},trust_remote_code=true]'" in message
    assert "--geneb-trust-remote-code" in message

    with pytest.warns(
        RemoteCodeNotice, match=r"runs because you allowed it \(\[trust_remote_code=true\]\); 1 of"
    ):
        build_embedder(resolve_model(f"{HYENA_KEY}[path={folder},trust_remote_code=true]"), "cpu").close()
    assert marker.exists(), "with the opt-in, the folder's own code is what runs"


def test_extra_code_files_and_code_from_another_repository_are_refused(hyena_folder: Path) -> None:
    """Not only the pinned files: any other ``*.py`` the folder holds, and an ``auto_map`` that fetches code
    from another hub repository, need the opt-in."""
    from geneb_bench.models.loading import check_local_remote_code

    spec = resolve_model(f"{HYENA_KEY}[path={hyena_folder}]")
    assert check_local_remote_code(spec, hyena_folder) is not None  # pristine: allowed
    (hyena_folder / "sub").mkdir()
    (hyena_folder / "sub" / "helper.py").write_text("x = 1\n")
    with pytest.raises(ModelUnavailable, match=r"sub/helper\.py is not a file of LongSafari/hyenadna-medium"):
        check_local_remote_code(spec, hyena_folder)
    (hyena_folder / "sub" / "helper.py").unlink()
    config = json.loads((hyena_folder / "config.json").read_text())
    config["auto_map"]["AutoModel"] = "someorg/other--modeling_x.Model"
    (hyena_folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelUnavailable, match=r"someorg/other--modeling_x\.Model loads code from another"):
        check_local_remote_code(resolve_model(f"{HYENA_KEY}[path={hyena_folder}]"), hyena_folder)


def test_the_command_line_flag_is_the_opt_in_for_local_folders(hyena_folder: Path, tmp_path: Path) -> None:
    from geneb_bench.models.loading import check_local_remote_code
    from geneb_bench.models.lockfile import pin_specs

    folder = _tampered(hyena_folder, tmp_path / "ran")
    spec = resolve_model(f"{HYENA_KEY}[path={folder}]")
    (kept,) = pin_specs([spec], tmp_path / "geneb.lock", trust_remote_code=False)
    with pytest.raises(ModelUnavailable, match="refused to run the remote code"):
        check_local_remote_code(kept, folder)
    (allowed,) = pin_specs([spec], tmp_path / "geneb.lock", trust_remote_code=True)
    assert allowed.identity() == spec.identity(), "the opt-in is not part of the model's identity"
    note = check_local_remote_code(allowed, folder)
    assert note is not None
    assert "runs because you allowed it (--geneb-trust-remote-code)" in note


# ---- weights ---------------------------------------------------------------------------------------------


@pytest.fixture
def hf_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants
    import transformers.utils.hub

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(transformers.utils.hub, "_is_offline_mode", True)


def _checkpoint(folder: Path, marker: Path | None) -> tuple[Path, Any]:
    """A tiny BERT checkpoint (safetensors) plus a ``pytorch_model.bin`` of the same weights; with
    ``marker``, the .bin also carries a pickled payload."""
    model = build_random_model(
        {"arch": "bert", "hidden_size": 16, "num_layers": 1, "num_heads": 2, "seed": 3}
    )
    model.save_pretrained(folder)
    char_tokenizer(64).save_pretrained(folder)
    state: dict[str, Any] = dict(model.state_dict())
    if marker is not None:
        state["payload"] = Payload(marker)
    torch.save(state, folder / "pytorch_model.bin")
    return folder, model


@pytest.mark.usefixtures("hf_offline")
def test_pickled_payload_in_weights_never_runs(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    folder, model = _checkpoint(tmp_path / "ckpt", marker)
    expected = build_embedder(resolve_model(str(folder)), "cpu").embed(["ACGTAC", "GG"])  # safetensors chosen
    assert not marker.exists()

    (folder / "model.safetensors").unlink()  # only the pickle left: torch.load(weights_only=True) refuses it
    # named as what it is (was: "Unable to load weights ... from a TF 2.0 checkpoint, please set from_tf=True")
    with pytest.raises(
        ModelUnavailable, match=r"pytorch_model\.bin' is a pickle checkpoint .*could execute code"
    ):
        build_embedder(resolve_model(str(folder)), "cpu")
    assert not marker.exists()

    torch.save(
        dict(model.state_dict()), folder / "pytorch_model.bin"
    )  # a plain state dict loads weights-only
    got = build_embedder(resolve_model(str(folder)), "cpu").embed(["ACGTAC", "GG"])
    np.testing.assert_allclose(got, expected, atol=1e-6)


# ---- caches and results ----------------------------------------------------------------------------------


def test_pickle_planted_in_the_cache_is_not_loaded(tmp_path: Path) -> None:
    """An entry holding an object array (a pickle) at the right path: refused, removed, recomputed."""
    marker = tmp_path / "ran"
    cache = EmbeddingCache(tmp_path / "cache")
    parts = {"model": "kmer-3", "task_id": "t"}
    path = cache.path_for(cache_key(parts))
    path.parent.mkdir(parents=True)
    planted = np.empty(1, dtype=object)
    planted[0] = Payload(marker)
    with path.open("wb") as handle:
        np.savez(
            handle,
            train=planted,
            test=planted,
            __key__=np.array(json.dumps(parts, sort_keys=True)),
            __checksum__=np.array("x"),
        )
    assert cache.read(parts) is None
    assert not path.exists(), "the planted file is removed"
    # float64 arrays (the cache stores float32): outside the declared float32 type, hence the ignore
    arrays, cached = cache.get_or_compute(parts, lambda: {"train": np.ones((2, 2)), "test": np.ones((1, 2))})  # type: ignore[dict-item]
    assert not cached
    assert arrays["train"].dtype == np.float32
    assert not marker.exists()


def test_a_sweep_writes_no_pickle_and_no_path_outside_its_folders(sweep: Sweep) -> None:
    """Hostile task ids: results land in sanitised folders under the results directory, cache files are
    content hashes, nothing is created anywhere else; every output file is JSON, CSV, Markdown or a
    pickle-free .npz."""
    hostile = ("../../../../escape/x", "/etc/escape", "..\\..\\winpath", "ok id")
    for n, task_id in enumerate(hostile):
        sweep.good_task(task_id, seed=n + 1)
    before = {p for p in sweep.root.rglob("*")}
    deep = "deep/er"
    result = sweep.run(results=f"{deep}/out", cache=f"{deep}/cache")
    result.assert_outcomes(passed=8)

    created = {p for p in sweep.root.rglob("*")} - before
    outside = [
        p
        for p in created
        if sweep.root / deep not in p.parents and p != sweep.root / deep and p != sweep.root / "deep"
    ]
    assert outside == []
    assert not any(part == "escape" for p in created for part in p.relative_to(sweep.root).parts)
    results_root = sweep.root / deep / "out" / "results" / "reliability+seeds__13" / "kmer-3"
    names = sorted(p.name for p in results_root.iterdir())  # unsafe ids: safe form + "~" + 8 hex of the id
    assert [n.split("~")[0] for n in names] == ["escape__x", "etc__escape", "ok__id", "winpath"]
    assert all(len(n.split("~")[1]) == 8 for n in names)
    assert not Path("/etc/escape").exists()
    for path in (p for p in created if p.is_file()):
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".npz":
            assert len(path.stem) == 64, "cache files are named by content hash"
            assert int(path.stem, 16) >= 0
            with np.load(path, allow_pickle=False) as data:  # raises on any object (pickled) array
                assert all(data[name].dtype != object for name in data.files)
        elif path.suffix in {".npy", ".index"}:  # the sequence store: vectors, and an npz of their hashes
            if path.suffix == ".npy":
                assert np.load(path, allow_pickle=False).dtype == np.float32
            else:
                with np.load(path, allow_pickle=False) as data:
                    assert all(data[name].dtype != object for name in data.files)
        elif path.suffix == ".lock":
            assert path.stat().st_size == 0
        else:
            assert path.suffix in {".csv", ".md", ".tex"}, path


# ---- task files --------------------------------------------------------------------------------------------


def test_yaml_suite_cannot_run_code(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    (tmp_path / "s.yaml").write_text(
        f"task:\n  - id: !!python/object/apply:os.system ['touch {marker}']\n    category: Promoters\n"
        "    train: x.csv\n"
    )
    with pytest.raises(
        ValueError,
        match=r"s\.yaml: cannot read suite file: could not determine a constructor for "
        r"the tag 'tag:yaml\.org,2002:python/object/apply:os\.system'",
    ):
        get_suite(str(tmp_path / "s.yaml"))
    assert not marker.exists()


def test_parquet_with_a_pickled_extension_type_is_read_as_data(tmp_path: Path) -> None:
    """pyarrow 14.0.0 unpickled ``arrow.py_extension_type`` metadata on read (CVE-2023-47248); the
    dependency floor is 14.0.1, and the column comes back as plain data."""
    marker = tmp_path / "ran"
    hostile = pa.field(
        "extra",
        pa.int64(),
        metadata={
            b"ARROW:extension:name": b"arrow.py_extension_type",
            b"ARROW:extension:metadata": pickle.dumps(Payload(marker)),
        },
    )
    table = pa.table({"text": ["ACGT", "GGCC"], "label": [0, 1], "extra": [1, 2]})
    pq.write_table(
        table.cast(pa.schema([table.schema.field("text"), table.schema.field("label"), hostile])),
        tmp_path / "train.parquet",
    )
    (tmp_path / "test.csv").write_text("text,label\nAC,0\nGT,1\n")
    (tmp_path / "s.toml").write_text(
        '[[task]]\nid = "t"\ncategory = "Promoters"\ntrain = "train.parquet"\ntest = "test.csv"\n'
    )
    data = get_suite(str(tmp_path / "s.toml")).load("t")
    assert list(data.train_sequences) == ["ACGT", "GGCC"]
    assert not marker.exists()


@pytest.mark.parametrize("name", ["weights.pkl", "task.npy", "task.py"])
def test_files_that_could_hold_code_are_not_task_formats(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_bytes(pickle.dumps(Payload(tmp_path / "ran")))
    (tmp_path / "s.toml").write_text(f'[[task]]\nid = "t"\ncategory = "Promoters"\nfile = "{name}"\n')
    with pytest.raises(
        ValueError,
        match=rf"{name}: cannot tell the format from the name; set format = one of "
        r"\['csv', 'tsv', 'parquet', 'fasta'\]",
    ):
        get_suite(str(tmp_path / "s.toml")).load("t")
    assert not (tmp_path / "ran").exists()
