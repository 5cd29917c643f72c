"""The GTM-path probe task, the held-out probe scores (strict: SDA permutations, labelled path
points, the FVP target's own box), the trivial baselines, held-out reading selection, and
greedy generation from records."""
from __future__ import annotations

import math

import numpy as np
import pytest

from gazex_lib import tasks as T
from gazex_lib.eval import (PROBE_METRICS, TrivialBaseline, compare_sources, fvp_truth_grid,
                            heldout_records, path_truth_orig, score_answers, score_fvp,
                            score_path, score_sda, summarize_scores)
from gazex_lib.gaze.boxes import to_qwen1000
from gazex_lib.tasks.path import parse_path_labelled
from gazex_lib.eval.heldout import sda_chance
from tests.test_tasks import FILM, FakeKT, fake_ds, make_rows, sent


def _ds_with_sizes(readings, phases=None, splits=None, images=None):
    ds = fake_ds(readings, phases, splits)
    ds.metadata["image_size_x"] = FILM[0] * 4
    ds.metadata["image_size_y"] = FILM[1] * 4
    ds.metadata["dicom_id"] = [(images or {}).get(r, f"img-{r}") for r in readings]
    return ds


def _path_record(rid="P300R000010", sentences=None):
    sentences = sentences or [sent(0, 2), sent(1, 0, "no_gaze"), sent(2, 1)]
    readings = {rid: make_rows(rid, sentences)}
    recs = T.build_pretraining_records(FakeKT(readings), _ds_with_sizes(readings),
                                       tasks=("gtm_path",))
    return recs


# --- the gtm_path task ---------------------------------------------------------------------------
def test_path_record_lists_sentences_with_gaze_and_counts_the_rest():
    recs = _path_record()
    assert recs.summary["tasks"]["gtm_path"]["skipped"] == {"sentence_without_box": 1}
    rec = recs[0]
    meta = rec["meta"]
    assert meta["sentence_index"] == [0, 2] and meta["n_points"] == 2
    prompt = T.record_prompt(rec)
    assert "1. finding number 0. 2. finding number 2. For each" in prompt
    assert "number 1" not in prompt and "with 2 points" in prompt
    # the holistic centroid of make_rows: cx = 25.6 + s, cy = 40.4 on a 100 x 120 film
    assert meta["points_grid"] == [[25.6, 40.4], [27.6, 40.4]]
    assert meta["points"] == [[256, 337], [276, 337]]
    assert T.record_target(rec) == "<path>1:(256,337),2:(276,337)</path>"
    assert T.parse_path(T.record_target(rec)) == [(256.0, 337.0), (276.0, 337.0)]
    assert meta["points_orig"] == [[102.4, 161.6], [110.4, 161.6]]
    assert meta["image_size"] == [400, 480]


def test_path_reading_without_any_gaze_gives_no_record():
    recs = _path_record(sentences=[sent(0, 0, "no_gaze")])
    assert len(recs) == 0
    assert recs.summary["tasks"]["gtm_path"]["skipped"] == {"no_sentence_with_box": 1,
                                                           "sentence_without_box": 1}


def test_parse_path_edge_cases():
    assert T.parse_path("garbage") == []
    assert T.parse_path("<path>(1,2),(3") == [(1.0, 2.0)]            # unclosed: what is complete
    assert T.parse_path("x <path>(5, 6)</path> (7,8)") == [(5.0, 6.0)]
    assert T.parse_path("<path>1:(5,6),2:(7,8)</path>") == [(5.0, 6.0), (7.0, 8.0)]
    assert parse_path_labelled("<path>2:(5,6),(7,8), 1 : (9,10),x:(1,1)</path>") == [
        (2, 5.0, 6.0), (None, 7.0, 8.0), (1, 9.0, 10.0), (None, 1.0, 1.0)]
    assert parse_path_labelled("garbage") == [] and parse_path_labelled("<path>3:(1,2), 4:(5") == [
        (3, 1.0, 2.0)]


# --- scores --------------------------------------------------------------------------------------
def test_score_path_truth_missing_and_clipped_points():
    rec = _path_record()[0]
    w, h = rec["meta"]["image_size"]
    assert score_path(rec, T.record_target(rec))["value"] == 0.0      # the target is the truth
    truth = path_truth_orig(rec)
    assert np.abs(truth - rec["meta"]["points_orig"]).max() <= max(w, h) / 2000  # q1000 rounding
    worst = [max(math.hypot(cx - x, cy - y) for cx in (0, w) for cy in (0, h)) for x, y in truth]
    empty = score_path(rec, "no idea")
    assert empty["parsed"] is False and empty["missing"] == 2 and empty["answered_n"] == 0
    assert empty["value"] == pytest.approx(np.mean(worst))            # the worst possible error
    one = score_path(rec, "<path>1:(256,337)</path>")
    assert one["missing"] == 1 and one["sum"] == pytest.approx(worst[1], abs=1.0)
    assert one["answered_n"] == 1 and one["answered_sum"] == 0.0
    far = score_path(rec, "<path>1:(99999,0),2:(256,337)</path>")      # clipped to x = 1000
    assert far["sum"] == pytest.approx(math.hypot(w - 102.4, 161.76) + math.hypot(
        102.4 - 110.4, 0))
    from gazex_lib.eval import path_details
    d = path_details(score_answers([rec, rec], ["no idea", "<path>1:(256,337)</path>"]))
    assert d["missing_points_share"] == pytest.approx(0.75) and d["answered_error_px"] == 0.0


def test_score_path_matches_points_by_label():
    rec = _path_record()[0]                       # truth q1000: 1 -> (256,337), 2 -> (276,337)
    worst = score_path(rec, "")["sum"] / 2        # about the same for both sentences
    swapped = score_path(rec, "<path>2:(276,337),1:(256,337)</path>")
    assert swapped["value"] == 0.0 and swapped["missing"] == 0 and swapped["label_errors"] == 0
    by_position = score_path(rec, "<path>2:(256,337),1:(276,337)</path>")   # labels say swap
    assert by_position["value"] == pytest.approx(8.0) and by_position["missing"] == 0
    dup = score_path(rec, "<path>1:(256,337),1:(276,337)</path>")   # the first "1" counts
    assert dup["missing"] == 1 and dup["label_errors"] == 1 and dup["answered_sum"] == 0.0
    assert dup["value"] == pytest.approx(worst / 2, rel=0.01)
    for text in ("<path>(256,337),(276,337)</path>",                 # no labels at all
                 "<path>0:(256,337),3:(276,337)</path>"):            # labels out of 1..2
        bad = score_path(rec, text)
        assert bad["parsed"] and bad["missing"] == 2 and bad["label_errors"] == 2
        assert bad["value"] == pytest.approx(worst, rel=0.01)
    gap = score_path(rec, "<path>2:(276,337)</path>")                # sentence 1 missing
    assert gap["missing"] == 1 and gap["answered_sum"] == 0.0 and gap["label_errors"] == 0


def _fvp_record(**options):
    rid = "P300R000011"
    readings = {rid: make_rows(rid, [sent(0, 2)])}
    return T.build_pretraining_records(FakeKT(readings), _ds_with_sizes(readings),
                                       tasks=("fvp",), **options)[0]


def test_score_fvp_perfect_partial_and_unparseable():
    rec = _fvp_record()
    assert score_fvp(rec, T.record_target(rec))["value"] == 1.0
    assert score_fvp(rec, "visual clues: [] observation:") == {"value": 0.0, "parsed": False,
                                                               "n": 1}
    x0, y0, x1, y1 = rec["meta"]["observation"][:4]
    half = f"observation: [({x0},{y0}),({(x0 + x1) // 2},{y1}),(0,0)]"
    assert score_fvp(rec, half)["value"] == pytest.approx(0.5, abs=0.05)
    assert score_fvp(rec, "observation: [(0,0),(5,5),(1,1)]")["value"] == 0.0


@pytest.mark.parametrize("coords", ["q1000", "official_px"])
def test_score_fvp_truth_is_the_shrunk_target_box(coords):
    rec = _fvp_record(shrink="fraction", coords=coords)
    meta = rec["meta"]
    truth = fvp_truth_grid(rec)
    assert truth == T.fvp_to_grid(meta["observation"], coords, meta["film_size"])
    grid = meta["observation_grid"]                  # the table's box, before the 15 % shrink
    assert (truth[2] - truth[0]) < (grid[2] - grid[0]) * 0.9
    assert score_fvp(rec, T.record_target(rec))["value"] == 1.0
    w, h = meta["film_size"]
    unshrunk = ([int(to_qwen1000(v, s)) for v, s in zip(grid, (w, h, w, h, w, h))]
                if coords == "q1000" else [int(v) for v in grid])
    # answering the unshrunk box, which the model was never trained to write, costs IoU
    assert score_fvp(rec, T.format_boxes([], unshrunk, "clean"))["value"] < 0.8


def test_score_sda_and_summary():
    rec = {"id": "s", "task": "sda_finding", "reading_id": "r",
           "meta": {"order": [3, 1, 2], "order_format": "ranks", "n_frames": 3}}
    assert score_sda(rec, "<seq>3,1,2</seq>")["exact"] is True
    assert score_sda(rec, "<seq>3,2,1</seq>")["value"] == pytest.approx(1 / 3)
    assert score_sda(rec, "nothing")["value"] == 0.0
    assert score_sda(rec, "<seq>3,1,2</seq>")["invalid"] is False
    for text, parsed in (("<seq>3,1</seq>", True),          # too short
                         ("<seq>3,1,2,4</seq>", True),      # too long
                         ("<seq>3,3,2</seq>", True),        # a repeat (it had 2 of 3 right)
                         ("<seq>3,1,0</seq>", True),        # out of range
                         ("nothing", False)):
        got = score_sda(rec, text)
        assert got["value"] == 0.0 and got["invalid"] is True and got["parsed"] is parsed, text
    four = {**rec, "meta": {"order": [2, 1, 4, 3], "order_format": "ranks", "n_frames": 4}}
    assert score_sda(four, "<seq>1,3,2</seq>")["value"] == 0.0        # used to score 0.25
    official = {**rec, "meta": {"order": [1, 2, 0], "order_format": "official", "n_frames": 3}}
    assert score_sda(official, "<seq>120</seq>")["value"] == 1.0
    assert score_sda(official, "<seq>123</seq>")["invalid"] is True    # 1-based: not 0..2
    eleven = list(range(10, -1, -1))                                  # official, 11 frames
    long = {**rec, "meta": {"order": eleven, "order_format": "official", "n_frames": 11}}
    assert score_sda(long, T.encode_order(eleven, "official"))["value"] == 1.0
    assert score_sda(long, T.encode_order(eleven[::-1], "official"))["invalid"] is True
    path, fvp = _path_record()[0], _fvp_record()
    df = score_answers([rec, rec, path, fvp], ["<seq>3,1,2</seq>", "<seq>1,2,3</seq>",
                                               T.record_target(path), "?"])
    s = summarize_scores(df)
    assert set(s) == set(PROBE_METRICS)
    assert s["sda_order_accuracy"] == pytest.approx(0.5)
    assert s["fvp_iou"] == 0.0 and s["gtm_centroid_error_px"] == 0.0
    assert df["invalid"].tolist()[:2] == [False, False] and df["invalid"][2:].isna().all()
    table = compare_sources({"trained": df, "other": score_answers(
        [rec, rec], ["<seq>3,1,2</seq>", "<seq>1,2</seq>"])})
    assert table.at["sda_order_accuracy", "invalid_other"] == 0.5
    assert table.at["sda_order_accuracy", "invalid_trained"] == 0.0
    assert bool(table.at["sda_order_accuracy", "better_than_other"]) is False   # 0.5 vs 0.5
    with pytest.raises(ValueError, match="2 records but 1 answers"):
        score_answers([rec, rec], ["x"])
    with pytest.raises(ValueError, match="not a probe task"):
        score_answers([{**rec, "task": "gtm"}], ["x"])


@pytest.mark.parametrize("options", [{}, {"shrink": "fraction"},
                                     {"prompt_style": "official"},
                                     {"coords": "official_px", "order_format": "official",
                                      "shrink": "official_percent"}])
def test_the_records_own_target_is_a_perfect_answer_for_every_probe_task(options):
    rids = [f"P300R0000{i:02d}" for i in range(3)]
    readings = {r: make_rows(r, [sent(0, 3), sent(1, 1), sent(2, 2), sent(3, 0, "no_gaze")])
                for r in rids}
    recs = T.build_pretraining_records(FakeKT(readings), _ds_with_sizes(readings),
                                       tasks=("fvp", "gtm_path", "sda_global", "sda_finding"),
                                       **options)
    assert {r["task"] for r in recs} == {"fvp", "gtm_path", "sda_global", "sda_finding"}
    df = score_answers(recs, [T.record_target(r) for r in recs])
    assert summarize_scores(df) == {"fvp_iou": 1.0, "gtm_centroid_error_px": 0.0,
                                    "sda_order_accuracy": 1.0}
    assert df["parsed"].all() and not df["invalid"].fillna(False).astype(bool).any()


# --- trivial baselines ---------------------------------------------------------------------------
def test_trivial_baseline_fits_training_means_and_scores_like_a_model():
    rids = [f"P300R0000{i:02d}" for i in range(4)]
    readings = {r: make_rows(r, [sent(0, 2), sent(1, 1), sent(2, 1)][: 2 + i % 2])
                for i, r in enumerate(rids)}
    kt, ds = FakeKT(readings), _ds_with_sizes(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=("fvp", "gtm_path", "sda_finding"),
                                       shuffle=False)
    base = TrivialBaseline.fit(recs)
    obs = np.array([r["meta"]["observation"] for r in recs if r["task"] == "fvp"])
    assert base.fvp_box == np.rint(obs.mean(axis=0)).astype(int).tolist()
    paths = [r["meta"]["points"] for r in recs if r["task"] == "gtm_path"]
    assert base.path_points[2] == paths[1][2] == paths[3][2]           # only 2 readings have 3
    for rec, ans in zip(recs, base.answers(recs)):
        if rec["task"] == "sda_finding":
            assert ans == "<seq>" + ",".join(str(i) for i in range(1, rec["meta"]["n_frames"] + 1)) \
                + "</seq>"
        if rec["task"] == "gtm_path":
            assert len(T.parse_path(ans)) == rec["meta"]["n_points"]
    df = score_answers(recs, base.answers(recs))
    scores = summarize_scores(df)
    assert 0 < scores["fvp_iou"] < 1
    sda = df[df["task"] == "sda_finding"]
    assert len(sda) and not sda["exact"].any() and (sda["value"] < 1).all()  # never identity
    assert sda_chance(recs) == pytest.approx(1 / 3)
    empty = TrivialBaseline.fit([])
    assert empty.fvp_box == [250, 250, 750, 750, 500, 500]


# --- held-out readings ---------------------------------------------------------------------------
def test_heldout_readings_exclude_trained_readings_and_their_images():
    rids = [f"P{p}00R0000{i:02d}" for i, p in enumerate([1, 1, 2, 3, 3, 3])]
    readings = {r: make_rows(r, [sent(0, 2), sent(1, 1)]) for r in rids}
    phases = dict(zip(rids, [1, 1, 2, 3, 3, 3]))
    splits = {rids[5]: "test"}
    images = {rids[0]: "shared", rids[3]: "shared"}    # a phase-1 reading of a trained image
    kt, ds = FakeKT(readings), _ds_with_sizes(readings, phases, splits, images)
    train = T.build_pretraining_records(kt, ds, tasks=("fvp", "gtm_path"))
    trained = {r["reading_id"] for r in train}
    assert trained == {rids[3], rids[4]}
    held = heldout_records(kt, ds, train, tasks=("fvp", "gtm_path", "sda_finding"))
    got = {r["reading_id"] for r in held}
    assert got == {rids[1], rids[2], rids[5]}
    assert held.summary["excluded_same_image"] == 1 and held.summary["excluded_trained"] == 2
    assert held.summary["readings_by_phase"] == {"1": 1, "2": 1, "3": 1}
    small = heldout_records(kt, ds, train, tasks=("fvp",), max_per_task=2, seed=1)
    assert len(small) == 2 and small.summary["tasks"]["fvp"] == {"built": 6, "kept": 2,
                                                                "skipped": {}}
    assert [r["id"] for r in small] == [r["id"] for r in heldout_records(
        kt, ds, train, tasks=("fvp",), max_per_task=2, seed=1)]
    everything = T.build_pretraining_records(kt, ds, tasks=("fvp",), holdout_phases=(),
                                             split=None)
    with pytest.raises(ValueError, match="no held-out reading"):
        heldout_records(kt, ds, everything)


# --- generation ----------------------------------------------------------------------------------
def test_generate_answers_order_budgets_and_determinism(qwen_tokenizer_dir):
    from gazex_lib.eval import generate_answers
    from gazex_lib.model import load_model
    from tests.test_train import PIXELS, make_record

    model, processor = load_model(None, seed=0, device="cpu", processor_kwargs=PIXELS)
    recs = [make_record(i, task=t) for i, t in enumerate(["fvp", "sda_global", "fvp"])]
    budgets = {"fvp": 5, "sda_global": 2}
    a = generate_answers(model, processor, recs, max_new_tokens=budgets, batch_size=2)
    b = generate_answers(model, processor, recs, max_new_tokens=budgets, batch_size=2)
    assert a == b and len(a) == 3 and all(isinstance(x, str) for x in a)
    tok = processor.tokenizer
    for ans, rec in zip(a, recs):
        assert len(tok(ans, add_special_tokens=False)["input_ids"]) <= budgets[rec["task"]] + 1
    assert not model.training
    # the reference answer is dropped from the prompt: a lone record gives its own answer back
    alone = generate_answers(model, processor, recs[1:2], max_new_tokens=2, batch_size=1)
    assert alone == [a[1]]


def test_answer_budgets_scale_the_longest_training_answer(qwen_tokenizer_dir):
    import math

    from gazex_lib.eval import answer_budgets
    from gazex_lib.model import load_tokenizer
    from gazex_lib.tasks import record_target
    from tests.test_train import make_record

    tok = load_tokenizer()
    recs = [make_record(i, task=t) for i, t in enumerate(["fvp", "fvp", "sda_global"])]
    n = {t: max(len(tok(record_target(r), add_special_tokens=False)["input_ids"]) + 1
                for r in recs if r["task"] == t) for t in ("fvp", "sda_global")}
    assert answer_budgets(recs, tok, 1.5) == {t: math.ceil(1.5 * v) + 8 for t, v in n.items()}
    assert answer_budgets(recs, tok, 2.0, extra=0)["fvp"] == 2 * n["fvp"]


def test_sda_details_split_the_pooled_accuracy_and_count_invalid_orders():
    import pandas as pd

    from gazex_lib.eval import sda_details

    rows = [("a", "sda_global", 1.0, False), ("b", "sda_global", 0.0, True),
            ("c", "sda_finding", 0.5, False), ("d", "fvp", 0.9, None)]
    scores = pd.DataFrame([{"record_id": r, "task": t,
                            "metric": "fvp_iou" if t == "fvp" else "sda_order_accuracy",
                            "value": v, "invalid": inv} for r, t, v, inv in rows])
    d = sda_details(scores)
    assert d["by_task"] == {"sda_global": 0.5, "sda_finding": 0.5}
    assert d["invalid_share"] == pytest.approx(1 / 3)
