"""Per-disease gaze agreement (issue 13) on crafted pairs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.analysis.per_disease import axis_icc, per_disease_table


def _pairs(rng, label, n, noise):
    rad = rng.uniform(100, 800, (n, 2))
    return pd.DataFrame({"label": label, "rad_cx": rad[:, 0], "rad_cy": rad[:, 1],
                         "model_cx": rad[:, 0] + rng.normal(0, noise, n), "model_cy": rad[:, 1] + rng.normal(0, noise, n),
                         "dwell_s": rng.uniform(1, 3, n), "n_clusters": rng.integers(1, 4, n), "pixels_per_degree": 30.0})


def test_per_disease_rows_and_small_categories():
    rng = np.random.default_rng(0)
    pairs = pd.concat([_pairs(rng, "Pleural Effusion", 30, 10.0), _pairs(rng, "Edema", 30, 150.0),
                       _pairs(rng, "Fracture", 2, 10.0)], ignore_index=True)
    pairs.loc[0, "model_cx"] = np.nan                               # a sentence the model did not answer
    t = per_disease_table(pairs, min_pairs=5)
    assert list(t.index) == ["Edema", "Pleural Effusion", "Fracture", "all"]     # CheXbert order
    assert (t.loc["Pleural Effusion", "n"], t.loc["Pleural Effusion", "n_complete"]) == (30, 29)
    # a close model agrees more than a far one, on both axes
    assert t.loc["Pleural Effusion", "icc_x"] > 0.95 > t.loc["Edema", "icc_x"]
    assert t.loc["Pleural Effusion", "error_px"] < t.loc["Edema", "error_px"]
    assert t.loc["Edema", "error_deg"] == pytest.approx(t.loc["Edema", "error_px"] / 30.0)
    # too few pairs: n, and no number
    assert t.loc["Fracture", "n"] == 2 and np.isnan(t.loc["Fracture", "icc_x"])
    assert t.loc["Fracture", "note"] == "fewer than 5 complete pairs: no estimate"
    assert t.loc["all", "n"] == 62


def test_error_by_hand_and_bad_input():
    pairs = pd.DataFrame({"label": "Edema", "rad_cx": [0.0, 0, 0, 0], "rad_cy": [0.0, 0, 0, 0],
                          "model_cx": [3.0, 0, 6, 0], "model_cy": [4.0, 5, 8, 0], "dwell_s": [1.0, 2, 3, 4],
                          "n_clusters": [1, 1, 2, 2], "pixels_per_degree": [5.0, 5, 10, 10]})
    row = per_disease_table(pairs, min_pairs=3).loc["Edema"]
    assert row["error_px"] == pytest.approx((5 + 5 + 10 + 0) / 4)
    assert row["error_deg"] == pytest.approx((1 + 1 + 1 + 0) / 4)
    assert row["dwell_s"] == 2.5 and row["n_clusters"] == 1.5
    with pytest.raises(ValueError, match="lacks columns \\['dwell_s'\\]"):
        per_disease_table(pairs.drop(columns="dwell_s"), min_pairs=3)
    with pytest.raises(ValueError, match="min_pairs must be at least 3"):
        per_disease_table(pairs, min_pairs=2)
    assert axis_icc(pairs, "x")["n"] == 4
