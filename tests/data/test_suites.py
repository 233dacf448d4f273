"""Registry, GENEB loaders (local, flat, hub mocked), user spec files and the leak check, incl. real data."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from geneb_bench.categories import CATEGORIES
from geneb_bench.cli import main
from geneb_bench.data import hub
from geneb_bench.data.check import check_data, check_suite, render_checks
from geneb_bench.data.csv_tasks import TaskUnavailable
from geneb_bench.data.registry import GENEB_REVISION, GENEB_TASKS, check_category_counts, parse_table
from geneb_bench.data.sequences import SequenceError
from geneb_bench.data.suites import get_suite, load_geneb_task
from geneb_bench.data.task import TaskSpec

TF0 = "leannmlindsey_GUE_human_tf_0"
HEADER = "task_id,category,source,n_classes,approx_length,notes\n"


def _spec(task_id: str) -> TaskSpec:
    return {s.task_id: s for s in GENEB_TASKS}[task_id]


# ---- registry ------------------------------------------------------------------------------------------


def test_registry_has_the_100_tasks_pinned() -> None:
    assert len(GENEB_TASKS) == 100
    counts = Counter(s.category for s in GENEB_TASKS)
    assert sorted(counts.values(), reverse=True) == [30, 22, 8, 8, 7, 6, 5, 5, 3, 2, 2, 1, 1]
    assert counts == {c.name: c.geneb_tasks for c in CATEGORIES}
    spec = _spec(TF0)
    assert spec.location is not None
    assert (spec.location.repo_id, spec.location.revision, spec.location.path) == (
        "darlednik/geneb-tasks",
        GENEB_REVISION,
        f"tasks/{TF0}/",
    )
    assert spec.n_classes == 2
    assert spec.source
    assert sum((s.n_classes or 0) > 2 for s in GENEB_TASKS) == 9, "nine multi-class tasks"


def test_registry_rejects_duplicates_and_bad_rows() -> None:
    row = "t1,Promoters,src,2,100 bp,x\n"
    with pytest.raises(ValueError, match=r"duplicate task id\(s\) \['t1'\]"):
        parse_table(HEADER + row + row)
    with pytest.raises(ValueError, match=r"row 1: unknown GENEB category 'Promotors'"):
        parse_table(HEADER + "t1,Promotors,src,2,,x\n")
    with pytest.raises(
        ValueError, match=r"category counts differ from GENEB's: Histone Mod\.: 0 \(expected 30\)"
    ):
        check_category_counts(parse_table(HEADER + row), "t.csv")


def test_suite_rejects_duplicate_ids(tmp_path: Path) -> None:
    (tmp_path / "s.toml").write_text('[[task]]\nid="a"\ncategory="Promoters"\ntrain="x.csv"\n' * 2)
    with pytest.raises(ValueError, match=r"duplicate task id\(s\) \['a'\]"):
        get_suite(str(tmp_path / "s.toml"))


# ---- GENEB loader: local copies ------------------------------------------------------------------------


def _published(root: Path, task_id: str, train: str, test: str) -> None:
    folder = root / "tasks" / task_id
    folder.mkdir(parents=True)
    (folder / "train.csv").write_text(train)
    (folder / "test.csv").write_text(test)


def test_local_published_copy_and_declared_classes(tmp_path: Path) -> None:
    _published(tmp_path, TF0, "text,label\nAC,0\nGT,1\n", "text,label\nAA,1\nCC,0\n")
    data = load_geneb_task(_spec(TF0), tmp_path)
    assert data.revision == f"local:{tmp_path / 'tasks' / TF0}", (
        "a local copy is not claimed to be the pinned one"
    )
    wrong = TaskSpec(TF0, "TF Binding", n_classes=3)
    with pytest.raises(
        SequenceError, match=rf"{TF0}: 2 classes in the data, 3 declared in the GENEB registry"
    ):
        load_geneb_task(wrong, tmp_path)


def test_flat_layout_with_split_column(tmp_path: Path) -> None:
    (tmp_path / f"{TF0}.csv").write_text(
        "text,label,split\nAC,0,train\nGT,1,train\nGG,0,dev\nAA,1,test\nCC,0,test\n"
    )
    data = load_geneb_task(_spec(TF0), tmp_path)
    assert list(data.train_sequences) == ["AC", "GT"]
    assert list(data.test_sequences) == ["AA", "CC"]
    assert str(data.revision).endswith("; 1 dev/validation rows dropped (split column 'split')"), "recorded"
    (tmp_path / f"{TF0}.csv").write_text("text,label,split\nAC,0,train\nGT,1,train\nAA,1,test\n")
    with pytest.raises(SequenceError, match=r"\(split=test\): the test split has one class only"):
        load_geneb_task(_spec(TF0), tmp_path)


def test_missing_task_is_unavailable_with_the_fix(tmp_path: Path) -> None:
    with pytest.raises(TaskUnavailable) as info:
        load_geneb_task(_spec(TF0), tmp_path)
    assert str(info.value).startswith(f"{TF0}: not in the data directory {tmp_path}")
    assert GENEB_REVISION in str(info.value)


# ---- GENEB loader: the hub (mocked: the hub is never contacted) ----------------------------------------


@pytest.fixture
def fake_hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hub_online: None) -> list[dict[str, Any]]:
    """huggingface_hub.hf_hub_download serving a local folder; the cache starts empty."""
    import huggingface_hub

    _published(tmp_path / "remote", TF0, "text,label\nAC,0\nGT,1\n", "text,label\nAA,1\nCC,0\n")
    calls: list[dict[str, Any]] = []
    cached: set[str] = set()

    def download(**kwargs: Any) -> str:
        calls.append(kwargs)
        if kwargs["local_files_only"] and kwargs["filename"] not in cached:
            raise huggingface_hub.errors.LocalEntryNotFoundError("not cached")
        path = tmp_path / "remote" / kwargs["filename"]
        if not path.is_file():
            raise huggingface_hub.errors.EntryNotFoundError(f"404 {kwargs['filename']}")
        cached.add(kwargs["filename"])
        return str(path)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", download)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: True)
    return calls


def test_hub_download_pinned_then_cached(fake_hub: list[dict[str, Any]]) -> None:
    data = load_geneb_task(_spec(TF0), None)
    assert data.revision == f"darlednik/geneb-tasks@{GENEB_REVISION}"
    assert list(data.test_sequences) == ["AA", "CC"]
    online = [c for c in fake_hub if not c["local_files_only"]]
    assert {c["filename"] for c in online} == {f"tasks/{TF0}/train.csv", f"tasks/{TF0}/test.csv"}
    assert all(
        c["repo_type"] == "dataset"
        and c["revision"] == GENEB_REVISION
        and c["repo_id"] == "darlednik/geneb-tasks"
        for c in fake_hub
    )
    fake_hub.clear()
    load_geneb_task(_spec(TF0), None)
    assert all(c["local_files_only"] for c in fake_hub), "second load comes from the cache only"


def test_hub_offline_unreachable_and_missing(
    fake_hub: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(
        TaskUnavailable,
        match=rf"^{TF0}: offline \(HF_HUB_OFFLINE\) and not cached \(darlednik/geneb-tasks@.*\); "
        r"pass --geneb-data-dir / set GENEB_DATA_DIR",
    ):
        load_geneb_task(_spec(TF0), None)
    assert all(c["local_files_only"] for c in fake_hub), "offline: the network is never tried"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: False)
    with pytest.raises(
        TaskUnavailable, match=r"the Hugging Face hub cannot be reached .* huggingface-cli download"
    ):
        load_geneb_task(_spec(TF0), None)
    monkeypatch.setattr(hub, "hub_reachable", lambda timeout=3.0: True)
    other = _spec("leannmlindsey_GUE_human_tf_1")
    with pytest.raises(TaskUnavailable, match=r"cannot download darlednik/geneb-tasks@.*EntryNotFoundError"):
        load_geneb_task(other, None)


# ---- user spec files (TOML / YAML) ---------------------------------------------------------------------


def _toy(tmp_path: Path) -> None:
    (tmp_path / "pos.fa").write_text("".join(f">p{i}\nACGTACGT{'A' * i}\n" for i in range(10)))
    (tmp_path / "neg.fa").write_text("".join(f">n{i}\nGGCCGGCC{'C' * i}\n" for i in range(10)))
    (tmp_path / "all.tsv").write_text("seq\ty\n" + "".join(f"{'AC' * (i + 1)}\t{i % 2}\n" for i in range(20)))


def test_toml_fasta_per_class_and_tsv_without_test(tmp_path: Path) -> None:
    _toy(tmp_path)
    (tmp_path / "suite.toml").write_text("""
name = "mine"

[[task]]
id = "fa_task"
category = "enhancers"
train = [{path = "pos.fa", label = 1}, {path = "neg.fa", label = 0}]
test = [{path = "pos.fa", label = 1}, {path = "neg.fa", label = 0}]
allow_overlap = true  # the same files as train: allowed here, refused without this line

[[task]]
id = "tsv_task"
category = "Promoters"
file = "all.tsv"
columns = {text = "seq", label = "y"}
test_fraction = 0.25
split_seed = 3
""")
    suite = get_suite(str(tmp_path / "suite.toml"))
    assert suite.name == "mine"
    assert [t.task_id for t in suite.tasks] == ["fa_task", "tsv_task"]
    fa = suite.load("fa_task")
    assert fa.label_names == ("0", "1")
    assert len(fa.train_sequences) == 20
    tsv = suite.load("tsv_task")
    assert (len(tsv.train_sequences), len(tsv.test_sequences)) == (14, 6)
    assert tsv.revision == "stratified split test_fraction=0.25 seed=3 (14/6)"
    assert np.bincount(tsv.test_labels).tolist() == [3, 3]
    assert suite.load("tsv_task").fingerprint() == tsv.fingerprint(), "the split is seeded"


def test_split_column_provenance_seeded_split_and_dropped_rows(tmp_path: Path) -> None:
    rows = "".join(f"{'ACGT'[i % 4] * 8},{i % 2},{'valid' if i % 5 == 0 else 'train'}\n" for i in range(40))
    (tmp_path / "rows.csv").write_text("seq,y,part\n" + rows)
    (tmp_path / "task.toml").write_text(
        '[[task]]\nid = "dev_rows"\ncategory = "Promoters"\nfile = "rows.csv"\n'
        # 4 distinct sequences in 40 rows: allowed on purpose, the split provenance is what is tested
        'columns = {text = "seq", label = "y", split = "part"}\nsplit_seed = 4\nallow_overlap = true\n'
    )
    suite = get_suite(str(tmp_path / "task.toml"))
    data = suite.load("dev_rows")
    assert data.revision == (
        "8 dev/validation rows dropped (split column 'part'); "
        "stratified split test_fraction=0.2 seed=4 (26/6); "
        "6 of the 6 test sequences (100.0%) are also in train (allow_overlap = true): the score partly "
        "measures memory (refused above 50%)"
    )
    assert f"SPLIT dev_rows: {data.revision}" in render_checks([check_data(data)])


def test_yaml_single_task_spec_with_capped_rows(tmp_path: Path) -> None:
    _toy(tmp_path)
    (tmp_path / "task.yaml").write_text(
        "id: capped\ncategory: Promoters\nfile: all.tsv\ncolumns: {text: seq, label: y}\nmax_rows: 10\n"
        "subsample_seed: 5\n"
    )
    suite = get_suite(str(tmp_path / "task.yaml"))
    data = suite.load("capped")
    assert len(data.train_sequences) == 10
    assert data.revision is not None
    assert "train subsampled 16->10 (seed=5)" in data.revision


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (
            '[[task]]\nid="a"\ncategory="Promoters"\ntrain="x.csv"\ncolums={}\n',
            r"number 1: unknown key\(s\) \['colums'\]",
        ),
        ('[[task]]\ncategory="Promoters"\ntrain="x.csv"\n', r"number 1 lacks \['id'\]"),
        ('[[task]]\nid="a"\ncategory="Promoters"\n', r"lacks \['train \(or file\)'\]"),
        ('[[task]]\nid="a"\ncategory="Promoters"\ntrain="x"\nformat="xls"\n', r"format 'xls' is not one of"),
        (
            '[[task]]\nid="a"\ncategory="Promoters"\ntrain=[{path="x.fa", label="strong"}]\n',
            r"label 'strong' of x\.fa is not an integer",
        ),
        ('[[task]]\nid="a"\ncategory="Promoters"\ntrain="x"\nfile="y"\n', r"either 'file' .* or 'train'"),
        ('name = "empty"\n', r"no tasks"),
        ("[[task]\n", r"cannot read suite file"),
    ],
    ids=[
        "unknown-key",
        "no-id",
        "no-files",
        "bad-format",
        "text-file-label",
        "train-and-file",
        "no-tasks",
        "bad-toml",
    ],
)
def test_spec_file_errors(tmp_path: Path, body: str, pattern: str) -> None:
    (tmp_path / "s.toml").write_text(body)
    with pytest.raises(ValueError, match=pattern) as info:
        get_suite(str(tmp_path / "s.toml"))
    assert str(info.value).startswith(str(tmp_path / "s.toml"))


def test_one_member_class_cannot_be_split(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text("text,label\nA,0\nC,0\nG,1\n")
    (tmp_path / "s.toml").write_text('[[task]]\nid="a"\ncategory="Promoters"\nfile="d.csv"\n')
    with pytest.raises(
        SequenceError, match=r"d\.csv: class 1 has 1 row; a stratified split needs at least 2"
    ):
        get_suite(str(tmp_path / "s.toml")).load("a")


# ---- the check / leak report ---------------------------------------------------------------------------


def test_check_counts_leaks_and_duplicates(tmp_path: Path) -> None:
    _published(tmp_path, TF0, "text,label\nAC,0\nAC,0\nGT,1\nGG,1\n", "text,label\nAC,0\nGT,0\nTT,1\nTT,1\n")
    check = check_data(load_geneb_task(_spec(TF0), tmp_path))
    assert (check.n_train, check.n_test, check.train_per_class, check.test_per_class) == (
        4,
        4,
        (2, 2),
        (2, 2),
    )
    assert (
        check.train_duplicates,
        check.test_duplicates,
        check.test_in_train,
        check.test_in_train_other_label,
    ) == (1, 1, 2, 1)
    assert (check.min_length, check.max_length, check.balance) == (2, 2, 1.0)
    text = render_checks([check])
    assert f"SPLIT {TF0}: {check.revision}" in text if check.revision else "SPLIT" not in text
    assert (
        f"LEAK {TF0}: 2 of 4 test sequences (50.0%) also occur verbatim in train, 1 with another label"
        in text
    )


IENHANCER = """
name = "ienhancer-2l"

[[task]]
id = "ienhancer_layer1"
category = "Enhancers"
train = [{{path = "{d}/layer1_enhancer_vs_non/train_enhancers.fa", label = 1}},
         {{path = "{d}/layer1_enhancer_vs_non/train_nonenhancers.fa", label = 0}}]
test = [{{path = "{d}/layer1_enhancer_vs_non/test_enhancers.fa", label = 1}},
        {{path = "{d}/layer1_enhancer_vs_non/test_nonenhancers.fa", label = 0}}]

[[task]]
id = "ienhancer_layer2"
category = "Enhancers"
train = [{{path = "{d}/layer2_strong_vs_weak/train_strong_enhancers.fa", label = 1}},
         {{path = "{d}/layer2_strong_vs_weak/train_weak_enhancers.fa", label = 0}}]
test = [{{path = "{d}/layer2_strong_vs_weak/test_strong_enhancers.fa", label = 1}},
        {{path = "{d}/layer2_strong_vs_weak/test_weak_enhancers.fa", label = 0}}]
"""


def test_ienhancer_leak_report(shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    suite_file = tmp_path / "ienhancer.toml"
    suite_file.write_text(IENHANCER.format(d=shared_data / "ienhancer_2l"))
    checks = {c.task_id: c for c in check_suite(get_suite(str(suite_file)), None)}
    layer1 = checks["ienhancer_layer1"]
    assert layer1.status == "ok", layer1.message
    assert (layer1.n_train, layer1.n_test) == (2968, 400)
    assert layer1.test_in_train == 100, "100 of the 200 test enhancers are in train"
    assert checks["ienhancer_layer2"].test_in_train == 100, "all 100 strong test enhancers"

    assert main(["tasks", "--check", "--suite", str(suite_file)]) == 0
    out = capsys.readouterr().out
    assert "LEAK ienhancer_layer1: 100 of 400 test sequences (25.0%) also occur verbatim in train" in out
    assert "2 checked, 2 with train/test duplicates, 0 with errors, 0 unavailable" in out


def test_cli_check_geneb_subset(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The geneb suite against the real 14-task subset: 14 checked, 86 unavailable with the reason."""
    root = shared_data / "geneb-tasks-subset"
    assert main(["tasks", "--check", "--suite", "geneb", "--data-dir", str(root), "--json"]) == 0
    rows = {r["task_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert len(rows) == 100
    ok = {k: r for k, r in rows.items() if r["status"] == "ok"}
    assert len(ok) == 14
    prom = ok["leannmlindsey_GUE_prom_300_tata"]
    assert (prom["n_train"], prom["n_test"], prom["classes"]) == (4904, 613, ["0", "1"])
    assert prom["min_length"] == prom["max_length"] == 300
    assert all(
        r["message"].startswith(f"{k}: not in the data directory") for k, r in rows.items() if k not in ok
    )


# ---- raw upstream copies through the bring-your-own path -----------------------------------------------


def test_raw_copies(shared_data: Path, tmp_path: Path) -> None:
    d = shared_data
    (tmp_path / "raw.toml").write_text(f'''
[[task]]
id = "ecoli_sigma70"
category = "Promoters"
file = "{d}/ecoli_sigma70/v9d3.csv"
columns = {{text = "seqs", label = "labels"}}

[[task]]
id = "gue_tf0"
category = "TF Binding"
train = "{d}/gue/tf/0/train.csv"
test = "{d}/gue/tf/0/test.csv"
columns = {{text = "sequence"}}

[[task]]
id = "thermophile_6mA"
category = "DNA Methyl."
train = "{d}/idna_ms/6mA/6mA_T.thermophile/train.tsv"
test = "{d}/idna_ms/6mA/6mA_T.thermophile/test.tsv"
''')
    suite = get_suite(str(tmp_path / "raw.toml"))
    ecoli = suite.load("ecoli_sigma70")
    assert (len(ecoli.train_sequences), len(ecoli.test_sequences)) == (4576, 1144), (
        "mixed case, no split: 80/20"
    )
    assert ecoli.revision == (
        "stratified split test_fraction=0.2 seed=0 (4576/1144); 1 of the 1144 test sequences (0.1%) are "
        "also in train: the score partly measures memory (refused above 50%)"
    )
    assert all(re.fullmatch("[ACGTN]{81}", s) for s in ecoli.test_sequences[:50])
    assert suite.load("gue_tf0").n_classes == 2
    thermo = suite.load("thermophile_6mA")
    assert len(thermo.train_sequences) == 100_000
    assert len(thermo.test_sequences) == 100_000
    assert (
        thermo.revision
        == "train subsampled 107600->100000 (seed=0); test subsampled 107600->100000 (seed=0); "
        "117 of the 100000 test sequences (0.1%) are also in train: the score partly measures memory "
        "(refused above 50%)"
    )


def test_an_unknown_task_id_is_a_usage_error_with_the_closest_ids(capsys: pytest.CaptureFixture[str]) -> None:
    """Was: ``geneb download --task nosuchtask`` ended in a KeyError traceback."""
    from geneb_bench.cli import main

    suite = get_suite("geneb")
    assert [s.task_id for s in suite.select(["leannmlindsey_GUE_mouse_3"])] == ["leannmlindsey_GUE_mouse_3"]
    with pytest.raises(ValueError, match="did you mean leannmlindsey_GUE_mouse_2"):
        suite.select(["leannmlindsey_GUE_mouse_33"])
    assert main(["download", "--suite", "geneb", "--task", "nosuchtask"]) == 2
    assert "geneb download: suite 'geneb' has no task 'nosuchtask'" in capsys.readouterr().err
    assert main(["plan", "--suite", "geneb", "--task", "nosuchtask", "--model", "kmer-3"]) == 2
