"""The variance model of gaze centroids (issue 13): the closed form is what the estimator tends
to, the F-based interval covers the planted value over many seeds, and more reader noise gives
a lower estimate."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib.analysis import icc, icc_from_matrix
from gazex_lib.analysis.variance_model import CentroidVarianceModel

MODEL = CentroidVarianceModel(target_sd=40.0, bias_px=(-12.0, 5.0, 0.0, 15.0, -8.0),
                              noise_px=(10.0, 14.0, 8.0, 18.0, 12.0))


def _matrix(long):
    return long.pivot(index="target", columns="rater", values="rating").to_numpy()


def test_closed_form_is_the_large_sample_limit():
    # 1600 / (1600 + var([-12, 5, 0, 15, -8], ddof=1) + mean([100, 196, 64, 324, 144])): 458 / 4 = 114.5
    assert MODEL.icc2() == pytest.approx(1600 / (1600 + 114.5 + 165.6))
    est = icc_from_matrix(_matrix(MODEL.simulate(np.random.default_rng(0), 4000)), "ICC2")
    assert est == pytest.approx(MODEL.icc2(), abs=0.01)


def test_f_interval_covers_the_planted_value_over_seeds():
    """20 findings per run, 200 runs: the fixed readers make pingouin's interval conservative."""
    hits = []
    for seed in range(200):
        out = icc(MODEL.simulate(np.random.default_rng(seed), 20), "target", "rater", "rating")
        row = out.set_index("form").loc["ICC2"]
        hits.append(row["ci_low"] <= MODEL.icc2() <= row["ci_high"])
    assert np.mean(hits) >= 0.93, np.mean(hits)


def test_estimate_moves_with_the_planted_reader_noise():
    means = []
    for factor in (0.5, 1.0, 2.0, 4.0):
        m = MODEL.scaled_noise(factor)
        est = [icc_from_matrix(_matrix(m.simulate(np.random.default_rng(s), 40)), "ICC2") for s in range(40)]
        means.append(np.mean(est))
        assert np.mean(est) == pytest.approx(m.icc2(), abs=0.05), factor
    assert all(a > b for a, b in zip(means, means[1:])), means


def test_model_checks_its_arguments():
    with pytest.raises(ValueError, match="one value per reader"):
        CentroidVarianceModel(10.0, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match="target_sd must be positive"):
        CentroidVarianceModel(0.0, (1.0, 2.0), (1.0, 1.0))
