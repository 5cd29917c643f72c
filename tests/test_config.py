"""Environment and config contracts: environment.yml wraps requirements.txt; configs load."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gazex_lib import config, sections
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
def test_profiles_load_into_the_typed_config(profile):
    cfg = config.load_config(profile)
    assert cfg.profile == profile and isinstance(cfg.seed, int)
    assert isinstance(cfg.gaze.trim, tuple) and isinstance(cfg.train.adam_betas, tuple)
    assert set(cfg.to_dict()) == {"profile", "seed", *sections.SECTION_TYPES}


def test_overrides_apply_and_typos_fail():
    cfg = config.load_config("ci", **{"synthetic.n_readings": 7, "train__lr": 0.5})
    assert cfg.synthetic.n_readings == 7 and cfg.train.lr == 0.5
    assert config.load_config("ci", **{"train.max_steps": None}).train.max_steps == \
        config.load_config("ci").train.max_steps           # None keeps the profile's value
    with pytest.raises(sections.ConfigError, match="configs/ci.yaml: unknown key synthetic.n_reading"):
        config.load_config("ci", **{"synthetic.n_reading": 7})
    with pytest.raises(sections.ConfigError, match="profile"):
        config.load_config("gpu")


def _profile_copy(tmp_path, monkeypatch, edit):
    raw = yaml.safe_load((ROOT / "configs" / "ci.yaml").read_text())
    edit(raw)
    (tmp_path / "ci.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.setenv("GAZEX_CONFIGS", str(tmp_path))


@pytest.mark.parametrize("edit, message", [
    (lambda r: r["gaze"].pop("eps"), "ci.yaml: missing key gaze.eps"),
    (lambda r: r["train"].update(lr_typo=1), "ci.yaml: unknown key train.lr_typo"),
    (lambda r: r["model"].update(lora_r="eight"), "ci.yaml: model.lora_r: expected an integer"),
    (lambda r: r["data"].update(trailing_words=3), "ci.yaml: data.trailing_words: expected a string"),
    (lambda r: r.pop("heldout"), "ci.yaml: missing section 'heldout'"),
    (lambda r: r["gaze"].update(shrink="35%"), "ci.yaml: section 'gaze'"),
    (lambda r: r["synthetic"].update(jpeg_quality=0), "jpeg_quality must be in"),
])
def test_a_broken_profile_file_names_the_file_and_the_key(tmp_path, monkeypatch, edit, message):
    _profile_copy(tmp_path, monkeypatch, edit)
    with pytest.raises(sections.ConfigError, match=message):
        config.load_config("ci")


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


def test_processor_budgets_come_from_the_model_section():
    from gazex_lib.model.setup import processor_kwargs

    for profile in config.PROFILES:
        kw = processor_kwargs(config.load_config(profile).model)
        assert kw["max_pixels"] >= kw["min_pixels"] and kw["video_max_pixels"] >= kw["video_min_pixels"]
