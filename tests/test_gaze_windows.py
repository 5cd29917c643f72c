"""Sentence windows: lead, NaN accounting, percentile trim, empty sentences kept and aligned."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gazex_lib.config import load_config
from gazex_lib.data.sentences import segment_sentences
from gazex_lib.gaze.pipeline import KeyframeConfig
from gazex_lib.gaze.windows import (
    sentence_windows, trim_mask, windows_from_tables, windows_table,
)

#: Every recipe value comes from the ci profile (configs/ci.yaml: data and gaze sections).
CI = load_config("ci")
KCFG = KeyframeConfig.from_config(CI)

GAZE_COLUMNS = ["timestamp_sample", "x_position", "y_position",
                "angular_resolution_x_pixels_per_degree",
                "angular_resolution_y_pixels_per_degree"]


def make_gaze(t, x, y, ppd=40.0) -> pd.DataFrame:
    t = np.asarray(t, dtype=float)
    n = len(t)
    ppd = np.broadcast_to(np.asarray(ppd, dtype=float), (n,))
    return pd.DataFrame({"timestamp_sample": t,
                         "x_position": np.broadcast_to(np.asarray(x, float), (n,)).copy(),
                         "y_position": np.broadcast_to(np.asarray(y, float), (n,)).copy(),
                         "angular_resolution_x_pixels_per_degree": ppd.copy(),
                         "angular_resolution_y_pixels_per_degree": ppd.copy()})


def make_words(sentences) -> pd.DataFrame:
    """``sentences``: list of (text, start_s, end_s); words evenly spread, '.' last."""
    rows = []
    for text, start, end in sentences:
        tokens = text.split()
        edges = np.linspace(start, end, len(tokens) + 1)
        rows += [(tok, edges[i], edges[i + 1]) for i, tok in enumerate(tokens)]
    return pd.DataFrame(rows, columns=["word", "timestamp_start_word", "timestamp_end_word"])


def sentences_of(words, **kw) -> pd.DataFrame:
    """``segment_sentences`` with the ci profile's lead and trailing-words rule unless given."""
    kw = {"window_lead_s": CI.data.window_lead_s, "trailing_words": CI.data.trailing_words, **kw}
    return segment_sentences(words, **kw)


def windows(ds, rid="R", **kw):
    """``sentence_windows`` with the ci profile's trim and empty-sentence rule unless given."""
    kw = {"trim": KCFG.trim, "skip_empty_sentences": KCFG.skip_empty_sentences, **kw}
    return sentence_windows(ds, rid, **kw)


class FakeDataset:
    """The few ReflacxDataset methods the gaze layer uses, over in-memory tables (lead and
    trailing words: the ci profile's, as ``load_reflacx`` takes them)."""

    def __init__(self, readings: dict):
        # readings: id -> (words, gaze, (width, height))
        self.readings = readings
        self.window_lead_s = CI.data.window_lead_s
        self.trailing_words = CI.data.trailing_words
        self.metadata = pd.DataFrame(
            {"image_size_x": [r[2][0] for r in readings.values()],
             "image_size_y": [r[2][1] for r in readings.values()],
             "image": ["x.dcm"] * len(readings)}, index=list(readings))

    def gaze(self, rid):
        return self.readings[rid][1].copy()

    def sentences(self, rid, *, window_lead_s=None, trailing_words=None):
        lead = self.window_lead_s if window_lead_s is None else window_lead_s
        return segment_sentences(self.readings[rid][0], window_lead_s=lead,
                                 trailing_words=trailing_words or self.trailing_words)


def test_lead_window_is_closed_and_configurable():
    words = make_words([("no effusion .", 10.0, 11.0)])
    start = 10.0 - CI.data.window_lead_s                   # paper: 2 s lead -> 8.0
    t = [start - 0.001, start, (start + 10.0) / 2, 11.0, 11.001]
    ds = FakeDataset({"R": (words, make_gaze(t, 100, 100), (400, 400))})
    (w,) = windows(ds, trim=None)
    assert w.window_start_s == start and w.window_end_s == 11.0
    np.testing.assert_array_equal(w.t, t[1:4])
    (w0,) = windows(ds, window_lead_s=0.0, trim=None)
    np.testing.assert_array_equal(w0.t, [11.0])
    assert w.text == "no effusion ." and (w.t_start_s, w.t_end_s) == (10.0, 11.0)


def test_nan_rows_dropped_and_counted():
    words = make_words([("a .", 0.0, 1.0)])
    g = make_gaze(np.linspace(-1, 1, 10), 100, 100)
    g.loc[2, "x_position"] = np.nan
    g.loc[5, "angular_resolution_y_pixels_per_degree"] = np.nan
    g.loc[7, "timestamp_sample"] = np.nan            # in no window at all
    ds = FakeDataset({"R": (words, g, (400, 400))})
    (w,) = windows(ds, trim=None)
    assert (w.n_raw, w.n_nan, w.n_samples, w.status) == (9, 2, 7, "ok")


def test_trim_uses_numpy_linear_percentiles_inclusive_on_x_and_y():
    rng = np.random.default_rng(0)
    n = 101
    lo, hi = KCFG.trim                                       # paper: (5, 95)
    x = rng.permutation(np.arange(n, dtype=float))           # P(lo) = lo, P(hi) = hi exactly
    y = rng.normal(300, 40, n)
    words = make_words([("a b .", 0.0, 1.0)])
    ds = FakeDataset({"R": (words, make_gaze(np.linspace(0, 1, n), x, y), (800, 800))})
    (w,) = windows(ds)
    ylo, yhi = np.percentile(y, [lo, hi])
    keep = (x >= lo) & (x <= hi) & (y >= ylo) & (y <= yhi)
    np.testing.assert_array_equal(w.x, x[keep])            # file order kept
    assert w.trim_bounds == (lo, hi, ylo, yhi)
    assert w.n_trimmed == n - keep.sum() and w.n_samples == keep.sum()
    assert lo in w.x and hi in w.x                          # bounds inclusive
    (untrimmed,) = windows(ds, trim=None)
    assert untrimmed.n_samples == n and untrimmed.n_trimmed == 0


def test_trim_on_original_pixels_equals_official_trim_on_quarter_pixels():
    rng = np.random.default_rng(1)
    x, y = rng.normal(1200, 300, 5000).round(), rng.normal(1500, 400, 5000).round()
    mask, _ = trim_mask(x, y, KCFG.trim)
    s = KCFG.scale                                           # paper: ¼, a power of two
    xl, xh = np.percentile(x * s, KCFG.trim)
    yl, yh = np.percentile(y * s, KCFG.trim)
    official = (x * s >= xl) & (x * s <= xh) & (y * s >= yl) & (y * s <= yh)
    np.testing.assert_array_equal(mask, official)


def test_trim_can_empty_a_window_and_is_flagged():
    # anti-correlated pair: x in [P5, P95] keeps neither
    words = make_words([("a .", 0.0, 1.0)])
    ds = FakeDataset({"R": (words, make_gaze([0.1, 0.2], [0, 10], [10, 0]), (400, 400))})
    (w,) = windows(ds)
    assert (w.n_samples, w.n_trimmed, w.status) == (0, 2, "trimmed_empty")


def three_sentences_middle_without_gaze():
    words = make_words([("heart normal .", 0.0, 2.0), ("no effusion .", 10.0, 11.0),
                        ("lungs clear .", 20.0, 22.0)])
    t = np.concatenate([np.linspace(-1.5, 2.0, 50), np.linspace(18.5, 22.0, 50)])
    return words, make_gaze(t, 200, 300)


def test_sentence_without_gaze_is_kept_counted_and_skippable():
    words, gaze = three_sentences_middle_without_gaze()
    ds = FakeDataset({"R": (words, gaze, (800, 800))})
    ws = windows(ds, skip_empty_sentences=False)
    assert [w.sentence_index for w in ws] == [0, 1, 2]
    assert [w.status for w in ws] == ["ok", "no_gaze", "ok"]
    assert [w.text for w in ws] == list(ds.sentences("R")["text"])
    assert ws[1].n_raw == 0 and ws[1].n_samples == 0
    official = windows(ds, skip_empty_sentences=True)
    assert [w.sentence_index for w in official] == [0, 2]
    table = windows_table(ws)
    assert list(table["status"]) == ["ok", "no_gaze", "ok"]
    assert (table["reading_id"] == "R").all()


def test_windows_from_tables_requires_gaze_columns():
    words, gaze = three_sentences_middle_without_gaze()
    kw = dict(trim=KCFG.trim, skip_empty_sentences=KCFG.skip_empty_sentences)
    with pytest.raises(ValueError, match="lacks columns"):
        windows_from_tables(gaze.drop(columns=["y_position"]), sentences_of(words), **kw)
    with pytest.raises(ValueError, match="trim"):
        windows_from_tables(gaze, sentences_of(words), **dict(kw, trim=(95, 5)))


@pytest.mark.parametrize("middle", ["no_gaze", "all_nan"])
def test_alignment_holistic_frames_equal_sentences_with_empty_middle_sentence(middle):
    from gazex_lib.gaze.keyframes import frame_geometry
    from gazex_lib.gaze.maps import scaled_shape
    from gazex_lib.gaze.pipeline import reading_keyframes

    words, gaze = three_sentences_middle_without_gaze()
    if middle == "all_nan":        # the middle window has samples, all NaN
        extra = make_gaze(np.linspace(8.5, 10.5, 20), np.nan, 300)
        gaze = pd.concat([gaze, extra], ignore_index=True).sort_values("timestamp_sample")
    ds = FakeDataset({"R": (words, gaze, (800, 800))})
    film = np.full(scaled_shape((800, 800), KCFG.scale), 100, np.uint8)
    frames, rows = reading_keyframes(ds, "R", film, KCFG)
    texts = list(ds.sentences("R")["text"])
    holistic = [r for r in rows if r["frame_kind"] == "holistic"]
    assert len(holistic) == len(texts) == 3
    assert len(frames) == len(rows)
    for r in rows:
        assert r["text"] == texts[r["sentence_index"]]
    assert [r["sentence_index"] for r in holistic] == [0, 1, 2]
    assert holistic[1]["status"] == "no_gaze" and not holistic[1]["has_box"]
    assert holistic[1]["n_nan"] == (20 if middle == "all_nan" else 0)
    # the middle frame is the uniformly darkened film: paper uint8(100 * 0.15) = 15
    image = frames[holistic[1]["frame_index"] - 1].image
    dark = int(np.float32(100) * np.float32(KCFG.darkness))
    geom = frame_geometry(film.shape, KCFG.frame_fit, KCFG.frame_multiple)
    assert image.shape == (geom.frame_size[1], geom.frame_size[0], 3)   # paper: 224 x 224
    h, w = film.shape
    assert (image[:h, :w] == dark).all() and (image[h:] == 0).all() and (image[:, w:] == 0).all()
    # the official behaviour drops the sentence: 2 holistic frames for 3 sentences
    _, official = reading_keyframes(ds, "R", film, KCFG, skip_empty_sentences=True)
    assert [r["sentence_index"] for r in official if r["frame_kind"] == "holistic"] == [0, 2]
