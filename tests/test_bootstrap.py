"""The image bootstrap of the probe metrics (gazex_lib.analysis.bootstrap): headline point
estimates, seeding, the image as the resampling unit, paired differences, coverage, errors."""
from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from gazex_lib.analysis import BOOTSTRAP_COLUMNS, image_bootstrap
from gazex_lib.eval import summarize_scores

N_BOOT = 2000


def _scores(metric, values, ids, *, sums=None, ns=None, task=None):
    """A score_answers-like table of one metric (``sum``/``n`` given: a path-metric table)."""
    task = task or {"fvp_iou": "fvp", "gtm_centroid_error_px": "gtm_path",
                    "sda_order_accuracy": "sda_global"}.get(metric, metric)
    df = pd.DataFrame({"record_id": list(ids), "task": task, "reading_id": list(ids),
                       "metric": metric, "value": np.asarray(values, float), "parsed": True,
                       "n": 1 if ns is None else list(ns)})
    if sums is not None:
        df["sum"] = np.asarray(sums, float)
    return df


def _all_metrics(seed=0, n_images=12, repeats=3):
    """Scores of the three probe metrics on ``n_images`` images x ``repeats`` readings each
    (ids ``<task>-<image>-<reader>``), and the ``{record_id: image}`` map."""
    rng = np.random.default_rng(seed)
    frames, image_of = [], {}
    for metric, task in (("fvp_iou", "fvp"), ("gtm_centroid_error_px", "gtm_path"),
                         ("sda_order_accuracy", "sda_finding")):
        ids = [f"{task}-{i}-{r}" for i in range(n_images) for r in range(repeats)]
        image_of.update({rid: f"img{rid.split('-')[1]}" for rid in ids})
        if metric == "gtm_centroid_error_px":
            ns = rng.integers(1, 7, len(ids))
            sums = rng.gamma(2.0, 60.0, len(ids)) * ns
            frames.append(_scores(metric, sums / ns, ids, sums=sums, ns=ns, task=task))
        else:
            frames.append(_scores(metric, rng.uniform(0, 1, len(ids)), ids, task=task))
    return pd.concat(frames, ignore_index=True), image_of


def _row(table, metric, source, reference=None):
    sel = (table["metric"] == metric) & (table["source"] == source)
    sel &= table["reference"].isna() if reference is None else table["reference"] == reference
    assert sel.sum() == 1, (metric, source, reference)
    return table[sel].iloc[0]


def _width(row):
    return row["ci_high"] - row["ci_low"]


# --- point estimates -----------------------------------------------------------------------------
def test_point_estimates_are_the_headline_formulas():
    scores, image_of = _all_metrics()
    table = image_bootstrap({"trained": scores}, image_of, n_boot=200, seed=0, ci=0.95)
    assert list(table.columns) == BOOTSTRAP_COLUMNS
    path = scores[scores["metric"] == "gtm_centroid_error_px"]
    ratio_of_sums = path["sum"].sum() / path["n"].sum()
    assert abs(ratio_of_sums - path["value"].mean()) > 1.0   # the two formulas differ here
    expected = {"gtm_centroid_error_px": ratio_of_sums,
                "fvp_iou": scores.loc[scores["metric"] == "fvp_iou", "value"].mean(),
                "sda_order_accuracy": scores.loc[scores["metric"] == "sda_order_accuracy",
                                                 "value"].mean()}
    headline = summarize_scores(scores)
    for metric, value in expected.items():
        row = _row(table, metric, "trained")
        assert row["estimate"] == pytest.approx(value, rel=1e-12)
        assert row["estimate"] == pytest.approx(headline[metric], rel=1e-12)
        assert row["ci_low"] < row["estimate"] < row["ci_high"]
        assert row["kind"] == "value" and row["n_images"] == 12 and row["n_records"] == 36
    assert table.attrs == {"n_boot": 200, "seed": 0, "ci": 0.95}


def test_image_ids_from_a_column_or_a_series_give_the_same_table():
    scores, image_of = _all_metrics()
    by_map = image_bootstrap({"t": scores}, image_of, n_boot=300, seed=4, ci=0.9)
    with_col = scores.assign(dicom_id=scores["record_id"].map(image_of))
    pd.testing.assert_frame_equal(
        image_bootstrap({"t": with_col}, "dicom_id", n_boot=300, seed=4, ci=0.9), by_map)
    pd.testing.assert_frame_equal(
        image_bootstrap({"t": scores}, pd.Series(image_of), n_boot=300, seed=4, ci=0.9), by_map)


# --- seeding -------------------------------------------------------------------------------------
def test_same_seed_same_table_other_seed_other_intervals():
    scores, image_of = _all_metrics()
    base = scores.assign(value=scores["value"] * 0.9, sum=scores["sum"] * 1.1)
    kw = dict(n_boot=500, ci=0.95, pairs=[("trained", "base")])
    a = image_bootstrap({"trained": scores, "base": base}, image_of, seed=7, **kw)
    b = image_bootstrap({"trained": scores, "base": base}, image_of, seed=7, **kw)
    c = image_bootstrap({"trained": scores, "base": base}, image_of, seed=8, **kw)
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_series_equal(a["estimate"], c["estimate"])
    assert (a["ci_low"] != c["ci_low"]).all() and (a["ci_high"] != c["ci_high"]).all()
    # A source's interval does not depend on the other sources in the call.
    alone = image_bootstrap({"trained": scores}, image_of, seed=7, n_boot=500, ci=0.95)
    pd.testing.assert_frame_equal(alone, a[a["source"].eq("trained") & a["reference"].isna()]
                                  .reset_index(drop=True))


# --- the unit is the image -----------------------------------------------------------------------
def _record_bootstrap(values, n_boot, seed, ci=0.95):
    """What the image bootstrap must not be: records resampled as if independent."""
    values = np.asarray(values, float)
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), (n_boot, len(values)))].mean(axis=1)
    return np.quantile(means, [(1 - ci) / 2, (1 + ci) / 2])


def test_five_identical_repeats_of_an_image_count_as_one_image():
    rng = np.random.default_rng(11)
    n_images, readers = 40, 5
    per_image = rng.normal(0.5, 0.15, n_images)
    ids5 = [f"r{i}-{k}" for i in range(n_images) for k in range(readers)]
    rep5 = _scores("fvp_iou", np.repeat(per_image, readers), ids5)
    one = _scores("fvp_iou", per_image, [f"r{i}-0" for i in range(n_images)])
    image_of = {rid: f"img{rid[1:].split('-')[0]}" for rid in ids5}
    kw = dict(n_boot=N_BOOT, seed=3, ci=0.95)
    t5 = _row(image_bootstrap({"m": rep5}, image_of, **kw), "fvp_iou", "m")
    t1 = _row(image_bootstrap({"m": one}, image_of, **kw), "fvp_iou", "m")
    assert t5["n_images"] == t1["n_images"] == n_images and t5["n_records"] == 200
    assert t5["estimate"] == pytest.approx(t1["estimate"], rel=1e-12)
    # Same images, same interval (up to Monte-Carlo noise: here the very same draws).
    tol = 0.05 * _width(t1)
    assert abs(t5["ci_low"] - t1["ci_low"]) < tol and abs(t5["ci_high"] - t1["ci_high"]) < tol
    # A record-level bootstrap of the 200 records pretends to know sqrt(5) times more.
    lo, hi = _record_bootstrap(rep5["value"], N_BOOT, seed=3)
    ratio = _width(t5) / (hi - lo)
    assert 1.8 < ratio < 2.8, ratio
    assert np.sqrt(readers) == pytest.approx(ratio, rel=0.2)


# --- paired differences --------------------------------------------------------------------------
def test_identical_sources_differ_by_exactly_zero():
    scores, image_of = _all_metrics()
    table = image_bootstrap({"a": scores, "b": scores.copy()}, image_of, n_boot=500, seed=1,
                            ci=0.95, pairs=[("a", "b")])
    diffs = table[table["kind"] == "diff"]
    assert len(diffs) == 3 and (diffs["source"] == "a").all() and (diffs["reference"] == "b").all()
    assert (diffs["estimate"] == 0).all()
    assert (diffs["ci_low"] == 0).all() and (diffs["ci_high"] == 0).all()
    assert (diffs["n_images"] == 12).all() and (diffs["n_records"] == 36).all()


def test_a_constant_shift_is_a_difference_without_spread():
    scores, image_of = _all_metrics()
    shifted = scores.assign(value=scores["value"] + 0.1, sum=scores["sum"] + 0.1 * scores["n"])
    table = image_bootstrap({"up": shifted, "base": scores}, image_of, n_boot=500, seed=2,
                            ci=0.95, pairs=[("up", "base")])
    for metric in ("fvp_iou", "gtm_centroid_error_px", "sda_order_accuracy"):
        d = _row(table, metric, "up", "base")
        assert d["kind"] == "diff"
        for key in ("estimate", "ci_low", "ci_high"):
            assert d[key] == pytest.approx(0.1, abs=1e-9), (metric, key)
        # Unpaired, the two sources' own intervals are wide: pairing is what removes the spread.
        assert _width(_row(table, metric, "up")) > 0.05


# --- coverage ------------------------------------------------------------------------------------
def test_intervals_cover_the_true_mean_about_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    mu, n_sim, n_images = 0.4, 200, 50
    hits_image = hits_record = 0
    for sim in range(n_sim):
        readers = rng.choice([1, 5], n_images)   # single readings and five-reader images
        image_effect = rng.normal(0.0, 0.1, n_images)
        img = np.repeat(np.arange(n_images), readers)
        values = mu + image_effect[img] + rng.normal(0.0, 0.03, len(img))
        ids = [f"s{sim}-{k}" for k in range(len(img))]
        table = image_bootstrap({"m": _scores("fvp_iou", values, ids)},
                                dict(zip(ids, img)), n_boot=400, seed=sim, ci=0.95)
        row = _row(table, "fvp_iou", "m")
        hits_image += row["ci_low"] <= mu <= row["ci_high"]
        lo, hi = _record_bootstrap(values, 400, seed=sim)
        hits_record += lo <= mu <= hi
    assert 0.88 <= hits_image / n_sim <= 0.99, hits_image
    assert hits_record / n_sim < 0.85, hits_record   # resampling records under-covers here


# --- errors --------------------------------------------------------------------------------------
def _small():
    ids = [f"r{k}" for k in range(6)]
    return _scores("fvp_iou", np.linspace(0, 1, 6), ids), {r: f"img{int(r[1:]) // 2}" for r in ids}


def test_unknown_record_ids_are_named():
    scores, image_of = _small()
    del image_of["r4"]
    with pytest.raises(ValueError, match=r"source 'a'.*1 record id\(s\) without an image \(r4\)"):
        image_bootstrap({"a": scores}, image_of, n_boot=100, seed=0, ci=0.95)
    with pytest.raises(ValueError, match="no column 'dicom_id'"):
        image_bootstrap({"a": scores}, "dicom_id", n_boot=100, seed=0, ci=0.95)


def test_a_pair_needs_the_same_records():
    scores, image_of = _small()
    fewer = scores[scores["record_id"] != "r5"]
    with pytest.raises(ValueError, match=r"pair \('a', 'b'\).*different records.*"
                                         r"only in 'a': 1 \(r5\); only in 'b': 0"):
        image_bootstrap({"a": scores, "b": fewer}, image_of, n_boot=100, seed=0, ci=0.95,
                        pairs=[("a", "b")])
    # Without the pair, sources may have scored different records.
    image_bootstrap({"a": scores, "b": fewer}, image_of, n_boot=100, seed=0, ci=0.95)
    with pytest.raises(ValueError, match=r"pair \('a', 'c'\): unknown source\(s\) \['c'\]"):
        image_bootstrap({"a": scores}, image_of, n_boot=100, seed=0, ci=0.95, pairs=[("a", "c")])


@pytest.mark.parametrize("n_boot", [99, 0, 150.0, True])
def test_n_boot_below_100_or_not_an_integer_is_refused(n_boot):
    scores, image_of = _small()
    with pytest.raises(ValueError, match=r"n_boot must be an integer >= 100"):
        image_bootstrap({"a": scores}, image_of, n_boot=n_boot, seed=0, ci=0.95)


@pytest.mark.parametrize("ci", [0.0, 1.0, 95, -0.5, "0.95"])
def test_ci_outside_zero_one_is_refused(ci):
    scores, image_of = _small()
    with pytest.raises(ValueError, match=r"ci must be a coverage strictly between 0 and 1"):
        image_bootstrap({"a": scores}, image_of, n_boot=100, seed=0, ci=ci)


def test_n_boot_and_ci_have_no_default():
    scores, image_of = _small()
    with pytest.raises(TypeError, match="n_boot"):
        image_bootstrap({"a": scores}, image_of, seed=0, ci=0.95)
    with pytest.raises(TypeError, match="ci"):
        image_bootstrap({"a": scores}, image_of, n_boot=100, seed=0)


def test_a_ratio_metric_needs_sum_and_n_on_every_row():
    scores, image_of = _small()
    path = scores.assign(metric="gtm_centroid_error_px", sum=[1.0, 2.0, None, 4.0, 5.0, 6.0])
    with pytest.raises(ValueError, match=r"\['gtm_centroid_error_px'\] have a 'sum' on some rows"):
        image_bootstrap({"a": path}, image_of, n_boot=100, seed=0, ci=0.95)
    zero_n = path.assign(sum=1.0, n=[1, 1, 0, 1, 1, 1])
    with pytest.raises(ValueError, match=r"non-finite score or n <= 0 \(r2\)"):
        image_bootstrap({"a": zero_n}, image_of, n_boot=100, seed=0, ci=0.95)
