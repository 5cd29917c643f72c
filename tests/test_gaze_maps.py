"""Attention maps against analytic values and per-sample reference loops."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gazex_lib.config import load_config
from gazex_lib.gaze.maps import (
    attention_map, render_frame_heat, scaled_shape, truncated_gaussian_sum,
)

#: The paper recipe's values come from the ci profile (configs/ci.yaml, section gaze).
GAZE = load_config("ci").gaze
S = GAZE.scale
RENDER = dict(scale=S, sigma_factor=GAZE.render_sigma_factor)
CLUSTER = dict(scale=S, sigma_factor=GAZE.cluster_sigma_factor)
#: ricbl's reflacx maps are drawn on the original pixels (the recipe's own grid).
ORIGINAL = 1.0


def samples(x, y, ppd_x=40.0, ppd_y=None, t=None):
    x = np.atleast_1d(np.asarray(x, dtype=float))
    n = len(x)
    ppd_x = np.broadcast_to(np.asarray(ppd_x, dtype=float), (n,))
    ppd_y = ppd_x if ppd_y is None else np.broadcast_to(np.asarray(ppd_y, dtype=float), (n,))
    return pd.DataFrame({
        "timestamp_sample": np.arange(n) * 0.001 if t is None else t,
        "x_position": x, "y_position": np.atleast_1d(np.asarray(y, dtype=float)),
        "angular_resolution_x_pixels_per_degree": ppd_x,
        "angular_resolution_y_pixels_per_degree": ppd_y})


def reference_paper(df, image_size, factor, scale, weights=None):
    """The official per-sample loop, written from its description (one Gaussian at a time;
    the official code divides by 4, i.e. ``scale=0.25``)."""
    W, H = image_size
    Ws, Hs = int(W * scale), int(H * scale)
    out = np.zeros((Hs, Ws))
    w = np.ones(len(df)) if weights is None else weights
    for i, row in enumerate(df.itertuples(index=False)):
        x, y = int(row.x_position * scale), int(row.y_position * scale)
        sx = row.angular_resolution_x_pixels_per_degree * scale * factor
        sy = row.angular_resolution_y_pixels_per_degree * scale * factor
        if not (0 <= x < Ws and 0 <= y < Hs):
            continue
        r = int(max(sx, sy) * 3)
        x1, x2 = max(x - r, 0), min(x + r + 1, Ws)
        y1, y2 = max(y - r, 0), min(y + r + 1, Hs)
        xx, yy = np.meshgrid(np.arange(x1, x2), np.arange(y1, y2))
        g = np.exp(-((xx - x) ** 2 / (2 * sx ** 2) + (yy - y) ** 2 / (2 * sy ** 2)))
        out[y1:y2, x1:x2] += w[i] * g
    return out


# --- paper recipe -----------------------------------------------------------------------------

def test_single_gaussian_centre_offsets_and_truncation_edge():
    # paper: x=400 -> column 100; ppd 40 -> σ = 40/4*1.25 = 12.5, r = int(37.5) = 37
    h = attention_map(samples(400, 600), (1000, 1000), "paper", **RENDER, normalize="none")
    assert h.shape == scaled_shape((1000, 1000), S)
    cx, cy = int(400 * S), int(600 * S)
    sigma = 40 * S * GAZE.render_sigma_factor
    r = int(3 * sigma)
    assert h[cy, cx] == pytest.approx(1.0, abs=1e-15)
    assert h[cy, cx + 5] == pytest.approx(math.exp(-25 / (2 * sigma ** 2)), rel=1e-14)
    assert h[cy - 3, cx + 4] == pytest.approx(math.exp(-(16 + 9) / (2 * sigma ** 2)), rel=1e-14)
    # square box, radius r: inside at |d| = r (also in the corner), zero at r + 1
    assert h[cy, cx + r] == pytest.approx(math.exp(-r ** 2 / (2 * sigma ** 2)), rel=1e-12)
    assert h[cy - r, cx - r] == pytest.approx(math.exp(-2 * r ** 2 / (2 * sigma ** 2)),
                                              rel=1e-12)
    assert h[cy, cx + r + 1] == 0 and h[cy - r - 1, cx] == 0 and h[cy, cx - r - 1] == 0
    assert np.count_nonzero(h) == (2 * r + 1) ** 2


def test_cluster_sigma_factor_and_anisotropic_box():
    # paper: σ = ppd/4 × 1.5 -> (15, 7.5), r = int(3 * max) = 45 on both axes
    h = attention_map(samples(400, 400, ppd_x=40, ppd_y=20), (1000, 1000), "paper", **CLUSTER,
                      normalize="none")
    c = int(400 * S)
    sx, sy = 40 * S * GAZE.cluster_sigma_factor, 20 * S * GAZE.cluster_sigma_factor
    r = int(3 * max(sx, sy))
    assert h[c, c + 10] == pytest.approx(math.exp(-100 / (2 * sx ** 2)), rel=1e-14)
    assert h[c + 10, c] == pytest.approx(math.exp(-100 / (2 * sy ** 2)), rel=1e-14)
    assert h[c + r, c] > 0 and h[c + r + 1, c] == 0 and h[c, c + r] > 0 and h[c, c + r + 1] == 0


def test_paper_recipe_needs_a_sigma_factor():
    with pytest.raises(ValueError, match="sigma_factor"):
        attention_map(samples(400, 400), (1000, 1000), "paper", scale=S)


def test_sum_of_two_and_max_normalisation():
    df = samples([400, 480], [400, 400])
    raw = attention_map(df, (1000, 1000), "paper", **RENDER, normalize="none")
    sigma = 40 * S * GAZE.render_sigma_factor
    g = lambda d: math.exp(-d ** 2 / (2 * sigma ** 2))  # noqa: E731
    c1, c2, row = int(400 * S), int(480 * S), int(400 * S)
    mid = (c1 + c2) // 2
    assert raw[row, mid] == pytest.approx(g(mid - c1) + g(c2 - mid), rel=1e-14)
    assert raw[row, c1] == pytest.approx(1 + g(c2 - c1), rel=1e-14)
    norm = attention_map(df, (1000, 1000), "paper", **RENDER)
    assert norm.max() == 1.0
    np.testing.assert_allclose(norm, raw / raw.max(), rtol=1e-15)


def test_clipped_at_the_image_border():
    h = attention_map(samples(8, 8), (400, 400), "paper", **RENDER, normalize="none")
    assert h.shape == scaled_shape((400, 400), S)
    c = int(8 * S)                                          # paper: centre (2, 2)
    sigma = 40 * S * GAZE.render_sigma_factor
    assert h[0, 0] == pytest.approx(math.exp(-2 * c ** 2 / (2 * sigma ** 2)), rel=1e-14)
    assert np.count_nonzero(h) == (c + int(3 * sigma) + 1) ** 2


def test_grid_semantics_truncation_and_offimage_skip():
    # paper (¼): W=1003 -> 250 columns; x=403 -> int(100.75) = 100; x=-3 -> int(-0.75) = 0
    # (kept!); x=-4 -> -1 (skipped); x=1000 -> 250 (off the 250-column grid, skipped)
    H, W = scaled_shape((1003, 801), S)
    df = samples([403, -0.75 / S, -1 / S, W / S], [40, 200, 40, 40])
    h, info = attention_map(df, (1003, 801), "paper", **RENDER, normalize="none",
                            return_info=True)
    assert h.shape == (H, W) == (int(801 * S), int(1003 * S))
    assert h[int(40 * S), int(403 * S)] == pytest.approx(1.0, abs=1e-12)
    assert h[int(200 * S), 0] == pytest.approx(1.0, abs=1e-12)
    assert (info.n_points, info.n_offimage, info.n_used, info.n_invalid) == (4, 2, 2, 0)


def test_nan_and_bad_resolution_rows_are_counted_not_drawn():
    df = samples([400, np.nan, 400, 400], [400, 400, 400, 400], ppd_x=[40, 40, 0, np.nan],
                 ppd_y=[40, 40, 40, 40])
    h, info = attention_map(df, (1000, 1000), "paper", **RENDER, normalize="none",
                            return_info=True)
    assert info.n_invalid == 3 and info.n_used == 1
    assert h.max() == pytest.approx(1.0)


def test_weights_equal_repeated_samples():
    df = samples([400, 460], [400, 430])
    twice = pd.concat([df, df.iloc[[0]], df.iloc[[0]]], ignore_index=True)
    a = attention_map(df, (1000, 1000), "paper", **RENDER, weights=[3, 1], normalize="none")
    b = attention_map(twice, (1000, 1000), "paper", **RENDER, normalize="none")
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("factor", [GAZE.render_sigma_factor, GAZE.cluster_sigma_factor])
def test_vectorised_equals_per_sample_reference_loop(factor):
    rng = np.random.default_rng(7)
    n = 400
    x = np.concatenate([rng.normal(500, 150, n), [-3.0, -10.0, 1203.0, 5.0]])
    y = np.concatenate([rng.normal(700, 200, n), [50.0, 50.0, 50.0, -2.0]])
    x[:50] = np.round(x[:50])              # shared integer positions (repeated keys)
    ppd = rng.choice([88.0, 92.0, 93.5, 96.25], len(x))
    ppd_y = ppd + rng.choice([0.0, 1.0], len(x))
    df = samples(x, y, ppd_x=ppd, ppd_y=ppd_y)
    w = rng.integers(0, 4, len(x)).astype(float)
    for weights in (None, w):
        got = attention_map(df, (1203, 1401), "paper", scale=S, sigma_factor=factor,
                            weights=weights, normalize="none")
        ref = reference_paper(df, (1203, 1401), factor, S, weights=weights)
        assert got.shape == ref.shape == scaled_shape((1203, 1401), S)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * max(1.0, ref.max()))


def test_truncated_gaussian_sum_rejects_off_grid_centres():
    with pytest.raises(ValueError, match="on the grid"):
        truncated_gaussian_sum([5], [-1], [2.0], [2.0], [6], (10, 10))


def test_float32_dtype_and_empty_input():
    h = attention_map(samples([], []), (100, 120), "paper", **RENDER, dtype=np.float32)
    assert h.dtype == np.float32 and h.shape == scaled_shape((100, 120), S) and not h.any()


def test_render_frame_heat_is_log1p_over_max():
    raw = np.array([[0.0, 1.0], [3.0, 7.0]])
    got = render_frame_heat(raw)
    np.testing.assert_allclose(got, np.log1p(raw + 1e-6) / np.log1p(7 + 1e-6), rtol=1e-15)
    assert got[0, 0] > 0 and got[1, 1] == 1.0
    zero = np.zeros((2, 2))
    assert render_frame_heat(zero) is zero


# --- reflacx recipe ---------------------------------------------------------------------------

def fixations(x, y, start, end, ppd=30.0, shown=(0, 0, 200, 100)):
    n = len(x)
    return pd.DataFrame({
        "timestamp_start_fixation": start, "timestamp_end_fixation": end,
        "x_position": x, "y_position": y,
        "angular_resolution_x_pixels_per_degree": np.full(n, ppd),
        "angular_resolution_y_pixels_per_degree": np.full(n, ppd),
        **{c: np.full(n, float(v)) for c, v in zip(
            ["xmin_shown_from_image", "ymin_shown_from_image", "xmax_shown_from_image",
             "ymax_shown_from_image"], shown)}})


def test_reflacx_single_fixation_is_a_duration_weighted_pdf():
    f = fixations([50.3], [40.0], [1.0], [1.5], ppd=10.0)
    h = attention_map(f, (200, 100), "reflacx", scale=ORIGINAL, normalize="none")
    assert h.shape == (100, 200)
    pdf = lambda dx, dy: math.exp(-0.5 * (dx ** 2 + dy ** 2) / 100) / (2 * math.pi * 100)  # noqa
    assert h[40, 50] == pytest.approx(0.5 * pdf(-0.3, 0), rel=1e-13)
    assert h[43, 57] == pytest.approx(0.5 * pdf(6.7, 3), rel=1e-13)


def test_reflacx_sums_to_one_and_weights_by_duration():
    f = fixations([40.0, 160.0], [50.0, 50.0], [0.0, 1.0], [0.1, 1.3], ppd=8.0)
    h = attention_map(f, (200, 100), "reflacx", scale=ORIGINAL)
    assert h.sum() == pytest.approx(1.0, abs=1e-12)
    assert h[50, 160] / h[50, 40] == pytest.approx(3.0, rel=1e-9)


def test_reflacx_zero_outside_the_shown_region():
    f = fixations([100.0], [50.0], [0.0], [1.0], ppd=20.0, shown=(80.4, 30, 150, 70))
    h = attention_map(f, (200, 100), "reflacx", scale=ORIGINAL, normalize="none")
    assert (h[:, :80] == 0).all() and (h[:, 150:] == 0).all()
    assert (h[:30] == 0).all() and (h[70:] == 0).all()
    assert (h[30:70, 80:150] > 0).all()
    full = attention_map(f, (200, 100), "reflacx", scale=ORIGINAL, normalize="none",
                         restrict_to_shown=False)
    np.testing.assert_allclose(h[30:70, 80:150], full[30:70, 80:150], rtol=1e-14)


def test_reflacx_equals_scipy_pdf_reference_loop():
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(3)
    n = 6
    x, y = rng.uniform(0, 60, n), rng.uniform(0, 40, n)
    start = np.sort(rng.uniform(0, 5, n))
    end = start + rng.uniform(0.05, 0.5, n)
    f = fixations(x, y, start, end, ppd=6.0, shown=(5, 3, 55, 38))
    f["angular_resolution_y_pixels_per_degree"] = 7.0
    got = attention_map(f, (60, 40), "reflacx", scale=ORIGINAL)
    ref = np.zeros((40, 60))
    yy, xx = np.mgrid[3:38, 5:55]
    for i in range(n):
        pdf = multivariate_normal([y[i], x[i]], [49.0, 36.0]).pdf(np.dstack([yy, xx]))
        ref[3:38, 5:55] += pdf * (end[i] - start[i])
    ref /= ref.sum()
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12 * ref.max())


def test_reflacx_needs_durations_and_shown_columns():
    f = fixations([1.0], [1.0], [0.0], [1.0])
    with pytest.raises(ValueError, match="duration"):
        attention_map(f.drop(columns=["timestamp_end_fixation"]), (200, 100), "reflacx",
                      scale=ORIGINAL)
    with pytest.raises(ValueError, match="shown"):
        attention_map(f.drop(columns=["xmin_shown_from_image"]), (200, 100), "reflacx",
                      scale=ORIGINAL)


def test_argument_validation():
    df = samples([1.0], [1.0])
    with pytest.raises(ValueError, match="recipe"):
        attention_map(df, (10, 10), "heat", **RENDER)
    with pytest.raises(ValueError, match="normalize"):
        attention_map(df, (10, 10), "paper", **RENDER, normalize="l2")
    with pytest.raises(ValueError, match="weights"):
        attention_map(df, (10, 10), "paper", **RENDER, weights=[1.0, 2.0])
