"""Cheaper coordinates (``tasks.coords = "q<N>"``): the grid rule, the FVP and path records
written on it, their scorers and the baselines, and the same options on training and probe
records."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gazex_lib import tasks as T
from gazex_lib.eval import (InputIgnoringBaseline, TextOnlyBaseline, TrivialBaseline,
                            heldout_records, path_truth_orig, score_answers, score_fvp,
                            score_path)
from gazex_lib.gaze.boxes import to_qwen1000
from tests.test_heldout import _ds_with_sizes
from tests.test_tasks import FILM, FakeKT, make_rows, sent


@pytest.mark.parametrize("coords, steps", [("q1000", 1000), ("q10", 10), ("q2", 2),
                                           ("official_px", None)])
def test_grid_steps_of_valid_names(coords, steps):
    assert T.grid_steps(coords) == steps and T.check_coords(coords) == coords


@pytest.mark.parametrize("bad", ["q1", "q1001", "q0", "px", "q", "q10.5", "Q10", 10, None])
def test_grid_steps_refuses_other_names(bad):
    with pytest.raises(ValueError, match="coords must be"):
        T.grid_steps(bad)


def test_path_refuses_pixel_coordinates():
    with pytest.raises(ValueError, match="FVP-only"):
        T.check_coords("official_px", allow_px=False)


def test_to_grid_is_qwen_rule_at_1000_and_inverts_within_half_a_step():
    rng = np.random.default_rng(0)
    v = rng.uniform(-5, 105, 500)
    # the Qwen2-VL rule written out (to_qwen1000 is to_grid at 1000: one implementation)
    expect = np.clip(np.floor(v / 100 * 1000 + 0.5), 0, 1000).astype(np.int64)
    assert np.array_equal(T.to_grid(v, 100, 1000), expect)
    assert np.array_equal(to_qwen1000(v, 100), expect)
    for steps in (10, 20, 1000):
        q = T.to_grid(v, 100, steps)
        assert q.min() >= 0 and q.max() <= steps and q.dtype.kind == "i"
        inside = (v >= 0) & (v <= 100)
        back = T.from_grid(q, 100, steps)
        assert np.abs(back - v)[inside].max() <= 100 / (2 * steps) + 1e-9
    assert T.to_grid(55.0, 100, 10) == 6 and T.to_grid(54.9, 100, 10) == 5   # round half up


def _records(coords, tasks=("fvp", "gtm_path")):
    readings = {"P300R000021": make_rows("P300R000021", [sent(0, 2), sent(1, 1)])}
    return T.build_pretraining_records(FakeKT(readings), _ds_with_sizes(readings),
                                       tasks=tasks, coords=coords, shuffle=False)


def test_fvp_and_path_records_on_a_coarse_grid():
    fine, coarse = _records("q1000"), _records("q10")
    for f, c in zip(fine, coarse):
        assert f["task"] == c["task"] and c["meta"]["coords"] == "q10"
        prompt = T.record_prompt(c)
        assert "0-10 grid" in prompt and "0-1000" not in prompt
        assert "0-1000 grid" in T.record_prompt(f)
        nums = (c["meta"]["observation"] + [v for b in c["meta"]["clues"] for v in b]
                if c["task"] == "fvp" else [v for p in c["meta"]["points"] for v in p])
        assert nums and all(0 <= v <= 10 and isinstance(v, int) for v in nums)
        assert len(T.record_target(c)) < len(T.record_target(f))       # fewer characters
    fvp = [r for r in coarse if r["task"] == "fvp"][0]
    w, h = fvp["meta"]["film_size"]
    expect = [int(T.to_grid(v, s, 10)) for v, s in
              zip(fvp["meta"]["observation_grid"], (w, h, w, h, w, h))]
    assert fvp["meta"]["observation"] == expect
    assert T.fvp_to_grid([10, 5, 0, 0, 0, 0], "q10", (w, h))[:2] == (float(w), h / 2)


def test_scorers_read_the_records_grid():
    recs = _records("q10")
    fvp, path = recs[0], [r for r in recs if r["task"] == "gtm_path"][0]
    assert score_fvp(fvp, T.record_target(fvp))["value"] == 1.0
    assert score_path(path, T.record_target(path))["value"] == 0.0
    w, h = path["meta"]["image_size"]
    truth = path_truth_orig(path)
    # the truth is the target on the coarse grid: within half a step of the true centroid
    assert np.abs(truth - path["meta"]["points_orig"]).max() <= max(w, h) / 20 + 1e-9
    # a number beyond the grid is clipped to its edge (10), not to 1000
    x0, y0, x1, y1, cx, cy = fvp["meta"]["observation"]
    wide = score_fvp(fvp, T.format_boxes([], [x0, y0, 999, y1, cx, cy], "clean"))["value"]
    edge = score_fvp(fvp, T.format_boxes([], [x0, y0, 10, y1, cx, cy], "clean"))["value"]
    assert wide == edge < 1.0
    far = score_path(path, "<path>1:(99,0),2:(0,0)</path>")
    tx, ty = truth[0]
    assert far["answered_n"] == 2 and far["sum"] > math.hypot(w - tx, ty) - 1e-6


@pytest.mark.parametrize("cls", [InputIgnoringBaseline, TextOnlyBaseline, TrivialBaseline])
def test_baselines_answer_on_the_records_grid(cls):
    """Fitted on q1000 training records, a baseline answers a q10 record on the q10 grid, the
    same answer rounded: every baseline scores what it would on the fine grid, up to rounding."""
    train = _records("q1000")
    base = cls.fit(list(train))
    fine, coarse = _records("q1000"), _records("q10")
    a_fine, a_coarse = base.answers(fine), base.answers(coarse)
    for rf, af, ac in zip(fine, a_fine, a_coarse):
        if rf["task"] == "fvp":
            got, want = T.parse_fvp(ac)["observation"], T.parse_fvp(af)["observation"]
        else:
            got, want = [v for p in T.parse_path(ac) for v in p], \
                [v for p in T.parse_path(af) for v in p]
        assert got and all(0 <= v <= 10 for v in got)
        assert np.abs(np.asarray(got) * 100 - np.asarray(want)).max() <= 50
    s_fine = score_answers(fine, a_fine).groupby("metric")["value"].mean()
    s_coarse = score_answers(coarse, a_coarse).groupby("metric")["value"].mean()
    assert s_coarse["fvp_iou"] == pytest.approx(s_fine["fvp_iou"], abs=0.1)


def test_held_out_records_take_the_training_options():
    readings = {r: make_rows(r, [sent(0, 2), sent(1, 1)]) for r in ("P300R000031", "P300R000032")}
    ds = _ds_with_sizes(readings)
    train = T.build_pretraining_records(FakeKT(readings), ds, tasks=("fvp",), coords="q10",
                                        reading_ids=["P300R000031"])
    held = heldout_records(FakeKT(readings), ds, train, tasks=("fvp", "gtm_path"),
                           coords="q10")
    assert {r["meta"]["coords"] for r in held} == {"q10"}


def test_task_options_of_both_profiles():
    from gazex_lib.config import load_config

    ci, full = load_config("ci"), load_config("full")
    assert T.task_options(ci.tasks) == {"prompt_style": "clean", "coords": ci.tasks.coords}
    assert full.tasks.coords is None          # the paper's grid: the clean style's q1000
    T.check_coords(ci.tasks.coords)
