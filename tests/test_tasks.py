"""Gaze pretraining tasks as chat records: formats, official strings, edge cases, selection,
determinism, mixing; and one end-to-end check on the real ci key-frame table."""
from __future__ import annotations

import json
import types
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from gazex_lib import config
from gazex_lib import tasks as T
from gazex_lib.gaze.boxes import Box, box_coordinates
from gazex_lib.gaze.pipeline import ROW_COLUMNS, KeyframeConfig
from gazex_lib.tasks import prompts as P

# --- official prompts, copied from research/paper.md §1.5 (an independent copy) ---------------
PAPER_T1 = ("<video>This video contains {n} frames of a radiologist's eye-tracking data while "
            "examining an X-ray image. Each frame shows where the radiologist focused their gaze "
            "at that point in time. <image> This is the corresponding X-ray image. Using the gaze "
            "patterns and the image, generate a detailed description or diagnosis that reflects "
            "the radiologist's interpretation, guided by their attention over time.")
PAPER_T2 = ("<image> Given an X-ray image, using the radiologist's interpretation pattern, "
            "generate a detailed description or diagnosis for the image.")
PAPER_T3 = ("<video>This video contains a radiologist's gazing data while examining an X-ray "
            "image <image>. Each frame shows where the radiologist focused their gaze at that "
            "point in time. Generate a description that reflects the radiologist's "
            "interpretation, guided by their attention over time.")
PAPER_T4_HEAD = ("<image>Given an X-ray image and a radiologist's description '{sentence}', "
                 "mimic a radiologist's interpretation pattern to identify visual clues and an "
                 "overall observation area. Analyze the image to detect relevant features (e.g., "
                 "abnormal opacities, fractures, lesions, or other radiological findings) that "
                 "correspond to the provided description. Output as much visual clues to support "
                 "your observation and generate only one observation area in the format of "
                 "bounding boxes and centroids, using the structure: 'visual clues: [(xmin1, "
                 "ymin1)(xmax1, ymax1)(centroidx1, centroidy1), (xmin2, ")
PAPER_T4_TAIL = "observation: [(xmin, ymin)(xmax, ymax)(centroidx, centroidy)]'."
PAPER_T4_NO_CLUES = "Output visual clues and observation area"
PAPER_T5 = ("<video>Given a shuffled radiologist's eye-tracking video with {n} frames, which "
            "captures how a radiologist examines an X-ray image, analyze the video to identify "
            "the correct sequence of frames and the specific regions of the X-ray attended by "
            "the radiologist's gaze in each frame. <image> Using the provided X-ray image and "
            "knowledge of a radiologist's eye-tracking pattern, first generate the accurate "
            "sequence of frames for the eye-tracking video. Then, provide a detailed description "
            "of the X-ray image, ensuring the number of descriptions matches the number of "
            "frames in the eye-tracking video. Provide your answer in the following format "
            "<seq>32145</seq><description>description1,description2,...</descriptions>.")
PAPER_T6 = ("<video>Given a shuffled radiologist's eye-tracking video with {n} frames, which "
            "captures how a radiologist examines an X-ray image for description '{sentence}', "
            "analyze the video to identify the correct sequence of gazing to reach the "
            "diagnosis. Provide your answer in the following format <seq>32145</seq>, where the "
            "first index number you provided should be the frame to be analyzed first.")

FILM = (100, 120)   # film width, height on the key-frame grid


# --- hand-made key-frame tables ---------------------------------------------------------------
def _box_cols(box: Box | None) -> dict:
    out = {"has_box": box is not None}
    for space, prefix in (("grid", "box"), ("original", "box_orig"), ("qwen1000", "box_q1000")):
        vals = box_coordinates(box, space, scale=0.25, grid_size=FILM)
        for c, v in zip(("x_min", "y_min", "x_max", "y_max", "cx", "cy"),
                        vals if vals is not None else (np.nan,) * 6):
            out[f"{prefix}_{c}"] = float(v)
    return out


def make_rows(rid: str, sentences, shrink: str = "none") -> list[dict]:
    """``sentences``: ``(text, n_clusters, status)``; clusters get frames when >= 2."""
    params = json.dumps(KeyframeConfig.from_config(config.load_config("ci"), shrink=shrink).__dict__
                        | {"trim": [5.0, 95.0]})
    rows, fi = [], 0
    for s, (text, k, status) in enumerate(sentences):
        boxed = status not in ("no_gaze", "trimmed_empty", "offimage")
        kinds = ([("cluster", r) for r in range(k)] if k >= 2 else []) + [("holistic", -1)]
        for kind, rank in kinds:
            fi += 1
            j = rank + 1
            box = Box(10 + 7 * j + s, 20 + 3 * j, 40 + 7 * j + s, 61 + 3 * j,
                      25.6 + 7 * j + s, 40.4 + 3 * j) if boxed else None
            base = {c: 0 for c in ROW_COLUMNS}
            base.update(reading_id=rid, sentence_index=s, text=text, trailing=False,
                        frame_index=fi, frame_kind=kind, cluster_rank=rank, cluster_label=rank,
                        n_clusters=k, status=status, film_width=FILM[0], film_height=FILM[1],
                        frame_width=112, frame_height=140, recipe="paper", params=params,
                        **_box_cols(box))
            rows.append({c: base[c] for c in ROW_COLUMNS})
    return rows


def sent(i, k=1, status=None):
    return (f"finding number {i} .", k, status or ("ok" if k >= 2 else "single_cluster"))


class FakeKT:
    """Table + frames: frame ``i`` of a reading is filled with the value ``i`` (1-based)."""

    def __init__(self, readings: dict):
        self.table = pd.DataFrame([r for rows in readings.values() for r in rows],
                                  columns=ROW_COLUMNS)

    def frames(self, rid):
        n = int((self.table["reading_id"] == rid).sum())
        return (np.arange(1, n + 1, dtype=np.uint8)[:, None, None]
                * np.ones((n, 140, 112), np.uint8))


def fake_ds(readings: dict, phases: dict | None = None, splits: dict | None = None):
    ids = list(readings)
    meta = pd.DataFrame({"phase": [(phases or {}).get(r, 3) for r in ids],
                         "split": [(splits or {}).get(r, "train") for r in ids],
                         "eye_tracking_data_discarded": False}, index=ids)
    return types.SimpleNamespace(metadata=meta,
                                 transcription=lambda rid: f"transcript of {rid}.")


def film_loader(rid):
    return np.full((FILM[1], FILM[0]), 7, np.uint8)


def one(records, task):
    out = [r for r in records if r["task"] == task]
    assert len(out) == 1, [r["id"] for r in out]
    return out[0]


# --- prompts ----------------------------------------------------------------------------------
def test_official_prompts_are_verbatim():
    readings = {"P300R000001": make_rows("P300R000001", [sent(0, 3), sent(1, 1), sent(2, 2)])}
    kt, ds = FakeKT(readings), fake_ds(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=T.TASKS, prompt_style="official")
    prompt = {r["id"]: T.record_prompt(r) for r in recs}
    rid = "P300R000001"
    assert prompt[f"gtm:{rid}"] == PAPER_T1.format(n=8)          # 4 + 1 + 3 frames
    assert prompt[f"gtm_image:{rid}"] == PAPER_T2
    assert prompt[f"gtm_clip:{rid}:s1"] == PAPER_T3
    assert prompt[f"sda_global:{rid}"] == PAPER_T5.format(n=3)
    assert prompt[f"sda_finding:{rid}:s0"] == PAPER_T6.format(n=4, sentence="finding number 0")
    with_clues = prompt[f"fvp:{rid}:s0"]
    assert with_clues.startswith(PAPER_T4_HEAD.format(sentence="finding number 0 ."))
    assert with_clues.endswith(PAPER_T4_TAIL)
    no_clues = prompt[f"fvp:{rid}:s1"]
    assert PAPER_T4_NO_CLUES in no_clues and no_clues.endswith(PAPER_T4_TAIL)
    assert no_clues == P.OFFICIAL_FVP_NO_CLUES.format(sentence="finding number 1 .")
    # official targets
    target = {r["id"]: T.record_target(r) for r in recs}
    report = "finding number 0 . finding number 1 . finding number 2 ."
    assert target[f"gtm:{rid}"] == target[f"gtm_image:{rid}"] == report
    assert target[f"gtm_clip:{rid}:s1"] == "finding number 1"
    assert target[f"sda_global:{rid}"].endswith(
        f"</seq><description>transcript of {rid}.</descriptions>")


def test_content_items_follow_marker_order_and_round_trip():
    c = T.to_content(P.OFFICIAL_GTM_CLIP)
    assert [x["type"] for x in c] == ["video", "text", "image", "text"]
    assert T.content_text(c) == P.OFFICIAL_GTM_CLIP
    assert [x["type"] for x in T.to_content(P.OFFICIAL_GTM_IMAGE)] == ["image", "text"]


# --- FVP ---------------------------------------------------------------------------------------
def test_fvp_official_format_and_single_cluster():
    rows = pd.DataFrame(make_rows("R", [sent(0, 2), sent(1, 1)]), columns=ROW_COLUMNS)
    recs, skipped = T.fvp_records(rows, prompt_style="official", shrink="none")
    assert not skipped
    two, single = recs
    # make_rows: holistic (10+s, 20, 40+s, 61, 25.6+s, 40.4), cluster r shifted by (7, 3)(r+1)
    assert T.record_target(two) == ("visual clues : [(17,23)(47,64)(32,43),(24,26)(54,67)(39,46)]"
                                    " observation : [(10,20)(40,61)(25,40)]")
    assert T.record_target(single) == "observation : [(11,20)(41,61)(26,40)]"
    clean, _ = T.fvp_records(rows)
    assert T.record_target(clean[1]).startswith("visual clues: [] observation: [(")
    assert T.record_prompt(clean[0]).replace("'finding number 0.'", "'finding number 1.'") \
        == T.record_prompt(clean[1])   # one clean prompt, whether or not there are clues


def test_fvp_coordinates_match_table_columns_and_parse_back():
    rows = pd.DataFrame(make_rows("R", [sent(0, 3), sent(1, 1)]), columns=ROW_COLUMNS)
    for coords, prefix in (("q1000", "box_q1000"), ("official_px", "box")):
        recs, _ = T.fvp_records(rows, coords=coords)
        for rec in recs:
            g = rows[rows["sentence_index"] == rec["meta"]["sentence_index"]]
            want = [[int(r[f"{prefix}_{c}"]) for c in ("x_min", "y_min", "x_max", "y_max",
                                                        "cx", "cy")] for _, r in g.iterrows()]
            assert rec["meta"]["clues"] + [rec["meta"]["observation"]] == want
            parsed = T.parse_fvp(T.record_target(rec))
            assert [list(map(int, c)) for c in parsed["clues"]] == rec["meta"]["clues"]
            assert list(map(int, parsed["observation"])) == rec["meta"]["observation"]
            grid = T.fvp_to_grid(parsed["observation"], coords, FILM)
            tol = 1.0 if coords == "official_px" else max(FILM) / 2000 + 1e-9
            assert np.allclose(grid, rec["meta"]["observation_grid"], atol=tol)


def test_fvp_shrink_switch_and_double_shrink_refused():
    rows = pd.DataFrame(make_rows("R", [sent(0, 1)]), columns=ROW_COLUMNS)
    plain = T.fvp_records(rows, coords="official_px")[0][0]["meta"]["observation"]
    frac = T.fvp_records(rows, coords="official_px", shrink="fraction")[0][0]["meta"]["observation"]
    assert plain == [10, 20, 40, 61, 25, 40]
    assert frac == [int(10 + 30 * .075), int(20 + 41 * .075), int(40 - 30 * .075),
                    int(61 - 41 * .075), 25, 40]
    shrunk = pd.DataFrame(make_rows("R", [sent(0, 1)], shrink="fraction"), columns=ROW_COLUMNS)
    with pytest.raises(ValueError, match="already shrunk"):
        T.fvp_records(shrunk, shrink="official_percent")


def test_no_box_sentences_skipped_and_counted():
    rid = "P300R000002"
    readings = {rid: make_rows(rid, [sent(0, 2), sent(1, 0, "no_gaze"),
                                     sent(2, 0, "trimmed_empty"), sent(3, 0, "offimage"),
                                     sent(4, 1, "all_noise")])}
    recs = T.build_pretraining_records(FakeKT(readings), fake_ds(readings), tasks=("fvp", "gtm"))
    fvp = [r for r in recs if r["task"] == "fvp"]
    assert sorted(r["meta"]["sentence_index"] for r in fvp) == [0, 4]
    s = recs.summary["tasks"]["fvp"]
    assert s["built"] == 2 and s["skipped"] == {"no_box:no_gaze": 1, "no_box:offimage": 1,
                                                "no_box:trimmed_empty": 1}
    assert one(recs, "gtm")["meta"]["n_frames"] == 7   # dark frames stay in the video


# --- edge cases: one frame, >= 10 frames --------------------------------------------------------
def test_reading_with_one_frame():
    rid = "P300R000003"
    readings = {rid: make_rows(rid, [sent(0, 1)])}
    kt, ds = FakeKT(readings), fake_ds(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=T.TASKS)
    assert Counter(r["task"] for r in recs) == {"fvp": 1, "gtm": 1, "gtm_image": 1,
                                                 "gtm_clip": 1, "gtm_path": 1}
    sk = {t: v["skipped"] for t, v in recs.summary["tasks"].items()}
    assert sk["sda_global"] == {"fewer_than_2_frames": 1}
    assert sk["sda_finding"] == {"fewer_than_2_frames": 1}
    m = T.materialize(one(recs, "gtm"), kt, film_loader)
    assert len(m["videos"][0]) == 1 and m["videos"][0][0].shape == (140, 112, 3)
    assert m["images"][0].shape == (FILM[1], FILM[0], 3)


def test_ten_or_more_frames_official_digits_ambiguous_ranks_unique():
    # two different shuffles of 12 frames with the same official answer string
    a = [10, 1, 0] + list(range(2, 10)) + [11]
    b = [1, 0, 10] + list(range(2, 10)) + [11]
    assert T.encode_order(a, "official") == T.encode_order(b, "official")
    assert T.encode_order(T.order_truth(a), "ranks") != T.encode_order(T.order_truth(b), "ranks")
    rid = "P300R000004"
    readings = {rid: make_rows(rid, [sent(i, 1) for i in range(12)])}
    kt, ds = FakeKT(readings), fake_ds(readings)
    for fmt in ("official", "ranks"):
        rec = one(T.build_pretraining_records(kt, ds, tasks=("sda_global",), order_format=fmt),
                  "sda_global")
        decoded = T.decode_order(T.record_target(rec), fmt)
        if fmt == "official":      # 10 and 11 become two digits each: not recoverable
            assert len(decoded) == 14 and decoded != rec["meta"]["order"]
        else:
            assert decoded == rec["meta"]["order"] and sorted(decoded) == list(range(1, 13))
            assert T.order_accuracy(decoded, rec["meta"]["order"]) == 1.0
        # the shown video really is the shuffle: frame viewed k-th sits at position q_k
        video = T.materialize(rec, kt, film_loader, channels=1)["videos"][0]
        shown = [int(f[0, 0]) for f in video]
        assert shown == rec["meta"]["shown_frame_index"]
        ranks = T.ranks_from_shuffle(rec["meta"]["shuffled_indices"])
        assert [shown[q - 1] for q in ranks] == rec["meta"]["frame_index"]


def test_order_helpers():
    s = [2, 0, 1]
    assert T.ranks_from_shuffle(s) == [2, 3, 1]
    assert T.shuffle_from_ranks([2, 3, 1]) == s
    assert T.decode_order("blah <seq>2, 3,1</seq> x") == [2, 3, 1]
    assert T.decode_order("<seq>201</seq>", "official") == [2, 0, 1]
    assert T.decode_order("<seq>2,3") == [2, 3]
    m = T.order_metrics([2, 1, 3], [2, 3, 1])
    assert not m["exact"] and m["valid"] and m["position_accuracy"] == pytest.approx(1 / 3)
    assert m["kendall_tau"] == pytest.approx(1 / 3)      # 2 of 3 pairs in order
    assert T.order_metrics([2, 3, 1], [2, 3, 1])["kendall_tau"] == 1.0
    assert not T.order_metrics([1, 1], [1, 2])["valid"]


# --- SDA shuffles ------------------------------------------------------------------------------
def _many(n_readings=40, n_sent=2):
    return {f"P300R{i:06d}": make_rows(f"P300R{i:06d}", [sent(j, 1) for j in range(n_sent)])
            for i in range(n_readings)}


def test_identity_shuffle_redrawn():
    readings = _many()
    kt, ds = FakeKT(readings), fake_ds(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=("sda_global",))
    assert len(recs) == 40
    assert all(r["meta"]["shuffled_indices"] == [1, 0] for r in recs)
    kept = T.build_pretraining_records(kt, ds, tasks=("sda_global",), redraw_identity=False)
    identity = sum(r["meta"]["shuffled_indices"] == [0, 1] for r in kept)
    assert 0 < identity < 40          # P(fail) = 2 * 2**-40


def test_determinism_and_seeds():
    readings = _many(12, 5)
    kt, ds = FakeKT(readings), fake_ds(readings)
    build = lambda seed: T.build_pretraining_records(kt, ds, tasks=T.TASKS, seed=seed)  # noqa: E731
    a, b, c = build(0), build(0), build(1)
    assert json.dumps(list(a)) == json.dumps(list(b))
    assert a.summary == b.summary
    assert [r["id"] for r in a] != [r["id"] for r in c]
    sa = {r["id"]: r["meta"]["shuffled_indices"] for r in a if r["task"] == "sda_global"}
    sc = {r["id"]: r["meta"]["shuffled_indices"] for r in c if r["task"] == "sda_global"}
    assert sa.keys() == sc.keys() and sa != sc
    # a record's shuffle does not depend on which other readings are built
    sub = T.build_pretraining_records(kt, ds, tasks=("sda_global",), reading_ids=["P300R000003"])
    assert sub[0]["meta"]["shuffled_indices"] == sa["sda_global:P300R000003"]


def test_sda_descriptions():
    rid = "P300R000005"
    readings = {rid: make_rows(rid, [sent(0, 1), sent(1, 1), sent(2, 1)])}
    kt, ds = FakeKT(readings), fake_ds(readings)
    rec = one(T.build_pretraining_records(kt, ds, tasks=("sda_global",),
                                          sda_description="sentences"), "sda_global")
    text = T.record_target(rec)
    assert text.startswith(T.encode_order(rec["meta"]["order"]))
    assert text.endswith("<description>finding number 0.</description><description>finding "
                         "number 1.</description><description>finding number 2.</description>")
    plain = one(T.build_pretraining_records(kt, ds, tasks=("sda_global",)), "sda_global")
    assert T.record_target(plain) == T.encode_order(plain["meta"]["order"])


# --- selection ----------------------------------------------------------------------------------
def test_held_out_phases_and_split():
    readings = {rid: make_rows(rid, [sent(0, 2), sent(1, 1)])
                for rid in ("P101R000001", "P201R000002", "P300R000003", "P300R000004")}
    ds = fake_ds(readings, phases={"P101R000001": 1, "P201R000002": 2},
                 splits={"P300R000004": "test"})
    kt = FakeKT(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=("gtm",))
    assert {r["reading_id"] for r in recs} == {"P300R000003"}
    assert recs.summary["readings"]["held_out"] == {"1": 1, "2": 1}
    assert recs.summary["readings"]["other_split"] == 1
    everything = T.build_pretraining_records(kt, ds, tasks=("gtm",), holdout_phases=(),
                                             split=None)
    assert len(everything) == 4
    assert {r["meta"]["phase"] for r in everything} == {1, 2, 3}
    official = T.build_pretraining_records(kt, ds, tasks=("gtm", "sda_finding"),
                                           holdout_phases=(), phase_sources="official")
    assert {r["reading_id"] for r in official if r["task"] == "gtm"} == {"P101R000001",
                                                                          "P300R000003"}
    assert {r["reading_id"] for r in official if r["task"] == "sda_finding"} == {"P201R000002"}


def test_official_global_single_video():
    readings = _many(5, 3)
    kt, ds = FakeKT(readings), fake_ds(readings)
    recs = T.build_pretraining_records(kt, ds, tasks=("sda_global",),
                                       official_global_single_video=True)
    assert [r["reading_id"] for r in recs] == ["P300R000000"]


# --- mixing ------------------------------------------------------------------------------------
def test_mixing_ratios():
    readings = _many(30, 4)          # fvp 120, gtm 30, sda_global 30
    kt, ds = FakeKT(readings), fake_ds(readings)
    tasks = ("fvp", "gtm", "sda_global")
    full = T.build_pretraining_records(kt, ds, tasks=tasks)
    assert T.task_counts(full) == {"fvp": 120, "gtm": 30, "sda_global": 30}
    mixed = T.build_pretraining_records(kt, ds, tasks=tasks, ratios={"fvp": 2, "gtm": 1,
                                                                     "sda_global": 1})
    assert T.task_counts(mixed) == {"fvp": 60, "gtm": 30, "sda_global": 30}
    assert mixed.summary["tasks"]["fvp"]["built"] == 120
    assert mixed.summary["tasks"]["fvp"]["in_mix"] == 60
    dropped = T.build_pretraining_records(kt, ds, tasks=tasks, ratios={"fvp": 1, "gtm": 1})
    assert T.task_counts(dropped) == {"fvp": 30, "gtm": 30}
    big = T.build_pretraining_records(kt, ds, tasks=tasks, ratios={"fvp": 1, "gtm": 1,
                                                                   "sda_global": 2}, n_records=203)
    counts = T.task_counts(big)
    assert sum(counts.values()) == 203
    for t, share in (("fvp", .25), ("gtm", .25), ("sda_global", .5)):
        assert abs(counts[t] - share * 203) < 1
    assert len({r["id"] for r in big}) == 203        # repeats get distinct ids
    assert T.apportion({"a": 1, "b": 1, "c": 1}, 10) == {"a": 4, "b": 3, "c": 3}
    with pytest.raises(ValueError, match="not built"):
        T.build_pretraining_records(kt, ds, tasks=("fvp",), ratios={"gtm": 1})


# --- the real ci key-frame table ----------------------------------------------------------------
@pytest.fixture(scope="module")
def ci_table(tmp_path_factory):
    from gazex_lib import config
    from gazex_lib.data.reflacx import load_reflacx
    from gazex_lib.gaze.table import build_keyframe_table

    cfg = config.load_config("ci")
    root = config.resolve_data_root(None, cfg, 0, progress=False)
    ds = load_reflacx(root / "reflacx")
    kt = build_keyframe_table(ds, root / "mimic-cxr-jpg", tmp_path_factory.mktemp("tasks_kt"),
                              KeyframeConfig.from_config(cfg), n_jobs=2, save_frames=True,
                              progress=False)
    return ds, kt, T.make_film_loader(ds, root / "mimic-cxr-jpg", scale=cfg.gaze.scale)


@pytest.mark.parametrize("style", ["clean", "official"])
def test_real_table_records_resolve(ci_table, style):
    ds, kt, loader = ci_table
    recs = T.build_pretraining_records(kt, ds, tasks=T.TASKS, prompt_style=style,
                                       holdout_phases=(), split=None)
    assert set(T.task_counts(recs)) == set(T.TASKS)
    json.dumps(list(recs))                                  # lazy records are plain JSON
    resolve = T.RecordResolver(kt, loader)
    for rec in recs:
        m = resolve(rec)
        user = m["messages"][0]["content"]
        assert sum(c["type"] == "image" for c in user) == len(m["images"])
        assert sum(c["type"] == "video" for c in user) == len(m["videos"])
        for img in m["images"]:
            assert img.dtype == np.uint8 and img.shape == (*rec["meta"]["film_size"][::-1], 3)
        for vid in m["videos"]:
            assert len(vid) == len(rec["videos"][0]["frame_index"]) >= 1
            assert all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in vid)
    t = kt.table
    n_boxed = t[(t["frame_kind"] == "holistic") & t["has_box"]].shape[0]
    fvp = recs.summary["tasks"]["fvp"]
    assert fvp["built"] == n_boxed
    assert fvp["built"] + sum(fvp["skipped"].values()) == t.drop_duplicates(
        ["reading_id", "sentence_index"]).shape[0]


def test_real_table_coordinates_and_holdout(ci_table):
    ds, kt, _ = ci_table
    t = kt.table.set_index(["reading_id", "sentence_index", "frame_kind", "cluster_rank"])
    recs = T.build_pretraining_records(kt, ds, tasks=("fvp",), holdout_phases=(), split=None)
    cols = ("x_min", "y_min", "x_max", "y_max", "cx", "cy")
    for rec in recs:
        k = (rec["reading_id"], rec["meta"]["sentence_index"])
        row = t.loc[(*k, "holistic", -1)]
        assert rec["meta"]["observation"] == [int(row[f"box_q1000_{c}"]) for c in cols]
        for rank, clue in enumerate(rec["meta"]["clues"]):
            row = t.loc[(*k, "cluster", rank)]
            assert clue == [int(row[f"box_q1000_{c}"]) for c in cols]
    default = T.build_pretraining_records(kt, ds, tasks=("gtm",))
    phases = ds.metadata.loc[[r["reading_id"] for r in default], "phase"]
    assert len(default) and not phases.isin([1, 2]).any()
    assert (ds.metadata.loc[[r["reading_id"] for r in default], "split"] == "train").all()
