"""The synthetic generator: determinism, layout, formats, and internal consistency."""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from gazex_lib.config import configs_dir
from gazex_lib.data import schema
from gazex_lib.data.labels import BOOLEAN_LABELS, FREE_TEXT_LABEL, LABEL_MAP, phase_labels
from gazex_lib.data.synthetic import (GENERATOR_VERSION, SyntheticConfig, load_truth, make_dataset,
                                      phase_counts, plan_dataset)
from gazex_lib.data.synthetic import config as C
from gazex_lib.data.synthetic.anatomy import KINDS, make_anatomy, plant_findings
from gazex_lib.data.synthetic.gaze import gaze_frame, gaze_strings
from gazex_lib.data.synthetic.mimic import CHEXPERT_COLUMNS
from gazex_lib.data.synthetic.phantom import render
from gazex_lib.data.synthetic.radiologists import READERS
from gazex_lib.data.synthetic.reading import simulate_reading
from gazex_lib.data.synthetic.writer import save_csv, save_csv_fast

N = 20
SMALL = {"image_size": [448, 560], "multi_reader_images": None,  # REFLACX proportions
         "unlocated_fraction": 0.5, "split_fractions": [0.8, 0.1, 0.1]}


@pytest.fixture(scope="module")
def ds(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("syn_a")
    make_dataset(root, n_readings=N, seed=0, config=SMALL, progress=False)
    return root


@pytest.fixture(scope="module")
def truth(ds) -> dict:
    return load_truth(ds)


@pytest.fixture(scope="module")
def meta(ds) -> pd.DataFrame:
    frames = []
    for p in schema.PHASES:
        df = pd.read_csv(ds / "reflacx/main_data" / f"metadata_phase_{p}.csv", keep_default_na=False, dtype=str)
        frames.append(df.assign(phase=p))
    return pd.concat(frames, ignore_index=True)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _main(root: Path, rid: str) -> Path:
    return root / schema.REFLACX_DIR / "main_data" / rid


def _gaze_path(root: Path, rid: str) -> Path:
    return root / schema.REFLACX_DIR / "gaze_data" / rid / schema.GAZE_FILE


def _live(meta: pd.DataFrame) -> list[str]:
    return meta.loc[meta["eye_tracking_data_discarded"] == "False", "id"].tolist()


def tr_last_unlocated(reading: dict) -> bool:
    """Whether the last sentence of a reading's truth was dictated without its location."""
    return bool(reading["sentences"]) and reading["sentences"][-1].get("located") is False


# ----------------------------------------------------------------------- determinism
def test_same_seed_gives_identical_bytes(ds, tmp_path):
    make_dataset(tmp_path, n_readings=N, seed=0, config=SMALL, progress=False)
    a, b = _files(ds), _files(tmp_path)
    assert sorted(a) == sorted(b)
    different = [k for k in a if a[k] != b[k]]
    assert different == []
    # every kind of file is covered by the comparison
    assert any(k.endswith(".jpg") for k in a) and any(k.endswith("gaze.csv") for k in a)
    assert any(k.endswith(".csv.gz") for k in a)


def test_different_seed_differs(tmp_path):
    make_dataset(tmp_path / "a", n_readings=4, seed=0, config=SMALL, progress=False)
    make_dataset(tmp_path / "b", n_readings=4, seed=1, config=SMALL, progress=False)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    meta_file = "reflacx/main_data/metadata_phase_3.csv"
    assert a[meta_file] != b[meta_file]
    assert {k for k in a if k.endswith(".jpg")}.isdisjoint({k for k in b if k.endswith(".jpg")})


# ----------------------------------------------------------------------- layout
def test_phase_counts_like_reflacx():
    assert phase_counts(3032) == (59, 50, 2487)
    assert phase_counts(40) == (1, 1, 30)
    assert phase_counts(15) == (1, 1, 5)
    assert phase_counts(10) == (0, 0, 10)
    assert phase_counts(60, (3, 3)) == (3, 3, 30)
    with pytest.raises(ValueError, match="multi-reader"):
        phase_counts(20, (3, 3))


def test_plan_splits_discards_and_tiny(tmp_path):
    images, readings = plan_dataset(40, SyntheticConfig.from_any(None), seed=3)
    assert {im["split"] for im in images} == set(schema.SPLITS)
    disc = [r for r in readings if r["discarded"]]
    assert len(disc) >= 1 and all(r["phase"] in (1, 2) for r in disc)
    assert len({r["id"] for r in readings}) == 40
    out = make_dataset(tmp_path, n_readings=3, seed=0, config=SMALL, progress=False)
    assert out["readings_per_phase"] == {"1": 0, "2": 0, "3": 3} and out["n_discarded"] == 0
    for p in (1, 2):  # empty phases still get a header-only metadata file
        text = (tmp_path / "reflacx/main_data" / f"metadata_phase_{p}.csv").read_text()
        assert text.count("\n") == 1


def test_layout_complete(ds, meta, truth):
    main = ds / schema.REFLACX_DIR / "main_data"
    assert sorted(p.name for p in main.iterdir() if p.is_dir()) == sorted(meta["id"])
    assert sorted(p.name for p in (ds / "reflacx/gaze_data").iterdir()) == sorted(meta["id"])
    n_disc = 0
    for _, row in meta.iterrows():
        rid, discarded = row["id"], row["eye_tracking_data_discarded"] == "True"
        present = {p.name for p in _main(ds, row["id"]).iterdir()}
        gaze_files = list(_gaze_path(ds, rid).parent.iterdir())
        if discarded:
            n_disc += 1
            assert present == {"chest_bounding_box.csv", "anomaly_location_ellipses.csv"}
            assert gaze_files == []
        else:
            assert present == set(schema.READING_FILES.values())
            assert [p.name for p in gaze_files] == [schema.GAZE_FILE]
        assert truth["readings"][rid]["discarded"] == discarded
    assert n_disc >= 1
    for d, im in truth["images"].items():
        sid, st = im["subject_id"], im["study_id"]
        jpg = ds / schema.MIMIC_JPG_DIR / f"files/p{str(sid)[:2]}/p{sid}/s{st}/{d}.jpg"
        assert jpg.is_file()
    assert len(list((ds / schema.MIMIC_JPG_DIR).rglob("*.jpg"))) == len(truth["images"])
    for name in (schema.MIMIC_SPLIT_FILE, schema.MIMIC_CHEXPERT_FILE, schema.MIMIC_METADATA_FILE):
        assert (ds / schema.MIMIC_JPG_DIR / name).is_file()
    assert (ds / schema.MIMIC_REPORTS_DIR / schema.MIMIC_SECTIONED_FILE).is_file()


def test_ids_and_multireader_structure(meta):
    assert meta["id"].is_unique
    for _, row in meta.iterrows():
        assert re.fullmatch(r"P(1\d\d|2\d\d|300)R\d{6}", row["id"]), row["id"]
        assert row["id"][1] == str(row["phase"])
        assert re.fullmatch(r"[0-9a-f]{8}(-[0-9a-f]{8}){4}", row["dicom_id"])
        assert re.fullmatch(r"1\d{7}", str(row["subject_id"]))
        m = re.fullmatch(rf"physionet\.org/files/mimic-cxr/2\.0\.0/files/p(\d\d)/p(\d{{8}})/s(5\d{{7}})/{row['dicom_id']}\.dcm",
                         row["image"])
        assert m and m.group(2) == str(row["subject_id"]) and m.group(1) == m.group(2)[:2]
    multi = meta[meta["phase"] < 3]
    assert len(multi) >= 10
    for _, group in multi.groupby(multi["id"].str[:4]):
        assert len(group) == 5 and group["dicom_id"].nunique() == 1
    assert meta.loc[meta["phase"] == 3, "dicom_id"].is_unique
    assert not set(meta.loc[meta["phase"] == 3, "dicom_id"]) & set(multi["dicom_id"])
    for p, order_col in ((1, "id"), (2, "id"), (3, "image")):
        col = meta.loc[meta["phase"] == p, order_col].tolist()
        assert col == sorted(col)


# ----------------------------------------------------------------------- formats
def _header(path: Path) -> list[str]:
    return path.read_bytes().split(b"\r\n", 1)[0].decode().split(",")


def _crlf_only(path: Path) -> bool:
    data = path.read_bytes()
    return data.endswith(b"\r\n") and data.count(b"\n") == data.count(b"\r\n")


def test_crlf_and_headers(ds, meta):
    for p in schema.PHASES:
        path = ds / "reflacx/main_data" / f"metadata_phase_{p}.csv"
        assert _crlf_only(path)
        assert _header(path) == schema.METADATA_COLUMNS + sorted(phase_labels(p))
    for _, row in meta.iterrows():
        main = _main(ds, row["id"])
        expected = {"chest_bounding_box.csv": schema.CHEST_BOX_COLUMNS,
                    "anomaly_location_ellipses.csv": schema.ELLIPSE_COLUMNS + sorted(phase_labels(row["phase"]))}
        if row["eye_tracking_data_discarded"] == "False":
            expected |= {"fixations.csv": schema.FIXATION_COLUMNS, "timestamps_transcription.csv": schema.WORD_COLUMNS}
            assert _crlf_only(_gaze_path(ds, row["id"]))
            assert _header(_gaze_path(ds, row["id"])) == schema.GAZE_COLUMNS
            txt = (main / "transcription.txt").read_bytes()
            assert not txt.endswith(b"\n") and b"\r" not in txt
        for name, cols in expected.items():
            assert _crlf_only(main / name), name
            assert _header(main / name) == cols, name
    with gzip.open(ds / schema.MIMIC_JPG_DIR / schema.MIMIC_SPLIT_FILE, "rt") as fh:
        assert fh.readline().strip().split(",") == schema.MIMIC_SPLIT_COLUMNS
    with gzip.open(ds / schema.MIMIC_JPG_DIR / schema.MIMIC_METADATA_FILE, "rt") as fh:
        assert fh.readline().strip().split(",") == schema.MIMIC_METADATA_COLUMNS
    sec = pd.read_csv(ds / schema.MIMIC_REPORTS_DIR / schema.MIMIC_SECTIONED_FILE, keep_default_na=False)
    assert list(sec.columns) == schema.MIMIC_SECTIONED_COLUMNS
    assert sec["study"].str.fullmatch(r"s5\d{7}").all()


def test_number_formats(ds, meta):
    rid = _live(meta)[0]
    lines = _gaze_path(ds, rid).read_text().splitlines()[1:]
    fields = [ln.split(",") for ln in lines]
    ints = [i for i, c in enumerate(schema.GAZE_COLUMNS) if schema.ROUNDING.get(c) == 0]
    for f in fields[:2000]:
        for i in ints:
            assert f[i] == "" or re.fullmatch(r"-?\d+", f[i]), (schema.GAZE_COLUMNS[i], f[i])
    assert any(f[1] == "" and f[2] == "" and f[3] == "" for f in fields)  # blinks: NaN -> empty
    ww = float(fields[0][schema.GAZE_COLUMNS.index("window_width")])
    assert 0 < ww <= 1 and ww == round(ww, 5)
    box = (_main(ds, rid) / "chest_bounding_box.csv").read_text().splitlines()[1]
    assert re.fullmatch(r"\d+,\d+,\d+,\d+", box)
    words = (_main(ds, rid) / "timestamps_transcription.csv").read_text().splitlines()[1:]
    assert all(re.fullmatch(r'(".*"|[^,]+),-?\d+\.\d{1,3},-?\d+\.\d{1,3}', w) for w in words)


def test_comma_token_is_quoted(tmp_path):
    from gazex_lib.data.synthetic.dictation import time_words, tokenize, transcription

    toks = tokenize("Lung volumes are normal, without focal opacity.")
    assert toks == ["Lung", "volumes", "are", "normal", ",", "without", "focal", "opacity", "."]
    timed = time_words(np.random.default_rng(0), toks, 1.0)
    assert timed[4][1] == timed[4][2] == timed[3][2] and timed[8][1] == timed[7][2]
    save_csv(pd.DataFrame(timed, columns=schema.WORD_COLUMNS), tmp_path / "w.csv")
    assert b'\r\n",",' in (tmp_path / "w.csv").read_bytes()
    text = transcription([toks])
    assert text == "Lung volumes are normal, without focal opacity."
    assert text.replace(".", " .").replace(",", " ,") == " ".join(toks)


# ----------------------------------------------------------------------- consistency
def test_reflacx_transcription_assertion(ds, meta, truth):
    for rid in _live(meta):
        words = pd.read_csv(_main(ds, rid) / "timestamps_transcription.csv", keep_default_na=False)
        text = (_main(ds, rid) / "transcription.txt").read_text()
        assert text.replace(".", " .").replace(",", " ,") == " ".join(words["word"])
        starts, ends = words["timestamp_start_word"].to_numpy(), words["timestamp_end_word"].to_numpy()
        assert (ends >= starts).all() and (np.diff(starts) >= 0).all()
        # sentence segmentation of the words = the truth's sentences
        sents, cur = [], []
        for w in words["word"]:
            cur.append(w)
            if w == ".":
                sents.append(" ".join(cur))
                cur = []
        assert sents == [s["text"] for s in truth["readings"][rid]["sentences"]]
        tw = truth["readings"][rid]["trailing_words"]
        assert (" ".join(cur) or None) == (tw["text"] if tw else None)


def test_fixations_consistent_with_gaze(ds, meta, truth):
    rate = 1000
    for rid in _live(meta):
        g = pd.read_csv(_gaze_path(ds, rid))
        f = pd.read_csv(_main(ds, rid) / "fixations.csv")
        t = g["timestamp_sample"].to_numpy()
        assert np.allclose(np.diff(t), 1 / rate, atol=1e-6)
        assert len(f) > 10
        a = np.searchsorted(t, f["timestamp_start_fixation"].to_numpy() - 1e-6)
        b = np.searchsorted(t, f["timestamp_end_fixation"].to_numpy() + 1e-6)
        assert (np.isclose(t[a], f["timestamp_start_fixation"])).all()
        assert (b - a >= C.MIN_FIXATION_MS).all()
        x, y, pu = (g[c].to_numpy() for c in ("x_position", "y_position", "pupil_area_normalized"))
        for i in range(len(f)):
            sl = slice(a[i], b[i])
            assert not np.isnan(x[sl]).any()
            assert abs(x[sl].mean() - f["x_position"].iat[i]) <= 1.0
            assert abs(y[sl].mean() - f["y_position"].iat[i]) <= 1.0
            assert abs(pu[sl].mean() - f["pupil_area_normalized"].iat[i]) <= 0.0015
        assert (np.diff(f["timestamp_start_fixation"]) > 0).all()
        tr = truth["readings"][rid]
        assert tr["n_gaze_samples"] == len(g) and tr["n_fixations"] == len(f)
        assert tr["n_nan_samples"] == int(np.isnan(x).sum()) > 0
        W, H = 448, 560
        off = ((x < 0) | (x >= W) | (y < 0) | (y >= H)) & ~np.isnan(x)
        assert tr["n_offimage_samples"] == int(off.sum())
        # the gaze clock: negative start, ends 1-4 s (+ one fixation) after the last word
        words = pd.read_csv(_main(ds, rid) / "timestamps_transcription.csv", keep_default_na=False)
        assert -C.PRE_DICTATION_S[1] - 0.01 <= t[0] <= -C.PRE_DICTATION_S[0] + 0.01
        # (an unlocated last sentence ends earlier than the located dictation the gaze follows)
        said = 3.0 if tr_last_unlocated(truth["readings"][rid]) else 0.0
        assert 0.9 <= t[-1] - words["timestamp_end_word"].max() <= C.POST_DICTATION_S[1] + 1.6 + said
    assert sum(truth["readings"][r]["n_offimage_samples"] > 0 for r in _live(meta)) >= 1


def test_sentence_windows_and_finding_gaze(truth):
    live = [r for r in truth["readings"].values() if not r["discarded"]]
    for r in live:
        for s in r["sentences"]:
            assert (s["n_valid_samples_in_window"] == 0) == s["no_gaze"]
        for f in r["findings"]:
            if f["fixation_centroid_px"] is not None:
                (cx, cy), (ax, ay) = f["center_px"], f["axes_px"]
                assert abs(f["fixation_centroid_px"][0] - cx) <= ax + 40
                assert abs(f["fixation_centroid_px"][1] - cy) <= ay + 40
            assert r["sentences"][f["sentence_index"]]["finding"] == f["finding"]


def test_labels_consistent_with_ellipses_and_truth(ds, meta, truth):
    for _, row in meta.iterrows():
        rid, phase = row["id"], row["phase"]
        labels = sorted(phase_labels(phase))
        ell = pd.read_csv(_main(ds, rid) / "anomaly_location_ellipses.csv")
        if len(ell):
            flags = ell[labels].astype(str) == "True"
            assert flags.any(axis=1).all()
            assert ((ell["xmin"] < ell["xmax"]) & (ell["ymin"] < ell["ymax"])).all()
            assert ell["certainty"].between(1, 5).all()
        else:
            flags = pd.DataFrame(columns=labels, dtype=bool)
        drawn = {lab for lab in labels if flags[lab].any()}
        positive = set()
        for lab in labels:
            v = row[lab]
            if lab == FREE_TEXT_LABEL:
                continue
            if lab in BOOLEAN_LABELS[phase]:
                assert v in ("True", "False")
                if v == "True" and lab == "Support devices":
                    positive.add(lab)
            else:
                assert 0 <= int(v) <= 5
                if int(v) >= 3:
                    positive.add(lab)
        assert drawn == positive, rid
        tr = truth["readings"][rid]
        assert {f["reflacx_label"] for f in tr["findings"]} == positive
        for f in tr["findings"]:
            planted = truth["images"][row["dicom_id"]]["findings"][f["finding"]]
            assert LABEL_MAP[f["reflacx_label"]] == planted["chexbert_label"] == f["chexbert_label"]


def test_mimic_tables_agree_with_planted(ds, truth):
    jdir = ds / schema.MIMIC_JPG_DIR
    chex = pd.read_csv(jdir / schema.MIMIC_CHEXPERT_FILE)
    assert list(chex.columns) == CHEXPERT_COLUMNS
    split = pd.read_csv(jdir / schema.MIMIC_SPLIT_FILE)
    md = pd.read_csv(jdir / schema.MIMIC_METADATA_FILE)
    assert set(split["split"]) <= set(schema.SPLITS)
    assert len(chex) == len(split) == len(md) == len(truth["images"])
    for d, im in truth["images"].items():
        c = chex[chex["study_id"] == im["study_id"]].iloc[0]
        planted = {f["chexbert_label"] for f in im["findings"]}
        for lab in planted:
            assert c[lab] in (1.0, -1.0)
        assert (c["No Finding"] == 1.0) == (planted <= {"Support Devices"})
        assert split.loc[split["dicom_id"] == d, "split"].item() == im["split"]
        m = md[md["dicom_id"] == d].iloc[0]
        assert (m["Columns"], m["Rows"]) == (448, 560) and m["ViewPosition"] in ("PA", "AP")
    raw = (jdir / schema.MIMIC_SPLIT_FILE).read_bytes()
    assert raw[4:8] == b"\x00\x00\x00\x00"  # gzip mtime 0


def test_images_are_greyscale_with_findings_where_planted(ds, truth):
    from PIL import Image

    d, im = next(iter(truth["images"].items()))
    sid, st = im["subject_id"], im["study_id"]
    with Image.open(ds / schema.MIMIC_JPG_DIR / f"files/p{str(sid)[:2]}/p{sid}/s{st}/{d}.jpg") as img:
        assert img.mode == "L" and img.size == (448, 560)
    for kind, brighter in (("effusion", True), ("nodule", True), ("consolidation", True), ("pneumothorax", False)):
        rng = np.random.default_rng(7)
        a = make_anatomy(rng, 448, 560, False)
        f = plant_findings(rng, a, [kind])[0]
        pix = render(a, [f], np.random.default_rng(1)).astype(float)
        base = render(a, [], np.random.default_rng(1)).astype(float)
        (cx, cy), (ax, ay) = f["center_px"], f["axes_px"]
        y0, y1, x0, x1 = int(cy - ay / 2), int(cy + ay / 2) + 1, int(cx - ax / 2), int(cx + ax / 2) + 1
        diff = pix[y0:y1, x0:x1].mean() - base[y0:y1, x0:x1].mean()
        assert (diff > 5) if brighter else (diff < -2), (kind, diff)
        assert abs(pix[:40, :40].mean() - base[:40, :40].mean()) < 1  # nothing elsewhere


def test_agreement_truth(truth):
    assert truth["generator_version"] == GENERATOR_VERSION
    assert set(truth["readers"]) == {"R1", "R2", "R3", "R4", "R5"}
    for r in truth["readers"].values():
        assert {"noise_px", "dwell_ms_mean", "saccade_speed", "order_jitter", "revisit_prob"} <= set(r)
    multi = [d for d, im in truth["images"].items() if im["phase"] < 3]
    assert sorted(truth["agreement"]) == sorted(multi)
    for d in multi:
        ag = truth["agreement"][d]
        assert sorted(ag["readings"]) == ["R1", "R2", "R3", "R4", "R5"]
        for key, dists in ag["pairwise_centroid_distance_px"].items():
            n = len(ag["centroids_px"][key])
            assert len(dists) == n * (n - 1) // 2


# ----------------------------------------------------------------------- units
def test_fast_gaze_writer_matches_pandas(tmp_path):
    rng = np.random.default_rng(11)
    a = make_anatomy(rng, 448, 560, False)
    f = plant_findings(rng, a, ["nodule"])
    rd = simulate_reading(np.random.default_rng(3), anatomy=a, findings=f, habits=READERS["R4"], phase=3,
                          ppd=30, rate=1000, discarded=False)
    save_csv(gaze_frame(rd.gaze), tmp_path / "pandas.csv")
    save_csv_fast(tmp_path / "fast.csv", schema.GAZE_COLUMNS, gaze_strings(rd.gaze))
    assert (tmp_path / "pandas.csv").read_bytes() == (tmp_path / "fast.csv").read_bytes()


def test_trailing_words_and_no_gaze_sentence(monkeypatch):
    monkeypatch.setattr(C, "TRAILING_WORDS_PROB", 1.0)
    monkeypatch.setattr(C, "NO_GAZE_SENTENCE_PROB", 1.0)
    rng = np.random.default_rng(5)
    a = make_anatomy(rng, 448, 560, True)
    f = plant_findings(rng, a, ["cardiomegaly", "effusion"])
    rd = simulate_reading(np.random.default_rng(9), anatomy=a, findings=f, habits=READERS["R1"], phase=2,
                          ppd=30, rate=1000, discarded=False)
    tw = rd.truth["trailing_words"]
    assert tw and not rd.text.endswith(".") and rd.text.endswith(tw["text"])
    assert rd.words["word"].iloc[-1] != "." and tw["t_start_s"] > rd.truth["sentences"][-1]["t_end_s"]
    lost = [s for s in rd.truth["sentences"] if s["no_gaze"]]
    assert len(lost) == 1 and lost[0]["n_valid_samples_in_window"] == 0
    t, x = rd.gaze.t, rd.gaze.x
    win = (t >= lost[0]["t_start_s"] - C.NO_GAZE_LEAD_S) & (t <= lost[0]["t_end_s"])
    assert win.sum() > 2000 and np.isnan(x[win]).all()


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ValueError, match="unknown"):
        SyntheticConfig.from_any({"n_reading": 3})
    with pytest.raises(ValueError, match="image_size"):
        SyntheticConfig.from_any({"image_size": (10, 10)})
    assert SyntheticConfig.from_any({"n_readings": 5}).n_readings == 5
    for bad in ([0.8, 0.2], [0.8, 0.3, 0.1], [1.1, -0.1, 0.0], ["a", 0.5, 0.5], None,
                [float("nan"), 0.5, 0.5]):
        with pytest.raises(ValueError, match="split_fractions"):
            SyntheticConfig.from_any({"split_fractions": bad})
    for bad in (-0.1, 1.5):
        with pytest.raises(ValueError, match="unlocated_fraction"):
            SyntheticConfig.from_any({"unlocated_fraction": bad})
    cfg = SyntheticConfig.from_any({"split_fractions": [0.5, 0.25, 0.25], "unlocated_fraction": 1})
    assert cfg.split_fractions == (0.5, 0.25, 0.25) and cfg.unlocated_fraction == 1.0
    assert cfg.to_dict()["split_fractions"] == [0.5, 0.25, 0.25]


def test_kind_table_matches_label_map():
    for kind, spec in KINDS.items():
        assert spec["labels"][0] in phase_labels(1) and spec["labels"][1] in phase_labels(2), kind
        assert all(LABEL_MAP[lab] == spec["chexbert"] for lab in spec["labels"])


# ----------------------------------------------------------------------- generator 4
def _splits(images, phase3: bool) -> list[int]:
    return [sum(im["split"] == s and (im["phase"] == 3) == phase3 for im in images) for s in schema.SPLITS]


def test_split_fractions_respected_on_a_400_image_plan():
    for fr in ((0.45, 0.2, 0.35), (0.8, 0.1, 0.1)):
        cfg = SyntheticConfig.from_any({"split_fractions": list(fr), "multi_reader_images": [3, 3]})
        images, _ = plan_dataset(430, cfg, seed=5)
        assert len(images) == 406 and sum(_splits(images, True)) == 400
        assert _splits(images, True) == [round(400 * f) for f in fr]      # exact per phase-3 group
        shares = np.array(_splits(images, True)) + np.array(_splits(images, False))
        assert np.abs(shares / len(images) - fr).max() < 0.01
        order = [im["split"] for im in images if im["phase"] == 3]
        assert order[: _splits(images, True)[0]] != ["train"] * _splits(images, True)[0]  # shuffled
    other, _ = plan_dataset(430, cfg, seed=6)
    assert [im["split"] for im in other] != [im["split"] for im in images]


def test_every_split_with_a_share_gets_an_image_from_min_readings_on():
    cfg = SyntheticConfig.from_any({"split_fractions": [0.98, 0.01, 0.01], "multi_reader_images": None})
    for seed in range(4):
        images, _ = plan_dataset(C.MIN_READINGS_ALL_SPLITS, cfg, seed)
        assert {im["split"] for im in images} == set(schema.SPLITS)
    images, _ = plan_dataset(C.MIN_READINGS_ALL_SPLITS - 1, cfg, 0)
    assert {im["split"] for im in images} == {"train"}                  # too few: no guarantee
    cfg = SyntheticConfig.from_any({"split_fractions": [0.5, 0.5, 0.0], "multi_reader_images": [3, 3]})
    images, _ = plan_dataset(60, cfg, 0)
    assert _splits(images, True) == [15, 15, 0] and _splits(images, False) == [3, 3, 0]


UNLOCATED = 0.5
#: parse_finding's kind of a planted finding (devices by device)
_PARSED_KIND = {"central line": "central_line", "endotracheal tube": "endotracheal_tube",
                "enteric tube": "enteric_tube"}
#: kinds whose zone varies (a located sentence then states it)
_ZONE_VARIES = {"pneumothorax", "edema", "atelectasis", "consolidation", "groundglass", "nodule", "mass"}


@pytest.fixture(scope="module")
def wide() -> dict:
    """The truth of a 100-reading dataset (small films, 100 Hz gaze) with half the finding
    sentences unlocated."""
    import tempfile

    with tempfile.TemporaryDirectory() as root:
        make_dataset(root, n_readings=100, seed=4, progress=False,
                     config={"image_size": [256, 320], "sampling_rate_hz": 100, "multi_reader_images": [1, 1],
                             "unlocated_fraction": UNLOCATED})
        return load_truth(root)


def _finding_sentences(truth: dict):
    for r in truth["readings"].values():
        planted = truth["images"][r["dicom_id"]]["findings"]
        for s in r["sentences"]:
            if s["kind"] == "finding":
                yield s, planted[s["finding"]]


def test_unlocated_share_close_to_config(wide):
    marked = [s["located"] for s, _ in _finding_sentences(wide) if s["located"] is not None]
    assert len(marked) >= 60
    assert abs((1 - np.mean(marked)) - UNLOCATED) < 0.15, np.mean(marked)
    for s, f in _finding_sentences(wide):  # nothing to locate: cardiomegaly and the tubes
        assert (s["located"] is None) == (f["kind"] == "cardiomegaly"
                                          or f.get("device") in ("endotracheal tube", "enteric tube")), s
    assert all(s["located"] is None for r in wide["readings"].values() for s in r["sentences"]
               if s["kind"] != "finding")


def test_text_only_parser_sees_located_and_unlocated_sentences(wide):
    from gazex_lib.eval.baselines import parse_finding

    seen = {True: 0, False: 0, None: 0}
    for s, f in _finding_sentences(wide):
        kind, side, zone = parse_finding(s["text"])
        assert kind == _PARSED_KIND.get(f.get("device"), f["kind"]), s["text"]
        seen[s["located"]] += 1
        if s["located"]:
            assert side == f["side"], (s["text"], f["side"])
            assert zone == f["zone"] if f["kind"] in _ZONE_VARIES else zone in (None, f["zone"]), \
                (s["text"], f["zone"])
        else:
            assert side is None and zone is None, s["text"]
    assert seen[True] >= 15 and seen[False] >= 15, seen


def test_unlocated_sentences_change_only_the_words(tmp_path):
    """The readers look at the finding exactly as when they say where it is: every file but
    the words (and the truth) is byte-identical between unlocated_fraction 0 and 1."""
    cfg = {"image_size": [256, 320], "sampling_rate_hz": 100, "multi_reader_images": None}
    for name, u in (("loc", 0.0), ("unloc", 1.0)):
        make_dataset(tmp_path / name, n_readings=16, seed=2, config={**cfg, "unlocated_fraction": u}, progress=False)
    a, b = _files(tmp_path / "loc"), _files(tmp_path / "unloc")
    assert sorted(a) == sorted(b)
    changed = {k for k in a if a[k] != b[k]}
    assert {Path(k).name for k in changed} == {"transcription.txt", "timestamps_transcription.csv",
                                                "synthetic_truth.json", "synthetic_truth_readings.jsonl"}
    ta, tb = load_truth(tmp_path / "loc"), load_truth(tmp_path / "unloc")
    n = 0
    for rid, ra in ta["readings"].items():
        rb = tb["readings"][rid]
        assert ra["findings"] == rb["findings"] and ra["n_fixations"] == rb["n_fixations"]
        assert len(ra["sentences"]) == len(rb["sentences"])
        for sa, sb in zip(ra["sentences"], rb["sentences"]):
            assert (sa["finding"], sa["t_start_s"], sa["no_gaze"]) == (sb["finding"], sb["t_start_s"], sb["no_gaze"])
            if sa["located"] is None:
                assert sb["located"] is None and sa["text"] == sb["text"]
            else:
                n += 1
                assert sa["located"] is True and sb["located"] is False
                assert len(sb["text"].split()) <= len(sa["text"].split()) and sb["t_end_s"] <= sa["t_end_s"]
    assert n >= 3


def test_retime_uses_the_located_word_slots():
    from gazex_lib.data.synthetic.dictation import retime, time_words, tokenize

    located = time_words(np.random.default_rng(0), tokenize("There is a small nodule in the left upper lobe."), 2.0)
    bare = retime(tokenize("There is a small nodule."), located)
    assert bare[:5] == located[:5] and bare[5] == (".", located[4][2], located[4][2])
    with pytest.raises(ValueError, match="more words"):
        retime(tokenize("one two three four."), located[:3])


#: (sides, zones) each kind must take over a few dozen images
_POSITIONS = {"effusion": ({"right", "left"}, {"lower"}),
              "pneumothorax": ({"right", "left"}, {"upper", "mid"}),
              "edema": ({"bilateral"}, {"mid", "lower"}),
              "atelectasis": ({"right", "left"}, {"mid", "lower"}),
              **{k: ({"right", "left"}, {"upper", "mid", "lower"})
                 for k in ("consolidation", "groundglass", "nodule", "mass")}}


def test_finding_positions_vary_within_a_kind():
    W, H = 896, 1120
    lines = set()
    for kind, (sides, zones) in _POSITIONS.items():
        keys, centres = [], []
        for seed in range(60):
            rng = np.random.default_rng(seed)
            a = make_anatomy(rng, W, H, False)
            f = plant_findings(rng, a, [kind])[0]
            keys.append((f["side"], f["zone"]))
            centres.append(f["center_px"])
        assert {s for s, _ in keys} == sides and {z for _, z in keys} == zones, (kind, set(keys))
        c = np.asarray(centres)
        spread = np.hypot(*(c - c.mean(axis=0)).T).mean() / W   # mean distance to the kind's mean
        assert spread > (0.04 if kind == "edema" else 0.15), (kind, spread)
        if kind in ("nodule", "mass"):  # anywhere within a zone, too
            one = c[[k == ("right", "upper") for k in keys]]
            assert (one.std(axis=0) > [0.02 * W, 0.015 * H]).all(), one.std(axis=0)
    for seed in range(80):
        rng = np.random.default_rng(seed)
        a = make_anatomy(rng, W, H, False)
        f = plant_findings(rng, a, ["support_device"])[0]
        if f["device"] == "central line":
            lines.add(f["side"])
            assert (f["center_px"][0] < a.spine_x) == (f["side"] == "right")
    assert lines == {"right", "left"}

