"""Notebooks run by papermill with small parameters; assertions on their result JSON.

(`pytest --nbval notebooks/` separately re-executes the committed notebooks and compares
every stored output.)
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from gazex_lib.data.synthetic import load_truth
from gazex_lib.run import notebook_paths

ROOT = Path(__file__).resolve().parent.parent
CONTRACT = {"profile", "data_root", "model_path", "output_dir", "seed"}


@pytest.mark.parametrize("path", notebook_paths(), ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_the_contract(path):
    nb = nbformat.read(path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    names = {line.split("=")[0].strip() for line in cells[0].source.splitlines() if "=" in line}
    assert CONTRACT <= names
    # skeleton: title, overview, prerequisites, summary
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for heading in ("## Overview", "## Prerequisites", "## Parameters", "## Summary"):
        assert heading in text, heading


def _run(name: str, tmp_path: Path, **params) -> dict:
    out = tmp_path / "out"
    pm.execute_notebook(str(ROOT / "notebooks" / name), str(tmp_path / name),
                        parameters={"output_dir": str(out), **params}, kernel_name="python3",
                        cwd=str(ROOT / "notebooks"), progress_bar=False)
    return json.loads((out / name.replace(".ipynb", ".json")).read_text())


def test_data_exploration_on_a_given_data_root(small_synthetic, tmp_path):
    root, summary = small_synthetic
    res = _run("01_data_exploration.ipynb", tmp_path, data_root=str(root))
    assert res["parameters"]["data_root"] == str(root)
    r = res["results"]
    truth = load_truth(root)
    readings = truth["readings"]
    kept = [t for t in readings.values() if not t["discarded"]]
    assert r["n_readings"] == 22 and r["readings_per_phase"] == {"1": 5, "2": 5, "3": 12}
    assert r["n_discarded"] == summary["n_discarded"]
    assert r["n_images"] == 14
    assert r["readings_per_reader"] and sum(r["readings_per_reader"].values()) == 22
    assert r["n_sentences"] == sum(len(t["sentences"]) for t in kept)
    assert r["n_fixations"] == sum(t["n_fixations"] for t in kept)
    assert r["quality"]["nan_gaze_samples"]["count"] == sum(t["n_nan_samples"] for t in kept)
    assert r["quality"]["sentences_without_gaze"]["count"] == sum(
        s["no_gaze"] for t in kept for s in t["sentences"])
    # the simulation's 1000 Hz clock and nominal px/deg (config: 30) come back
    assert r["median_pixels_per_degree"] == pytest.approx(30, abs=1.0)
    assert 150 <= r["median_fixation_duration_ms"] <= 450
    assert r["example_reading"] in readings


def test_gaze_processing_on_a_given_data_root(small_synthetic, tmp_path):
    root, _ = small_synthetic
    res = _run("02_gaze_processing.ipynb", tmp_path, data_root=str(root))
    r = res["results"]
    truth = load_truth(root)
    kept = [t for t in truth["readings"].values() if not t["discarded"]]
    n_sentences = sum(len(t["sentences"]) for t in kept)
    # one holistic frame per sentence: frames and sentences stay aligned
    assert r["n_sentences"] == r["n_holistic_frames"] == n_sentences
    assert r["n_frames"] == r["n_holistic_frames"] + r["n_cluster_frames"]
    assert r["sentences_by_status"].get("no_gaze", 0) == sum(s["no_gaze"] for t in kept for s in t["sentences"])
    ex = r["example_dbscan_exactness"]
    assert ex["windows_checked"] > 0 and ex["windows_identical"] == ex["windows_checked"]
    count = r["keyframe_count"]
    assert count["readings"] == len(kept)
    assert count["extrapolated_frames"] == round(r["n_frames"] / len(kept) * 3032)
    # the two map recipes look at the same places
    assert r["map_recipe_correlation"] > 0.5
