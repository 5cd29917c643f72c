"""Tests for gazex_lib.viz: figures are returned (never shown), faithful to their inputs,
deterministic, and reject malformed inputs with a ValueError naming the problem."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

import plotly.graph_objects as go  # noqa: E402
from gazex_lib.data.labels import prevalence_table  # noqa: E402
from matplotlib.collections import PathCollection, PolyCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Ellipse  # noqa: E402

from gazex_lib import viz  # noqa: E402
from gazex_lib.data.labels import CHEXBERT_LABELS  # noqa: E402
from gazex_lib.viz import plotly_embed  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ fixtures --------

@pytest.fixture
def image():
    h, w = 120, 100
    yy, xx = np.mgrid[0:h, 0:w]
    return ((xx + yy) % 256).astype(np.uint8)


@pytest.fixture
def fixations():
    return pd.DataFrame({
        "timestamp_start_fixation": [-2.0, -1.5, -0.2, 0.4, 1.1],
        "timestamp_end_fixation": [-1.75, -0.5, 0.1, 0.9, 1.3],
        "x_position": [10.0, 30.0, 55.0, 70.0, 90.0],
        "y_position": [15.0, 40.0, 60.0, 100.0, 110.0],
        "angular_resolution_x_pixels_per_degree": [94.0] * 5,
    })


@pytest.fixture
def ellipses():
    return pd.DataFrame({
        "xmin": [20.0, 60.0], "ymin": [30.0, 90.0], "xmax": [40.0, 80.0], "ymax": [50.0, 110.0],
        "certainty": [5, 3],
        "Atelectasis": [True, False], "Pleural abnormality": [False, True], "Other": [False, False],
    })


@pytest.fixture
def chest_box():
    return pd.DataFrame({"xmin": [5], "ymin": [5], "xmax": [95], "ymax": [115]})


@pytest.fixture
def words():
    toks = ["the", "heart", "is", "enlarged", ".", "no", "effusion", "."]
    start = np.arange(len(toks)) * 0.4 + 0.2
    return pd.DataFrame({"word": toks, "timestamp_start_word": start, "timestamp_end_word": start + 0.3})


@pytest.fixture
def sentences():
    return pd.DataFrame({
        "sentence_index": [0, 1], "text": ["the heart is enlarged.", "no effusion."],
        "timestamp_start_s": [0.2, 2.2], "timestamp_end_s": [1.9, 3.1],
        "window_start_s": [-1.8, 0.2], "window_end_s": [1.9, 3.1], "trailing": [False, False],
    })


def _by_gid(fig: Figure, gid: str):
    return [a for ax in fig.axes for a in ax.get_children() if a.get_gid() == gid]


# ------------------------------------------------------------------ scanpath --------

def test_scanpath_figure_one_marker_per_fixation(image, fixations, ellipses, chest_box):
    fig = viz.scanpath_figure(image, fixations, ellipses=ellipses, chest_box=chest_box, title="t")
    assert isinstance(fig, Figure)
    scatters = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert len(scatters) == 1 and scatters[0].get_gid() == "fixations"
    np.testing.assert_array_equal(scatters[0].get_offsets(),
                                  fixations[["x_position", "y_position"]].to_numpy())
    # colour encodes start time, marker area grows with duration
    np.testing.assert_array_equal(scatters[0].get_array(), fixations["timestamp_start_fixation"])
    sizes = scatters[0].get_sizes()
    dur = fixations["timestamp_end_fixation"] - fixations["timestamp_start_fixation"]
    assert np.all(np.diff(sizes[np.argsort(dur.to_numpy())]) >= 0)
    assert fig.get_size_inches()[0] <= 10.0


def test_scanpath_figure_ellipses_and_box(image, fixations, ellipses, chest_box):
    fig = viz.scanpath_figure(image, fixations, ellipses=ellipses, chest_box=chest_box)
    ax = fig.axes[0]
    patches = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(patches) == len(ellipses)
    e0 = patches[0]
    assert e0.center == pytest.approx((30.0, 40.0)) and (e0.width, e0.height) == (20.0, 20.0)
    texts = " ".join(t.get_text() for t in ax.texts)
    assert "Atelectasis" in texts and "Pleural abnormality" in texts and "Other" not in texts
    box = _by_gid(fig, "chest_box")
    assert len(box) == 1 and box[0].get_linestyle() == "--"


def test_scanpath_figure_max_fixations_and_ax(image, fixations):
    import matplotlib.figure
    host = matplotlib.figure.Figure()
    ax = host.add_subplot()
    fig = viz.scanpath_figure(image, fixations, ax=ax, max_fixations=3)
    assert fig is host
    assert len(_by_gid(fig, "fixations")[0].get_offsets()) == 3


def test_scanpath_duration_column_used_when_present(image, fixations):
    f2 = fixations.assign(duration_s=[1.0, 0.01, 0.01, 0.01, 0.01])
    sizes = _by_gid(viz.scanpath_figure(image, f2), "fixations")[0].get_sizes()
    assert sizes[0] > sizes[1]


def test_scanpath_plotly_markers_and_hover(image, fixations, ellipses):
    fig = viz.scanpath_plotly(image, fixations, ellipses=ellipses, title="x")
    assert isinstance(fig, go.Figure)
    assert isinstance(fig.data[0], go.Image)
    marks = [t for t in fig.data if getattr(t, "name", None) == "fixations"]
    assert len(marks) == 1
    np.testing.assert_array_equal(np.asarray(marks[0].x), fixations["x_position"])
    np.testing.assert_array_equal(np.asarray(marks[0].y), fixations["y_position"])
    dur_ms = (fixations["timestamp_end_fixation"] - fixations["timestamp_start_fixation"]) * 1000
    for txt, d, t in zip(marks[0].text, dur_ms, fixations["timestamp_start_fixation"]):
        assert f"duration = {d:.0f} ms" in txt
        assert f"t = {t:.3f} s" in txt
    assert "#1" in marks[0].text[0]
    # image coordinates: y reversed, equal scale
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]
    assert fig.layout.yaxis.scaleanchor == "x"
    circles = [s for s in fig.layout.shapes if s.type == "circle"]
    assert len(circles) == len(ellipses)
    assert (circles[1].x0, circles[1].y0, circles[1].x1, circles[1].y1) == (60.0, 90.0, 80.0, 110.0)


def test_scanpath_plotly_downsamples_large_film(fixations):
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, size=(2500, 2000), dtype=np.uint8)  # incompressible worst case
    fig = viz.scanpath_plotly(big, fixations, downsample_to=512)
    size = len(fig.to_json())
    assert size < 1_000_000
    img = fig.data[0]
    # background spans the original pixel extent
    from PIL import Image
    import base64
    import io
    png = Image.open(io.BytesIO(base64.b64decode(img.source.split(",", 1)[1])))
    assert max(png.size) == 512
    assert png.size[0] * img.dx == pytest.approx(2000) and png.size[1] * img.dy == pytest.approx(2500)
    assert img.x0 - img.dx / 2 == pytest.approx(-0.5)
    # without downsampling the same figure would be far larger: the limit is meaningful
    assert len(viz.scanpath_plotly(big, fixations, downsample_to=2500).to_json()) > 1_000_000


def test_scanpath_plotly_animation_frames(image, fixations):
    fig = viz.scanpath_plotly(image, fixations, animate_every=2)
    assert [len(f.data[1].x) for f in fig.frames] == [2, 4, 5]
    assert len(fig.layout.sliders[0].steps) == 3


# ------------------------------------------------------------------ timeline --------

def test_timeline_bars_and_spans(fixations, words, sentences):
    fig = viz.dictation_timeline(fixations, words, sentences)
    assert isinstance(fig, Figure)
    bars = _by_gid(fig, "fixation_bars")
    assert len(bars) == 1 and len(bars[0].get_paths()) == len(fixations)
    # each bar spans exactly its fixation
    for path, (s, e) in zip(bars[0].get_paths(), fixations[["timestamp_start_fixation",
                                                              "timestamp_end_fixation"]].to_numpy()):
        assert path.vertices[:, 0].min() == pytest.approx(s)
        assert path.vertices[:, 0].max() == pytest.approx(e)
    spans = _by_gid(fig, "sentence_bars")
    windows = _by_gid(fig, "lead_windows")
    assert len(spans[0].get_paths()) == len(sentences) == len(windows[0].get_paths())
    assert windows[0].get_paths()[0].vertices[:, 0].min() == pytest.approx(-1.8)
    # one vertical line at t = 0
    zero = [ln for ln in fig.axes[0].lines if list(ln.get_xdata()) == [0.0, 0.0]]
    assert len(zero) == 1
    assert isinstance(bars[0], PolyCollection)
    assert "enlarged" in [t.get_text() for t in fig.axes[0].texts]
    assert fig.get_size_inches()[0] <= 10.0


def test_timeline_colours_by_ellipse(fixations, words, sentences, ellipses):
    idx = viz.fixation_ellipse_index(fixations, ellipses)
    # (30,40) is the centre of ellipse 0; (70,100) the centre of ellipse 1
    np.testing.assert_array_equal(idx, [-1, 0, -1, 1, -1])
    # overlapping ellipses: the first one (row order) wins
    big = pd.DataFrame({"xmin": [0.0], "ymin": [0.0], "xmax": [100.0], "ymax": [120.0], "certainty": [1],
                        "Atelectasis": [False], "Pleural abnormality": [False], "Other": [True]})
    both = pd.concat([ellipses, big], ignore_index=True)
    np.testing.assert_array_equal(viz.fixation_ellipse_index(fixations, both), [-1, 0, 2, 1, -1])
    fig = viz.dictation_timeline(fixations, words, sentences, ellipses=ellipses)
    faces = _by_gid(fig, "fixation_bars")[0].get_facecolors()
    assert not np.allclose(faces[1], faces[0]) and np.allclose(faces[0], faces[2])
    assert not np.allclose(faces[1], faces[3])


def test_timeline_plotly(fixations, words, sentences):
    fig = viz.dictation_timeline_plotly(fixations, words, sentences)
    assert isinstance(fig, go.Figure)
    assert len(fig.data[0].base) == len(fixations)
    assert "ms" in fig.data[0].text[0]


# ------------------------------------------------------------------ summary ---------

def test_counts_bar():
    df = pd.DataFrame({"phase": [1, 1, 2, 3, 3, 3], "split": ["train", "test", "train", "train", "train", "test"]})
    fig = viz.counts_bar(df, "phase", hue="split")
    assert isinstance(fig, Figure)
    heights = {}
    for container in fig.axes[0].containers:
        heights[container.get_label()] = [p.get_height() for p in container.patches]
    assert heights == {"test": [1, 0, 1], "train": [1, 1, 2]}
    fig2 = viz.counts_bar(df, "phase")
    assert [p.get_height() for p in fig2.axes[0].containers[0].patches] == [2, 1, 3]


def test_label_prevalence_fraction_excludes_nan():
    labels = pd.DataFrame(np.nan, index=range(4), columns=list(CHEXBERT_LABELS))
    labels["Cardiomegaly"] = [1.0, 0.0, np.nan, np.nan]       # 1 / 2 known
    labels["Edema"] = [1.0, 1.0, 1.0, 0.0]                    # 3 / 4
    labels["Atelectasis"] = [0.0, 0.0, 0.0, np.nan]           # 0 / 3
    table = prevalence_table(labels)
    assert table.loc["Cardiomegaly", "fraction_positive"] == 0.5
    assert table.loc["Edema", "fraction_positive"] == 0.75
    assert table.loc["Atelectasis", "fraction_positive"] == 0.0
    assert np.isnan(table.loc["Pneumonia", "fraction_positive"])
    assert table.loc["Cardiomegaly", "fraction_unknown"] == 0.5
    assert table.loc["Pneumonia", "n_unknown"] == 4

    fig = viz.label_prevalence(labels)
    ax = fig.axes[0]
    pos = next(c for c in ax.containers if c.patches[0].get_gid() == "positive")
    widths = [p.get_width() for p in pos.patches]
    expected = np.nan_to_num(table["fraction_positive"].to_numpy())
    np.testing.assert_allclose(widths, expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == list(CHEXBERT_LABELS)
    unk = next(c for c in fig.axes[1].containers)
    np.testing.assert_allclose([p.get_width() for p in unk.patches], table["fraction_unknown"])
    assert any(t.get_text() == "all unknown" for t in ax.texts)


def test_label_prevalence_rejects_non_binary():
    bad = pd.DataFrame({"Edema": [1.0, 2.0], "Cardiomegaly": [0.0, 1.0]})
    with pytest.raises(ValueError, match="Edema"):
        viz.label_prevalence(bad)


def test_distribution_grid():
    fig = viz.distribution_grid({"reading duration": np.array([1.0, 2.0, 3.0, np.nan]),
                                 "fixation duration": pd.Series([100.0, 200.0])},
                                {"reading duration": "s", "fixation duration": "ms"})
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == 2
    assert visible[0].get_xlabel() == "s" and visible[1].get_xlabel() == "ms"
    assert "1 non-finite dropped" in visible[0].get_title()
    assert sum(p.get_height() for p in visible[0].patches) == 3
    with pytest.raises(ValueError, match="fixation duration"):
        viz.distribution_grid({"fixation duration": [1.0]}, {"other": "s"})


def test_quality_bar():
    q = pd.DataFrame({"reason": ["a", "b"], "readings_affected": [1, 5], "count": [3, 5],
                      "fraction": [0.1, 0.5]})
    fig = viz.quality_bar(q)
    ax = fig.axes[0]
    assert [p.get_width() for p in ax.patches] == [0.5, 0.1]  # sorted by fraction
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]
    with pytest.raises(ValueError, match="count"):
        viz.quality_bar(q.drop(columns="count"))


def test_film_panel(image):
    fig = viz.film_panel([image, image.T], ["a", "b"], "Source: test")
    assert isinstance(fig, Figure)
    assert len([ax for ax in fig.axes if ax.images]) == 2
    assert fig.get_supxlabel() == "Source: test"
    assert fig.get_size_inches()[0] <= 10.0
    with pytest.raises(ValueError, match="caption"):
        viz.film_panel([image], ["a", "b"], "x")
    with pytest.raises(ValueError, match="attribution"):
        viz.film_panel([image], ["a"], "")
    wide = viz.film_panel([image] * 8, list("abcdefgh"), "x")
    assert wide.get_size_inches()[0] <= 10.0


# ------------------------------------------------------------------ bad inputs ------

@pytest.mark.parametrize("column", ["x_position", "timestamp_end_fixation"])
def test_missing_fixation_column_named(image, fixations, words, sentences, column):
    bad = fixations.drop(columns=column)
    for call in (lambda: viz.scanpath_figure(image, bad), lambda: viz.scanpath_plotly(image, bad),
                 lambda: viz.dictation_timeline(bad, words, sentences)):
        with pytest.raises(ValueError, match=column):
            call()


def test_missing_other_columns_named(image, fixations, words, sentences, ellipses, chest_box):
    with pytest.raises(ValueError, match="timestamp_start_word"):
        viz.dictation_timeline(fixations, words.drop(columns="timestamp_start_word"), sentences)
    with pytest.raises(ValueError, match="window_start_s"):
        viz.dictation_timeline(fixations, words, sentences.drop(columns="window_start_s"))
    with pytest.raises(ValueError, match="ymax"):
        viz.scanpath_figure(image, fixations, ellipses=ellipses.drop(columns="ymax"))
    with pytest.raises(ValueError, match="xmin"):
        viz.scanpath_figure(image, fixations, chest_box=chest_box.drop(columns="xmin"))
    with pytest.raises(ValueError, match="hue_col"):
        viz.counts_bar(pd.DataFrame({"phase": [1]}), "phase", hue="hue_col")
    with pytest.raises(ValueError, match="shape"):
        viz.scanpath_figure(np.zeros((2, 3, 5)), fixations)


# ------------------------------------------------------------------ plotly embed ----

def _small_fig():
    return go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))


def test_plotly_html_includes_js_once_and_is_deterministic():
    viz.reset_plotly_embed()
    first = viz.plotly_html(_small_fig(), "fig-a").data
    second = viz.plotly_html(_small_fig(), "fig-b").data
    assert len(first) > len(second) + 1_000_000  # the inlined library
    assert "plotly.js v" in first and "plotly.js v" not in second
    assert len(second) < 20_000
    assert 'id="fig-a"' in first and 'id="fig-b"' in second
    assert '"responsive": true' in second.replace('"responsive":true', '"responsive": true')
    viz.reset_plotly_embed()
    assert viz.plotly_html(_small_fig(), "fig-a").data == first
    assert viz.plotly_html(_small_fig(), "fig-b").data == second
    uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
    assert not uuid.search(second)
    viz.reset_plotly_embed()


def test_plotly_html_rejects_bad_ids():
    with pytest.raises(ValueError, match="div_id"):
        viz.plotly_html(_small_fig(), "has space")
    with pytest.raises(ValueError, match="Figure"):
        viz.plotly_html({"data": []}, "ok")
    assert plotly_embed._STATE["js_included"] in (True, False)


def test_plotly_html_identical_across_processes():
    code = (
        "import numpy as np, pandas as pd, hashlib\n"
        "from gazex_lib import viz\n"
        "img = (np.arange(60*50) % 251).astype(np.uint8).reshape(60, 50)\n"
        "fx = pd.DataFrame({'timestamp_start_fixation': [-1.0, 0.5], 'timestamp_end_fixation': [-0.7, 0.9],"
        " 'x_position': [10., 30.], 'y_position': [20., 50.]})\n"
        "a = viz.plotly_html(viz.scanpath_plotly(img, fx, animate_every=1), 'sp').data\n"
        "b = viz.plotly_html(viz.scanpath_plotly(img, fx), 'sp2').data\n"
        "print(hashlib.sha256((a + '|' + b).encode()).hexdigest(), len(a) > len(b))\n"
    )
    outs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                           env={"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
                           check=True).stdout
            for seed in (1, 2)]
    assert outs[0] == outs[1]
    assert outs[0].strip().endswith("True")


# ------------------------------------------------------------------ no side effects -

def test_no_global_style_changes(image, fixations):
    before = dict(matplotlib.rcParams)
    viz.scanpath_figure(image, fixations)
    viz.label_prevalence(pd.DataFrame({"Edema": [1.0, 0.0]}))
    assert dict(matplotlib.rcParams) == before
    import matplotlib.pyplot as plt
    assert plt.get_fignums() == []  # figures are not registered with pyplot (nothing to show)


def test_matplotlib_figures_deterministic(image, fixations, ellipses):
    import io

    def render():
        buf = io.BytesIO()
        viz.scanpath_figure(image, fixations, ellipses=ellipses).savefig(
            buf, format="png", metadata={"Software": None})
        return buf.getvalue()

    assert render() == render()
