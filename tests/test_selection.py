"""Choosing the training step on validation: mean rank over the three probes, each in its own
direction; ties share ranks; equal mean ranks go to the earlier step."""
import pytest

from gazex_lib.pipelines import choose_step


def _s(iou, err, acc):
    return {"fvp_iou": iou, "gtm_centroid_error_px": err, "sda_order_accuracy": acc}


def test_the_step_best_on_every_probe_wins_whatever_the_direction():
    step, ranks = choose_step({100: _s(0.2, 300, 0.2), 200: _s(0.4, 150, 0.5), 300: _s(0.3, 200, 0.3)})
    assert step == 200 and ranks[200] == 1.0 and ranks[100] == 3.0


def test_ties_share_their_rank_and_the_earlier_step_wins_a_tie():
    step, ranks = choose_step({100: _s(0.3, 200, 0.2), 200: _s(0.35, 150, 0.2),
                               300: _s(0.35, 150, 0.25)})
    assert step == 300 and ranks[200] > ranks[300]
    step, _ = choose_step({100: _s(0.3, 200, 0.2), 200: _s(0.3, 200, 0.2)})
    assert step == 100


def test_the_image_blind_resolver_keeps_shapes_and_blanks_every_pixel():
    import numpy as np

    from gazex_lib.pipelines.pretraining import BLIND_GREY, BlindResolver

    rng = np.random.default_rng(0)
    film = rng.integers(0, 256, (28, 56, 3), dtype=np.uint8)
    frames = [rng.integers(0, 256, (28, 28, 3), dtype=np.uint8) for _ in range(3)]
    record = {"id": "r", "images": ["film"], "videos": [["f"] * 3]}
    seen = BlindResolver(lambda rec: {**rec, "images": [film], "videos": [frames]})(record)
    assert [i.shape for i in seen["images"]] == [film.shape]
    assert [[f.shape for f in v] for v in seen["videos"]] == [[f.shape for f in frames]]
    assert all((i == BLIND_GREY).all() for i in seen["images"])
    assert all((f == BLIND_GREY).all() for v in seen["videos"] for f in v)
    assert seen["images"][0].dtype == np.uint8 and film.std() > 0   # the source is untouched


def test_choose_step_leaves_out_a_metric_without_records():
    nan = float("nan")
    step, ranks = choose_step({100: {"fvp_iou": 0.2, "gtm_centroid_error_px": nan,
                                     "sda_order_accuracy": nan},
                               200: {"fvp_iou": 0.4, "gtm_centroid_error_px": nan,
                                     "sda_order_accuracy": nan}})
    assert step == 200 and ranks == {100: 2.0, 200: 1.0}


def test_tuning_record_and_frame(tmp_path):
    import json

    from gazex_lib.pipelines import tuning_frame, tuning_record

    assert tuning_record("ci", root=tmp_path) is None
    run = {"why": "w", "overrides": {}, "final_train_loss": 0.5,
           "validation_by_step": {"100": {**_s(0.2, 300, 0.2), "parsed": 1.0},
                                  "200": {**_s(0.4, 150, 0.5), "parsed": 1.0}},
           "validation_sources": {"text_only": _s(0.5, 100, 0.3),
                                  "planted_oracle": _s(0.6, 80, 0.3)}}
    (tmp_path / "03_tuning_runs.ci.json").write_text(json.dumps({"split": "validation",
                                                              "runs": {"a": run}}))
    frame = tuning_frame(tuning_record("ci", root=tmp_path))
    assert frame.loc["a", "best_step"] == 200 and frame.loc["a", "trained_fvp_iou"] == 0.4
    assert frame.loc["a", "oracle_fvp_iou"] == 0.6
    (tmp_path / "03_tuning_runs.ci.json").write_text(json.dumps({"split": "test", "runs": {}}))
    with pytest.raises(ValueError, match="split"):
        tuning_record("ci", root=tmp_path)
    (tmp_path / "03_tuning_runs.ci.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        tuning_record("ci", root=tmp_path)
