"""The dataset-level key-frame table: parallel == serial, cached, aligned with the sentences."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from gazex_lib import config
from gazex_lib.data import schema
from gazex_lib.data.reflacx import load_reflacx
from gazex_lib.data.synthetic import load_truth
from gazex_lib.gaze.pipeline import ROW_COLUMNS, KeyframeConfig
from gazex_lib.gaze.table import build_keyframe_table

#: The key-frame recipe of the ci profile (configs/ci.yaml: data and gaze sections).
KCFG = KeyframeConfig.from_config(config.load_config("ci"))


@pytest.fixture(scope="module")
def built(small_synthetic, tmp_path_factory):
    root, _ = small_synthetic
    ds = load_reflacx(root / schema.REFLACX_DIR)
    out = tmp_path_factory.mktemp("kt")
    serial = build_keyframe_table(ds, root / schema.MIMIC_JPG_DIR, out / "serial", KCFG,
                                  n_jobs=1, save_frames=True, progress=False)
    parallel = build_keyframe_table(ds, root / schema.MIMIC_JPG_DIR, out / "parallel", KCFG,
                                    n_jobs=2, save_frames=True, progress=False)
    return root, ds, out, serial, parallel


def test_parallel_equals_serial(built):
    root, ds, out, serial, parallel = built
    assert list(serial.table.columns) == ROW_COLUMNS
    pd.testing.assert_frame_equal(serial.table, parallel.table)
    for rid in ds.ids():
        np.testing.assert_array_equal(serial.frames(rid), parallel.frames(rid))


def test_one_holistic_frame_per_sentence_in_order(built):
    root, ds, out, serial, _ = built
    t = serial.table
    for rid in ds.ids():
        sent = ds.sentences(rid)
        hol = t[(t["reading_id"] == rid) & (t["frame_kind"] == "holistic")]
        assert hol["sentence_index"].tolist() == sent["sentence_index"].tolist()
        assert hol["text"].tolist() == sent["text"].tolist()
        rows = t[t["reading_id"] == rid]
        assert rows["frame_index"].tolist() == list(range(1, len(rows) + 1))
        frames = serial.frames(rid)
        assert frames.shape[0] == len(rows) and frames.dtype == np.uint8
        m = KCFG.frame_multiple
        assert frames.shape[1] % m == 0 and frames.shape[2] % m == 0


def test_no_gaze_sentences_are_counted_not_dropped(built):
    root, ds, out, serial, _ = built
    truth = load_truth(root)
    planted = {(rid, i) for rid, r in truth["readings"].items() if not r["discarded"]
               for i, s in enumerate(r["sentences"]) if s["no_gaze"]}
    t = serial.table
    found = set(map(tuple, t.loc[t["status"] == "no_gaze", ["reading_id", "sentence_index"]].to_numpy()))
    assert planted and found == planted
    assert serial.manifest["sentences_by_status"]["no_gaze"] == len(planted)
    assert not t.loc[t["status"] == "no_gaze", "has_box"].any()


def test_cache_hit_and_key_changes_with_config(built):
    root, ds, out, serial, _ = built
    again = build_keyframe_table(ds, root / schema.MIMIC_JPG_DIR, out / "serial", KCFG,
                                 n_jobs=1, save_frames=True, progress=False)
    assert again.from_cache and again.directory == serial.directory
    pd.testing.assert_frame_equal(again.table, serial.table)
    other = build_keyframe_table(ds, root / schema.MIMIC_JPG_DIR, out / "serial",
                                 dataclasses.replace(KCFG, shrink="fraction"),
                                 n_jobs=1, progress=False)
    assert not other.from_cache and other.directory != serial.directory
    with pytest.raises(FileNotFoundError, match="save_frames"):
        other.frames(ds.ids()[0])


def test_report_helpers(built):
    from gazex_lib.gaze import report
    from gazex_lib.gaze.windows import sentence_windows

    root, ds, out, serial, _ = built
    rt = report.recipe_table(KCFG)
    assert rt.at["skip_empty_sentences", "same_as_official"] == KCFG.skip_empty_sentences
    assert rt.at["eps", "same_as_official"] and rt.at["eps", "value"] == str(KCFG.eps)
    toy = pd.DataFrame({"reading_id": ["a", "a", "b", "b", "b", "b"]})
    ex = report.extrapolate_frame_count(toy, n_readings=100)
    assert ex["frames_per_reading_mean"] == 3.0 and ex["extrapolated_frames"] == 300
    lo, hi = ex["extrapolated_frames_ci95"]
    assert lo < 300 < hi
    rid = report.pick_example(serial.table, ds)
    assert ds.metadata.at[rid, "phase"] == 3
    with pytest.raises(KeyError):
        report.pick_example(serial.table, ds, "nope")
    sizes = report.box_sizes(serial.table)
    assert len(sizes) == int(serial.table["has_box"].sum()) and (sizes["width_px"] >= 0).all()
    meta = ds.metadata.loc[rid]
    windows = sentence_windows(ds, rid, trim=KCFG.trim,
                               skip_empty_sentences=KCFG.skip_empty_sentences)
    check = report.dbscan_exactness(windows, (meta["image_size_x"], meta["image_size_y"]), KCFG)
    assert check["windows_checked"] > 0 and check["windows_identical"] == check["windows_checked"]
