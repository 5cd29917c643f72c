"""Environment and config contracts: environment.yml wraps requirements.txt; configs load."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gazex_lib import config
from gazex_lib.run import env_yaml

ROOT = Path(__file__).resolve().parent.parent


def _pins(lines):
    return sorted(ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#"))


def test_environment_yml_wraps_the_same_pins_as_requirements():
    req = _pins((ROOT / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_block = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    env_pins = _pins(p for p in pip_block if p != "-e .")
    assert env_pins == req, "environment.yml drifted from requirements.txt: run `make env-sync`"
    assert "-e ." in pip_block


def test_environment_yml_is_exactly_what_env_sync_writes():
    expected = env_yaml((ROOT / "requirements.txt").read_text())
    assert (ROOT / "environment.yml").read_text() == expected


def test_every_requirement_is_pinned_exactly():
    for pin in _pins((ROOT / "requirements.txt").read_text().splitlines()):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.+]+", pin), f"not an exact pin: {pin}"


def test_torch_pair_is_the_one_design_md_decides():
    pins = dict(p.split("==") for p in _pins((ROOT / "requirements.txt").read_text().splitlines()))
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["jupyter-book"].startswith("1."), "Jupyter Book 2.x cannot build offline"


@pytest.mark.parametrize("profile", config.PROFILES)
def test_profiles_load_with_the_same_keys(profile):
    cfg = config.load_config(profile)
    assert cfg["profile"] == profile
    assert set(cfg) == set(config.load_config("ci"))
    assert set(cfg["synthetic"]) == set(config.load_config("ci")["synthetic"])


def test_overrides_apply_and_typos_fail():
    cfg = config.load_config("ci", **{"synthetic.n_readings": 7})
    assert cfg["synthetic"]["n_readings"] == 7
    with pytest.raises(ValueError, match="n_reading"):
        config.load_config("ci", **{"synthetic.n_reading": 7})
    with pytest.raises(ValueError, match="profile"):
        config.load_config("gpu")


def test_write_result_is_deterministic(tmp_path):
    import numpy as np

    res = {"b": np.float64(0.5), "a": np.int64(3), "arr": np.arange(3)}
    p1 = config.write_result(tmp_path, "x", res, {"seed": 0, "data_root": None})
    first = p1.read_bytes()
    config.write_result(tmp_path, "x", dict(reversed(list(res.items()))), {"data_root": None, "seed": 0})
    assert p1.read_bytes() == first
    assert b'"a": 3' in first and b'"data_root": null' in first


def test_display_path_is_repo_relative_inside_the_checkout(tmp_path):
    from gazex_lib.config import REPO_ROOT, display_path

    assert display_path(REPO_ROOT / "results" / "ci" / "x.json") == "results/ci/x.json"
    assert display_path(tmp_path / "y") == str(tmp_path / "y")
    assert display_path(None) == "None"


def test_model_and_tasks_sections_are_complete_in_both_profiles():
    from gazex_lib.config import load_config
    from gazex_lib.model.setup import MODEL_KEYS, processor_kwargs
    from gazex_lib.tasks.build import TASK_CONFIG_KEYS
    from gazex_lib.tasks.records import TASKS

    for profile in ("ci", "full"):
        cfg = load_config(profile)
        assert set(cfg["model"]) == set(MODEL_KEYS)
        assert set(cfg["tasks"]) == set(TASK_CONFIG_KEYS)
        assert set(cfg["tasks"]["names"]) <= set(TASKS)
        assert processor_kwargs(cfg)["max_pixels"] >= processor_kwargs(cfg)["min_pixels"]
    bad = load_config("ci")
    bad["model"]["lora_rank"] = 4
    with pytest.raises(KeyError, match="unknown \\['lora_rank'\\]"):
        processor_kwargs(bad)
