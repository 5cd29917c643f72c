"""Quality report: exact counts on the hand-written tree (numbers worked out in fake_reflacx.py)."""
from __future__ import annotations

import numpy as np
import pytest

from fake_reflacx import A, B, C, D, E, EXPECTED, write_fake_reflacx
from gazex_lib.data.quality import (
    REASONS, count_in_windows, offimage_mask, quality_report, quality_summary, reading_quality,
    sentence_gaze_counts, valid_gaze_mask,
)
from gazex_lib.data.reflacx import load_reflacx


@pytest.fixture
def root(tmp_path):
    return write_fake_reflacx(tmp_path / "reflacx")


@pytest.fixture
def ds(root):
    return load_reflacx(root)


def _as_dict(report):
    out = {}
    for r in report.itertuples():
        out.setdefault(r.id, {})[r.reason] = (r.count, r.denominator)
    return out


def test_report_exact_counts(ds):
    report = quality_report(ds, progress=False)
    assert list(report.columns) == ["id", "phase", "reason", "count", "denominator"]
    assert _as_dict(report) == EXPECTED["quality"]
    assert report["id"].unique().tolist() == EXPECTED["ids"]      # discarded counted, in order
    assert report.loc[report["id"] == A, "phase"].unique().tolist() == [3]


def test_summary(ds):
    summary = quality_summary(quality_report(ds, progress=False)).set_index("reason")
    assert list(summary.index) == list(REASONS)
    assert summary.loc["discarded_reading", "readings"] == 5
    assert summary.loc["discarded_reading", "readings_affected"] == 1
    assert summary.loc["nan_gaze_samples"].to_dict() == {
        "readings": 4, "readings_affected": 2, "count": 5, "denominator": 87,
        "fraction": pytest.approx(5 / 87)}
    assert summary.loc["offimage_gaze_samples", "count"] == 4
    assert summary.loc["offimage_gaze_samples", "denominator"] == 82
    assert summary.loc["sentences_without_gaze", "count"] == 1
    assert summary.loc["sentences_without_gaze", "denominator"] == 5
    assert summary.loc["trailing_words", "count"] == 2
    assert summary.loc["empty_transcription", "readings_affected"] == 1


def test_trailing_words_counted_in_keep_mode_and_sentence_without_gaze(root):
    ds = load_reflacx(root, trailing_words="keep")
    rows = _as_dict(reading_quality(ds, A))[A]
    assert rows["trailing_words"] == (2, 12)
    # the kept trailing sentence's window [7, 10] has no gaze
    assert rows["sentences_without_gaze"] == (1, 3)


@pytest.mark.parametrize("rid", [A, B, C, E])
def test_sentence_gaze_counts(ds, rid):
    counts = sentence_gaze_counts(ds, rid)
    assert counts["n_gaze_samples"].tolist() == EXPECTED["sentence_gaze"][rid]
    assert counts["sentence_index"].tolist() == list(range(len(EXPECTED["sentence_gaze"][rid])))


def test_subset_and_progress(ds):
    report = quality_report(ds, ids=[D, B], progress=True)
    assert report["id"].unique().tolist() == [D, B]
    assert _as_dict(report) == {D: EXPECTED["quality"][D], B: EXPECTED["quality"][B]}
    empty = quality_report(ds, ids=[], progress=False)
    assert len(empty) == 0 and list(empty.columns) == ["id", "phase", "reason", "count", "denominator"]


def test_helpers():
    assert offimage_mask(np.array([-1, 0, 9.5, 10, np.nan]), np.array([0, 0, 4, 0, 0]), 10, 5).tolist() \
        == [True, False, False, True, False]
    assert offimage_mask(np.array([0, 0]), np.array([5, 4.99]), 10, 5).tolist() == [True, False]
    # closed windows, unsorted times
    assert count_in_windows(np.array([3.0, 1.0, 2.0, 2.0]), np.array([1.0, 2.5, 4.0]),
                            np.array([2.0, 3.0, 9.0])).tolist() == [3, 1, 0]


def test_valid_mask_is_the_paper_rule(ds):
    g = ds.gaze(A)
    mask = valid_gaze_mask(g)
    assert mask.sum() == 57
    # a NaN pupil alone does not invalidate a sample (t = 2.0)
    assert mask[np.isclose(g["timestamp_sample"], 2.0)].all()
    assert not mask[np.isclose(g["timestamp_sample"], 2.5)].any()
