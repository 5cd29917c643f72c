"""Cached stages (gazex_lib.stages) and the run object (gazex_lib.setup): keys, reuse,
atomic partial folders, forcing, one-line errors, provenance."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gazex_lib
from gazex_lib.runtime import SetupError
from gazex_lib.stages import PARTIAL_SUFFIX, STAGE_FILE, run_stage


@pytest.fixture
def run_factory(small_synthetic, tmp_path):
    root, _ = small_synthetic

    def make(seed=0, **overrides):
        return gazex_lib.setup("ci", str(root), None, str(tmp_path / "out"), seed,
                               announce=None, **overrides)
    return make


def _writer(calls, text="x"):
    def build(directory):
        calls.append(directory)
        (directory / "out.txt").write_text(text)
    return build


def test_key_changes_with_a_config_value_the_seed_and_an_upstream_key(run_factory):
    calls = []
    base = run_factory()
    a = base.stage("demo", _writer(calls), sections=("train",), uses_seed=True)
    same = run_factory().stage("demo", _writer(calls), sections=("train",), uses_seed=True)
    assert same.key == a.key and same.status == "reused" and len(calls) == 1
    lr = run_factory(**{"train.lr": 1e-4}).stage("demo", _writer(calls), sections=("train",),
                                                 uses_seed=True)
    seed = run_factory(seed=1).stage("demo", _writer(calls), sections=("train",), uses_seed=True)
    # a section the stage does not read leaves the key alone
    other = run_factory(**{"gaze.eps": 0.25}).stage("demo", _writer(calls), sections=("train",),
                                                    uses_seed=True)
    assert other.key == a.key
    up1 = base.stage("up", _writer(calls, "1"), extra={"v": 1})
    up2 = base.stage("up", _writer(calls, "2"), extra={"v": 2})
    down1 = base.stage("down", _writer(calls), upstream=(up1,))
    down2 = base.stage("down", _writer(calls), upstream=(up2,))
    assert len({a.key, lr.key, seed.key}) == 3 and down1.key != down2.key
    assert base.stage("demo", _writer(calls), sections=("train",), uses_seed=True,
                      version=2).key != a.key


def test_reused_output_equals_the_built_one(run_factory):
    run = run_factory()
    built = run.keyframe_table()
    again = run_factory().keyframe_table()
    assert not built.from_cache and again.from_cache
    assert again.directory == built.directory
    assert again.table.equals(built.table) and again.manifest == built.manifest
    assert (built.directory / STAGE_FILE).is_file()


def test_a_half_written_stage_is_never_reused_and_the_rerun_resumes(tmp_path):
    seen = []

    def killed(directory):
        (directory / "checkpoint-1").write_text("step 1")
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        run_stage(tmp_path, "train", {"a": 1}, killed, announce=None)
    (partial,) = (tmp_path / "stages" / "train").iterdir()
    assert partial.name.endswith(PARTIAL_SUFFIX) and not (partial / STAGE_FILE).exists()

    def resume(directory):
        seen.append(sorted(p.name for p in directory.iterdir()))
        (directory / "done").write_text("ok")

    info = run_stage(tmp_path, "train", {"a": 1}, resume, announce=None)
    assert info.status == "built" and seen == [["checkpoint-1"]]   # same partial folder: resumed
    assert not partial.exists() and (info.directory / "done").is_file()
    assert run_stage(tmp_path, "train", {"a": 1}, resume, announce=None).status == "reused"


def test_force_rebuilds_from_scratch(run_factory, tmp_path):
    calls, lines = [], []
    info = run_stage(tmp_path, "s", {"k": 1}, _writer(calls), announce=lines.append)
    forced = run_stage(tmp_path, "s", {"k": 1}, _writer(calls), force=True, announce=lines.append)
    assert forced.key == info.key and forced.status == "built" and len(calls) == 2
    assert lines[0].startswith(f"stage s [{info.key}]: built in ")
    run = run_factory(**{"stages.force": ["demo"]})
    run.stage("demo", _writer(calls))
    run.stage("demo", _writer(calls))
    assert len(calls) == 4   # listed in stages.force: built every time


def test_setup_resolves_the_contract_and_types_the_config(run_factory, small_synthetic):
    run = run_factory(**{"train.max_steps": 7, "heldout.max_per_task": None})
    assert run.data_root == small_synthetic[0].resolve() and run.model_path is None
    assert run.config.train.max_steps == 7 and run.config.train.epochs is None
    assert run.config.heldout.max_per_task == gazex_lib.config.load_config("ci").heldout.max_per_task
    assert run.synthetic and len(run.dataset) == 22
    with pytest.raises(AttributeError):
        run.config.gaze.eps = 1.0        # frozen
    path = run.save_results("x", {"n": 1})
    saved = json.loads(path.read_text())
    prov = saved["provenance"]
    assert {"git", "packages", "device", "data_fingerprint", "model", "stages"} <= set(prov)
    assert prov["packages"]["torch"] and prov["model"] == {"random_config": "tiny"}
    assert saved["parameters"]["overrides"] == {"train.max_steps": 7}


@pytest.mark.parametrize("kwargs, message", [
    (dict(profile="gpu"), "unknown profile 'gpu'"),
    (dict(profile="full"), "needs data_root"),
    (dict(profile="full", data_root="DATA"), "needs model_path"),
    (dict(data_root="/nonexistent/folder"), "is not a folder"),
    (dict(data_root="DATA", model_path="/tmp"), "no config.json"),
    (dict(data_root="DATA", **{"train.max_stepz": 3}), "unknown key train.max_stepz"),
    (dict(data_root="DATA", **{"gaze.eps": "wide"}), "gaze.eps: expected a number"),
])
def test_setup_errors_say_what_to_pass(small_synthetic, kwargs, message):
    kwargs = {k: (str(small_synthetic[0]) if v == "DATA" else v) for k, v in kwargs.items()}
    with pytest.raises(SetupError, match=message.replace("(", r"\(")):
        gazex_lib.setup(announce=None, **kwargs)


def test_command_line_errors_are_one_line(tmp_path):
    for args in (["data", "--profile", "gpu"], ["data", "--profile", "full"],
                 ["stage", "pretraining", "--profile", "full", "--data-root", str(tmp_path)]):
        proc = subprocess.run([sys.executable, "-m", "gazex_lib.run", *args],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
        assert "Traceback" not in proc.stderr


def test_a_stage_built_on_the_command_line_is_reused_by_a_notebook_run(small_synthetic, tmp_path):
    root, _ = small_synthetic
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "gazex_lib.run", "stage", "keyframes", "--data-root", str(root),
           "--output-dir", str(out)]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert "stage keyframes [" in first.stdout and "]: built in" in first.stdout
    lines = []
    run = gazex_lib.setup("ci", str(root), None, str(out), 0, announce=lines.append)
    kt = run.keyframe_table()
    assert kt.from_cache and lines == [kt.stage.message()] and "reused" in lines[0]
    forced = subprocess.run(cmd + ["--force"], capture_output=True, text=True, timeout=300)
    assert forced.returncode == 0 and "]: built in" in forced.stdout, forced.stderr
