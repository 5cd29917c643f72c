"""Clusters in time order, official double counting, frames, frame_index, pipeline edge cases."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest

from gazex_lib.gaze.clusters import cluster_params, cluster_window
from gazex_lib.gaze.keyframes import (
    QWEN_PATCH, blend_frame, fit_frame, frame_geometry, frame_index, write_video,
)
from gazex_lib.gaze.maps import render_frame_heat, scaled_shape
from gazex_lib.gaze.pipeline import KeyframeConfig, load_film, reading_keyframes
from gazex_lib.gaze.windows import windows_from_tables
from test_gaze_windows import CI, KCFG, FakeDataset, make_gaze, make_words, sentences_of

#: The clustering recipe of the ci profile (configs/ci.yaml, section gaze).
CLUSTER = cluster_params(CI.gaze)
S = KCFG.scale


def blob(rng, cx, cy, t0, t1, n=200, sd=8.0):
    """n samples around (cx, cy) original px, float positions, times evenly in [t0, t1]."""
    return make_gaze(np.linspace(t0, t1, n), rng.normal(cx, sd, n), rng.normal(cy, sd, n))


def two_blob_window(rng):
    # top-left blob A (DBSCAN label 0) is looked at *later* than bottom-right blob B
    gaze = pd.concat([blob(rng, 600, 600, 1.0, 2.0), blob(rng, 200, 200, 3.0, 4.0)],
                     ignore_index=True)
    words = make_words([("two findings .", 3.0, 4.0)])
    (w,) = windows_from_tables(gaze, sentences_of(words), trim=None,
                               skip_empty_sentences=KCFG.skip_empty_sentences)
    return w


def test_two_blobs_give_two_clusters_ordered_by_time():
    w = two_blob_window(np.random.default_rng(0))
    wc = cluster_window(w, (800, 800), **CLUSTER)
    assert wc.shape == scaled_shape((800, 800), S) and wc.status == "ok" and wc.n_clusters == 2
    first, second = wc.clusters
    assert (first.rank, second.rank) == (0, 1)
    assert (first.label, second.label) == (1, 0)         # time order, not label order
    assert 1.0 <= first.time_s <= 2.0 and 3.0 <= second.time_s <= 4.0
    assert first.rows.mean() > 400 * S > second.rows.mean()   # B is bottom-right
    assert wc.cluster_map.max() == 1.0
    assert wc.n_pixels == first.n_pixels + second.n_pixels + wc.n_noise


def gaussian_at(out, x, y, sx, sy):
    H, W = out.shape
    if not (0 <= x < W and 0 <= y < H):
        return
    r = int(max(sx, sy) * 3)
    x1, x2, y1, y2 = max(x - r, 0), min(x + r + 1, W), max(y - r, 0), min(y + r + 1, H)
    gx, gy = np.arange(x1, x2), np.arange(y1, y2)[:, None]
    out[y1:y2, x1:x2] += np.exp(-((gx - x) ** 2 / (2 * sx ** 2) + (gy - y) ** 2 / (2 * sy ** 2)))


def test_cluster_heat_double_counts_nearest_samples_like_the_official_loop():
    w = two_blob_window(np.random.default_rng(1))
    wc = cluster_window(w, (800, 800), **dict(CLUSTER, cluster_weighting="official"))
    px, py = w.x * S, w.y * S
    f = S * CLUSTER["render_sigma_factor"]                # paper: 1/4 × 1.25
    for c in wc.clusters:
        ref = np.zeros(wc.shape)
        times = []
        for row, col in zip(c.rows, c.cols):          # one Gaussian per cluster *pixel*
            j = int(np.argmin((px - col) ** 2 + (py - row) ** 2))
            times.append(w.t[j])
            gaussian_at(ref, int(px[j]), int(py[j]), w.ppd_x[j] * f, w.ppd_y[j] * f)
        assert c.time_s == pytest.approx(np.mean(times), rel=1e-12)
        np.testing.assert_allclose(c.heat, ref, rtol=0, atol=1e-9 * ref.max())
        assert np.bincount(c.nearest).max() > 1           # duplicates exist and count
    unique = cluster_window(w, (800, 800), **dict(CLUSTER, cluster_weighting="unique"))
    assert not np.allclose(unique.clusters[0].heat, wc.clusters[0].heat)


def test_blend_formula_at_known_pixels_and_official_float32_expression():
    d = KCFG.darkness                                        # paper: 0.15
    film = np.full((4, 5), 200, np.uint8)
    raw = np.zeros((4, 5))
    raw[1, 1], raw[2, 3] = 9.0, 2.0
    frame = blend_frame(film, raw, d)
    assert frame.shape == (4, 5, 3) and frame.dtype == np.uint8
    assert (frame[..., 0] == frame[..., 1]).all() and (frame[..., 0] == frame[..., 2]).all()
    assert frame[1, 1, 0] == 200                             # max heat: the film itself
    assert frame[0, 0, 0] == int(np.float32(200) * np.float32(d))   # no heat: paper 30
    mid = math.log1p(2 + 1e-6) / math.log1p(9 + 1e-6)
    # the paper's darkness, by hand
    assert blend_frame(film, raw, 0.15)[2, 3, 0] == math.floor(200 * (0.15 + 0.85 * mid)) == 111
    rng = np.random.default_rng(2)
    film = rng.integers(0, 256, (30, 40)).astype(np.uint8)
    raw = rng.gamma(0.5, 3.0, (30, 40))
    h32 = render_frame_heat(raw).astype(np.float32)
    official = (film * (np.float32(d) + np.float32(1 - d) * h32)).astype(np.uint8)
    np.testing.assert_array_equal(blend_frame(film, raw, d)[..., 0], official)
    assert (blend_frame(film, None, d)[..., 0] == (film * np.float32(d)).astype(np.uint8)).all()


def test_frame_sizes_are_multiples_of_28():
    film = np.full((190, 250), 7, np.uint8)
    frame = blend_frame(film, None, KCFG.darkness)
    pad = frame_geometry(film.shape, "pad", QWEN_PATCH)
    out = fit_frame(frame, pad)
    assert out.shape == (196, 252, 3) and pad.frame_size == (252, 196) and pad.pad == (2, 6)
    assert (out[:190, :250] == frame).all() and (out[190:] == 0).all() and (out[:, 250:] == 0).all()
    assert pad.box_to_frame((1, 2, 249, 189, 5.5, 6.5)) == (1, 2, 249, 189, 5.5, 6.5)
    crop = frame_geometry(film.shape, "crop", QWEN_PATCH)
    assert fit_frame(frame, crop).shape == (168, 224, 3)
    assert crop.box_to_frame((1, 2, 249, 189, 230.0, 6.5)) == (1, 2, 223, 167, 223, 6.5)
    assert fit_frame(frame, frame_geometry(film.shape, "none", QWEN_PATCH)).shape == (190, 250, 3)
    with pytest.raises(ValueError, match="fit"):
        frame_geometry(film.shape, "resize", QWEN_PATCH)
    # the profile's fit and multiple
    prof = frame_geometry(film.shape, KCFG.frame_fit, KCFG.frame_multiple)
    assert fit_frame(frame, prof).shape[:2] == prof.frame_size[::-1]


def test_frame_index_is_cumulative_frames_per_sentence():
    assert frame_index([3, 1, 4]) == [3, 4, 8]
    assert frame_index([]) == []


def test_write_video_mp4_and_gif(tmp_path):
    import cv2
    from PIL import Image

    frames = [np.full((56, 84, 3), v, np.uint8) for v in (10, 120, 250)]
    mp4 = write_video(frames, tmp_path / "v.mp4")
    cap = cv2.VideoCapture(str(mp4))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 3
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(1.0)
    ok, first = cap.read()
    cap.release()
    assert ok and first.shape == (56, 84, 3) and abs(int(first.mean()) - 10) <= 3
    with Image.open(write_video(frames, tmp_path / "v.gif", fps=2.0)) as im:
        assert im.n_frames == 3 and im.info["duration"] == 500
    with pytest.raises(ValueError, match="mp4"):
        write_video(frames, tmp_path / "v.avi")


# --- the pipeline: every edge case has its status ---------------------------------------------

def edge_case_reading():
    rng = np.random.default_rng(4)
    sentences = [(f"sentence {k} .", 10.0 * k, 10.0 * k + 2) for k in range(6)]
    parts = [
        # 0: two blobs -> ok (cluster frames); bottom-right blob first in time
        blob(rng, 600, 600, -1.5, 0.0), blob(rng, 200, 200, 0.5, 1.9),
        # 1: one blob + 5 NaN samples -> single_cluster, n_nan = 5
        blob(rng, 400, 300, 8.5, 11.9),
        make_gaze(np.linspace(9.0, 9.1, 5), np.nan, 300.0),
        # 2: every sample left of the image -> offimage
        make_gaze(np.linspace(18.5, 21.9, 100), -100.0, 300.0),
        # 3: no gaze at all
        # 4: two anti-correlated samples -> trimmed_empty
        make_gaze([39.0, 39.5], [100.0, 500.0], [500.0, 100.0]),
        # 5: one blob -> single_cluster
        blob(rng, 300, 500, 48.5, 51.9),
    ]
    gaze = pd.concat(parts, ignore_index=True).sort_values("timestamp_sample", kind="stable")
    return FakeDataset({"R": (make_words(sentences), gaze.reset_index(drop=True), (800, 800))})


def edge_case_film():
    return np.full(scaled_shape((800, 800), S), 180, np.uint8)


def test_pipeline_edge_cases_each_produce_their_status():
    ds = edge_case_reading()
    film = edge_case_film()
    frames, rows = reading_keyframes(ds, "R", film, KCFG)
    df = pd.DataFrame(rows)
    hol = df[df.frame_kind == "holistic"].set_index("sentence_index")
    assert list(hol.index) == [0, 1, 2, 3, 4, 5]
    assert list(hol.status) == ["ok", "single_cluster", "offimage", "no_gaze",
                                "trimmed_empty", "single_cluster"]
    assert list(hol.n_clusters) == [2, 1, 0, 0, 0, 1]
    assert hol.loc[1, "n_nan"] == 5 and hol.loc[2, "n_offimage"] == hol.loc[2, "n_samples"] > 0
    assert list(hol.has_box) == [True, True, False, False, False, True]
    assert list(hol.frame_index) == frame_index([3, 1, 1, 1, 1, 1]) == [3, 4, 5, 6, 7, 8]
    cl = df[df.frame_kind == "cluster"]
    assert list(cl.frame_index) == [1, 2] and list(cl.cluster_rank) == [0, 1]
    assert list(cl.sentence_index) == [0, 0] and cl.cluster_time_s.is_monotonic_increasing
    assert cl.cluster_time_s.iloc[0] < 0.0 < cl.cluster_time_s.iloc[1]   # B then A
    assert [f.frame_index for f in frames] == list(df.frame_index) == list(range(1, 9))
    w, h = frame_geometry(film.shape, KCFG.frame_fit, KCFG.frame_multiple).frame_size
    assert all(f.image.shape == (h, w, 3) and f.image.dtype == np.uint8 for f in frames)
    # boxes in three spaces agree
    r = hol.loc[5]
    assert r.box_orig_x_min == r.box_x_min / S and r.box_orig_cy == r.box_cy / S
    assert r.box_q1000_x_max == math.floor(r.box_x_max / film.shape[1] * 1000 + 0.5)
    assert set(df.columns) >= {"recipe", "params", "text", "t_start_s", "t_end_s"}


def test_pipeline_all_noise_is_flagged_and_keeps_the_holistic_frame():
    ds = edge_case_reading()
    _, rows = reading_keyframes(ds, "R", edge_case_film(), KCFG, min_samples=10 ** 7)
    hol = pd.DataFrame(rows).query("frame_kind == 'holistic'").set_index("sentence_index")
    assert list(hol.status[[0, 1, 5]]) == ["all_noise"] * 3
    assert len(rows) == 6 and (hol.loc[[0, 1, 5], "n_noise_pixels"] > 0).all()
    assert hol.loc[0, "has_box"]                        # holistic box needs no cluster


def test_pipeline_rejects_a_film_of_the_wrong_size_and_bad_config():
    ds = edge_case_reading()
    h, w = edge_case_film().shape
    with pytest.raises(ValueError, match="film shape"):
        reading_keyframes(ds, "R", np.zeros((h + 1, w), np.uint8), KCFG)
    with pytest.raises(ValueError, match="shrink"):
        dataclasses.replace(KCFG, shrink="35%")
    with pytest.raises(ValueError, match="unknown key-frame config"):
        KeyframeConfig.from_config(CI, sigma=1)
    cfg = KeyframeConfig.from_config(CI, window_lead_s=1.0, trailing_words="keep",
                                     trim=[10, 90])
    assert (cfg.window_lead_s, cfg.trailing_words, cfg.trim) == (1.0, "keep", (10.0, 90.0))


def test_pipeline_on_the_hand_written_reflacx_tree(tmp_path):
    from fake_reflacx import A, B, EXPECTED, H, W, write_fake_reflacx
    from gazex_lib.data.reflacx import load_reflacx

    ds = load_reflacx(write_fake_reflacx(tmp_path))
    film = np.zeros(scaled_shape((W, H), S), np.uint8)
    for rid in (A, B):
        _, rows = reading_keyframes(ds, rid, film, KCFG, trim=None)
        hol = [r for r in rows if r["frame_kind"] == "holistic"]
        assert [r["text"] for r in hol] == [s[0] for s in EXPECTED["sentences"][rid]]
        assert [r["n_raw"] - r["n_nan"] for r in hol] == EXPECTED["sentence_gaze"][rid]
    assert hol[1]["status"] == "no_gaze"


@pytest.mark.slow
def test_pipeline_on_synthetic_readings_grid_equals_sklearn(small_synthetic, tmp_path):
    from gazex_lib.data.reflacx import load_reflacx

    root, _ = small_synthetic
    ds = load_reflacx(root / "reflacx")
    for rid in ds.ids()[:3]:
        film = load_film(ds, rid, root / "mimic-cxr-jpg", scale=KCFG.scale)
        frames, rows = reading_keyframes(ds, rid, film, KCFG, dbscan_method="grid")
        frames_sk, rows_sk = reading_keyframes(ds, rid, film, KCFG, dbscan_method="sklearn")
        a = pd.DataFrame(rows).drop(columns="params")
        b = pd.DataFrame(rows_sk).drop(columns="params")
        pd.testing.assert_frame_equal(a, b)
        assert all((f.image == g.image).all() for f, g in zip(frames, frames_sk))
        n_sent = len(ds.sentences(rid))
        assert (a.frame_kind == "holistic").sum() == n_sent
        m = KCFG.frame_multiple
        assert all(f.image.shape[0] % m == 0 and f.image.shape[1] % m == 0 for f in frames)
    write_video(frames, tmp_path / "r.mp4")
