"""The one label vocabulary: every REFLACX label is mapped (or deliberately unmapped)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.data import labels


def test_every_reflacx_label_of_both_sets_is_in_the_one_table():
    for phase in (1, 2, 3):
        for name in labels.phase_labels(phase):
            assert name in labels.LABEL_MAP, name
    assert set(labels.LABEL_MAP) == set(labels.REFLACX_PHASE1_LABELS) | set(labels.REFLACX_PHASE23_LABELS)
    targets = {t for t in labels.LABEL_MAP.values() if t is not None}
    assert targets <= set(labels.CHEXBERT_LABELS)
    assert len(labels.CHEXBERT_LABELS) == 14


def test_label_sets_are_sorted_as_written():
    assert list(labels.REFLACX_PHASE1_LABELS) == sorted(labels.REFLACX_PHASE1_LABELS)
    assert list(labels.REFLACX_PHASE23_LABELS) == sorted(labels.REFLACX_PHASE23_LABELS)


def test_mapping_table_lists_phases():
    table = labels.mapping_table()
    row = table.set_index("reflacx_label").loc["Pleural thickening"]
    assert row["chexbert_label"] == "Pleural Other" and row["phases"] == "1"
    assert table.set_index("reflacx_label").loc["Atelectasis", "phases"] == "1, 2, 3"


def test_to_chexbert_thresholds_combines_and_aligns():
    md = pd.DataFrame({
        "Atelectasis": [3, 2, 0, np.nan],
        "Nodule": [0, 5, 0, np.nan],                 # phase 1 only
        "Lung nodule or mass": [np.nan, np.nan, 1, 4],  # phases 2-3
        "Support devices": ["True", "False", "False", "True"],
        "Enlarged hilum": [5, 5, 5, 5],               # unmapped: must not leak anywhere
    }, index=["a", "b", "c", "d"])
    out = labels.to_chexbert(md)
    assert list(out.index) == ["a", "b", "c", "d"]
    assert list(out.columns) == list(labels.CHEXBERT_LABELS)
    assert out["Atelectasis"].tolist()[:3] == [1.0, 0.0, 0.0] and np.isnan(out.at["d", "Atelectasis"])
    assert out["Lung Lesion"].tolist() == [0.0, 1.0, 0.0, 1.0]
    assert out["Support Devices"].tolist() == [1.0, 0.0, 0.0, 1.0]
    assert out["Pneumonia"].isna().all()
    assert out["Enlarged Cardiomediastinum"].isna().all()
    # No Finding: 1 only when no mapped finding is positive (support devices do not count)
    assert out["No Finding"].tolist() == [0.0, 0.0, 1.0, 0.0]


def test_unknown_phase_is_an_error():
    with pytest.raises(ValueError, match="phase"):
        labels.phase_labels(4)
