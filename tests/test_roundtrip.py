"""Generator -> readers: the readers give back exactly what the generator planted."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib.data import labels, mimic, quality, schema
from gazex_lib.data.reflacx import DiscardedReadingError, load_reflacx
from gazex_lib.data.synthetic import load_truth


@pytest.fixture(scope="module")
def generated(small_synthetic):
    root, summary = small_synthetic
    return root, summary, load_truth(root), load_reflacx(root / schema.REFLACX_DIR)


def test_counts_per_phase_and_discards(generated):
    root, summary, truth, ds = generated
    md = ds.metadata
    assert len(md) == 22 == summary["n_readings"]
    assert md.groupby("phase").size().to_dict() == {1: 5, 2: 5, 3: 12}
    planted = sorted(rid for rid, r in truth["readings"].items() if r["discarded"])
    assert sorted(md.index[md["eye_tracking_data_discarded"]]) == planted and planted
    with pytest.raises(DiscardedReadingError, match=planted[0]):
        ds.gaze(planted[0])


def test_sentences_fixations_and_samples_round_trip(generated):
    root, summary, truth, ds = generated
    for rid in ds.ids():
        t = truth["readings"][rid]
        sent = ds.sentences(rid)
        assert sent["text"].tolist() == [s["text"] for s in t["sentences"]], rid
        np.testing.assert_allclose(sent["timestamp_start_s"], [s["t_start_s"] for s in t["sentences"]], atol=5e-4)
        np.testing.assert_allclose(sent["timestamp_end_s"], [s["t_end_s"] for s in t["sentences"]], atol=5e-4)
        assert len(ds.fixations(rid)) == t["n_fixations"]
        assert len(ds.gaze(rid)) == t["n_gaze_samples"]


def test_quality_report_counts_what_was_planted(generated):
    root, summary, truth, ds = generated
    report = quality.quality_report(ds, progress=False).set_index(["id", "reason"])["count"]
    readings = truth["readings"]
    assert report.xs("discarded_reading", level="reason").sum() == sum(r["discarded"] for r in readings.values())
    trailing = {rid for rid, r in readings.items() if r.get("trailing_words")}
    no_gaze = {rid for rid, r in readings.items() for s in r["sentences"] if s["no_gaze"]}
    assert trailing and no_gaze, "the generator guarantees both edge cases from 20 readings on"
    for rid in ds.ids():
        r = readings[rid]
        assert report[(rid, "nan_gaze_samples")] == r["n_nan_samples"], rid
        assert report[(rid, "offimage_gaze_samples")] == r["n_offimage_samples"], rid
        assert report[(rid, "sentences_without_gaze")] == sum(s["no_gaze"] for s in r["sentences"]), rid
        assert (report[(rid, "trailing_words")] > 0) == (rid in trailing), rid


def test_labels_and_images_agree_with_planted_findings(generated):
    root, summary, truth, ds = generated
    chex = ds.labels
    jpg_root = root / schema.MIMIC_JPG_DIR
    for rid in ds.ids():
        reported = {f["chexbert_label"] for f in truth["readings"][rid]["findings"]
                    if f["chexbert_label"] and f["certainty"] > labels.POSITIVE_ABOVE}
        for name in reported:
            assert chex.at[rid, name] == 1.0, (rid, name)
        img = mimic.load_image(mimic.resolve_image_path(ds.metadata.at[rid, "image"], jpg_root, must_exist=True))
        assert img.shape == (560, 448)
