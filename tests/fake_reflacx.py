"""A minimal REFLACX tree written by hand (CRLF, int formatting, quoted ``","``), for reader tests.

Independent of the synthetic generator on purpose. Readings:

* ``P102R000001`` phase 1: positions written as floats (``50.0``), one sentence, all gaze valid.
* ``P102R000002`` phase 1: discarded (chest box + empty ellipses file + empty gaze folder only).
* ``P103R000005`` phase 1: empty transcription (header-only words file).
* ``P300R000003`` phase 3: two sentences, ``","`` token, 2 trailing words, a 3-sample blink,
  a NaN angular resolution, 3 off-image samples, 1 off-image fixation.
* ``P300R000004`` phase 3: a second sentence whose window has no gaze.

No ``metadata_phase_2.csv``: the tree has phases (1, 3). Image size 100 x 80 (W x H).
``EXPECTED`` holds the numbers the tests check, worked out by hand below.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

W, H = 100, 80

PHASE1_LABELS = [
    "Airway wall thickening", "Atelectasis", "Consolidation", "Emphysema",
    "Enlarged cardiac silhouette", "Fibrosis", "Fracture", "Groundglass opacity", "Mass",
    "Nodule", "Other", "Pleural effusion", "Pleural thickening", "Pneumothorax",
    "Pulmonary edema", "Quality issue", "Support devices", "Wide mediastinum",
]
PHASE23_LABELS = [
    "Abnormal mediastinal contour", "Acute fracture", "Atelectasis", "Consolidation",
    "Enlarged cardiac silhouette", "Enlarged hilum", "Groundglass opacity", "Hiatal hernia",
    "High lung volume / emphysema", "Interstitial lung disease", "Lung nodule or mass", "Other",
    "Pleural abnormality", "Pneumothorax", "Pulmonary edema", "Support devices",
]
META_BASE = ["id", "split", "eye_tracking_data_discarded", "image", "dicom_id", "subject_id",
             "image_size_x", "image_size_y"]
GAZE_COLS = [
    "timestamp_sample", "x_position", "y_position", "pupil_area_normalized",
    "angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree",
    "window_width", "window_level", "xmin_shown_from_image", "ymin_shown_from_image",
    "xmax_shown_from_image", "ymax_shown_from_image", "xmin_in_screen_coordinates",
    "ymin_in_screen_coordinates", "xmax_in_screen_coordinates", "ymax_in_screen_coordinates",
]
FIX_COLS = ["timestamp_start_fixation", "timestamp_end_fixation", *GAZE_COLS[1:]]

C, D, E, A, B = "P102R000001", "P102R000002", "P103R000005", "P300R000003", "P300R000004"
PHASE1_IDS = [C, D, E]
PHASE3_IDS = [A, B]

EXPECTED = {
    "ids": [C, D, E, A, B],
    "discarded": [D],
    "sentences": {
        A: [("no pneumothorax .", 0.0, 1.0, -2.0, 1.0, 3, 0, 2),
            ("heart size normal , lungs clear .", 2.0, 4.1, 0.0, 4.1, 7, 3, 9)],
        A + ":trailing": ("possible effusion", 9.0, 10.0, 7.0, 10.0, 2, 10, 11),
        B: [("small effusion .", 0.5, 1.4, -1.5, 1.4, 3, 0, 2),
            ("enlarged heart .", 20.0, 21.1, 18.0, 21.1, 3, 3, 5)],
        C: [("normal chest .", 0.1, 0.9, -1.9, 0.9, 3, 0, 2)],
        E: [],
    },
    # valid gaze samples per sentence window (drop mode; keep adds one 0 for A's trailing)
    "sentence_gaze": {A: [18, 38], B: [6, 0], C: [10], E: []},
    # (count, denominator) per reason per reading
    "quality": {
        C: {"discarded_reading": (0, 1), "nan_gaze_samples": (0, 10), "offimage_gaze_samples": (0, 10),
            "offimage_fixations": (0, 2), "sentences_without_gaze": (0, 1), "trailing_words": (0, 3),
            "empty_transcription": (0, 1)},
        D: {"discarded_reading": (1, 1)},
        E: {"discarded_reading": (0, 1), "nan_gaze_samples": (1, 5), "offimage_gaze_samples": (1, 4),
            "offimage_fixations": (0, 1), "sentences_without_gaze": (0, 0), "trailing_words": (0, 0),
            "empty_transcription": (1, 1)},
        A: {"discarded_reading": (0, 1), "nan_gaze_samples": (4, 61), "offimage_gaze_samples": (3, 57),
            "offimage_fixations": (1, 4), "sentences_without_gaze": (0, 2), "trailing_words": (2, 12),
            "empty_transcription": (0, 1)},
        B: {"discarded_reading": (0, 1), "nan_gaze_samples": (0, 11), "offimage_gaze_samples": (0, 11),
            "offimage_fixations": (0, 1), "sentences_without_gaze": (1, 2), "trailing_words": (0, 6),
            "empty_transcription": (0, 1)},
    },
}
#: Domain-fault rows of the quality report: none in the clean tree (count 0 of 1 per reading).
_FAULTS = ("words_out_of_order", "word_negative_duration", "transcript_mismatch",
           "fixation_negative_duration", "fixation_outside_recording", "empty_fixations",
           "impossible_chest_box", "impossible_ellipse")
for _rid, _rows in EXPECTED["quality"].items():
    if _rid != D:
        _rows.update({r: (0, 1) for r in _FAULTS})


def _csv_text(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")  # quotes "," like pandas' to_csv
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as fh:
        fh.write(_csv_text(header, [[str(v) for v in r] for r in rows]))


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def set_cell(path: Path, row: int, column: str, value: str) -> None:
    """Rewrite one cell (``row`` 1-based data row) keeping CRLF and the other cells' text."""
    header, rows = read_rows(path)
    rows[row - 1][header.index(column)] = value
    write_csv(path, header, rows)


def drop_column(path: Path, column: str) -> None:
    header, rows = read_rows(path)
    j = header.index(column)
    write_csv(path, [h for k, h in enumerate(header) if k != j],
              [[v for k, v in enumerate(r) if k != j] for r in rows])


def _t(x: float) -> str:
    return repr(round(x, 3))


def _gaze_row(t: float, x, y, *, ang="30", pupil="0.512", as_float=False) -> list[str]:
    fmt = (lambda v: v if v == "" else f"{float(v):.1f}") if as_float else (lambda v: str(v))
    return [_t(t), fmt(x), fmt(y), pupil, fmt(ang), fmt(ang), "0.99829", "0.49841",
            "0", "0", fmt(W), fmt(H), "12", "0", "2412", "1930"]


def _fix_row(t0: float, t1: float, x, y, as_float=False) -> list[str]:
    return [_t(t0), *_gaze_row(t1, x, y, as_float=as_float)]


def _image(subject: int, study: int, dicom: str) -> str:
    return (f"/data/physionet.org/files/mimic-cxr/2.0.0/files/p{str(subject)[:2]}/p{subject}/"
            f"s{study}/{dicom}.dcm")


def _write_reading(root: Path, rid: str, *, words, gaze, fixations, transcription,
                   phase_labels, ellipses) -> None:
    main = root / "main_data" / rid
    write_csv(main / "chest_bounding_box.csv", ["xmin", "ymin", "xmax", "ymax"], [[10, 5, 90, 75]])
    write_csv(main / "anomaly_location_ellipses.csv",
              ["xmin", "ymin", "xmax", "ymax", "certainty", *phase_labels], ellipses)
    (root / "gaze_data" / rid).mkdir(parents=True, exist_ok=True)
    if words is None:
        return
    write_csv(main / "timestamps_transcription.csv",
              ["word", "timestamp_start_word", "timestamp_end_word"],
              [[w, _t(s), _t(e)] for w, s, e in words])
    (main / "transcription.txt").write_bytes(transcription.encode("utf-8"))
    write_csv(main / "fixations.csv", FIX_COLS, fixations)
    write_csv(root / "gaze_data" / rid / "gaze.csv", GAZE_COLS, gaze)


def _ellipse(phase_labels, label, certainty=3, box=(20, 10, 60, 50)):
    return [*box, certainty, *["True" if lab == label else "False" for lab in phase_labels]]


def write_fake_reflacx(root: Path) -> Path:
    """Write the tree under ``root`` (``main_data/``, ``gaze_data/``) and return ``root``."""
    root = Path(root)
    p1, p3 = PHASE1_LABELS, PHASE23_LABELS

    # --- phase 3, reading A ---
    words_a = [("no", 0.0, 0.2), ("pneumothorax", 0.3, 0.9), (".", 0.9, 1.0),
               ("heart", 2.0, 2.2), ("size", 2.3, 2.5), ("normal", 2.6, 3.0), (",", 3.0, 3.1),
               ("lungs", 3.2, 3.5), ("clear", 3.6, 4.0), (".", 4.0, 4.1),
               ("possible", 9.0, 9.4), ("effusion", 9.5, 10.0)]
    gaze_a = []
    for i in range(61):                       # t = -1.0 .. 5.0 step 0.1
        t = round(-1.0 + i * 0.1, 3)
        x, y, ang, pupil = 50, 40, "30", "0.512"
        if t in (0.5, 0.6, 0.7):              # blink: everything NaN
            x, y, ang, pupil = "", "", "", ""
        elif t == 1.5:
            x = -5                            # off image (x < 0)
        elif t == 1.6:
            x = W                             # off image (x == W)
        elif t == 1.7:
            y = H                             # off image (y == H)
        elif t == 1.8:
            x, y = W - 1, H - 1               # on image (last pixel)
        elif t == 2.0:
            pupil = ""                        # pupil NaN only: still a valid sample
        elif t == 2.5:
            ang = ""                          # NaN angular resolution: dropped by the paper rule
        gaze_a.append(_gaze_row(t, x, y, ang=ang, pupil=pupil))
    fix_a = [_fix_row(-0.5, -0.2, 50, 40), _fix_row(0.0, 0.35, 10, 10),
             _fix_row(1.0, 1.25, 120, 40), _fix_row(2.0, 2.0, 60, 79)]
    _write_reading(root, A, words=words_a, gaze=gaze_a, fixations=fix_a,
                   transcription="no pneumothorax. heart size normal, lungs clear. possible effusion",
                   phase_labels=p3, ellipses=[_ellipse(p3, "Pneumothorax", 4)])

    # --- phase 3, reading B: second sentence has no gaze in [18, 21.1] ---
    words_b = [("small", 0.5, 0.8), ("effusion", 0.9, 1.3), (".", 1.3, 1.4),
               ("enlarged", 20.0, 20.4), ("heart", 20.5, 21.0), (".", 21.0, 21.1)]
    gaze_b = [_gaze_row(round(-2.0 + i * 0.5, 3), 30, 30) for i in range(11)]  # -2.0 .. 3.0
    _write_reading(root, B, words=words_b, gaze=gaze_b, fixations=[_fix_row(0.0, 0.5, 30, 30)],
                   transcription="small effusion. enlarged heart.", phase_labels=p3,
                   ellipses=[_ellipse(p3, "Pleural abnormality", 5),
                             _ellipse(p3, "Enlarged cardiac silhouette", 2, (30, 30, 70, 70))])

    # --- phase 1, reading C: floats like 50.0 ---
    words_c = [("normal", 0.1, 0.4), ("chest", 0.5, 0.8), (".", 0.8, 0.9)]
    gaze_c = [_gaze_row(round(i * 0.1, 3), 50, 40, as_float=True) for i in range(10)]
    fix_c = [_fix_row(0.0, 0.2, 50, 40, as_float=True), _fix_row(0.3, 0.6, 0, 0, as_float=True)]
    _write_reading(root, C, words=words_c, gaze=gaze_c, fixations=fix_c,
                   transcription="normal chest.", phase_labels=p1, ellipses=[])

    # --- phase 1, reading D: discarded ---
    _write_reading(root, D, words=None, gaze=None, fixations=None, transcription="",
                   phase_labels=p1, ellipses=[])

    # --- phase 1, reading E: empty transcription ---
    gaze_e = [_gaze_row(0.0, 10, 10), _gaze_row(0.001, 10, 10), _gaze_row(0.002, "", ""),
              _gaze_row(0.003, 10, -1), _gaze_row(0.004, 10, 10)]
    _write_reading(root, E, words=[], gaze=gaze_e, fixations=[_fix_row(0.0, 0.004, 10, 10)],
                   transcription="", phase_labels=p1,
                   ellipses=[_ellipse(p1, "Quality issue", 1)])

    # --- metadata ---
    def meta_row(rid, discarded, subject, study, dicom, split, size_fmt, lab):
        return [rid, split, discarded, _image(subject, study, dicom), dicom, subject,
                size_fmt(W), size_fmt(H), *lab]

    def p1_labels(**kw):
        vals = {lab: 0 for lab in p1}
        vals.update({"Other": "", "Quality issue": "False", "Support devices": "False"})
        vals.update(kw)
        return [vals[lab] for lab in p1]

    def p3_labels(**kw):
        vals = {lab: 0 for lab in p3}
        vals.update({"Other": "", "Support devices": "False"})
        vals.update(kw)
        return [vals[lab] for lab in p3]

    write_csv(root / "main_data" / "metadata_phase_1.csv", META_BASE + p1, [
        meta_row(C, "False", 10000032, 50000014, "dcm-c", "train", lambda v: f"{v}.0",
                 p1_labels(**{"Pleural thickening": 4, "Support devices": "True"})),
        meta_row(D, "True", 10000032, 50000014, "dcm-c", "train", lambda v: f"{v}.0",
                 p1_labels(**{"Pleural effusion": 5})),
        meta_row(E, "False", 10000764, 57375967, "dcm-e", "test", lambda v: f"{v}.0",
                 p1_labels(**{"Quality issue": "True", "Other": "scoliosis|old rib fracture"})),
    ])
    write_csv(root / "main_data" / "metadata_phase_3.csv", META_BASE + p3, [
        meta_row(A, "False", 14276052, 56035498, "dcm-a", "train", str,
                 p3_labels(Pneumothorax=4, **{"Pleural abnormality": 2})),
        meta_row(B, "False", 10000898, 50771383, "dcm-b", "validate", str,
                 p3_labels(**{"Pleural abnormality": 5, "Enlarged cardiac silhouette": 3,
                              "Support devices": "True"})),
    ])
    return root
