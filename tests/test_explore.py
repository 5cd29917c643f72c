"""Dataset summaries of notebook 01, on a generated dataset with known composition."""
from __future__ import annotations

import json

import numpy as np
import pytest

from gazex_lib.data import explore, labels, quality, schema
from gazex_lib.data.reflacx import load_reflacx
from gazex_lib.data.synthetic import load_truth


@pytest.fixture(scope="module")
def ds_root(small_synthetic):
    root, _ = small_synthetic
    return load_reflacx(root / schema.REFLACX_DIR), root


def test_composition_counts_phases_images_and_readers(ds_root):
    ds, root = ds_root
    readers = explore.reader_of(root)
    assert readers is not None and set(readers) <= {"R1", "R2", "R3", "R4", "R5"}
    tables = explore.composition(ds.metadata, readers)
    assert tables["phase_split"].loc["total", "total"] == 22
    assert tables["images"]["images"].to_dict() == {1: 1, 2: 1, 3: 12, "total": 14}
    # every multi-reader image is read by each of the five readers once
    assert (tables["reader_phase"].loc[["R1", "R2", "R3", "R4", "R5"], [1, 2]] == 1).all().all()


def test_reader_of_is_none_without_truth(tmp_path):
    assert explore.reader_of(tmp_path) is None


def test_reading_statistics_match_the_files(ds_root):
    ds, root = ds_root
    truth = load_truth(root)
    stats = explore.reading_statistics(ds, progress=False)
    assert list(stats.index) == ds.ids()
    for rid, row in stats.iterrows():
        t = truth["readings"][rid]
        assert row["n_gaze_samples"] == t["n_gaze_samples"] and row["n_fixations"] == t["n_fixations"]
        assert row["n_sentences"] == len(t["sentences"])
        assert row["pre_dictation_s"] == pytest.approx(-t["t_gaze_start_s"], abs=1e-3)
        assert row["gaze_duration_s"] == pytest.approx(t["t_gaze_end_s"] - t["t_gaze_start_s"], abs=1e-3)
    assert (stats["dictation_duration_s"] > 0).all()


def test_pick_example_reading_is_deterministic_and_checked(ds_root):
    ds, _ = ds_root
    rid = explore.pick_example_reading(ds)
    assert ds.metadata.at[rid, "phase"] == 3 and not ds.metadata.at[rid, "eye_tracking_data_discarded"]
    assert rid == explore.pick_example_reading(ds)
    with pytest.raises(KeyError, match="nope"):
        explore.pick_example_reading(ds, "nope")


def test_results_are_json_ready_and_stable(ds_root):
    ds, root = ds_root
    tables = explore.composition(ds.metadata, explore.reader_of(root))
    stats = explore.reading_statistics(ds, progress=False)
    summary = quality.quality_summary(quality.quality_report(ds, progress=False))
    prev = labels.prevalence_table(ds.labels)
    res = explore.data_exploration_results(ds, tables, prev, stats, summary, example="x")
    text = json.dumps(res, sort_keys=True)
    assert json.loads(text) == res
    assert res["readings_per_phase"] == {"1": 5, "2": 5, "3": 12}
    assert res["images_per_phase"] == {"1": 1, "2": 1, "3": 12}
    assert isinstance(res["quality"]["discarded_reading"]["count"], int)
    assert res["label_prevalence"]["Pneumonia"] is None
    assert res["n_sentences"] == int(stats["n_sentences"].sum())
    assert np.isclose(res["median_pixels_per_degree"], stats["pixels_per_degree"].median(), atol=1e-4)
