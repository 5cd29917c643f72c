"""Boxes: thresholds, the official percentile, centroids, shrink modes, coordinate spaces."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gazex_lib.config import load_config
from gazex_lib.gaze.boxes import (
    Box, box_coordinates, cluster_box, from_qwen1000, holistic_box, shrink_box, threshold_box,
    to_qwen1000, top_percent_box, weighted_centroid,
)
from gazex_lib.gaze.maps import render_frame_heat

#: The box recipe's values come from the ci profile (configs/ci.yaml, section gaze).
GAZE = load_config("ci").gaze
THR = GAZE.cluster_box_threshold            # paper: 0.1
TOP = GAZE.holistic_top_percent             # paper: 20 (%)
FLOOR = GAZE.holistic_nonzero_floor         # official: True


def test_threshold_box_is_strict_and_inclusive():
    norm = np.zeros((20, 30))
    norm[4:9, 6:15] = 0.5
    norm[12, 20] = THR                                  # exactly at threshold: out
    raw = norm * 10
    box = threshold_box(norm, raw, THR)
    assert (box.x_min, box.y_min, box.x_max, box.y_max) == (6, 4, 14, 8)
    assert (box.cx, box.cy) == (10.0, 6.0)
    assert box.width == 8 and box.height == 4
    assert threshold_box(norm, raw, 0.5) is None


def test_cluster_box_thresholds_the_log_normalised_raw_heat():
    raw = np.zeros((10, 10))
    raw[5, 5] = 50.0
    v = math.expm1(THR * math.log1p(50.0 + 1e-6)) - 1e-6   # log-normalised value exactly THR
    raw[2, 8] = v * (1 + 1e-9)                             # just above: in
    raw[8, 1] = v * (1 - 1e-9)                             # just below: out
    box = cluster_box(raw, THR)
    assert (box.x_min, box.y_min, box.x_max, box.y_max) == (5, 2, 8, 5)
    assert box == threshold_box(render_frame_heat(raw), raw, THR)


def designed_holistic():
    """80 zero pixels and 20 positive ones with distinct values in a 10 x 10 map."""
    raw = np.zeros((10, 10))
    cells = [(r, c) for r in range(2, 6) for c in range(3, 8)]          # 20 cells
    for k, (r, c) in enumerate(cells):
        raw[r, c] = 1.0 + k                                # largest 4: row 5, cols 4..7
    return raw


def test_holistic_box_official_percentile_counts_the_log_floor_as_non_zero():
    # the official top 20 %: P80 of all 100 pixels (every pixel is > 0 after the log floor)
    raw = designed_holistic()
    norm = render_frame_heat(raw)
    assert (norm > 0).all()                                # the +1e-6 floor is "non-zero"
    thr = np.percentile(norm.ravel(), 80)                  # = over all 100 pixels
    srt = np.sort(norm.ravel())
    assert thr == pytest.approx(srt[79] + 0.2 * (srt[80] - srt[79]), rel=1e-12)
    box = holistic_box(raw, 20.0, nonzero_floor=True)      # -> all 20 positive pixels
    assert (box.x_min, box.y_min, box.x_max, box.y_max) == (3, 2, 7, 5)
    # the intended "non-zero raw" support: 80th percentile of the 20 values -> top 4
    intended = holistic_box(raw, 20.0, nonzero_floor=False)
    assert (intended.x_min, intended.y_min, intended.x_max, intended.y_max) == (4, 5, 7, 5)
    assert holistic_box(np.zeros((4, 4)), TOP, nonzero_floor=FLOOR) is None
    assert top_percent_box(np.zeros((3, 3)), np.zeros((3, 3)), TOP) is None
    with pytest.raises(ValueError, match="top_percent"):
        top_percent_box(norm, raw, 0)


def test_holistic_box_is_the_top_percent_box_of_the_log_normalised_heat():
    raw = designed_holistic()
    norm = render_frame_heat(raw)
    support = None if FLOOR else raw > 0
    assert holistic_box(raw, TOP, nonzero_floor=FLOOR) == top_percent_box(norm, raw, TOP, support)


def test_centroid_is_intensity_weighted_on_the_raw_heat_inside_the_box():
    raw = np.zeros((8, 10))
    raw[2, 2], raw[4, 6] = 1.0, 3.0
    raw[7, 9] = 100.0                                      # outside the box: ignored
    assert weighted_centroid(raw, 2, 2, 6, 4) == (5.0, 3.5)
    assert weighted_centroid(np.zeros((8, 10)), 2, 2, 7, 5) == (4.5, 3.5)   # box centre
    norm = np.zeros((8, 10))
    norm[2, 2] = norm[4, 6] = 1.0
    box = threshold_box(norm, raw, THR)
    assert (box.cx, box.cy) == (5.0, 3.5)


def test_shrink_modes_literal_percent_vs_fraction():
    box = Box(10, 20, 110, 220, 60.0, 120.0)
    assert shrink_box(box, 0.35, "none") == box
    off = shrink_box(box, 0.35, "official_percent")        # 0.35 % of the extent
    assert off.as_tuple() == pytest.approx((10.175, 20.35, 109.825, 219.65, 60.0, 120.0))
    frac = shrink_box(box, 0.35, "fraction")               # 35 %
    assert frac.as_tuple() == pytest.approx((27.5, 55.0, 92.5, 185.0, 60.0, 120.0))
    assert shrink_box(box, 0.35, "official_percent", truncate=True).as_tuple() == \
        (10, 20, 109, 219, 60, 120)
    assert shrink_box(box, 0.15, "fraction").x_min == pytest.approx(17.5)
    assert shrink_box(None, 0.35, "fraction") is None
    with pytest.raises(ValueError, match="shrink mode"):
        shrink_box(box, 0.35, "percent")
    with pytest.raises(ValueError, match="fraction"):
        shrink_box(box, 1.5, "fraction")


def test_coordinate_spaces_and_round_trips():
    box = Box(10, 20, 111, 221, 60.5, 120.25)
    S = GAZE.scale                                         # paper: 0.25
    assert box_coordinates(box, "grid", scale=S) == box.as_tuple()
    assert box_coordinates(box, "original", scale=0.25) == (40, 80, 444, 884, 242.0, 481.0)
    assert box_coordinates(box, "original", scale=S) == tuple(v / S for v in box.as_tuple())
    q = box_coordinates(box, "qwen1000", scale=S, grid_size=(224, 280))
    assert q == (45, 71, 496, 789, 270, 429)
    assert to_qwen1000(0.112, 224) == 1 and to_qwen1000(0.111, 224) == 0   # half up
    assert to_qwen1000(224, 224) == 1000 and to_qwen1000(-3, 224) == 0      # clipped
    with pytest.raises(ValueError, match="grid_size"):
        box_coordinates(box, "qwen1000", scale=S)
    with pytest.raises(ValueError, match="space"):
        box_coordinates(box, "pixels", scale=S)
    assert box_coordinates(None, "grid", scale=S) is None
    # round trips: pixels -> q -> pixels within size/2000; q -> pixels -> q exact
    for size in (224, 636, 764, 1000, 3056):
        v = np.linspace(0, size, 997)
        back = from_qwen1000(to_qwen1000(v, size), size)
        assert np.abs(back - v).max() <= size / 2000 + 1e-9
        qs = np.arange(1001)
        np.testing.assert_array_equal(to_qwen1000(from_qwen1000(qs, size), size), qs)
    orig = np.array(box_coordinates(box, "original", scale=S))
    assert tuple(orig * S) == box.as_tuple()
