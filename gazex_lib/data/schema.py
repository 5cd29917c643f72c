"""The REFLACX v1.0.0 and MIMIC-CXR(-JPG) file layouts, as data.

This module is the single contract between the synthetic generator
(:mod:`gazex_lib.data.synthetic`) and the readers (:mod:`gazex_lib.data.reflacx`,
:mod:`gazex_lib.data.mimic`). Both import the column lists from here, so the two
cannot drift apart.

Source of truth: the writer code that built REFLACX, ``ricbl/eyetracking``
``post_processing_and_dataset_generation/create_main_table.py`` (MIT), summarised in
``shared/research/reflacx_schema.md``.

Formatting facts the writer code fixes (and our generator reproduces):

* CSVs are written by pandas through a file opened with ``newline='\\r\\n'``:
  **CRLF line endings**, header row, no index column.
* Columns rounded to 0 decimals go through ``str(int(x))`` (``round_dataframe``), so they
  are written as integers (``405``), and NaN as an empty field. *Documented decision:* the
  schema note's example ``405.0`` is what pandas shows after reading; the bytes on disk
  are ``405``. Our readers accept both.
* Times are seconds on the audio clock rounded to 3 decimals (negative before dictation).
* ``transcription.txt`` has no trailing newline.
"""
from __future__ import annotations

#: Folder names under ``data_root`` (DESIGN.md, "Notebook parameters").
REFLACX_DIR = "reflacx"
MIMIC_JPG_DIR = "mimic-cxr-jpg"
MIMIC_REPORTS_DIR = "mimic-cxr"

PHASES = (1, 2, 3)

_RECTS = [
    "xmin_shown_from_image", "ymin_shown_from_image", "xmax_shown_from_image", "ymax_shown_from_image",
    "xmin_in_screen_coordinates", "ymin_in_screen_coordinates",
    "xmax_in_screen_coordinates", "ymax_in_screen_coordinates",
]

#: ``main_data/<id>/fixations.csv``, in written order.
FIXATION_COLUMNS = [
    "timestamp_start_fixation", "timestamp_end_fixation", "x_position", "y_position",
    "pupil_area_normalized", "angular_resolution_x_pixels_per_degree",
    "angular_resolution_y_pixels_per_degree", "window_width", "window_level", *_RECTS,
]

#: ``gaze_data/<id>/gaze.csv`` (raw 1000 Hz EyeLink samples; ``zoom_level`` dropped).
GAZE_COLUMNS = [
    "timestamp_sample", "x_position", "y_position", "pupil_area_normalized",
    "angular_resolution_x_pixels_per_degree", "angular_resolution_y_pixels_per_degree",
    "window_width", "window_level", *_RECTS,
]

#: Decimals per column, as in ``create_main_table.round_dataframe`` (0 means ``str(int(x))``).
ROUNDING = {
    "timestamp_start_fixation": 3, "timestamp_end_fixation": 3, "timestamp_sample": 3,
    "x_position": 0, "y_position": 0, "pupil_area_normalized": 3,
    "angular_resolution_x_pixels_per_degree": 0, "angular_resolution_y_pixels_per_degree": 0,
    "window_width": 5, "window_level": 5, **{c: 0 for c in _RECTS},
}

#: ``main_data/<id>/timestamps_transcription.csv``. Punctuation is a separate token.
WORD_COLUMNS = ["word", "timestamp_start_word", "timestamp_end_word"]

#: ``main_data/<id>/chest_bounding_box.csv`` (one row, integer pixels).
CHEST_BOX_COLUMNS = ["xmin", "ymin", "xmax", "ymax"]

#: ``main_data/<id>/anomaly_location_ellipses.csv``: these, then one bool column per label.
ELLIPSE_COLUMNS = ["xmin", "ymin", "xmax", "ymax", "certainty"]

#: ``main_data/metadata_phase_N.csv``: these, then the sorted label columns of that phase.
METADATA_COLUMNS = [
    "id", "split", "eye_tracking_data_discarded", "image", "dicom_id", "subject_id",
    "image_size_x", "image_size_y",
]

#: Per-reading files under ``main_data/<id>/`` (absent for discarded readings, except
#: the chest box and ellipses, which the writer always writes).
READING_FILES = {
    "fixations": "fixations.csv",
    "words": "timestamps_transcription.csv",
    "transcription": "transcription.txt",
    "chest_box": "chest_bounding_box.csv",
    "ellipses": "anomaly_location_ellipses.csv",
}
GAZE_FILE = "gaze.csv"

#: Certainty scale of ellipses and of per-image label answers (0 = not selected).
CERTAINTY = {0: "Not selected", 1: "Unlikely", 2: "Less likely", 3: "Possibly",
             4: "Suggestive of", 5: "Definitely present"}

#: MIMIC splits as written in MIMIC-CXR-JPG's split table and REFLACX's ``split`` column.
SPLITS = ("train", "validate", "test")

# --- MIMIC-CXR-JPG 2.1.0 tables (gzipped CSVs at the top of mimic-cxr-jpg/) ---------
MIMIC_SPLIT_FILE = "mimic-cxr-2.0.0-split.csv.gz"
MIMIC_SPLIT_COLUMNS = ["dicom_id", "study_id", "subject_id", "split"]
MIMIC_CHEXPERT_FILE = "mimic-cxr-2.0.0-chexpert.csv.gz"
MIMIC_METADATA_FILE = "mimic-cxr-2.0.0-metadata.csv.gz"
MIMIC_METADATA_COLUMNS = [
    "dicom_id", "subject_id", "study_id", "PerformedProcedureStepDescription", "ViewPosition",
    "Rows", "Columns", "StudyDate", "StudyTime", "ProcedureCodeSequence_CodeMeaning",
    "ViewCodeSequence_CodeMeaning", "PatientOrientationCodeSequence_CodeMeaning",
]

# --- MIMIC-CXR sectioned reports (MIT-LCP/mimic-cxr txt/create_section_files.py) ---
MIMIC_SECTIONED_FILE = "mimic_cxr_sectioned.csv"
MIMIC_SECTIONED_COLUMNS = ["study", "impression", "findings", "last_paragraph", "comparison"]


# --- downstream datasets (issue 12; research dossier §3) -------------------------------------
IU_XRAY_DIR = "iu-xray"
MS_CXR_DIR = "ms-cxr"
VQA_DIR = "medical-cxr-vqa"
#: R2Gen's preprocessed IU X-ray release: ``annotation.json`` beside ``images/<id>/{0,1}.png``.
IU_ANNOTATION_FILE = "annotation.json"
IU_IMAGES_DIR = "images"
IU_ITEM_KEYS = ("id", "report", "image_path", "split")
IU_SPLITS = ("train", "val", "test")
#: MS-CXR v1.1.0 (Boecking et al. 2022): one row per phrase-box pair; x, y top-left, w, h, in
#: original pixels; ``path`` starts with ``files/``.
MS_CXR_FILE = "MS_CXR_Local_Alignment_v1.1.0.csv"
MS_CXR_COLUMNS = ["dicom_id", "category_name", "label_text", "path", "x", "y", "w", "h",
                  "image_width", "image_height", "split"]
MS_CXR_CATEGORIES = ("Atelectasis", "Cardiomegaly", "Consolidation", "Edema", "Lung Opacity",
                     "Pleural Effusion", "Pneumonia", "Pneumothorax")
#: MS-CXR's split values (its own names; MIMIC-CXR's are ``train / validate / test``).
MS_CXR_SPLITS = ("train", "val", "test")
#: Medical-CXR-VQA (Hu et al. 2024), the released question table.
VQA_FILE = "medical_cxr_vqa_questions.csv"
VQA_COLUMNS = ["subject_id", "study_id", "dicom_id", "question_type", "question", "answer", "split"]
VQA_TYPES = ("abnormality", "presence", "view", "location", "level", "type")
#: Published counts to check a download against (dossier §3): MS-CXR phrase-box pairs, and
#: Medical-CXR-VQA question-answer pairs in all and per type.
PUBLISHED_COUNTS = {
    "ms-cxr pairs": 1162,
    "medical-cxr-vqa pairs": 780_014,
    **{f"medical-cxr-vqa {t}": n for t, n in (("abnormality", 190_525), ("location", 104_680),
                                              ("type", 69_486), ("level", 111_715), ("view", 92_048),
                                              ("presence", 211_560))},
}


def reflacx_id_prefix(phase: int, trial: int | None = None) -> str:
    """The id prefix of a reading: ``P1{trial:02}`` / ``P2{trial:02}`` / ``P300``.

    In phases 1 and 2 the two digits are the *image* (trial) number, shared by the five
    readings of that image; phase 3 always uses ``00``. The reader is not encoded.
    """
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    if phase == 3:
        return "P300"
    if trial is None or not 0 <= trial <= 99:
        raise ValueError(f"phase {phase} ids need a trial number in 0..99, got {trial!r}")
    return f"P{phase}{trial:02d}"


#: Sanity bounds of the numeric REFLACX columns, ``(low, high)`` inclusive, checked by the readers
#: (``gazex_lib.data._csv.read_numeric_table``). They are not image bounds: gaze legitimately
#: falls off the image and off the screen (those samples stay counts in the quality report).
#: They catch values no eye tracker or radiograph produces: a misplaced decimal point, an
#: overflowed integer, a spreadsheet's date. Times in seconds on the audio clock (negative
#: before dictation; a reading lasts minutes); positions and rectangles in pixels; pupil area
#: normalised (>= 0); angular resolution in px/deg (REFLACX: about 94); window width and
#: level in [0, 1] in REFLACX (we allow [-10, 10]).
_TIME_S = (-3600.0, 36000.0)
_PIXELS = (-1.0e5, 1.0e5)
SANITY_RANGES = {
    "timestamp_start_fixation": _TIME_S, "timestamp_end_fixation": _TIME_S,
    "timestamp_sample": _TIME_S, "timestamp_start_word": _TIME_S, "timestamp_end_word": _TIME_S,
    "x_position": _PIXELS, "y_position": _PIXELS, "pupil_area_normalized": (0.0, 1.0e6),
    "angular_resolution_x_pixels_per_degree": (1.0e-3, 1.0e4),
    "angular_resolution_y_pixels_per_degree": (1.0e-3, 1.0e4),
    "window_width": (-10.0, 10.0), "window_level": (-10.0, 10.0),
    **{c: _PIXELS for c in _RECTS},
}
#: Image sizes (px) of the metadata and the bounds of drawn boxes (chest box, ellipses; px).
IMAGE_SIZE_RANGE = (1, 100_000)
BOX_RANGE = _PIXELS
