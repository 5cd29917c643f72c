"""The ceiling analysis of chapter 03: the planted oracle (a perfect image reader of the
synthetic truth) and the detectable difference of a paired interval."""
from __future__ import annotations

import numpy as np
import pytest

from gazex_lib import tasks as T
from gazex_lib.analysis import PlantedOracle, detectable_difference, planted_finding
from gazex_lib.eval import TextOnlyBaseline, score_answers, summarize_scores
from gazex_lib.tasks.records import make_record

IMAGE = (1000, 1000)          # original px: q1000 numbers equal pixels
FILM = (250, 250)
OFFSET = np.array([-60, -40, 80, 40, 10, 0])     # gaze box around the finding's centre


def _truth(centres):
    """One reading per centre: sentence 0 'There is a nodule.' (unlocated) about a planted
    nodule at that centre; sentence 1 a normal statement."""
    readings = {}
    for i, (cx, cy) in enumerate(centres):
        readings[f"R{i}"] = {
            "sentences": [{"text": "There is a nodule .", "finding": 7},
                          {"text": "No pleural effusion .", "finding": None}],
            "findings": [{"finding": 7, "kind": "nodule", "center_px": [cx, cy],
                          "ellipse_px": [cx - 20, cy - 30, cx + 20, cy + 30]}]}
    return {"readings": readings}


def _fvp(i, sidx, box):
    text = ["There is a nodule .", "No pleural effusion ."][sidx]
    meta = {"sentence": text, "sentence_index": sidx, "coords": "q1000",
            "film_size": list(FILM), "image_size": list(IMAGE), "observation": [int(v) for v in box]}
    return make_record("fvp", f"R{i}", f"where for {text}", T.format_boxes([], meta["observation"],
                       "clean"), meta=meta, sentence_index=sidx)


def _path(i, centre):
    pts = [[int(centre[0] + 10), int(centre[1])], [500, 800]]
    meta = {"sentences": ["There is a nodule .", "No pleural effusion ."], "sentence_index": [0, 1],
            "points": pts, "n_points": 2, "coords": "q1000", "image_size": list(IMAGE),
            "points_orig": pts}
    return make_record("gtm_path", f"R{i}", "path", T.format_path(pts), meta=meta)


def _data(seed=0, n=30):
    rng = np.random.default_rng(seed)
    centres = rng.uniform(250, 750, size=(n, 2)).round()
    normal = [300, 700, 700, 850, 500, 780]
    recs = []
    for i, c in enumerate(centres):
        recs += [_fvp(i, 0, np.tile(c, 3) + OFFSET), _fvp(i, 1, normal), _path(i, c)]
    return _truth(centres), recs


def test_oracle_recovers_findings_that_the_text_cannot_place():
    truth, recs = _data()
    train, held = recs[:60], recs[60:]
    oracle = PlantedOracle.fit(train, truth=truth)
    text = TextOnlyBaseline.fit(train)
    s_oracle = summarize_scores(score_answers(held, oracle.answers(held)))
    s_text = summarize_scores(score_answers(held, text.answers(held)))
    assert s_oracle["fvp_iou"] > 0.97 and s_text["fvp_iou"] < 0.8
    assert s_oracle["gtm_centroid_error_px"] < 1.0 < s_text["gtm_centroid_error_px"]
    # the normal sentences fall back to the text-only answer (its backoff level counted too)
    assert oracle.stats["fvp"] == {"planted": 10, "text_only": 10, "kind_side_zone": 10}
    assert oracle.stats["gtm_path"] == {"planted": 10, "text_only": 10}
    d = oracle.to_dict()
    assert d["mode"] == "offset" and d["fvp_offset_q1000"]["nodule"] == OFFSET.tolist()
    assert d["path_offset_q1000"]["nodule"] == [10, 0]
    # the normal sentence gets exactly the text-only answer
    normal = [r for r in held if r["task"] == "fvp" and r["meta"]["sentence_index"] == 1]
    assert oracle.answers(normal) == text.answers(normal)


def test_ellipse_mode_answers_the_planted_box():
    truth, recs = _data()
    oracle = PlantedOracle.fit(recs[:60], truth=truth, mode="ellipse")
    rec = recs[60]
    cx, cy = truth["readings"][rec["reading_id"]]["findings"][0]["center_px"]
    assert oracle.name == "planted_ellipse"
    box = T.parse_fvp(oracle.answers([rec])[0])["observation"]
    assert box == (cx - 20, cy - 30, cx + 20, cy + 30, cx, cy)


def test_oracle_refuses_misaligned_sentences_and_missing_truth():
    truth, recs = _data(n=3)
    with pytest.raises(ValueError, match="synthetic truth"):
        PlantedOracle.fit(recs)
    with pytest.raises(ValueError, match="mode must be"):
        PlantedOracle.fit(recs, truth=truth, mode="guess")
    assert planted_finding(truth, "R0", 1, "no pleural effusion") is None
    assert planted_finding(truth, "R0", 0, "There is a nodule.")["kind"] == "nodule"
    with pytest.raises(ValueError, match="the truth 'No pleural effusion .'"):
        planted_finding(truth, "R0", 1, "There is a nodule .")
    with pytest.raises(ValueError, match="out of range"):
        planted_finding(truth, "R0", 5, "x")
    with pytest.raises(ValueError, match="not in the synthetic truth"):
        planted_finding(truth, "R99", 0, "x")


def test_detectable_difference():
    assert detectable_difference(-1.959964, 1.959964, ci=0.95, power=0.5) == pytest.approx(
        1.959964, rel=1e-5)
    assert detectable_difference(-1.959964, 1.959964, ci=0.95, power=0.8) == pytest.approx(
        1.959964 + 0.841621, rel=1e-5)
    # only the width matters; a wider interval needs a larger difference
    assert detectable_difference(3.0, 5.0, ci=0.95, power=0.8) == pytest.approx(
        detectable_difference(-1.0, 1.0, ci=0.95, power=0.8))
    assert detectable_difference(0, 2, ci=0.9, power=0.8) < detectable_difference(
        0, 4, ci=0.9, power=0.8)
    with pytest.raises(ValueError):
        detectable_difference(0, 1, ci=95, power=0.8)


def test_ceiling_report_measures_the_room_and_the_detectable_difference():
    from gazex_lib.analysis import ceiling_report
    from gazex_lib.eval import fit_baselines

    truth, recs = _data(n=40)
    train, held = recs[:60], recs[60:]
    answerers = {**fit_baselines(train), "planted_oracle": PlantedOracle.fit(train, truth=truth)}
    images = {r["id"]: r["reading_id"] for r in held}
    rep = ceiling_report({"test": held}, answerers, images, n_boot=300, seed=0, ci=0.95,
                         power=0.8)["test"]
    perfect = rep["scores"]["perfect"]
    assert perfect["fvp_iou"] == 1.0 and perfect["gtm_centroid_error_px"] == 0.0
    assert set(rep["room"]) == {"fvp_iou", "gtm_centroid_error_px"}     # no SDA record here
    fvp, path = rep["room"]["fvp_iou"], rep["room"]["gtm_centroid_error_px"]
    assert fvp["best_baseline"] == "text_only" and fvp["diff"] == pytest.approx(
        fvp["oracle"] - fvp["baseline"])
    assert fvp["ci_low"] > 0 and path["ci_high"] < 0 and fvp["n_images"] == 20
    assert 0 < fvp["detectable_difference"] < 1
    # real data: no oracle, the baselines and the perfect answer only
    real = ceiling_report({"test": held}, answerers, images, n_boot=300, seed=0, ci=0.95,
                          power=0.8, oracle=None)["test"]
    assert real["room"] == {} and "planted_oracle" not in real["scores"]
    with pytest.raises(ValueError, match="no answerer"):
        ceiling_report({"test": held}, {}, images, n_boot=300, seed=0, ci=0.95, power=0.8)


def test_ceiling_frame_rows_per_split_and_metric():
    from gazex_lib.analysis import ceiling_frame, ceiling_report
    from gazex_lib.eval import fit_baselines

    truth, recs = _data(n=40)
    train, held = recs[:60], recs[60:]
    answerers = {**fit_baselines(train), "planted_oracle": PlantedOracle.fit(train, truth=truth)}
    images = {r["id"]: r["reading_id"] for r in held}
    rep = ceiling_report({"validation": held[:30], "test": held[30:]}, answerers, images,
                         n_boot=200, seed=0, ci=0.95, power=0.8)
    frame = ceiling_frame(rep)
    assert list(frame.index.get_level_values("split").unique()) == ["validation", "test"]
    row = frame.loc[("test", "fvp_iou")]
    assert row["perfect"] == 1.0 and row["room"] == pytest.approx(
        rep["test"]["room"]["fvp_iou"]["diff"]) and row["best_baseline"] == "text_only"
