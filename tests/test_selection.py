"""Choosing the training step on validation: mean rank over the three probes, each in its own
direction; ties share ranks; equal mean ranks go to the earlier step."""
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
