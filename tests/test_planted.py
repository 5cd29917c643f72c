"""planted_effect: the strongest baseline by the metric's direction, the paired difference and
its interval over images, and the goal checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.analysis import goal_met, image_bootstrap, planted_effect


def _scores(values, metric, images):
    rows = []
    for i, (v, img) in enumerate(zip(values, images)):
        row = {"record_id": f"r{i}", "task": "fvp", "metric": metric, "value": float(v), "n": 1,
               "image": img}
        rows.append(row)
    return pd.DataFrame(rows)


def _table(trained, a, b, metric="fvp_iou", seed=0):
    images = [f"img{i // 2}" for i in range(len(trained))]     # two records per image
    sources = {"trained": _scores(trained, metric, images), "a": _scores(a, metric, images),
               "b": _scores(b, metric, images)}
    return image_bootstrap(sources, "image", n_boot=500, seed=seed, ci=0.95,
                           pairs=[("trained", "a"), ("trained", "b")])


def test_strongest_baseline_and_paired_interval():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.2, 0.6, 40)
    table = _table(base + 0.2, base, base + 0.1)
    e = planted_effect(table, baselines=("a", "b"))["fvp_iou"]
    assert e["best_baseline"] == "b" and e["diff"] == pytest.approx(0.1)
    assert e["ci_low"] == pytest.approx(0.1) and e["ci_high"] == pytest.approx(0.1)
    assert e["n_images"] == 20 and e["image_blind"] is None
    assert goal_met({"fvp_iou": e}) == {"fvp_iou": True, "fvp_iou_vs_image_blind": None}


def test_lower_is_better_metrics_pick_the_smallest_error_and_fail_when_behind():
    rng = np.random.default_rng(1)
    base = rng.uniform(100, 300, 40)
    table = _table(base + 5 + rng.normal(0, 30, 40), base + 50, base, metric="gtm_centroid_error_px")
    e = planted_effect(table, baselines=("a", "b"))["gtm_centroid_error_px"]
    assert e["best_baseline"] == "b" and not e["higher_is_better"]
    assert e["ci_low"] <= e["diff"] <= e["ci_high"]
    assert goal_met({"gtm_centroid_error_px": e})["gtm_centroid_error_px"] is False


def test_image_blind_control_interval():
    rng = np.random.default_rng(2)
    base = rng.uniform(0.2, 0.6, 40)
    images = [f"img{i // 2}" for i in range(40)]
    sources = {k: _scores(v, "fvp_iou", images) for k, v in
               {"trained": base + 0.2, "a": base, "blind": base + 0.05}.items()}
    table = image_bootstrap(sources, "image", n_boot=500, seed=0, ci=0.95,
                            pairs=[("trained", "a"), ("trained", "blind")])
    e = planted_effect(table, baselines=("a",), image_blind="blind")["fvp_iou"]
    assert e["image_blind"] == pytest.approx(float(np.mean(base + 0.05)))
    assert e["image_blind_ci"] == pytest.approx([0.15, 0.15])
    assert goal_met({"fvp_iou": e})["fvp_iou_vs_image_blind"] is True
    with pytest.raises(KeyError, match="diff"):
        planted_effect(table, baselines=("a",), image_blind="nope")
