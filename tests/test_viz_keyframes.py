"""Tests for gazex_lib.viz.keyframes: the key-frame figures are faithful to their inputs
(samples, cluster pixels, boxes, frames, captions, counts), deterministic, at most 10 in wide,
and reject malformed inputs with a ValueError naming the problem.

Hand-made inputs (a 40 × 32 film, a two-blob window, a hand-built clustering) check the
exact drawing; one real reading of the generated ci dataset checks the whole chain.
Set ``GAZEX_VIZ_PREVIEW=/some/dir`` to also save PNG previews there.
"""
from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import plotly.graph_objects as go  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.image import AxesImage  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from gazex_lib import viz  # noqa: E402
from gazex_lib.gaze.clusters import Cluster, WindowClustering  # noqa: E402
from gazex_lib.gaze.keyframes import Frame  # noqa: E402
from gazex_lib.gaze.windows import SentenceWindow  # noqa: E402
from gazex_lib.viz import keyframes as vk  # noqa: E402

SCALE = 0.25
DARK = 0.15                         # key-frame darkness of the hand-made figures
H, W = 40, 32                       # film / map grid (¼ scale)
IMAGE_SIZE = (int(W / SCALE), int(H / SCALE))   # original (width, height)


def _preview(fig, name: str) -> None:
    out = os.environ.get("GAZEX_VIZ_PREVIEW")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(out) / f"{name}.png", dpi=100)


def _by_gid(fig: Figure, gid: str):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


def _axes(fig: Figure, prefix: str):
    return [ax for ax in fig.axes if (ax.get_gid() or "").startswith(prefix)]


def _png_rgba(fig: Figure) -> np.ndarray:
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())))


# ------------------------------------------------------------------ hand-made inputs ----

@pytest.fixture
def film():
    yy, xx = np.mgrid[0:H, 0:W]
    return (60 + 4 * yy + xx).astype(np.uint8)


@pytest.fixture
def window():
    rng = np.random.default_rng(0)
    n = 30
    xa, ya = rng.normal(40, 3, n), rng.normal(40, 3, n)       # original px -> grid (10, 10)
    xb, yb = rng.normal(100, 3, n), rng.normal(120, 3, n)     # -> grid (25, 30)
    t = np.concatenate([np.linspace(0.0, 1.0, n), np.linspace(1.5, 2.5, n)])
    return SentenceWindow(
        sentence_index=1, text="no effusion.", t_start_s=1.0, t_end_s=3.0,
        window_start_s=-1.0, window_end_s=3.0, t=t, x=np.concatenate([xa, xb]),
        y=np.concatenate([ya, yb]), ppd_x=np.full(2 * n, 8.0), ppd_y=np.full(2 * n, 8.0),
        n_raw=2 * n + 5, n_nan=2, n_trimmed=3, trim_bounds=(30.0, 110.0, 30.0, 130.0))


def _square(r0, c0, k=5):
    rr, cc = np.mgrid[r0:r0 + k, c0:c0 + k]
    return rr.ravel(), cc.ravel()


@pytest.fixture
def clustering(window):
    cmap = np.zeros((H, W))
    ra, ca = _square(8, 8)
    rb, cb = _square(28, 23)
    cmap[ra, ca] = 1.0
    cmap[rb, cb] = 0.6
    cmap[2:4, 28:30] = 0.3                                  # 4 noise pixels
    clusters = [Cluster(rank=0, label=1, time_s=0.5, rows=ra, cols=ca,
                        nearest=np.zeros(len(ra), np.int64)),
                Cluster(rank=1, label=0, time_s=2.0, rows=rb, cols=cb,
                        nearest=np.zeros(len(rb), np.int64))]
    return WindowClustering(window=window, shape=(H, W), scale=SCALE, cluster_map=cmap,
                            clusters=clusters, n_pixels=54, n_noise=4, n_offimage=0,
                            params={"threshold": 0.1, "cluster_sigma_factor": 1.5,
                                    "render_sigma_factor": 1.25})


@pytest.fixture
def holistic():
    yy, xx = np.mgrid[0:H, 0:W]
    return 5.0 * np.exp(-((xx - 16) ** 2 + (yy - 20) ** 2) / 50.0)


def _row(frame_index, kind, rank, box, sentence_index=1, n_clusters=2):
    has = box is not None
    x0, y0, x1, y1, cx, cy = box if has else (np.nan,) * 6
    return {"reading_id": "R1", "sentence_index": sentence_index, "frame_index": frame_index,
            "frame_kind": kind, "cluster_rank": rank, "n_clusters": n_clusters,
            "has_box": has, "box_x_min": x0, "box_y_min": y0, "box_x_max": x1,
            "box_y_max": y1, "box_cx": cx, "box_cy": cy}


@pytest.fixture
def rows():
    return [_row(2, "cluster", 0, (8, 8, 12, 12, 10.0, 10.5)),
            _row(3, "cluster", 1, None),
            _row(4, "holistic", -1, (5, 6, 28, 34, 16.0, 20.0))]


# ------------------------------------------------------------------ window steps -------

def test_window_steps_four_panels_samples_and_boxes(film, window, clustering, holistic, rows):
    untrimmed = pd.DataFrame({"x": [5.0, 120.0, 40.0], "y": [5.0, 150.0, 40.0]})
    fig = vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=DARK,
                                 untrimmed=untrimmed)
    _preview(fig, "hand_window_steps")
    assert isinstance(fig, Figure)
    assert [ax.get_gid() for ax in _axes(fig, "panel_")] == ["panel_a", "panel_b", "panel_c",
                                                             "panel_d"]
    assert fig.get_size_inches()[0] <= 10.0
    # (a) samples at ¼ scale, coloured by time; trimmed-out ones faint; trim bounds dashed
    (samples,) = _by_gid(fig, "samples")
    np.testing.assert_allclose(samples.get_offsets(),
                               np.column_stack([window.x, window.y]) * SCALE)
    np.testing.assert_array_equal(samples.get_array(), window.t)
    (faint,) = _by_gid(fig, "trimmed_samples")
    np.testing.assert_allclose(faint.get_offsets(), untrimmed[["x", "y"]].to_numpy() * SCALE)
    (trim,) = _by_gid(fig, "trim_bounds")
    assert trim.get_xy() == pytest.approx((7.5, 7.5)) and trim.get_width() == pytest.approx(20)
    assert "3 trimmed" in _axes(fig, "panel_a")[0].get_title()
    assert _axes(fig, "panel_a")[0].get_ylabel() == "y (¼-scale px)"     # from clustering.scale
    # (b) the clustering map itself, with the threshold contour
    (cmap_img,) = _by_gid(fig, "cluster_map")
    np.testing.assert_array_equal(cmap_img.get_array(), clustering.cluster_map)
    assert "σ × 1.5, max = 1; 54 px > 0.1" in _axes(fig, "panel_b")[0].get_title()
    assert "σ × 1.25, 2 boxes" in _axes(fig, "panel_d")[0].get_title()   # clustering.params
    # (d) one rectangle per row with a box; the holistic one dashed
    boxes = _by_gid(fig, "box")
    assert len(boxes) == sum(r["has_box"] for r in rows) == 2
    assert all(isinstance(b, Rectangle) for b in boxes)
    by_style = {b.get_linestyle(): b for b in boxes}
    assert set(by_style) == {"-", "--"}
    assert by_style["-"].get_xy() == (7.5, 7.5) and by_style["-"].get_width() == 5
    assert by_style["--"].get_xy() == (4.5, 5.5) and by_style["--"].get_height() == 29
    assert len(_by_gid(fig, "centroid")) == 2


def test_window_steps_cluster_pixels_coloured_by_rank_noise_grey(film, window, clustering,
                                                                 holistic, rows):
    fig = vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=DARK)
    (img,) = _by_gid(fig, "cluster_pixels")
    rgba = np.asarray(img.get_array())
    c0, c1 = vk.rank_colors(2)
    np.testing.assert_allclose(rgba[10, 10], c0)
    np.testing.assert_allclose(rgba[30, 25], c1)
    assert not np.allclose(c0, c1)
    np.testing.assert_allclose(rgba[2, 28, :3], matplotlib.colors.to_rgb(vk.NOISE_COLOR))
    assert rgba[20, 5, 3] == 0                                # background transparent
    legend = _axes(fig, "panel_c")[0].get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    assert texts == ["#0: t = 0.50 s, 25 px", "#1: t = 2.00 s, 25 px", "noise: 4 px"]


def test_window_steps_holistic_none_and_no_rows(film, window, clustering):
    fig = vk.window_steps_figure(film, window, clustering, None, None, title="custom",
                                 darkness=DARK)
    assert fig._suptitle.get_text() == "custom"
    assert _by_gid(fig, "box") == []
    (frame,) = _by_gid(fig, "heat_frame")
    arr = np.asarray(frame.get_array(), float)
    # heat computed from the window: brightest near the gaze, darkened film elsewhere
    assert arr[10, 10] > arr[20, 5] and arr[30, 25] > arr[20, 5]


def test_window_steps_is_deterministic(film, window, clustering, holistic, rows):
    a = _png_rgba(vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=DARK))
    b = _png_rgba(vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=DARK))
    np.testing.assert_array_equal(a, b)


def test_window_steps_rejects_bad_inputs(film, window, clustering, holistic, rows):
    with pytest.raises(ValueError, match="film shape"):
        vk.window_steps_figure(film[:-1], window, clustering, holistic, rows, darkness=DARK)
    with pytest.raises(ValueError, match="holistic heat shape"):
        vk.window_steps_figure(film, window, clustering, holistic[:, :-1], rows, darkness=DARK)
    with pytest.raises(ValueError, match="has_box"):
        vk.window_steps_figure(film, window, clustering, holistic,
                               pd.DataFrame(rows).drop(columns="has_box"), darkness=DARK)
    with pytest.raises(ValueError, match=r"sentence\(s\) \[0\]"):
        vk.window_steps_figure(film, window, clustering, holistic,
                               rows + [_row(1, "holistic", -1, None, sentence_index=0)],
                               darkness=DARK)
    with pytest.raises(ValueError, match="WindowClustering"):
        vk.window_steps_figure(film, window, object(), holistic, rows, darkness=DARK)
    with pytest.raises(ValueError, match="uint8"):
        vk.window_steps_figure(film.astype(float), window, clustering, holistic, rows,
                               darkness=DARK)
    with pytest.raises(TypeError, match="darkness"):      # required: no paper default here
        vk.window_steps_figure(film, window, clustering, holistic, rows)
    for bad in (-0.1, 1.5, "0.15", None):
        with pytest.raises(ValueError, match="darkness must be a number in"):
            vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=bad)
    clustering.params.pop("render_sigma_factor")
    with pytest.raises(ValueError, match="params lacks 'render_sigma_factor'"):
        vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=DARK)


@pytest.mark.parametrize("darkness", [0.0, 0.15, 0.6])
def test_window_steps_uses_the_given_darkness(film, window, clustering, holistic, rows,
                                               darkness):
    """Panels (c) and (d) are the film dimmed by the caller's darkness (the configured
    ``gaze.darkness``), not a value of the figure module."""
    from gazex_lib.gaze.keyframes import blend_frame

    fig = vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=darkness)
    (frame,) = _by_gid(fig, "heat_frame")
    np.testing.assert_array_equal(frame.get_array(),
                                  blend_frame(film, holistic, darkness, channels=1))
    other = vk.window_steps_figure(film, window, clustering, holistic, rows, darkness=0.3)
    (frame_other,) = _by_gid(other, "heat_frame")
    assert not np.array_equal(frame.get_array(), frame_other.get_array())
    # panel (c): the film under the clusters, times the darkness
    grey_c = [c for c in _axes(fig, "panel_c")[0].get_children()
              if isinstance(c, AxesImage) and c.get_gid() is None]
    np.testing.assert_allclose(grey_c[0].get_array(), film.astype(np.float32) * darkness)


# ------------------------------------------------------------------ strip --------------

@pytest.fixture
def frames():
    out = []
    spec = [("cluster", 1, 0), ("cluster", 1, 1), ("holistic", 1, None), ("holistic", 2, None)]
    for i, (kind, s, rank) in enumerate(spec, start=1):
        img = np.full((56, 56, 3), 20 * i, np.uint8)
        out.append(Frame(image=img, kind=kind, sentence_index=s, cluster_rank=rank,
                         frame_index=i))
    return out


@pytest.fixture
def strip_rows():
    return [_row(1, "cluster", 0, (2, 2, 20, 20, 10.0, 10.0)),
            _row(2, "cluster", 1, (30, 30, 50, 50, 40.0, 40.0)),
            _row(3, "holistic", -1, (2, 2, 50, 50, 25.0, 25.0)),
            _row(4, "holistic", -1, None, sentence_index=2, n_clusters=0)]


def test_frames_strip_captions_and_boxes(frames, strip_rows):
    fig = vk.frames_strip(frames, strip_rows, title="Reading R1")
    _preview(fig, "hand_strip")
    assert isinstance(fig, Figure) and fig.get_size_inches()[0] <= 10.0
    panels = _axes(fig, "frame")
    assert [ax.get_title() for ax in panels] == [
        "#1 · sentence 1 · cluster 0", "#2 · sentence 1 · cluster 1",
        "#3 · sentence 1 · holistic", "#4 · sentence 2 · holistic"]
    boxes = _by_gid(fig, "box")
    assert len(boxes) == sum(r["has_box"] for r in strip_rows) == 3
    assert sorted(b.get_linestyle() for b in boxes) == ["-", "-", "--"]
    # each box sits on its own frame
    for ax, r in zip(panels, strip_rows):
        drawn = [p for p in ax.patches if p.get_gid() == "box"]
        assert len(drawn) == int(r["has_box"])
        if drawn:
            assert drawn[0].get_xy() == (r["box_x_min"] - 0.5, r["box_y_min"] - 0.5)
    # the images are the frames
    img = [c for c in panels[1].get_children() if isinstance(c, AxesImage)][0]
    np.testing.assert_array_equal(img.get_array(), frames[1].image[..., 0])


def test_frames_strip_without_rows_and_max_frames(frames):
    fig = vk.frames_strip(frames, max_frames=2)
    assert len(_axes(fig, "frame")) == 2
    assert _by_gid(fig, "box") == []
    assert "(first 2 of 4)" in fig._suptitle.get_text()


def test_frames_strip_rejects_bad_inputs(frames, strip_rows):
    with pytest.raises(ValueError, match="frames is empty"):
        vk.frames_strip([])
    with pytest.raises(ValueError, match="max_frames"):
        vk.frames_strip(frames, max_frames=0)
    with pytest.raises(ValueError, match=r"no row for frame_index \[4\]"):
        vk.frames_strip(frames, strip_rows[:3])
    with pytest.raises(ValueError, match="repeat a frame_index"):
        vk.frames_strip(frames, strip_rows + strip_rows[:1])
    with pytest.raises(ValueError, match="box_cy"):
        vk.frames_strip(frames, pd.DataFrame(strip_rows).drop(columns="box_cy"))
    with pytest.raises(ValueError, match="gaze Frame"):
        vk.frames_strip([np.zeros((4, 4), np.uint8)])


# ------------------------------------------------------------------ video --------------

def _decode(uri: str) -> np.ndarray:
    from PIL import Image

    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))))


def test_attention_video_one_animation_frame_per_key_frame(frames):
    captions = [vk.frame_caption(f.frame_index, f.sentence_index, f.kind, f.cluster_rank)
                for f in frames]
    fig = vk.attention_video_plotly(frames, captions)
    assert isinstance(fig, go.Figure)
    assert isinstance(fig.data[0], go.Image)
    assert len(fig.frames) == len(frames)
    steps = fig.layout.sliders[0].steps
    assert [s.label for s in steps] == captions
    assert [s.args[0][0] for s in steps] == [f.name for f in fig.frames]
    for f, kf in zip(fig.frames, frames):
        np.testing.assert_array_equal(_decode(f.data[0].source), kf.image[..., 0])
    labels = [b.label for b in fig.layout.updatemenus[0].buttons]
    assert any("play" in lab for lab in labels) and any("pause" in lab for lab in labels)


def test_attention_video_is_small_and_downsampled():
    rng = np.random.default_rng(1)                     # noise: the worst case for PNG
    imgs = [rng.integers(0, 256, (280, 224, 3), dtype=np.uint8) for _ in range(20)]
    fig = vk.attention_video_plotly(imgs, [f"frame {i}" for i in range(20)])
    assert len(fig.to_json()) < 3_000_000
    big = [np.kron(im[..., 0], np.ones((2, 2), np.uint8)) for im in imgs[:2]]   # 560 × 448
    fig2 = vk.attention_video_plotly(big, ["a", "b"], downsample_to=280)
    small = _decode(fig2.frames[0].data[0].source)
    assert small.shape == (280, 224)
    np.testing.assert_array_equal(small, imgs[0][..., 0])    # 2 × 2 box average of copies
    assert fig2.data[0].dx == pytest.approx(2.0)              # axes stay in frame pixels


def test_attention_video_rejects_bad_inputs(frames):
    with pytest.raises(ValueError, match="one caption per frame"):
        vk.attention_video_plotly(frames, ["a"])
    with pytest.raises(ValueError, match="frames is empty"):
        vk.attention_video_plotly([], [])
    with pytest.raises(ValueError, match="same shape"):
        vk.attention_video_plotly([np.zeros((8, 8), np.uint8), np.zeros((9, 8), np.uint8)],
                                  ["a", "b"])
    with pytest.raises(ValueError, match="downsample_to"):
        vk.attention_video_plotly(frames, ["a"] * 4, downsample_to=0)


# ------------------------------------------------------------------ recipes ------------

def test_recipe_comparison_two_maps_own_colourbars(film, holistic):
    paper = holistic / holistic.max()
    yy, xx = np.mgrid[0:4 * H, 0:4 * W]
    reflacx = np.exp(-((xx - 64) ** 2 + (yy - 80) ** 2) / 800.0)
    reflacx /= reflacx.sum()
    fig = vk.recipe_comparison_figure(film, paper, reflacx)
    _preview(fig, "hand_recipes")
    assert isinstance(fig, Figure) and fig.get_size_inches()[0] <= 10.0
    (ax_p,), (ax_r,) = _axes(fig, "paper"), _axes(fig, "reflacx")
    assert ax_p.get_title().startswith("paper: raw samples, max = 1\ngrid 32 × 40")
    assert ax_r.get_title().startswith("REFLACX: fixations, duration-weighted, sum 1\ngrid 128")
    maps = _by_gid(fig, "attention_map")
    np.testing.assert_array_equal(maps[0].get_array(), paper)
    np.testing.assert_array_equal(maps[1].get_array(), reflacx)
    # both stretched over the film
    assert maps[1].get_extent() == [-0.5, W - 0.5, H - 0.5, -0.5]
    cbars = [ax for ax in fig.axes if ax not in (ax_p, ax_r)]
    assert len(cbars) == 2
    assert [cb.get_xlabel() for cb in cbars] == ["paper map (max = 1)",
                                                 "REFLACX map (fraction of total per px)"]
    assert cbars[0].get_xlim()[1] == pytest.approx(1.0)
    assert cbars[1].get_xlim()[1] == pytest.approx(reflacx.max())


def test_recipe_comparison_rejects_bad_maps(film, holistic):
    with pytest.raises(ValueError, match="reflacx_map shape"):
        vk.recipe_comparison_figure(film, holistic, np.ones((10, 40)))
    with pytest.raises(ValueError, match="paper_map has NaN"):
        vk.recipe_comparison_figure(film, np.full((H, W), np.nan), holistic)
    with pytest.raises(ValueError, match="2-D"):
        vk.recipe_comparison_figure(film, holistic, np.ones(5))


# ------------------------------------------------------------------ stats --------------

@pytest.fixture
def table():
    r = []
    # reading A: sentence 0 ok (2 clusters), sentence 1 no_gaze
    r += [dict(_row(1, "cluster", 0, (0, 0, 10, 20, 5, 5), 0, 2), status="ok"),
          dict(_row(2, "cluster", 1, (0, 0, 4, 5, 2, 2), 0, 2), status="ok"),
          dict(_row(3, "holistic", -1, (0, 0, 30, 30, 9, 9), 0, 2), status="ok"),
          dict(_row(4, "holistic", -1, None, 1, 0), status="no_gaze")]
    # reading B: single_cluster, all_noise, single_cluster
    r += [dict(_row(1, "holistic", -1, (0, 0, 20, 10, 5, 5), 0, 1), status="single_cluster",
               reading_id="R2"),
          dict(_row(2, "holistic", -1, (0, 0, 12, 12, 5, 5), 1, 0), status="all_noise",
               reading_id="R2"),
          dict(_row(3, "holistic", -1, (0, 0, 8, 8, 5, 5), 2, 1), status="single_cluster",
               reading_id="R2")]
    return pd.DataFrame(r)


def _bar_heights(fig, gid):
    return [p.get_height() for p in _by_gid(fig, gid)]


def test_keyframe_stats_bars_equal_table_counts(table):
    fig = vk.keyframe_stats_figure(table)
    _preview(fig, "hand_stats")
    assert isinstance(fig, Figure) and fig.get_size_inches()[0] <= 10.0
    sentences = table.drop_duplicates(["reading_id", "sentence_index"])
    expect_k = sentences["n_clusters"].value_counts().reindex(range(3), fill_value=0)
    assert _bar_heights(fig, "clusters_per_sentence") == expect_k.tolist() == [2, 2, 1]
    expect_s = sentences["status"].value_counts().reindex(vk.SENTENCE_STATUSES, fill_value=0)
    assert _bar_heights(fig, "status_counts") == expect_s.tolist() == [1, 2, 1, 0, 1, 0]
    status_ax = _by_gid(fig, "status_counts")[0].axes
    assert [t.get_text() for t in status_ax.get_xticklabels()] == list(vk.SENTENCE_STATUSES)
    # frames per reading: 4 and 3 -> one reading in each integer bin
    hist = _by_gid(fig, "frames_per_reading")
    assert sorted(p.get_height() for p in hist) == [1, 1]
    # box areas: every boxed frame counted once, by kind
    for kind in ("cluster", "holistic"):
        n = int((table["has_box"] & (table["frame_kind"] == kind)).sum())
        (step,) = _by_gid(fig, f"box_area_{kind}")
        assert f"{kind} ({n} boxes" in step.get_label()
    n_boxed = int(table["has_box"].sum())
    assert f"({n_boxed} of {len(table)} frames have a box)" in fig.axes[3].get_title()
    assert n_boxed == 6
    # the area unit names the grid's scale only when the table's params say it
    assert fig.axes[3].get_xlabel() == "box width × height (grid px²)"
    with_params = table.assign(params='{"darkness": 0.15, "scale": 0.25}')
    assert vk.keyframe_stats_figure(with_params).axes[3].get_xlabel() == \
        "box width × height (¼-scale px²)"


def test_grid_unit():
    assert [vk.grid_unit(s) for s in (0.25, 0.5, 0.3, 1.0)] == [
        "¼-scale px", "½-scale px", "0.3-scale px", "original px"]


def test_keyframe_stats_rejects_bad_tables(table):
    with pytest.raises(ValueError, match="n_clusters"):
        vk.keyframe_stats_figure(table.drop(columns="n_clusters"))
    with pytest.raises(ValueError, match="unknown status.*'weird'"):
        vk.keyframe_stats_figure(table.assign(status="weird"))
    with pytest.raises(ValueError, match="empty"):
        vk.keyframe_stats_figure(table.iloc[:0])
    with pytest.raises(ValueError, match="DataFrame"):
        vk.keyframe_stats_figure(table.to_dict("records"))


def test_exported_from_viz():
    for name in ("window_steps_figure", "frames_strip", "attention_video_plotly",
                 "recipe_comparison_figure", "keyframe_stats_figure"):
        assert getattr(viz, name) is getattr(vk, name) and name in viz.__all__


# ------------------------------------------------------------------ one real reading ---

@pytest.fixture(scope="module")
def real():
    from gazex_lib import config
    from gazex_lib.data.reflacx import load_reflacx
    from gazex_lib.gaze.pipeline import KeyframeConfig, load_film, reading_keyframes

    cfg = config.load_config("ci")
    root = config.resolve_data_root(None, cfg, 0, progress=False)
    ds = load_reflacx(root / "reflacx")
    kc = KeyframeConfig.from_config(cfg)
    rid = ds.ids(phase=3)[0]
    film = load_film(ds, rid, root / "mimic-cxr-jpg", scale=kc.scale)
    frames, rows = reading_keyframes(ds, rid, film, kc)
    extra = []
    for other in ds.ids(phase=3)[1:3]:
        extra += reading_keyframes(ds, other, load_film(ds, other, root / "mimic-cxr-jpg",
                                                          scale=kc.scale), kc)[1]
    return dict(ds=ds, rid=rid, film=film, frames=frames, rows=pd.DataFrame(rows), kc=kc,
                table=pd.DataFrame(rows + extra))


def test_real_window_steps_boxes_match_rows(real):
    from gazex_lib.gaze import attention_map, cluster_window, sentence_windows
    from gazex_lib.gaze.keyframes import blend_frame

    ds, rid, kc, rows = real["ds"], real["rid"], real["kc"], real["rows"]
    meta = ds.metadata.loc[rid]
    size = (int(meta["image_size_x"]), int(meta["image_size_y"]))
    windows = sentence_windows(ds, rid, trim=kc.trim, skip_empty_sentences=kc.skip_empty_sentences)
    untrimmed = sentence_windows(ds, rid, trim=None, skip_empty_sentences=kc.skip_empty_sentences)
    assert len(windows) == rows["sentence_index"].nunique()
    for w, w0 in zip(windows, untrimmed):
        wc = cluster_window(w, size, scale=kc.scale, threshold=kc.threshold, eps=kc.eps,
                            min_samples=kc.min_samples, intensity_weight=kc.intensity_weight,
                            method=kc.dbscan_method, cluster_sigma_factor=kc.cluster_sigma_factor,
                            render_sigma_factor=kc.render_sigma_factor,
                            cluster_weighting=kc.cluster_weighting)
        hol = attention_map(w, size, "paper", scale=kc.scale,
                            sigma_factor=kc.render_sigma_factor, normalize="none")
        mine = rows[rows["sentence_index"] == w.sentence_index]
        fig = vk.window_steps_figure(real["film"], w, wc, hol, mine, untrimmed=w0,
                                     darkness=kc.darkness)
        _preview(fig, f"real_steps_s{w.sentence_index}")
        assert len(_axes(fig, "panel_")) == 4
        assert len(_by_gid(fig, "box")) == int(mine["has_box"].sum())
        assert len(_by_gid(fig, "samples")) == (1 if w.n_samples else 0)
        assert f"({wc.status})" in fig._suptitle.get_text()
        assert set(mine["status"]) == {wc.status}
        (frame,) = _by_gid(fig, "heat_frame")                 # the configured gaze.darkness
        np.testing.assert_array_equal(frame.get_array(),
                                      blend_frame(real["film"], hol, kc.darkness, channels=1))


def test_real_strip_and_video(real):
    frames, rows = real["frames"], real["rows"]
    fig = vk.frames_strip(frames, rows, title=f"Key frames of {real['rid']}")
    _preview(fig, "real_strip")
    assert len(_by_gid(fig, "box")) == int(rows["has_box"].head(12).sum())
    captions = [vk.frame_caption(f.frame_index, f.sentence_index, f.kind, f.cluster_rank)
                for f in frames]
    assert [ax.get_title() for ax in _axes(fig, "frame")] == captions[:12]
    # captions agree with the table rows
    assert captions == [vk.frame_caption(r.frame_index, r.sentence_index, r.frame_kind,
                                         r.cluster_rank) for r in rows.itertuples()]
    video = vk.attention_video_plotly(frames, captions)
    assert len(video.frames) == len(frames)
    assert [s.label for s in video.layout.sliders[0].steps] == captions
    assert len(video.to_json()) < 3_000_000


def test_real_recipes_and_stats(real):
    from gazex_lib.gaze import attention_map

    ds, rid = real["ds"], real["rid"]
    meta = ds.metadata.loc[rid]
    size = (int(meta["image_size_x"]), int(meta["image_size_y"]))
    gaze = ds.gaze(rid).dropna(subset=["timestamp_sample", "x_position", "y_position"])
    kc = real["kc"]
    paper = attention_map(gaze, size, "paper", scale=kc.scale, sigma_factor=kc.render_sigma_factor)
    reflacx = attention_map(ds.fixations(rid), size, "reflacx", scale=kc.scale)
    fig = vk.recipe_comparison_figure(real["film"], paper, reflacx)
    _preview(fig, "real_recipes")
    assert len(_by_gid(fig, "attention_map")) == 2
    table = real["table"]
    fig = vk.keyframe_stats_figure(table)
    _preview(fig, "real_stats")
    sentences = table.drop_duplicates(["reading_id", "sentence_index"])
    expect = sentences["status"].value_counts().reindex(vk.SENTENCE_STATUSES, fill_value=0)
    assert _bar_heights(fig, "status_counts") == expect.tolist()
    assert sum(_bar_heights(fig, "clusters_per_sentence")) == len(sentences)
