"""The REFLACX reader on a hand-written tree (tests/fake_reflacx.py): values, dtypes, errors."""
from __future__ import annotations

import re
import shutil

import numpy as np
import pandas as pd
import pytest

from fake_reflacx import (
    A, B, C, D, E, EXPECTED, GAZE_COLS, H, PHASE1_LABELS, PHASE23_LABELS, W, drop_column,
    set_cell, write_csv, write_fake_reflacx,
)
from gazex_lib.data import labels as L
from gazex_lib.data.reflacx import (
    ALL_LABELS, DiscardedReadingError, ReflacxFormatError, load_reflacx,
)


@pytest.fixture
def root(tmp_path):
    return write_fake_reflacx(tmp_path / "reflacx")


@pytest.fixture
def ds(root):
    return load_reflacx(root)


# --- files on disk are what the tests claim -------------------------------------------------

def test_fake_tree_has_the_real_format_quirks(root):
    gaze = (root / "gaze_data" / A / "gaze.csv").read_bytes()
    assert b"\r\n" in gaze and b"\n" not in gaze.replace(b"\r\n", b"")
    assert b"\r\n-1.0,50,40," in gaze                       # ints written as ints
    assert b'\r\n",",3.0,3.1\r\n' in (root / "main_data" / A / "timestamps_transcription.csv").read_bytes()
    assert b"\r\n0.0,50.0,40.0," in (root / "gaze_data" / C / "gaze.csv").read_bytes()
    assert list((root / "gaze_data" / D).iterdir()) == []
    assert not (root / "main_data" / D / "fixations.csv").exists()


# --- metadata ----------------------------------------------------------------------------

def test_metadata_rows_phases_and_order(ds):
    m = ds.metadata
    assert ds.phases == (1, 3)
    assert list(m.index) == EXPECTED["ids"]
    assert list(m["id"]) == EXPECTED["ids"]
    assert list(m["phase"]) == [1, 1, 1, 3, 3]
    assert m.shape == (5, 2 + 7 + len(ALL_LABELS))
    assert set(PHASE1_LABELS) | set(PHASE23_LABELS) == set(ALL_LABELS)


def test_metadata_dtypes(ds):
    m = ds.metadata
    assert m["phase"].dtype == np.int64
    assert m["eye_tracking_data_discarded"].dtype == bool
    assert list(m["eye_tracking_data_discarded"]) == [False, True, False, False, False]
    for col in ("image_size_x", "image_size_y", "subject_id"):
        assert m[col].dtype == np.int64, col
    # phase 1 wrote "100.0" / "80.0", phase 3 wrote "100" / "80": both are ints
    assert (m["image_size_x"] == W).all() and (m["image_size_y"] == H).all()
    assert m["Support devices"].dtype == "boolean"
    assert m["Quality issue"].dtype == "boolean"
    assert bool(m.loc[E, "Quality issue"]) is True and bool(m.loc[C, "Quality issue"]) is False
    assert pd.isna(m.loc[A, "Quality issue"])                    # phase 3 has no such label
    assert m["Pneumothorax"].dtype == np.float64
    assert m.loc[A, "Pneumothorax"] == 4.0
    assert pd.isna(m.loc[A, "Pleural thickening"])               # phase-1-only label
    assert pd.isna(m.loc[C, "Pleural abnormality"])              # phase-3-only label
    assert m.loc[E, "Other"] == "scoliosis|old rib fracture"
    assert pd.isna(m.loc[C, "Other"])
    assert m.loc[A, "image"].endswith("p14/p14276052/s56035498/dcm-a.dcm")


def test_labels_are_row_aligned_chexbert(ds):
    lab = ds.labels
    assert list(lab.index) == EXPECTED["ids"]
    assert list(lab.columns) == list(L.CHEXBERT_LABELS)
    assert lab.loc[A, "Pneumothorax"] == 1.0
    assert lab.loc[A, "Pleural Effusion"] == 0.0                # certainty 2 is not positive
    assert np.isnan(lab.loc[A, "Pleural Other"])                 # no phase-3 source label
    assert lab.loc[C, "Pleural Other"] == 1.0                    # Pleural thickening 4
    assert lab.loc[B, "Cardiomegaly"] == 1.0 and lab.loc[B, "Support Devices"] == 1.0
    assert lab.loc[E, "No Finding"] == 1.0 and lab.loc[A, "No Finding"] == 0.0
    assert lab["Pneumonia"].isna().all()


def test_ids_and_iteration(ds):
    assert ds.ids() == [C, E, A, B]
    assert ds.ids(discarded=True) == [D]
    assert ds.ids(discarded=None) == EXPECTED["ids"]
    assert ds.ids(phase=3) == [A, B]
    assert ds.ids(phase=1, discarded=None) == [C, D, E]
    assert [rid for rid, _ in ds.iter_readings(phase=1)] == [C, E]
    assert len(ds) == 5 and A in ds and "P999R000000" not in ds


def test_missing_phase_files_and_folders(tmp_path, root):
    (root / "main_data" / "metadata_phase_1.csv").unlink()
    assert load_reflacx(root).phases == (3,)
    (root / "main_data" / "metadata_phase_3.csv").unlink()
    with pytest.raises(FileNotFoundError, match="metadata_phase_1.csv"):
        load_reflacx(root)
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "nope" / "main_data"))):
        (tmp_path / "nope").mkdir()
        load_reflacx(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="did you mean"):
        load_reflacx(tmp_path)                                    # parent of reflacx/


def test_options_are_validated(root):
    with pytest.raises(ValueError, match="trailing_words"):
        load_reflacx(root, trailing_words="maybe")
    with pytest.raises(ValueError, match="window_lead_s"):
        load_reflacx(root, window_lead_s=-1)


# --- per-reading tables --------------------------------------------------------------------

def test_gaze_values_dtypes_and_nan(ds):
    g = ds.gaze(A)
    assert list(g.columns) == GAZE_COLS
    assert (g.dtypes == np.float64).all()
    assert len(g) == 61
    assert g["timestamp_sample"].iloc[0] == -1.0 and g["timestamp_sample"].iloc[-1] == 5.0
    assert g["x_position"].isna().sum() == 3                     # the blink is kept
    assert g["angular_resolution_x_pixels_per_degree"].isna().sum() == 4
    gc = ds.gaze(C)                                              # written as 50.0 / 40.0
    assert (gc["x_position"] == 50.0).all() and (gc["xmax_shown_from_image"] == W).all()


def test_fixations_duration(ds):
    f = ds.fixations(A)
    assert f["duration_s"].tolist() == pytest.approx([0.3, 0.35, 0.25, 0.0])
    assert f["x_position"].tolist() == [50.0, 10.0, 120.0, 60.0]


def test_words_keep_punctuation_and_quoted_comma(ds):
    w = ds.words(A)
    assert w["word"].tolist()[:7] == ["no", "pneumothorax", ".", "heart", "size", "normal", ","]
    assert w["sentence_index"].tolist() == [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, -1, -1]
    assert ds.transcription(A) == "no pneumothorax. heart size normal, lungs clear. possible effusion"
    # the writer's own consistency rule holds on what we read
    t = ds.transcription(A)
    assert t.replace(".", " .").replace(",", " ,") == " ".join(w["word"])


def _as_tuples(s: pd.DataFrame):
    return [(r.text, r.timestamp_start_s, r.timestamp_end_s, r.window_start_s, r.window_end_s,
             r.n_words, r.first_word_index, r.last_word_index) for r in s.itertuples()]


@pytest.mark.parametrize("rid", [A, B, C, E])
def test_sentences_exact(ds, rid):
    s = ds.sentences(rid)
    assert list(s.columns) == [
        "sentence_index", "text", "timestamp_start_s", "timestamp_end_s", "window_start_s",
        "window_end_s", "n_words", "first_word_index", "last_word_index", "trailing"]
    got, want = _as_tuples(s), EXPECTED["sentences"][rid]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g[0] == w[0] and g[5:] == w[5:]
        assert g[1:5] == pytest.approx(w[1:5], abs=1e-12)
    assert s["sentence_index"].tolist() == list(range(len(want)))
    assert not s["trailing"].any()


def test_trailing_words_drop_vs_keep(root):
    drop = load_reflacx(root).sentences(A)
    keep_ds = load_reflacx(root, trailing_words="keep")
    keep = keep_ds.sentences(A)
    assert len(drop) == 2 and len(keep) == 3
    assert keep["trailing"].tolist() == [False, False, True]
    assert _as_tuples(keep.iloc[[2]])[0] == pytest.approx(EXPECTED["sentences"][A + ":trailing"])
    pd.testing.assert_frame_equal(keep.iloc[:2], drop)
    assert keep_ds.words(A)["sentence_index"].tolist()[-2:] == [2, 2]
    # counted either way
    assert keep_ds.trailing_word_count(A) == load_reflacx(root).trailing_word_count(A) == 2
    # per-call override
    assert len(load_reflacx(root).sentences(A, trailing_words="keep")) == 3


def test_window_lead_is_configurable(root):
    s = load_reflacx(root, window_lead_s=0.5).sentences(A)
    assert s["window_start_s"].tolist() == pytest.approx([-0.5, 1.5])
    assert load_reflacx(root).sentences(A, window_lead_s=0.0)["window_start_s"].tolist() == [0.0, 2.0]


def test_chest_box_and_ellipses(ds):
    box = ds.chest_box(A)
    assert box.to_dict("records") == [{"xmin": 10, "ymin": 5, "xmax": 90, "ymax": 75}]
    assert (box.dtypes == np.int64).all()
    e = ds.ellipses(B)
    assert len(e) == 2 and e["certainty"].tolist() == [5, 2]
    assert e["Pleural abnormality"].tolist() == [True, False]
    assert list(e.columns[5:]) == PHASE23_LABELS
    assert list(ds.ellipses(E).columns[5:]) == PHASE1_LABELS
    assert e["Enlarged cardiac silhouette"].dtype == bool


def test_discarded_reading(ds):
    for method in ("gaze", "fixations", "words", "sentences", "transcription"):
        with pytest.raises(DiscardedReadingError, match=D) as info:
            getattr(ds, method)(D)
        assert isinstance(info.value, LookupError) and info.value.reading_id == D
    assert ds.chest_box(D)["xmax"].item() == 90                   # still shipped
    assert len(ds.ellipses(D)) == 0


def test_unknown_id(ds):
    for method in ("gaze", "fixations", "words", "sentences", "ellipses", "chest_box",
                   "transcription", "reading"):
        with pytest.raises(KeyError, match="P999R123456"):
            getattr(ds, method)("P999R123456")


def test_missing_reading_file_names_path(root):
    (root / "gaze_data" / A / "gaze.csv").unlink()
    with pytest.raises(FileNotFoundError, match=re.escape(str(root / "gaze_data" / A / "gaze.csv"))):
        load_reflacx(root).gaze(A)


def test_results_are_copies(ds):
    g = ds.gaze(A)
    g.loc[0, "x_position"] = -999.0
    assert ds.gaze(A).loc[0, "x_position"] == 50.0


# --- malformed files -------------------------------------------------------------------------

def test_missing_column_names_file_and_expected(root):
    path = root / "main_data" / A / "fixations.csv"
    drop_column(path, "y_position")
    with pytest.raises(ReflacxFormatError) as info:
        load_reflacx(root).fixations(A)
    msg = str(info.value)
    assert str(path) in msg and "'y_position'" in msg and "timestamp_start_fixation" in msg


def test_unparsable_number_names_row_line_column(root):
    path = root / "gaze_data" / A / "gaze.csv"
    set_cell(path, 17, "x_position", "abc")
    with pytest.raises(ReflacxFormatError) as info:
        load_reflacx(root).gaze(A)
    assert str(info.value) == f"{path}: row 17 (line 18), column 'x_position': cannot parse 'abc' as a number"


def test_unparsable_number_in_words(root):
    path = root / "main_data" / B / "timestamps_transcription.csv"
    set_cell(path, 5, "timestamp_end_word", "21,0x")
    with pytest.raises(ReflacxFormatError, match=re.escape("row 5 (line 6), column 'timestamp_end_word'")):
        load_reflacx(root).words(B)


def test_column_order_free_and_extra_columns_ignored(root):
    path = root / "gaze_data" / B / "gaze.csv"
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    header = ["zoom_level", *reversed(rows[0])]
    write_csv(path, header, [["1.5", *reversed(r)] for r in rows[1:]])
    g = load_reflacx(root).gaze(B)
    assert list(g.columns) == GAZE_COLS
    assert g["timestamp_sample"].tolist() == pytest.approx([-2.0 + 0.5 * i for i in range(11)])


def test_non_integer_in_int_column(root):
    set_cell(root / "main_data" / "metadata_phase_3.csv", 2, "image_size_y", "80.5")
    with pytest.raises(ReflacxFormatError, match=re.escape("row 2 (line 3), column 'image_size_y'")):
        load_reflacx(root)


def test_bad_boolean(root):
    path = root / "main_data" / "metadata_phase_1.csv"
    set_cell(path, 3, "eye_tracking_data_discarded", "yes")
    with pytest.raises(ReflacxFormatError) as info:
        load_reflacx(root)
    msg = str(info.value)
    assert msg.startswith(f"{path}: row 3 (line 4), column 'eye_tracking_data_discarded'")
    assert "'yes'" in msg and "boolean" in msg


def test_fixation_ending_before_start_is_a_counted_domain_fault(root):
    """Issue 10's policy: a file that parses but describes the impossible excludes the reading
    (its accessor raises ReadingFaultError) and is counted; strict=True makes it an error that
    names the file and the physical line."""
    from gazex_lib.data.reflacx import ReadingFaultError

    path = root / "main_data" / A / "fixations.csv"
    set_cell(path, 2, "timestamp_end_fixation", "-0.1")
    ds = load_reflacx(root)
    with pytest.raises(ReadingFaultError, match="fixation_negative_duration"):
        ds.fixations(A)
    assert ds.reading_faults(A) == {"fixation_negative_duration": 1}
    assert len(ds.sentences(A)) == 2                   # the words of that reading are fine
    with pytest.raises(ReflacxFormatError) as info:
        load_reflacx(root, strict=True).fixations(A)
    msg = str(info.value)
    assert f"{path}: row 2 (line 3): fixation_negative_duration" in msg


def test_fixation_missing_time(root):
    set_cell(root / "main_data" / A / "fixations.csv", 3, "timestamp_start_fixation", "")
    with pytest.raises(ReflacxFormatError, match=r"row 3 \(line 4\).*missing value"):
        load_reflacx(root).fixations(A)


def test_word_ending_before_start_is_a_counted_domain_fault(root):
    from gazex_lib.data.reflacx import ReadingFaultError

    set_cell(root / "main_data" / A / "timestamps_transcription.csv", 4, "timestamp_end_word", "1.9")
    ds = load_reflacx(root)
    with pytest.raises(ReadingFaultError, match="word_negative_duration"):
        ds.sentences(A)
    assert ds.reading_faults(A) == {"word_negative_duration": 1}
    with pytest.raises(ReflacxFormatError, match=r"row 4 \(line 5\): word_negative_duration"):
        load_reflacx(root, strict=True).sentences(A)


def test_chest_box_two_rows(root):
    path = root / "main_data" / A / "chest_bounding_box.csv"
    write_csv(path, ["xmin", "ymin", "xmax", "ymax"], [[1, 2, 3, 4], [5, 6, 7, 8]])
    with pytest.raises(ReflacxFormatError, match=re.escape(f"{path}: expected exactly one data row")):
        load_reflacx(root).chest_box(A)


def test_ellipse_without_label(root):
    path = root / "main_data" / B / "anomaly_location_ellipses.csv"
    set_cell(path, 2, "Enlarged cardiac silhouette", "False")
    with pytest.raises(ReflacxFormatError, match=re.escape(f"{path}: row 2 (line 3): ellipse has no label")):
        load_reflacx(root).ellipses(B)


def test_certainty_out_of_range(root):
    set_cell(root / "main_data" / "metadata_phase_3.csv", 1, "Pneumothorax", "7")
    with pytest.raises(ReflacxFormatError, match=r"row 1 \(line 2\), column 'Pneumothorax'.*range"):
        load_reflacx(root)


def test_duplicate_id_across_phases(root):
    set_cell(root / "main_data" / "metadata_phase_3.csv", 1, "id", C)
    with pytest.raises(ReflacxFormatError, match=C):
        load_reflacx(root)


def test_empty_file(root):
    (root / "main_data" / A / "chest_bounding_box.csv").write_bytes(b"")
    with pytest.raises(ReflacxFormatError, match="empty file"):
        load_reflacx(root).chest_box(A)


def test_float_and_int_formatting_equivalent(tmp_path):
    ints = write_fake_reflacx(tmp_path / "a")
    floats = write_fake_reflacx(tmp_path / "b")
    path = floats / "gaze_data" / A / "gaze.csv"
    import csv
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    as_float = [[c if (c == "" or "." in c or k == 0) else f"{c}.0" for k, c in enumerate(r)]
                for r in rows[1:]]
    write_csv(path, rows[0], as_float)
    assert b"\r\n-1.0,50.0,40.0," in path.read_bytes()
    pd.testing.assert_frame_equal(load_reflacx(ints).gaze(A), load_reflacx(floats).gaze(A))
    shutil.rmtree(tmp_path / "a")
